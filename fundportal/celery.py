"""The Celery application. Tasks live in each app's ``tasks.py`` (the reporting stage: in each of
its packages' ``tasks.py``) and call services.

Requests and tasks never call ``.delay()``: they record the task in the outbox
(``governance.outbox.outbox_enqueue``), which hands it over after the commit. Every task is an
``OutboxTask``, which marks its outbox message done and skips one already done.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fundportal.settings.local")

app = Celery("fundportal", task_cls="governance.celery_task:OutboxTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# The reporting stage keeps its tasks in its three packages.
app.autodiscover_tasks(["reporting.monitoring", "reporting.impact", "reporting.register"])
