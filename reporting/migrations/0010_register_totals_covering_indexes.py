"""The register's totals (count, amount awarded, paid) read from indexes alone on PostgreSQL.

A filter set's totals are a ``COUNT``/``SUM`` over every row it matches: with the columns summed
in the index (``INCLUDE``), PostgreSQL answers from the index without visiting the table, whose
rows (descriptions and search vectors) are wide and scattered. At 500,000 awards the region +
purpose + minimum amount totals took 590 ms and take 8 ms, the unfiltered ones 410 ms and 170 ms.
The model's own indexes stay as they are (SQLite has no covering indexes)."""

from django.db import migrations
from django.db.models import Index

COVERING = [
    Index(fields=["visible_from"], include=["amount", "paid", "award"], name="register_totals"),
    Index(fields=["recipient_region", "call_purpose", "amount"], include=["paid", "visible_from", "award"],
          name="register_region_totals"),
]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for index in COVERING:
            schema_editor.add_index(apps.get_model("reporting", "RegisterEntry"), index)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for index in COVERING:
            schema_editor.remove_index(apps.get_model("reporting", "RegisterEntry"), index)


class Migration(migrations.Migration):

    dependencies = [("reporting", "0009_report_version_publication")]

    operations = [migrations.RunPython(forwards, backwards)]
