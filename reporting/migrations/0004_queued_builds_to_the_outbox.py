"""Impact report builds still queued when the outbox arrived get an outbox message (the stale
sweep no longer sends queued builds), so none waits for good."""

import uuid

from django.db import migrations
from django.utils import timezone


def forwards(apps, schema_editor):
    ReportVersion = apps.get_model("reporting", "ReportVersion")
    OutboxMessage = apps.get_model("governance", "OutboxMessage")
    now = timezone.now()
    OutboxMessage.objects.bulk_create(
        OutboxMessage(task_id=uuid.uuid4(), task_name="reporting.tasks.build_impact_report", args=[pk], kwargs={},
                      status="waiting", created_at=now, next_attempt_at=now)
        for pk in ReportVersion.objects.filter(status="queued").values_list("pk", flat=True)
    )


class Migration(migrations.Migration):
    dependencies = [
        ("reporting", "0003_merge_monitoring_and_impact_reports"),
        ("governance", "0009_outbox"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
