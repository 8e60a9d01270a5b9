"""The reporting stage's tasks moved into its packages: side effects still waiting in the outbox
under a task's old name are handed over under its new one."""

from django.db import migrations

RENAMED = {
    "reporting.tasks.build_impact_report": "reporting.impact.tasks.build_impact_report",
    "reporting.tasks.requeue_stale_impact_reports": "reporting.impact.tasks.requeue_stale_impact_reports",
    "reporting.tasks.build_scheduled_impact_reports": "reporting.impact.tasks.build_scheduled_impact_reports",
    "reporting.tasks.build_open_data": "reporting.register.tasks.build_open_data",
    "reporting.tasks.refresh_open_data": "reporting.register.tasks.refresh_open_data",
    "reporting.monitoring_tasks.send_return_reminder": "reporting.monitoring.tasks.send_return_reminder",
    "reporting.monitoring_tasks.run_monitoring": "reporting.monitoring.tasks.run_monitoring",
}


def rename(apps, schema_editor, names=RENAMED):
    OutboxMessage = apps.get_model("governance", "OutboxMessage")
    for old, new in names.items():
        OutboxMessage.objects.filter(task_name=old).exclude(status="done").update(task_name=new)


def rename_back(apps, schema_editor):
    rename(apps, schema_editor, {new: old for old, new in RENAMED.items()})


class Migration(migrations.Migration):
    dependencies = [
        ("reporting", "0007_reminders_at_14_3_1_days"),
        ("governance", "0011_organisation_name_search_index"),
    ]

    operations = [migrations.RunPython(rename, rename_back)]
