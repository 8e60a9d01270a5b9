"""Background work for monitoring returns. Tasks take ids and call services.

``run_monitoring`` (periodic, see ``CELERY_BEAT_SCHEDULE``) syncs the schedules, opens returns
whose period has ended, and queues one ``send_return_reminder`` per reminder due. Both are
idempotent: a reminder goes once per return, kind and due date whatever the number of runs,
and a run after missed ones catches up. Tasks are acknowledged late, so a worker killed mid-run
has its task redelivered; what was committed is not done again. Reminders and their emails go
through the outbox (``governance.outbox``), so a refused hand-over is made by the beat later.
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import InterfaceError, OperationalError

from governance.outbox import outbox_enqueue

from .services import monitoring_run, return_reminder_send

logger = logging.getLogger(__name__)

# Database hiccups and a return locked by another worker are worth retrying, with backoff.
RETRY_ON = (OperationalError, InterfaceError, ConnectionError, TimeoutError)


@shared_task(autoretry_for=RETRY_ON, retry_backoff=5, retry_backoff_max=600, retry_jitter=True, max_retries=8)
def send_return_reminder(return_id: int, kind: str) -> bool:
    """Send one reminder if it is still due and not yet sent. True if it went now."""
    return return_reminder_send(return_id=return_id, kind=kind)


@shared_task(autoretry_for=RETRY_ON, retry_backoff=30, retry_backoff_max=1800, retry_jitter=True, max_retries=5)
def run_monitoring() -> dict:
    """Sync schedules, open ended returns, and queue the reminders due today."""
    result = monitoring_run()
    for return_id, kind in result["reminders"]:
        outbox_enqueue(send_return_reminder, return_id, kind)
    summary = {"synced": result["synced"], "failed": result["failed"], "opened": len(result["opened"]),
               "reminders": len(result["reminders"])}
    logger.info("Monitoring run: %s", summary)
    return summary
