"""Background work for the governance stage. Tasks take ids and call services."""

from smtplib import SMTPException

from celery import shared_task

from .services import notification_email_send


@shared_task(
    autoretry_for=(SMTPException, ConnectionError, TimeoutError),
    retry_backoff=30, retry_backoff_max=3600, retry_jitter=True, max_retries=8,
)
def deliver_notification(notification_id: int) -> bool:
    """Email a notification. Safe to run twice: a sent notification is not sent again."""
    return notification_email_send(notification_id=notification_id)
