"""Instalments and payments: releasing an instalment for payment (and what holds it back),
recording its payment in the pot's ledger, and the remittance the grantee is sent.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from governance import fy
from governance.models import User
from governance.money import ZERO

from ..lifecycle import INSTALMENT_LIFECYCLE
from ..messages import (
    AWARD_NOT_ACTIVE,
    CONDITIONS_HOLD_BACK,
    PAID_AMOUNT_DIFFERS,
    PAID_AMOUNT_NOT_POSITIVE,
    PAID_AMOUNT_TOO_LARGE,
    PAID_ON_BEFORE_RELEASE,
    PAID_ON_FUTURE,
    PAYMENT_ABOVE_COMMITMENT,
    PAYMENT_REFERENCE_INVALID,
    PAYMENT_REFERENCE_MISSING,
    RETURN_NOT_APPROVED,
    RETURN_NOT_LINKED,
)
from ..models import Award, AwardStatus, Instalment, LedgerEntryKind
from ..selectors import (
    RETURN_APPROVED,
    award_ledger_by_year,
    conditions_holding_back,
    instalment_return,
)
from ._shared import _date, _ledger, _money, _status_label, _tell_grantee

# A finance reference: starts with a letter or digit (so a spreadsheet never reads it as a formula).
PAYMENT_REFERENCE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 /._-]{0,39}$")


def _lock_instalment(instalment: Instalment) -> tuple[Award, Instalment]:
    """Lock the award, then the instalment; payments happen only while the award is active."""
    award = Award.objects.select_for_update().get(pk=instalment.award_id)
    instalment = Instalment.objects.select_for_update().get(pk=instalment.pk)
    if award.status != AwardStatus.ACTIVE:
        raise ValidationError(
            AWARD_NOT_ACTIVE,
            code="award_not_active",
            params={"status": _status_label(award.status)},
        )
    return award, instalment


def _instalment_period(instalment: Instalment) -> str:
    return f"{fy.label(instalment.financial_year)} quarter {instalment.quarter}"


def release_blocker(
    instalment: Instalment, *, award: Award | None = None
) -> ValidationError | None:
    """Why the instalment cannot be released now (None: it can)."""
    award = award or instalment.award
    if award.status != AwardStatus.ACTIVE:
        return ValidationError(
            AWARD_NOT_ACTIVE,
            code="award_not_active",
            params={"status": _status_label(award.status)},
        )
    if not INSTALMENT_LIFECYCLE.allows(instalment.status, "release"):
        return INSTALMENT_LIFECYCLE.refuse(instalment, INSTALMENT_LIFECYCLE.transition("release"))
    holding = list(conditions_holding_back(instalment))
    if holding:
        return ValidationError(
            CONDITIONS_HOLD_BACK,
            code="conditions_open",
            params={
                "count": len(holding),
                "plural": "" if len(holding) == 1 else "s",
                "titles": "; ".join(f"\u201c{c.title}\u201d" for c in holding),
            },
        )
    if instalment.requires_return:
        monitoring_return = instalment_return(instalment)
        if monitoring_return is None:
            return ValidationError(RETURN_NOT_LINKED, code="return_not_linked")
        if monitoring_return.status != RETURN_APPROVED:
            return ValidationError(
                RETURN_NOT_APPROVED,
                code="return_not_approved",
                params={"status": monitoring_return.get_status_display().lower()},
            )
    return None


@transaction.atomic
def instalment_release(*, actor: User, instalment: Instalment) -> Instalment:
    """Release an instalment for payment: scheduled → released.

    Refused unless the award is active, no outstanding condition holds back this instalment
    (or an earlier one), and, where the instalment requires a return, the monitoring return
    linked to it is approved. ``release_blocker`` gives the same answer without locking, for
    pages that show the button only when it can work.
    """
    INSTALMENT_LIFECYCLE.require_permission(instalment, "release", actor)
    award, instalment = _lock_instalment(instalment)
    blocker = release_blocker(instalment, award=award)
    if blocker is not None:
        raise blocker
    instalment = INSTALMENT_LIFECYCLE.apply(
        instalment,
        "release",
        actor=actor,
        locked=instalment,
        clean=False,
        changes={"released_at": timezone.now(), "released_by": actor},
        recorded=("status",),
        message=f"{fy.label(instalment.financial_year)} Q{instalment.quarter} instalment of {_money(instalment.amount)} released",
    )
    _tell_grantee(
        "instalment_released",
        award,
        about=instalment,
        values={"amount": _money(instalment.amount), "period": _instalment_period(instalment)},
    )
    return instalment


def clean_payment_reference(reference: str) -> str:
    """The finance system's reference, trimmed; ValidationError if missing or not like one."""
    reference = " ".join((reference or "").split())
    if not reference:
        raise ValidationError(PAYMENT_REFERENCE_MISSING, code="reference_missing")
    if not PAYMENT_REFERENCE_PATTERN.match(reference):
        raise ValidationError(PAYMENT_REFERENCE_INVALID, code="reference_invalid")
    return reference


@transaction.atomic
def instalment_mark_paid(
    *,
    actor: User,
    instalment: Instalment,
    paid_on: dt.date | None = None,
    amount: Decimal | None = None,
    reference: str = "",
    note: str = "",
) -> Instalment:
    """Record the payment of a released instalment: released → paid, with a payment entry.

    ``paid_on``: the day the finance system paid it (not in the future, not before the release);
    ``amount``: what was paid, the instalment's amount unless ``note`` explains a difference, and
    never more than the year's money committed and not yet paid; ``reference``: the finance
    system's reference (required). The grantee is sent the remittance.
    """
    INSTALMENT_LIFECYCLE.require_permission(instalment, "mark_paid", actor)
    award, instalment = _lock_instalment(instalment)
    INSTALMENT_LIFECYCLE.require_state(instalment, "mark_paid")
    money = award_ledger_by_year(award).get(
        instalment.financial_year, {"committed": ZERO, "paid": ZERO}
    )
    year = fy.label(instalment.financial_year)
    if money["paid"] + instalment.amount > money["committed"] and amount is None:
        raise ValidationError(
            PAYMENT_ABOVE_COMMITMENT, code="above_commitment", params={"year": year}
        )
    errors: dict[str, list[ValidationError]] = defaultdict(list)
    today = timezone.localdate()
    released_on = timezone.localdate(instalment.released_at) if instalment.released_at else None
    paid_on = paid_on or today
    if paid_on > today:
        errors["paid_on"].append(ValidationError(PAID_ON_FUTURE, code="paid_on_future"))
    elif released_on and paid_on < released_on:
        errors["paid_on"].append(
            ValidationError(
                PAID_ON_BEFORE_RELEASE,
                code="paid_on_before_release",
                params={"released": _date(released_on)},
            )
        )
    amount = instalment.amount if amount is None else amount
    note = (note or "").strip()
    limit = money["committed"] - money["paid"]
    if amount <= 0:
        errors["amount"].append(
            ValidationError(PAID_AMOUNT_NOT_POSITIVE, code="amount_not_positive")
        )
    elif amount > limit:
        errors["amount"].append(
            ValidationError(
                PAID_AMOUNT_TOO_LARGE,
                code="amount_too_large",
                params={"limit": _money(max(limit, ZERO)), "year": year},
            )
        )
    elif amount != instalment.amount and not note:
        errors["note"].append(
            ValidationError(
                PAID_AMOUNT_DIFFERS,
                code="amount_differs",
                params={"amount": _money(instalment.amount)},
            )
        )
    try:
        reference = clean_payment_reference(reference)
    except ValidationError as exc:
        errors["reference"].append(exc)
    errors = {key: value for key, value in errors.items() if value}
    if errors:
        raise ValidationError(errors)
    _ledger(
        award,
        LedgerEntryKind.PAYMENT,
        instalment.financial_year,
        amount,
        actor,
        f"Q{instalment.quarter} instalment paid, reference {reference}",
    )
    instalment = INSTALMENT_LIFECYCLE.apply(
        instalment,
        "mark_paid",
        actor=actor,
        locked=instalment,
        clean=False,
        changes={
            "paid_at": timezone.now(),
            "paid_by": actor,
            "paid_on": paid_on,
            "paid_amount": amount,
            "payment_reference": reference,
            "payment_note": note if amount != instalment.amount else "",
        },
        recorded=("status", "paid_on", "paid_amount", "payment_reference", "payment_note"),
        message=f"{instalment.label} instalment of {_money(instalment.amount)} paid: {_money(amount)} "
        f"on {_date(paid_on)}, reference {reference}",
    )
    _tell_grantee(
        "instalment_paid",
        award,
        about=instalment,
        values={
            "amount": _money(amount),
            "period": _instalment_period(instalment),
            "remittance": remittance_text(instalment),
        },
    )
    return instalment


def remittance_text(instalment: Instalment) -> str:
    """The remittance the grantee is sent (its fields are those ``visibility.remittance`` shows)."""
    text = (
        f"{_money(instalment.paid_amount)} was paid to {instalment.award.recipient.name} on {_date(instalment.paid_on) if instalment.paid_on else ''} "
        f'for the {instalment.label} instalment of "{instalment.award.title}". '
        f"Payment reference: {instalment.payment_reference}."
    )
    if instalment.payment_note:
        text += f" The amount differs from the instalment of {_money(instalment.amount)}: {instalment.payment_note}"
    return text
