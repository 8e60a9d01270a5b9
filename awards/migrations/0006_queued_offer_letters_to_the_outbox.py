"""Offer letters still queued when the outbox arrived get an outbox message, so a letter the
broker refused before is made now rather than staying queued for good."""

import uuid

from django.db import migrations
from django.utils import timezone


def forwards(apps, schema_editor):
    OfferLetter = apps.get_model("awards", "OfferLetter")
    OutboxMessage = apps.get_model("governance", "OutboxMessage")
    now = timezone.now()
    OutboxMessage.objects.bulk_create(
        OutboxMessage(task_id=uuid.uuid4(), task_name="awards.tasks.generate_offer_letter", args=[pk], kwargs={},
                      status="waiting", created_at=now, next_attempt_at=now)
        for pk in OfferLetter.objects.filter(status="queued").values_list("pk", flat=True)
    )


class Migration(migrations.Migration):
    dependencies = [
        ("awards", "0005_upload_scan_status"),
        ("governance", "0009_outbox"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
