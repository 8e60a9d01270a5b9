"""Background work for assessment. Tasks call services, which record what they did."""

from celery import shared_task

from governance.uploads import scan_in_task

from .services import (
    assignment_reminders_send,
    clarification_attachment_scan,
    invitations_remind_and_expire,
    panel_pack_build,
)


@shared_task
def send_assessment_reminders() -> int:
    """Daily: remind assessors once whose scores are due within 3 days or overdue. Idempotent."""
    return assignment_reminders_send()


@shared_task(bind=True, max_retries=10)
def scan_clarification_attachment(self, clarification_id: int) -> str | None:
    """Have clamd scan the file on a clarification reply. Safe to run twice."""
    return scan_in_task(self, lambda: clarification_attachment_scan(clarification_id=clarification_id),
                        what=f"Clarification reply {clarification_id}")


@shared_task
def remind_and_expire_invitations() -> list[int]:
    """Hourly: remind invitees once before their invitation expires, and expire those past it."""
    return list(invitations_remind_and_expire())


@shared_task
def build_panel_pack(pack_id: int) -> str | None:
    """Build a panel pack's zip: queued → running → ready | failed (idempotent)."""
    pack = panel_pack_build(pack_id=pack_id)
    return pack.status if pack else None
