"""Offer letters: asking for a new version, and making it (queued, running, ready or failed)."""

from __future__ import annotations

import logging

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from governance.access import require_actor
from governance.models import User

from ..lifecycle import OFFER_LETTER_LIFECYCLE
from ..messages import LETTER_NOT_ALLOWED
from ..models import COMMITTING_STATUSES, Award, OfferLetter
from ._shared import _lock_award, _request_letter

logger = logging.getLogger(__name__)


@transaction.atomic
def offer_letter_request(*, actor: User, award: Award) -> OfferLetter:
    """Make the offer letter again (a new version), for example after a failure."""
    require_actor(actor, "awards.manage_award", award)
    award = _lock_award(award)
    if award.status not in COMMITTING_STATUSES:
        raise ValidationError(LETTER_NOT_ALLOWED, code="letter_not_allowed")
    return _request_letter(actor, award)


def offer_letter_generate(*, letter_id: int) -> OfferLetter | None:
    """Render and store one offer letter: queued → running → ready, or failed.

    Safe to run twice: a ready letter is left alone; a letter left running by a lost worker
    is made again when the task is redelivered.
    """
    from ..letters import render_offer_letter

    with transaction.atomic():
        letter = OfferLetter.objects.select_for_update().filter(pk=letter_id).first()
        if letter is None or not OFFER_LETTER_LIFECYCLE.allows(letter.status, "start"):
            return letter
        OFFER_LETTER_LIFECYCLE.apply(
            letter, "start", actor=None, locked=letter, clean=False, changes={"error": ""}
        )
    try:
        pdf = render_offer_letter(letter)
    except Exception as exc:
        logger.exception("Offer letter %s could not be made", letter_id)
        return offer_letter_fail(letter_id=letter_id, error=f"{type(exc).__name__}: {exc}")
    with transaction.atomic():
        letter = OfferLetter.objects.select_for_update().select_related("award").get(pk=letter_id)
        # Made meanwhile by a redelivered task.
        if not OFFER_LETTER_LIFECYCLE.allows(letter.status, "finish"):
            return letter
        letter.file.save(f"offer-letter-v{letter.version}.pdf", ContentFile(pdf), save=False)
        OFFER_LETTER_LIFECYCLE.apply(
            letter,
            "finish",
            actor=None,
            locked=letter,
            clean=False,
            changes={"ready_at": timezone.now()},
            recorded=(),
            message=f"Offer letter version {letter.version} made",
        )
    return letter


@transaction.atomic
def offer_letter_fail(*, letter_id: int, error: str) -> OfferLetter | None:
    letter = (
        OfferLetter.objects.select_for_update().select_related("award").filter(pk=letter_id).first()
    )
    if letter is None or not OFFER_LETTER_LIFECYCLE.allows(letter.status, "fail"):
        return letter
    OFFER_LETTER_LIFECYCLE.apply(
        letter,
        "fail",
        actor=None,
        locked=letter,
        clean=False,
        changes={"error": error[:2000]},
        recorded=(),
        message=f"Offer letter version {letter.version} could not be made",
    )
    return letter
