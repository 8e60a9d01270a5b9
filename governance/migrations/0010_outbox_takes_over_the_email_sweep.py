"""The outbox replaces the periodic email sweep: its beat entry goes, and emails still unsent
from the last three days (the sweep's window) get an outbox message, so none is stranded."""

import datetime as dt
import uuid

from django.db import migrations
from django.utils import timezone



def forwards(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(task="governance.tasks.deliver_unemailed_notifications").delete()
    Notification = apps.get_model("governance", "Notification")
    OutboxMessage = apps.get_model("governance", "OutboxMessage")
    now = timezone.now()
    unsent = Notification.objects.filter(emailed_at__isnull=True, created_at__gte=now - dt.timedelta(days=3))
    OutboxMessage.objects.bulk_create(
        OutboxMessage(task_id=uuid.uuid4(), task_name="governance.tasks.deliver_notification", args=[pk], kwargs={},
                      status="waiting", created_at=now, next_attempt_at=now)
        for pk in unsent.values_list("pk", flat=True)
    )


class Migration(migrations.Migration):
    dependencies = [
        ("governance", "0009_outbox"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
