"""Private helpers the topic modules of the awards services share: money and date wording,
profiles, the pot's budget locks and ledger, the award's lock, notices to the grantee and the
fund manager, a condition's schedule checks, and asking for an offer letter.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Max
from django.utils import timezone

from governance import fy, notifications
from governance.audit import audit_record
from governance.models import Fund, Membership, Pot, PotBudget, User
from governance.money import ZERO, format_money
from governance.outbox import outbox_enqueue
from governance.services import notify

from ..messages import (
    CONDITION_DUE_AFTER_END,
    CONDITION_DUE_PAST,
    CONDITION_PAYMENT_UNKNOWN,
    POT_HAS_NO_BUDGET,
    PROFILE_EMPTY,
    PROFILE_NEGATIVE,
    PROFILE_NOT_TOTAL,
    PROFILE_YEAR_OUTSIDE_DATES,
    PROFILE_YEAR_OUTSIDE_FUND,
)
from ..models import Award, AwardStatus, DocumentStatus, OfferLetter, PotLedgerEntry
from ..selectors import pot_committed_in_years
from ..visibility import award_private_audience


def _money(amount: Decimal) -> str:
    return format_money(amount, pence=True)


def _date(day: dt.date) -> str:
    return day.strftime("%-d %B %Y")


def _status_label(status: str) -> str:
    return AwardStatus(status).label.lower()


def _clean_profile(profile: dict[Any, Any]) -> dict[int, Decimal]:
    """Years as ints, amounts as Decimal; zero years dropped (an award holds no money there)."""
    cleaned: dict[int, Decimal] = {}
    for year, amount in (profile or {}).items():
        amount = Decimal(amount)
        if amount != 0:
            cleaned[int(year)] = amount
    return dict(sorted(cleaned.items()))


def _profile_errors(
    profile: dict[int, Decimal],
    *,
    amount: Decimal | None,
    start: dt.date | None,
    end: dt.date | None,
    fund: Fund,
) -> list[ValidationError]:
    """What is wrong with a profile for an award of ``amount`` from ``start`` to ``end``."""
    errors: list[ValidationError] = []
    if not profile:
        return [ValidationError(PROFILE_EMPTY, code="profile_empty")]
    allowed = set(fy.years_spanning(start, end)) if start and end and end > start else None
    for year, value in profile.items():
        params = {"year": fy.label(year)}
        if value < 0:
            errors.append(ValidationError(PROFILE_NEGATIVE, code="negative", params=params))
        elif allowed is not None and year not in allowed:
            errors.append(
                ValidationError(
                    PROFILE_YEAR_OUTSIDE_DATES,
                    code="year_outside_dates",
                    params={
                        **params,
                        "first": fy.label(min(allowed)),
                        "last": fy.label(max(allowed)),
                    },
                )
            )
        elif not fund.first_year <= year <= fund.last_year:
            errors.append(
                ValidationError(
                    PROFILE_YEAR_OUTSIDE_FUND,
                    code="year_outside_fund",
                    params={
                        **params,
                        "first": fy.label(fund.first_year),
                        "last": fy.label(fund.last_year),
                    },
                )
            )
    total = sum(profile.values(), ZERO)
    if amount is not None and total != amount:
        errors.append(
            ValidationError(
                PROFILE_NOT_TOTAL,
                code="profile_total",
                params={"total": _money(total), "amount": _money(amount)},
            )
        )
    return errors


def _lock_budgets(pot_id: int, years: Iterable[int]) -> dict[int, PotBudget]:
    """Lock the pot's budget rows for ``years`` (always in year order) and return them."""
    rows = PotBudget.objects.select_for_update().filter(
        pot_id=pot_id, financial_year__in=sorted(set(years))
    )
    return {row.financial_year: row for row in rows.order_by("financial_year")}


def _lock_award(award: Award) -> Award:
    return Award.objects.select_for_update().get(pk=award.pk)


def _check_room(
    pot: Pot, needed: dict[int, Decimal], budgets: dict[int, PotBudget], message: str
) -> list[ValidationError]:
    """With the budget rows locked: is there room in each year for ``needed`` more?"""
    errors = []
    committed = pot_committed_in_years(pot.pk, needed)
    for year, amount in sorted(needed.items()):
        if amount <= 0:
            continue
        params = {"pot": pot.name, "year": fy.label(year)}
        budget = budgets.get(year)
        if budget is None:
            errors.append(ValidationError(POT_HAS_NO_BUDGET, code="no_budget", params=params))
            continue
        remaining = budget.amount - committed.get(year, ZERO)
        if amount > remaining:
            errors.append(
                ValidationError(
                    message,
                    code="overcommitted",
                    params={
                        **params,
                        "remaining": _money(max(remaining, ZERO)),
                        "needed": _money(amount),
                    },
                )
            )
    return errors


def _ledger(
    award: Award, kind: str, year: int, amount: Decimal, actor: User | None, note: str
) -> PotLedgerEntry:
    return PotLedgerEntry.objects.create(
        pot_id=award.pot_id,
        financial_year=year,
        kind=kind,
        amount=amount,
        award=award,
        created_by=actor if actor is not None and actor.is_authenticated else None,
        note=note[:300],
    )


def _notify_recipient(award: Award, subject: str, body: str) -> None:
    people = {
        m.user
        for m in Membership.objects.filter(organisation_id=award.recipient_id).select_related(
            "user"
        )
        if m.user.is_active and (m.is_authorised_signatory or m.user_id == award.bid.created_by_id)
    }
    for user in award_private_audience(award, people):
        notify(user=user, subject=subject, body=body, link=award.get_absolute_url())


def _grantee_people(award: Award) -> list[User]:
    people = {
        m.user
        for m in Membership.objects.filter(organisation_id=award.recipient_id).select_related(
            "user"
        )
        if m.user.is_active and (m.is_authorised_signatory or m.user_id == award.bid.created_by_id)
    }
    return sorted(award_private_audience(award, people), key=lambda user: user.email)


def _tell_grantee(
    key: str, award: Award, *, about: Any, values: dict[str, Any] | None = None
) -> None:
    """A catalogue message to the grantee's people, once each (``governance.notifications``)."""
    fund = award.bid.call.fund
    notifications.send_to_each(
        key,
        _grantee_people(award),
        about=about,
        fund=fund,
        link=award.get_absolute_url(),
        values={"award_reference": award.reference, "award_title": award.title, **(values or {})},
    )


def _notify_manager(award: Award, subject: str, body: str) -> None:
    if award_private_audience(award, [award.issued_by]):
        notify(user=award.issued_by, subject=subject, body=body, link=award.get_absolute_url())


def _quarter_label(key: tuple[int, int]) -> str:
    return f"{fy.label(key[0])} Q{key[1]}"


def _condition_schedule_errors(
    title: str,
    key: str | tuple[Any, Any] | None,
    due_date: dt.date | None,
    *,
    quarters: list[tuple[int, int]],
    end_date: dt.date | None,
    check_quarters: bool = True,
) -> list[ValidationError]:
    """What is wrong with a condition's due date and the payment it holds back."""
    errors = []
    params = {"title": title}
    if isinstance(key, tuple) and check_quarters and key not in quarters:
        errors.append(
            ValidationError(
                CONDITION_PAYMENT_UNKNOWN, code="condition_payment_unknown", params=params
            )
        )
    if due_date is not None:
        if due_date < timezone.localdate():
            errors.append(
                ValidationError(CONDITION_DUE_PAST, code="condition_due_past", params=params)
            )
        elif end_date and due_date > end_date:
            errors.append(
                ValidationError(
                    CONDITION_DUE_AFTER_END,
                    code="condition_due_after_end",
                    params={**params, "end": _date(end_date)},
                )
            )
    return errors


# Offer letters are asked for when an award is issued, when its terms change, and on request.
def _request_letter(actor: User | None, award: Award) -> OfferLetter:
    version = (award.letters.aggregate(latest=Max("version"))["latest"] or 0) + 1
    letter = OfferLetter.objects.create(award=award, version=version, status=DocumentStatus.QUEUED)
    audit_record(
        actor=actor,
        action="offer_letter.requested",
        target=award,
        message=f"Offer letter version {version} requested",
    )

    outbox_enqueue("awards.tasks.generate_offer_letter", letter.pk)
    return letter
