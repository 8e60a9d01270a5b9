"""Background work for assessment. Tasks call services, which record what they did."""

from celery import shared_task

from .services import assignment_reminders_send


@shared_task
def send_assessment_reminders() -> int:
    """Daily: remind assessors once whose scores are due within 3 days or overdue. Idempotent."""
    return assignment_reminders_send()
