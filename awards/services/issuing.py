"""Issuing an award: offering the money of a released funding decision, committing its profile
against the pot, and scheduling its instalments and conditions.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from assessment.models import FUNDING_OUTCOMES, PanelDecision
from governance import fy
from governance.access import require_actor
from governance.audit import audit_record, snapshot
from governance.models import User

from ..messages import (
    ALREADY_ISSUED,
    AMOUNT_ABOVE_DECISION,
    AMOUNT_NOT_POSITIVE,
    BID_HAS_NO_POT,
    CONDITION_TITLE_MISSING,
    CONDITION_TITLE_TOO_LONG,
    DATES_OUT_OF_ORDER,
    DECISION_HAS_NO_AMOUNT,
    DECISION_NOT_FUNDED,
    DECISION_NOT_RELEASED,
    END_AFTER_FUND,
    FUNDER_ORG_ID_MISSING,
    OFFER_DEADLINE_PAST,
    POT_OVERCOMMITTED,
    RETURN_FREQUENCY_NOT_ALLOWED,
    START_BEFORE_FUND,
)
from ..models import Award, AwardCondition, AwardStatus, AwardYear, Instalment, LedgerEntryKind
from ..selectors import spread_in_proportion
from ._shared import (
    _check_room,
    _clean_profile,
    _condition_schedule_errors,
    _date,
    _ledger,
    _lock_budgets,
    _money,
    _notify_recipient,
    _profile_errors,
    _request_letter,
)
from .conditions import FIRST_PAYMENT, ConditionSpec

AWARD_FIELDS = (
    "reference",
    "amount",
    "start_date",
    "end_date",
    "status",
    "offer_deadline",
    "status_reason",
    "pot",
    "return_frequency_months",
)
# Monitoring returns every NHS quarter, six months or year; payments wait on the return before them.
RETURN_FREQUENCIES = {3: "Every NHS quarter", 6: "Every six months", 12: "Every year"}


def _instalment_plan(
    start: dt.date, end: dt.date, profile: dict[int, Decimal]
) -> list[tuple[int, int, Decimal]]:
    """(year, quarter, amount): each year's money split evenly over its NHS quarters in the award."""
    quarters: dict[int, list[int]] = defaultdict(list)
    for year, quarter, _, _ in fy.quarters_between(start, end):
        quarters[year].append(quarter)
    plan: list[tuple[int, int, Decimal]] = []
    for year, amount in sorted(profile.items()):
        shares = spread_in_proportion(amount, dict.fromkeys(quarters[year], Decimal(1)))
        plan.extend((year, quarter, shares[quarter]) for quarter in quarters[year])
    return plan


@transaction.atomic
def award_issue(
    *,
    actor: User,
    decision: PanelDecision,
    amount: Decimal,
    start_date: dt.date | None,
    end_date: dt.date | None,
    profile: dict[int, Decimal],
    offer_deadline: dt.date | None,
    conditions: list[ConditionSpec] | None = None,
    return_frequency_months: int = 3,
) -> Award:
    """Offer an award for a released decision to fund, committing its profile against the pot.

    ``profile`` maps financial years to amounts; it must total ``amount`` and use only years
    inside the award's dates and the fund's years. ``conditions`` default to the decision's,
    all to be met before the award starts. One award per decision.
    """
    require_actor(actor, "awards.issue_award", decision)
    decision = PanelDecision.objects.select_for_update().get(pk=decision.pk)
    existing = Award.objects.filter(decision_id=decision.pk).first()
    if existing is not None:
        raise ValidationError(
            ALREADY_ISSUED, code="already_issued", params={"reference": existing.reference}
        )
    bid = decision.bid
    fund = bid.call.fund
    if decision.outcome not in FUNDING_OUTCOMES:
        raise ValidationError(DECISION_NOT_FUNDED, code="not_funded")
    if decision.released_at is None or decision.released_at > timezone.now():
        raise ValidationError(DECISION_NOT_RELEASED, code="not_released")
    if decision.amount_approved is None:
        raise ValidationError(DECISION_HAS_NO_AMOUNT, code="no_amount")
    if bid.pot is None:
        raise ValidationError(BID_HAS_NO_POT, code="no_pot")
    if not fund.host_network.official_org_id:
        raise ValidationError(
            FUNDER_ORG_ID_MISSING, code="funder_org_id", params={"network": fund.host_network.name}
        )
    pot = bid.pot

    errors: dict[str, list[ValidationError]] = defaultdict(list)
    if amount is None or amount <= 0:
        errors["amount"].append(ValidationError(AMOUNT_NOT_POSITIVE, code="not_positive"))
    elif amount > decision.amount_approved:
        errors["amount"].append(
            ValidationError(
                AMOUNT_ABOVE_DECISION,
                code="above_decision",
                params={"approved": _money(decision.amount_approved)},
            )
        )
    if start_date and end_date and end_date <= start_date:
        errors["end_date"].append(ValidationError(DATES_OUT_OF_ORDER, code="dates_order"))
    fund_first, fund_last = (
        fy.FinancialYear(fund.first_year).start,
        fy.FinancialYear(fund.last_year).end,
    )
    if start_date and start_date < fund_first:
        errors["start_date"].append(
            ValidationError(
                START_BEFORE_FUND, code="before_fund", params={"first": _date(fund_first)}
            )
        )
    if end_date and end_date > fund_last:
        errors["end_date"].append(
            ValidationError(END_AFTER_FUND, code="after_fund", params={"last": _date(fund_last)})
        )
    if offer_deadline is None or offer_deadline <= timezone.localdate():
        errors["offer_deadline"].append(ValidationError(OFFER_DEADLINE_PAST, code="deadline_past"))
    if return_frequency_months not in RETURN_FREQUENCIES:
        errors["return_frequency_months"].append(
            ValidationError(RETURN_FREQUENCY_NOT_ALLOWED, code="frequency")
        )
    profile = _clean_profile(profile)
    errors["profile"].extend(
        _profile_errors(
            profile,
            amount=amount if amount and amount > 0 else None,
            start=start_date,
            end=end_date,
            fund=fund,
        )
    )
    specs = (
        [ConditionSpec(c, "", FIRST_PAYMENT) for c in decision.conditions]
        if conditions is None
        else list(conditions)
    )
    plan = (
        [(y, q, v) for y, q, v in _instalment_plan(start_date, end_date, profile) if v > 0]
        if start_date and end_date and end_date > start_date
        else []
    )
    for spec in specs:
        if not spec.title.strip():
            errors["conditions"].append(
                ValidationError(CONDITION_TITLE_MISSING, code="condition_missing")
            )
        elif len(spec.title.strip()) > 200:
            errors["conditions"].append(
                ValidationError(CONDITION_TITLE_TOO_LONG, code="condition_too_long")
            )
        else:
            errors["conditions"].extend(
                _condition_schedule_errors(
                    spec.title.strip(),
                    spec.held_key,
                    spec.due_date,
                    quarters=[(y, q) for y, q, _ in plan],
                    end_date=end_date,
                    check_quarters=bool(plan),
                )
            )
    errors = {key: value for key, value in errors.items() if value}
    if errors:
        raise ValidationError(errors)

    # Lock the pot's years, then read what is committed: nobody else can commit meanwhile.
    budgets = _lock_budgets(pot.pk, profile)
    room = _check_room(pot, profile, budgets, POT_OVERCOMMITTED)
    if room:
        raise ValidationError({"profile": room})

    award = Award(  # type: ignore[misc]  # the dates are checked above and by full_clean; the stubs refuse None
        decision=decision,
        bid=bid,
        pot=pot,
        recipient=bid.lead_organisation,
        reference=bid.reference,
        title=bid.title,
        description=bid.summary or bid.title,
        amount=amount,
        start_date=start_date,
        end_date=end_date,
        status=AwardStatus.OFFERED,
        offer_deadline=offer_deadline,
        issued_by=actor,
        issued_at=timezone.now(),
        return_frequency_months=return_frequency_months,
    )
    award.full_clean(validate_unique=False)
    try:
        with transaction.atomic():
            award.save()
    except IntegrityError:
        # Another request issued it between our check and our insert (possible without row locks).
        raise ValidationError(
            ALREADY_ISSUED, code="already_issued", params={"reference": bid.reference}
        ) from None
    AwardYear.objects.bulk_create(
        AwardYear(award=award, financial_year=y, amount=a) for y, a in profile.items()
    )
    for year, value in profile.items():
        _ledger(award, LedgerEntryKind.COMMIT, year, value, actor, "Award issued")
    created = [
        Instalment.objects.create(
            award=award,
            financial_year=year,
            quarter=quarter,
            amount=value,
            requires_return=index > 0,
        )
        for index, (year, quarter, value) in enumerate(plan)
    ]
    by_quarter: dict[object, Instalment] = {(i.financial_year, i.quarter): i for i in created}
    for spec in specs:
        key = spec.held_key
        held = (
            (created[0] if created else None)
            if key == FIRST_PAYMENT
            else by_quarter.get(key)
            if key
            else None
        )
        AwardCondition.objects.create(
            award=award,
            title=spec.title.strip(),
            description=spec.description.strip(),
            due_date=spec.due_date,
            holds_back=held,
        )
    audit_record(
        actor=actor,
        action="award.issued",
        target=award,
        message=f"Award of {_money(amount)} offered to {award.recipient.name}",
        after={
            **snapshot(award, AWARD_FIELDS),
            "profile": profile,
            "conditions": [s.title for s in specs],
        },
    )
    _request_letter(actor, award)
    _notify_recipient(
        award,
        f"Offer of funding: {award.reference}",
        f'{award.recipient.name} has been offered {_money(amount)} for "{award.title}". '
        f"An authorised signatory must accept or decline the offer by {_date(award.offer_deadline)}.",
    )
    return award
