"""Background work for the applications stage. Tasks take ids and call services."""

import datetime as dt
import logging

from celery import shared_task
from django.conf import settings

from governance.outbox import outbox_enqueue
from governance.uploads import scan_in_task

from .selectors import attachments_awaiting_scan
from .services import (
    attachment_scan,
    bid_pdf_generate,
    draft_bid_reminders_send,
    team_invitation_email_send,
)

logger = logging.getLogger(__name__)


@shared_task(bind=True, max_retries=10)
def scan_attachment(self, attachment_id: int) -> str | None:
    """Have clamd scan a bid attachment. Safe to run twice: a scanned file is left alone."""
    return scan_in_task(self, lambda: attachment_scan(attachment_id=attachment_id),
                        what=f"Attachment {attachment_id}")


@shared_task
def rescan_awaiting_attachments() -> int:
    """Periodic: send files still awaiting their scan to be scanned again (idempotent)."""
    waiting = attachments_awaiting_scan(older_than=dt.timedelta(seconds=settings.UPLOAD_RESCAN_AFTER_SECONDS))
    for attachment_id in waiting:
        outbox_enqueue(scan_attachment, attachment_id)
    if waiting:
        logger.warning("Sent %d attachments awaiting their virus scan to be scanned again", len(waiting))
    return len(waiting)


@shared_task
def send_draft_bid_reminders() -> int:
    """Daily: writers of draft bids hear 14, 3 and 1 days before the call closes (each once)."""
    return draft_bid_reminders_send()


@shared_task
def generate_bid_pdf(pdf_id: int) -> str | None:
    """Make a PDF copy of a bid and store it: queued → running → ready | failed."""
    pdf = bid_pdf_generate(pdf_id=pdf_id)
    return pdf.status if pdf else None


@shared_task
def send_team_invitation(member_id: int) -> bool:
    """Email a bid team invitation to someone with no account yet. Idempotent enough: an
    invitation no longer pending is not sent."""
    return team_invitation_email_send(member_id=member_id)
