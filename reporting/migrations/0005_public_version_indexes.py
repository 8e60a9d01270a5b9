"""Indexes that make ``reporting.register.public_version`` one cheap query: each "latest change" it reads
is the end of a B-tree index, whatever the number of awards, returns or decisions.

Plain SQL (``IF NOT EXISTS``, the same on PostgreSQL and SQLite) because the tables belong to
earlier stages; these indexes serve only the public version read here."""

from django.db import migrations

INDEXES = [
    ("public_version_award_updated", "awards_award", "updated_at"),
    ("public_version_call_updated", "governance_call", "updated_at"),
    ("public_version_org_updated", "governance_organisation", "updated_at"),
    ("public_version_decision_released", "assessment_paneldecision", "released_at"),
    ("public_version_return_updated", "reporting_monitoringreturn", "updated_at"),
    ("public_version_report_published", "reporting_reportversion", "published_at"),
    ("public_version_report_unpublished", "reporting_reportversion", "unpublished_at"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("reporting", "0004_queued_builds_to_the_outbox"),
        ("awards", "0006_queued_offer_letters_to_the_outbox"),
        ("assessment", "0005_decision_public_reason"),
        ("governance", "0010_outbox_takes_over_the_email_sweep"),
    ]

    operations = [
        migrations.RunSQL(f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({column})",
                          f"DROP INDEX IF EXISTS {name}")
        for name, table, column in INDEXES
    ]
