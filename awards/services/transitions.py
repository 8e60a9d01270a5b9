"""An award's transitions: the grantee accepting or declining the offer, offers lapsing, and
the fund manager starting, suspending, resuming, withdrawing and closing the award (and
changing how often returns are due while the offer waits for an answer).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from governance.access import require_actor
from governance.audit import audit_record, snapshot
from governance.models import User
from governance.money import ZERO

from ..lifecycle import AWARD_LIFECYCLE, INSTALMENT_LIFECYCLE
from ..messages import (
    DECLINE_REASON_MISSING,
    NOT_SIGNATORY,
    OFFER_EXPIRED,
    OFFER_LETTER_NOT_READY,
    PRESTART_CONDITIONS_OPEN,
    REASON_MISSING,
    RELEASED_NOT_PAID,
    RETURN_FREQUENCY_FIXED,
    RETURN_FREQUENCY_NOT_ALLOWED,
)
from ..models import Award, AwardStatus, DocumentStatus, InstalmentStatus, LedgerEntryKind
from ..selectors import award_ledger_by_year, is_authorised_signatory, prestart_conditions_met
from ..signals import award_changed
from ._shared import (
    _date,
    _ledger,
    _lock_award,
    _lock_budgets,
    _money,
    _notify_manager,
    _notify_recipient,
    _request_letter,
    _status_label,
    _tell_grantee,
)
from .issuing import RETURN_FREQUENCIES

# Accepting, declining and lapsing ------------------------------------------------------------------


def _require_signatory(actor: User, award: Award) -> None:
    if actor is None or not is_authorised_signatory(actor, award):
        raise ValidationError(
            NOT_SIGNATORY, code="not_signatory", params={"organisation": award.recipient.name}
        )


@transaction.atomic
def award_accept(*, actor: User, award: Award) -> Award:
    """The recipient's authorised signatory accepts the offer by its deadline."""
    award = _lock_award(award)
    AWARD_LIFECYCLE.require_state(award, "accept")
    _require_signatory(actor, award)
    if timezone.localdate() > award.offer_deadline:
        raise ValidationError(OFFER_EXPIRED, code="offer_expired")
    # The signatory accepts the terms in the letter: the latest one, which must exist to be read.
    letter = award.letters.order_by("-version").first()
    if letter is None or letter.status != DocumentStatus.READY:
        raise ValidationError(OFFER_LETTER_NOT_READY, code="letter_not_ready")
    award = AWARD_LIFECYCLE.apply(
        award,
        "accept",
        actor=actor,
        locked=award,
        changes={"accepted_by": actor, "accepted_at": timezone.now()},
        recorded=("status", "accepted_by", "accepted_at"),
        audit_after={"letter_version": letter.version},
        message=f"Offer accepted for {award.recipient.name} on the terms of offer letter version {letter.version}",
    )
    _notify_manager(
        award,
        f"Offer accepted: {award.reference}",
        f'{actor.full_name} accepted the offer for "{award.title}" on behalf of {award.recipient.name}.',
    )
    return award


def _release_unpaid(
    award: Award, actor: User | None, note: str, *, cancel_released: bool = True
) -> Decimal:
    """Release to the pot every pound committed to the award but not paid; cancel unpaid
    instalments. The award row must already be locked. Returns the amount released."""
    by_year = award_ledger_by_year(award)
    _lock_budgets(award.pot_id, by_year)
    released = ZERO
    for year, money in sorted(by_year.items()):
        unpaid = money["committed"] - money["paid"]
        if unpaid > 0:
            _ledger(award, LedgerEntryKind.RELEASE, year, unpaid, actor, note)
            released += unpaid
    statuses = (
        [InstalmentStatus.SCHEDULED, InstalmentStatus.RELEASED]
        if cancel_released
        else [InstalmentStatus.SCHEDULED]
    )
    # The portal cancels them, as what follows the award's change (recorded with its actor).
    for instalment in (
        award.instalments.select_for_update()
        .filter(status__in=statuses)
        .order_by("financial_year", "quarter")
    ):
        INSTALMENT_LIFECYCLE.apply(
            instalment,
            "cancel",
            actor=None,
            locked=instalment,
            clean=False,
            message=f"{instalment.label} instalment of {_money(instalment.amount)} cancelled: "
            f"{note[0].lower()}{note[1:]}",
        )
    return released


def _end_award(
    award: Award, action: str, *, actor: User | None, reason: str, note: str, message: str
) -> Award:
    """Decline, lapse, withdraw or close the award (locked, its state checked): its unpaid
    money goes back to the pot and its unpaid instalments are cancelled."""
    released = _release_unpaid(award, actor, note)
    return AWARD_LIFECYCLE.apply(
        award,
        action,
        actor=actor,
        locked=award,
        clean=False,
        changes={"status_reason": reason, "closed_at": timezone.now()},
        recorded=("status", "status_reason"),
        audit_after={"released": released},
        message=f"{message}; {_money(released)} released to the pot",
    )


@transaction.atomic
def award_decline(*, actor: User, award: Award, reason: str) -> Award:
    """The recipient's authorised signatory declines the offer; the commitment is released."""
    award = _lock_award(award)
    AWARD_LIFECYCLE.require_state(award, "decline")
    _require_signatory(actor, award)
    if not (reason or "").strip():
        raise ValidationError(
            {"reason": ValidationError(DECLINE_REASON_MISSING, code="reason_missing")}
        )
    award = _end_award(
        award,
        "decline",
        actor=actor,
        reason=reason.strip(),
        note="Offer declined",
        message=f"Offer declined by {award.recipient.name}",
    )
    _notify_manager(
        award,
        f"Offer declined: {award.reference}",
        f'{actor.full_name} declined the offer for "{award.title}": {reason.strip()}',
    )
    return award


def award_lapse(*, award: Award, today: dt.date | None = None) -> bool:
    """Lapse an offer not accepted by its deadline and release its commitment.

    Idempotent: returns False (and changes nothing) unless the award is still offered and
    its deadline has passed.
    """
    today = today or timezone.localdate()
    with transaction.atomic():
        award = _lock_award(award)
        if not AWARD_LIFECYCLE.allows(award.status, "lapse") or award.offer_deadline >= today:
            return False
        _end_award(
            award,
            "lapse",
            actor=None,
            reason=f"Not accepted by the deadline, {_date(award.offer_deadline)}.",
            note="Offer lapsed",
            message="Offer lapsed: not accepted by its deadline",
        )
    _notify_manager(
        award,
        f"Offer lapsed: {award.reference}",
        f'The offer for "{award.title}" was not accepted by its deadline; its money is back in the pot.',
    )
    return True


def awards_lapse_overdue(*, today: dt.date | None = None) -> int:
    """Lapse every offer past its deadline (the daily beat task). Returns how many lapsed."""
    today = today or timezone.localdate()
    overdue = Award.objects.filter(status=AwardStatus.OFFERED, offer_deadline__lt=today).order_by(
        "pk"
    )
    return sum(award_lapse(award=award, today=today) for award in overdue)


# Fund managers' transitions ------------------------------------------------------------------------


def _require_reason(reason: str) -> str:
    if not (reason or "").strip():
        raise ValidationError({"reason": ValidationError(REASON_MISSING, code="reason_missing")})
    return reason.strip()


@transaction.atomic
def award_activate(*, actor: User, award: Award, reason: str = "") -> Award:
    """Start an accepted award once the conditions holding back its first payment are met or waived."""
    award = AWARD_LIFECYCLE.check(award, "activate", actor=actor)
    if not prestart_conditions_met(award):
        raise ValidationError(PRESTART_CONDITIONS_OPEN, code="conditions_open")
    award = AWARD_LIFECYCLE.apply(
        award,
        "activate",
        actor=actor,
        locked=award,
        clean=False,
        changes={"status_reason": (reason or "").strip()},
        message="Award started",
    )
    award_changed.send(sender=Award, award=award, actor=actor, change="status")
    _tell_grantee("award_started", award, about=award)
    return award


@transaction.atomic
def award_return_frequency_set(*, actor: User, award: Award, months: int) -> Award:
    """Change how often monitoring returns are due while the offer waits for an answer: the
    terms change, so a new offer letter is made and the recipient is told."""
    require_actor(actor, "awards.manage_award", award)
    award = _lock_award(award)
    if award.status != AwardStatus.OFFERED:
        raise ValidationError(
            RETURN_FREQUENCY_FIXED,
            code="frequency_fixed",
            params={"status": _status_label(award.status)},
        )
    if months not in RETURN_FREQUENCIES:
        raise ValidationError(
            {
                "return_frequency_months": ValidationError(
                    RETURN_FREQUENCY_NOT_ALLOWED, code="frequency"
                )
            }
        )
    if months == award.return_frequency_months:
        return award
    before = snapshot(award, ("return_frequency_months",))
    award.return_frequency_months = months
    award.save(update_fields=["return_frequency_months", "updated_at"])
    audit_record(
        actor=actor,
        action="award.return_frequency_changed",
        target=award,
        before=before,
        after=snapshot(award, ("return_frequency_months",)),
        message=f"Monitoring returns now due {RETURN_FREQUENCIES[months].lower()}",
    )
    _request_letter(actor, award)
    _notify_recipient(
        award,
        f"Offer changed: {award.reference}",
        f'Monitoring returns for "{award.title}" will be due {RETURN_FREQUENCIES[months].lower()}. '
        "A new offer letter is being made: read it before you accept the offer.",
    )
    return award


@transaction.atomic
def award_suspend(*, actor: User, award: Award, reason: str) -> Award:
    award = AWARD_LIFECYCLE.check(award, "suspend", actor=actor)
    reason = _require_reason(reason)
    award = AWARD_LIFECYCLE.apply(
        award,
        "suspend",
        actor=actor,
        locked=award,
        clean=False,
        changes={"status_reason": reason},
        message="Award suspended: payments stop",
    )
    award_changed.send(sender=Award, award=award, actor=actor, change="status")
    _notify_recipient(
        award, f"Award suspended: {award.reference}", f"Payments are suspended: {reason}"
    )
    return award


@transaction.atomic
def award_resume(*, actor: User, award: Award, reason: str = "") -> Award:
    award = AWARD_LIFECYCLE.check(award, "resume", actor=actor)
    award = AWARD_LIFECYCLE.apply(
        award,
        "resume",
        actor=actor,
        locked=award,
        clean=False,
        changes={"status_reason": (reason or "").strip()},
        message="Award resumed",
    )
    award_changed.send(sender=Award, award=award, actor=actor, change="status")
    _notify_recipient(award, f"Award resumed: {award.reference}", "Payments have resumed.")
    return award


@transaction.atomic
def award_withdraw(*, actor: User, award: Award, reason: str) -> Award:
    """Withdraw an offer or an award: all unpaid money goes back to the pot."""
    award = AWARD_LIFECYCLE.check(award, "withdraw", actor=actor)
    reason = _require_reason(reason)
    award = _end_award(
        award,
        "withdraw",
        actor=actor,
        reason=reason,
        note="Award withdrawn",
        message="Award withdrawn",
    )
    _notify_recipient(
        award, f"Award withdrawn: {award.reference}", f"The award has been withdrawn: {reason}"
    )
    return award


@transaction.atomic
def award_close(*, actor: User, award: Award, reason: str = "") -> Award:
    """Close a finished award: any underspend (committed, not paid) goes back to the pot."""
    award = AWARD_LIFECYCLE.check(award, "close", actor=actor)
    if award.instalments.filter(status=InstalmentStatus.RELEASED).exists():
        raise ValidationError(RELEASED_NOT_PAID, code="released_not_paid")
    return _end_award(
        award,
        "close",
        actor=actor,
        reason=(reason or "").strip(),
        note="Underspend released at closure",
        message="Award closed",
    )
