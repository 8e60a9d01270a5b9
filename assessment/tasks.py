"""Background work for assessment. Tasks call services, which record what they did."""

from celery import shared_task

from governance.uploads import scan_in_task

from .services import assignment_reminders_send, clarification_attachment_scan


@shared_task
def send_assessment_reminders() -> int:
    """Daily: remind assessors once whose scores are due within 3 days or overdue. Idempotent."""
    return assignment_reminders_send()


@shared_task(bind=True, max_retries=10)
def scan_clarification_attachment(self, clarification_id: int) -> str | None:
    """Have clamd scan the file on a clarification reply. Safe to run twice."""
    return scan_in_task(self, lambda: clarification_attachment_scan(clarification_id=clarification_id),
                        what=f"Clarification reply {clarification_id}")
