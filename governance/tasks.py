"""Background work for the governance stage. Tasks take ids and call services."""

import datetime as dt
import logging
from smtplib import SMTPException

from celery import shared_task
from django.conf import settings

from .selectors import notifications_unemailed
from .services import calls_advance, notification_email_send

logger = logging.getLogger(__name__)


@shared_task(
    autoretry_for=(SMTPException, ConnectionError, TimeoutError),
    retry_backoff=30, retry_backoff_max=3600, retry_jitter=True, max_retries=8,
)
def deliver_notification(notification_id: int) -> bool:
    """Email a notification. Safe to run twice: a sent notification is not sent again."""
    return notification_email_send(notification_id=notification_id)


@shared_task
def deliver_unemailed_notifications() -> int:
    """Queue again the emails that a lost worker or a refused publish left unsent (periodic).

    Only notifications older than the grace period are taken, so an email already waiting
    in the queue is not raced; sending twice is harmless anyway (the send is idempotent).
    """
    grace = dt.timedelta(seconds=settings.NOTIFICATION_EMAIL_GRACE_SECONDS)
    stuck = notifications_unemailed(older_than=grace)
    for notification_id in stuck:
        deliver_notification.delay(notification_id)
    if stuck:
        logger.warning("Queued %d unsent notification emails again", len(stuck))
    return len(stuck)


@shared_task
def advance_calls() -> list[list]:
    """Open and close calls at their published times (run every minute by the beat).

    Idempotent: a call already moved is left alone, so a repeated or overlapping run makes
    no second transition and no second audit event. Returns [[call id, new status], ...].
    """
    return [[pk, status] for pk, status in calls_advance()]
