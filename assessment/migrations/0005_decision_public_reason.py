"""A panel decision's text splits in two: the internal rationale (the old ``rationale``, which
the chair was told the applicant would not see) and a public reason, required for every
decision.

Existing decisions get a neutral public reason derived from their outcome, never a copy of the
rationale, so nothing written as private is published. The texts are written out here rather
than imported, so this migration means the same thing whatever the code says later.
"""

from django.db import migrations, models
from django.db.models import Q

NEUTRAL_PUBLIC_REASONS = {
    "fund": "The panel decided to fund this bid after scoring it against the call's published criteria.",
    "fund_with_conditions": (
        "The panel decided to fund this bid, with conditions, after scoring it against the call's published criteria."
    ),
    "not_fund": "The panel decided not to fund this bid after scoring it against the call's published criteria.",
}
FALLBACK = "The panel decided on this bid after scoring it against the call's published criteria."


def fill_public_reasons(apps, schema_editor):
    PanelDecision = apps.get_model("assessment", "PanelDecision")
    for outcome, text in NEUTRAL_PUBLIC_REASONS.items():
        PanelDecision.objects.filter(outcome=outcome, public_reason="").update(public_reason=text)
    PanelDecision.objects.filter(public_reason="").update(public_reason=FALLBACK)


class Migration(migrations.Migration):
    dependencies = [
        ("assessment", "0004_scores_drafts_departures_reminders"),
    ]

    operations = [
        migrations.RenameField(model_name="paneldecision", old_name="rationale", new_name="internal_rationale"),
        migrations.AlterField(
            model_name="paneldecision",
            name="internal_rationale",
            field=models.TextField(
                blank=True,
                help_text="The panel's own note: seen only by the panel, the fund's managers and its auditors, never "
                          "published (see assessment.visibility).",
            ),
        ),
        migrations.AddField(
            model_name="paneldecision",
            name="public_reason",
            field=models.TextField(
                default="",
                help_text="Why the panel decided this, in words fit to publish: the register, the API, 360Giving, the "
                          "open data and the applicant's feedback show it. Required.",
            ),
            preserve_default=False,
        ),
        migrations.RunPython(fill_public_reasons, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="paneldecision",
            name="departure_rationale",
            field=models.TextField(
                blank=True,
                help_text="Why the panel departs from the ranking and funding line (required when it does). Internal, "
                          "like the rationale: the public reason says what may be published.",
            ),
        ),
        migrations.AddConstraint(
            model_name="paneldecision",
            constraint=models.CheckConstraint(condition=~Q(public_reason=""), name="decision_has_public_reason"),
        ),
    ]
