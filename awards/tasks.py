"""Background work for awards. Tasks take ids and call services, which record the outcome."""

from celery import shared_task

from .services import awards_lapse_overdue, offer_letter_generate


@shared_task
def generate_offer_letter(letter_id: int) -> str | None:
    """Render an offer letter PDF and store it: queued → running → ready | failed."""
    letter = offer_letter_generate(letter_id=letter_id)
    return letter.status if letter else None


@shared_task
def lapse_overdue_offers() -> int:
    """Daily: lapse offers not accepted by their deadline and release their money. Idempotent."""
    return awards_lapse_overdue()
