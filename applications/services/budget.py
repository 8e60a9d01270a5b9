"""The money sections: costs and match funding, and projected savings, each in one of the
project's years and, for match funding and savings, from an organisation on the bid."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError

from governance.models import User

from .. import checks
from ..messages import MATCH_FUNDER_NOT_ON_BID, SAVER_NOT_ON_BID
from ..models import Bid, BidCost, BidSection, MatchFunding, ProjectedSaving
from ._shared import _clean_text, _editing, _parse_amount, _replace

# Sections: money -------------------------------------------------------------------------------


def _require_project_years(bid: Bid) -> list[int]:
    if not bid.years:
        raise ValidationError(checks.COSTS_NEED_DATES, code="no_dates")
    return bid.years


def bid_costs_save(
    *,
    actor: User,
    bid: Bid,
    version: int,
    costs: Sequence[Mapping[str, Any]],
    match_funding: Sequence[Mapping[str, Any]] = (),
    now: dt.datetime | None = None,
) -> Bid:
    """Replace the bid's costs and match funding. The total must fall within the call's
    minimum and maximum and every year within the project's years."""
    with _editing(actor=actor, bid=bid, now=now, section=BidSection.COSTS, version=version) as (
        locked,
        record,
    ):
        years = _require_project_years(locked)
        errors: list[str] = []
        cost_rows: list[BidCost] = []
        for row in costs:
            amount = _parse_amount(row.get("amount"), errors)
            year = row.get("financial_year")
            if year not in years:
                errors.append(
                    checks.year_outside_project(
                        checks.COST_YEAR_OUTSIDE_PROJECT, locked, int(year or 0)
                    )
                )
            cost_rows.append(
                BidCost(
                    bid=locked,
                    financial_year=year,
                    category=row.get("category"),  # type: ignore[misc]  # the row is checked by full_clean; the stubs refuse None
                    nature=row.get("nature") or "revenue",
                    description=_clean_text(row.get("description")),
                    amount=amount,
                )
            )
        funders = set(_bid_organisation_ids(locked))
        match_rows: list[MatchFunding] = []
        for row in match_funding:
            amount = _parse_amount(row.get("amount"), errors)
            organisation = row.get("organisation")
            year = row.get("financial_year")
            if organisation is None or organisation.pk not in funders:
                errors.append(MATCH_FUNDER_NOT_ON_BID)
            if year not in years:
                errors.append(
                    checks.year_outside_project(
                        checks.COST_YEAR_OUTSIDE_PROJECT, locked, int(year or 0)
                    )
                )
            match_rows.append(
                MatchFunding(
                    bid=locked,
                    organisation=organisation,
                    financial_year=year,
                    amount=amount,  # type: ignore[misc]  # the row is checked by full_clean; the stubs refuse None
                    description=_clean_text(row.get("description")),
                )
            )
        if errors:
            raise ValidationError(list(dict.fromkeys(errors)))
        total = sum((row.amount for row in cost_rows), Decimal("0.00"))
        if message := checks.total_problem(locked.call, total):
            raise ValidationError(message, code="total")
        before = {"total": str(sum(locked.costs.values_list("amount", flat=True), Decimal("0.00")))}
        _replace(locked.costs, cost_rows)
        _replace(locked.match_funding, match_rows)
        record.update(
            before=before,
            after={
                "total": str(total),
                "by_year": {
                    str(y): str(
                        sum((r.amount for r in cost_rows if r.financial_year == y), Decimal(0))
                    )
                    for y in years
                },
                "match_funding": str(sum((row.amount for row in match_rows), Decimal("0.00"))),
            },
        )
    return bid


def _bid_organisation_ids(bid: Bid) -> list[int]:
    ids = [bid.lead_organisation_id, *bid.partners.values_list("organisation_id", flat=True)]
    if bid.commissioner_id:
        ids.append(bid.commissioner_id)
    return ids


def bid_savings_save(
    *,
    actor: User,
    bid: Bid,
    version: int,
    savings: Sequence[Mapping[str, Any]],
    now: dt.datetime | None = None,
) -> Bid:
    """Replace the projected savings. Each falls in one of the project's years, in the budget of
    an organisation on the bid."""
    with _editing(actor=actor, bid=bid, now=now, section=BidSection.SAVINGS, version=version) as (
        locked,
        record,
    ):
        years = _require_project_years(locked)
        savers = set(_bid_organisation_ids(locked))
        errors: list[str] = []
        rows: list[ProjectedSaving] = []
        for row in savings:
            amount = _parse_amount(row.get("amount"), errors)
            year = row.get("financial_year")
            if year not in years:
                errors.append(
                    checks.year_outside_project(
                        checks.SAVING_YEAR_OUTSIDE_PROJECT, locked, int(year or 0)
                    )
                )
            organisation = row.get("realised_by")
            if organisation is None or organisation.pk not in savers:
                errors.append(SAVER_NOT_ON_BID)
            rows.append(
                ProjectedSaving(  # type: ignore[misc]  # the row is checked by full_clean; the stubs refuse None
                    bid=locked,
                    financial_year=year,
                    kind=row.get("kind"),
                    realised_by=organisation,
                    care_setting=row.get("care_setting"),
                    amount=amount,
                    assumptions=_clean_text(row.get("assumptions")),
                    evidence=_clean_text(row.get("evidence")),
                )
            )
        if errors:
            raise ValidationError(list(dict.fromkeys(errors)))
        before = {
            "total": str(
                sum(locked.projected_savings.values_list("amount", flat=True), Decimal("0.00"))
            )
        }
        _replace(locked.projected_savings, rows)
        total = sum((row.amount for row in rows), Decimal("0.00"))
        record.update(before=before, after={"total": str(total)})
    return bid
