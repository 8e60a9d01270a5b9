"""Background work for the governance stage. Tasks take ids and call services."""

import logging
from smtplib import SMTPException

from celery import shared_task

from .outbox import outbox_dispatch_due
from .services import calls_advance, notification_email_send

logger = logging.getLogger(__name__)


@shared_task(  # type: ignore[call-overload]  # outbox_wait_on is this project's own task option (OutboxTask)
    autoretry_for=(SMTPException, ConnectionError, TimeoutError),
    retry_backoff=30, retry_backoff_max=3600, retry_jitter=True, max_retries=8,
    # A mail server still down after every retry: the outbox message waits for the beat again.
    outbox_wait_on=(SMTPException, ConnectionError, TimeoutError),
)
def deliver_notification(notification_id: int) -> bool:
    """Email a notification. Safe to run twice: a sent notification is not sent again."""
    return notification_email_send(notification_id=notification_id)


@shared_task
def dispatch_outbox() -> int:
    """Beat, every few seconds: hand the side effects still waiting (the broker refused them,
    or the process died between commit and hand-over) to the workers, each with its backoff."""
    return len(outbox_dispatch_due())


@shared_task
def advance_calls() -> list[list]:
    """Open and close calls at their published times (run every minute by the beat).

    Idempotent: a call already moved is left alone, so a repeated or overlapping run makes
    no second transition and no second audit event. Returns [[call id, new status], ...].
    """
    return [[pk, status] for pk, status in calls_advance()]


@shared_task
def send_notification_digests() -> int:
    """Daily: each person who chose a digest gets one email listing what waited for it. A digest
    that fails is left for the next run; each notification goes in one digest only."""
    from .services import notification_digest_send, notification_digests_due

    sent = 0
    for user_id in notification_digests_due():
        try:
            sent += notification_digest_send(user_id=user_id)
        except (SMTPException, ConnectionError, TimeoutError):
            logger.exception("The digest for user %s could not be sent; it waits for the next run", user_id)
    return sent


@shared_task(time_limit=3600, soft_time_limit=3500)
def import_ods() -> str:
    """Beat, daily: load and refresh organisations from the configured ODS sources (idempotent).
    Nothing happens unless ``ODS_SOURCE_URLS`` or ``ODS_API_URL`` is set."""
    from django.conf import settings

    from .ods import import_from_sources

    if not settings.ODS_SOURCE_URLS and not settings.ODS_API_URL:
        return "no ODS source configured"
    result = import_from_sources()
    logger.info("ODS import: %s", result.summary())
    return result.summary()
