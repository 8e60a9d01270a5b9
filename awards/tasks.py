"""Background work for awards. Tasks take ids and call services, which record the outcome."""

import datetime as dt
import logging

from celery import shared_task
from django.conf import settings

from governance.outbox import outbox_enqueue
from governance.uploads import scan_in_task

from .selectors import evidence_awaiting_scan
from .services import awards_lapse_overdue, condition_evidence_scan, offer_letter_generate


@shared_task
def generate_offer_letter(letter_id: int) -> str | None:
    """Render an offer letter PDF and store it: queued → running → ready | failed."""
    letter = offer_letter_generate(letter_id=letter_id)
    return letter.status if letter else None


@shared_task
def lapse_overdue_offers() -> int:
    """Daily: lapse offers not accepted by their deadline and release their money. Idempotent."""
    return awards_lapse_overdue()


@shared_task(bind=True, max_retries=10)
def scan_condition_evidence(self, condition_id: int) -> str | None:
    """Have clamd scan a condition's evidence. Safe to run twice: scanned evidence is left alone."""
    return scan_in_task(self, lambda: condition_evidence_scan(condition_id=condition_id),
                        what=f"Evidence for condition {condition_id}")


@shared_task
def rescan_awaiting_evidence() -> int:
    """Periodic: send evidence still awaiting its scan to be scanned again (idempotent)."""
    waiting = evidence_awaiting_scan(older_than=dt.timedelta(seconds=settings.UPLOAD_RESCAN_AFTER_SECONDS))
    for condition_id in waiting:
        outbox_enqueue(scan_condition_evidence, condition_id)
    if waiting:
        logging.getLogger(__name__).warning("Sent %d evidence files awaiting their virus scan to be scanned again",
                                            len(waiting))
    return len(waiting)
