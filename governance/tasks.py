"""Background work for the governance stage. Tasks take ids and call services."""

from smtplib import SMTPException

from celery import shared_task

from .services import calls_advance, notification_email_send


@shared_task(
    autoretry_for=(SMTPException, ConnectionError, TimeoutError),
    retry_backoff=30, retry_backoff_max=3600, retry_jitter=True, max_retries=8,
)
def deliver_notification(notification_id: int) -> bool:
    """Email a notification. Safe to run twice: a sent notification is not sent again."""
    return notification_email_send(notification_id=notification_id)


@shared_task
def advance_calls() -> list[list]:
    """Open and close calls at their published times (run every minute by the beat).

    Idempotent: a call already moved is left alone, so a repeated or overlapping run makes
    no second transition and no second audit event. Returns [[call id, new status], ...].
    """
    return [[pk, status] for pk, status in calls_advance()]
