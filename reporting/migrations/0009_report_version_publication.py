"""Report versions: publication gets its own state (unpublished, published, withdrawn), apart
from the build's status, filled in from the publication dates each version already has."""

from django.db import migrations, models


def fill_publication(apps, schema_editor):
    ReportVersion = apps.get_model("reporting", "ReportVersion")
    ReportVersion.objects.filter(unpublished_at__isnull=False).update(publication="withdrawn")
    ReportVersion.objects.filter(published_at__isnull=False, unpublished_at__isnull=True).update(publication="published")


class Migration(migrations.Migration):

    dependencies = [
        ("reporting", "0008_tasks_in_their_packages"),
    ]

    operations = [
        migrations.AddField(
            model_name="reportversion",
            name="publication",
            field=models.CharField(
                choices=[("unpublished", "Not published"), ("published", "Published"), ("withdrawn", "Withdrawn")],
                default="unpublished", max_length=12,
            ),
        ),
        # Only the dates change publication when going back, so there is nothing to undo.
        migrations.RunPython(fill_publication, migrations.RunPython.noop),
    ]
