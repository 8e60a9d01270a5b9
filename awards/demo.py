"""Demo awards in every state, with profiles committed in the pot ledger, conditions,
instalments and a variation. Idempotent: awards are found by reference."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import ROUND_DOWN, Decimal

from django.db import transaction

from governance import fy
from governance.demo import DemoContext

from .models import (
    Award,
    AwardCondition,
    AwardStatus,
    AwardYear,
    ConditionStatus,
    ConditionTemplate,
    Instalment,
    InstalmentStatus,
    LedgerEntryKind,
    PotLedgerEntry,
    Variation,
    VariationKind,
    VariationStatus,
)

STANDARD_CONDITIONS = [
    ("Digital Technology Assessment Criteria (DTAC) assessment", "A completed DTAC assessment for the technology.", True),
    ("Clinical safety case (DCB0129 and DCB0160)", "The manufacturer's DCB0129 safety case and your DCB0160 deployment safety case.", True),
    ("Data protection impact assessment (DPIA) completed", "A DPIA signed off by your data protection officer.", True),
    ("Commissioner agreement to sustain the service after the award", "A letter from the commissioner committing recurrent funding if the service meets its targets.", False),
    ("NICE or other evidence of effectiveness", "The evidence the adoption relies on, or the evaluation plan that will produce it.", False),
]

# bid key -> (status, status reason)
AWARDS = {
    "falls-devon": (AwardStatus.ACTIVE, ""),
    "falls-plymouth": (AwardStatus.ACTIVE, ""),
    "falls-somerset": (AwardStatus.OFFERED, ""),
    "cvd-barts": (AwardStatus.ACTIVE, ""),
    "cvd-newcastle": (AwardStatus.SUSPENDED, "Suspended while the pharmacy data-sharing agreement is renewed."),
    "outpatients-devon": (AwardStatus.CLOSED, "Completed; the underspend was released to the pot."),
}


def profile_from_costs(bid, amount: Decimal) -> dict[int, Decimal]:
    """Spread an approved amount over the bid's years in proportion to its costs."""
    by_year: dict[int, Decimal] = defaultdict(Decimal)
    for cost in bid.costs.all():
        by_year[cost.financial_year] += cost.amount
    requested = sum(by_year.values())
    profile = {year: (amount * value / requested).quantize(Decimal("0.01"), ROUND_DOWN) for year, value in sorted(by_year.items())}
    last = max(profile)
    profile[last] += amount - sum(profile.values())
    return profile


def quarters_of(award: Award) -> list[tuple[int, int]]:
    return [(year, quarter) for year, quarter, _, _ in fy.quarters_between(award.start_date, award.end_date)]


@transaction.atomic
def seed(ctx: DemoContext) -> None:
    for title, description, digital in STANDARD_CONDITIONS:
        ConditionTemplate.objects.get_or_create(fund=None, title=title, defaults={"description": description, "for_digital": digital})
    awards: dict[str, Award] = {}
    for key, (status, reason) in AWARDS.items():
        bid = ctx.extra["bids"][key]
        award = Award.objects.filter(reference=bid.reference).first()
        if award is None:
            award = _create_award(ctx, bid, status, reason)
        awards[key] = award
    ctx.extra["awards"] = awards


def _create_award(ctx: DemoContext, bid, status: str, reason: str) -> Award:
    decision = bid.decision
    manager = ctx.users["manager.southwest@example.com" if bid.call.host_network.short_name == "HISW" else "manager.london@example.com"]
    grantee = bid.created_by
    released = bid.call.decisions_released_at
    accepted = status in (AwardStatus.ACTIVE, AwardStatus.SUSPENDED, AwardStatus.CLOSED)
    award = Award.objects.create(
        decision=decision, bid=bid, pot=bid.pot, recipient=bid.lead_organisation, reference=bid.reference,
        title=bid.title, description=bid.summary, amount=decision.amount_approved,
        start_date=bid.start_date, end_date=bid.end_date, status=status, status_reason=reason,
        offer_deadline=(ctx.today + dt.timedelta(days=21)) if status == AwardStatus.OFFERED else released.date() + dt.timedelta(days=28),
        issued_by=manager, issued_at=released + dt.timedelta(days=2),
        accepted_by=grantee if accepted else None, accepted_at=released + dt.timedelta(days=9) if accepted else None,
        closed_at=ctx.at(-40) if status == AwardStatus.CLOSED else None,
    )
    profile = profile_from_costs(bid, award.amount)
    for year, amount in profile.items():
        AwardYear.objects.create(award=award, financial_year=year, amount=amount)
        PotLedgerEntry.objects.create(pot=award.pot, financial_year=year, kind=LedgerEntryKind.COMMIT, amount=amount,
                                      award=award, created_by=manager, created_at=award.issued_at, note="Award issued")
    for condition in decision.conditions:
        AwardCondition.objects.create(award=award, title=condition, pre_start=True, status=ConditionStatus.OPEN)
    if bid.innovation_type == "digital" and status != AwardStatus.OFFERED:
        AwardCondition.objects.create(
            award=award, title=STANDARD_CONDITIONS[2][0], description=STANDARD_CONDITIONS[2][1], pre_start=True,
            status=ConditionStatus.MET, evidence_name="dpia-signed.pdf", evidence_note="Signed off by the DPO.",
            evidence_submitted_at=award.accepted_at, signed_off_by=manager, signed_off_at=award.accepted_at + dt.timedelta(days=3),
        )
    _seed_instalments(ctx, award, profile, manager)
    if status == AwardStatus.ACTIVE and bid.reference.startswith("UCLP"):
        Variation.objects.create(
            award=award, kind=VariationKind.EXTENSION, reasons="Recruitment of pharmacists took three months longer than planned.",
            proposed_end_date=award.end_date + dt.timedelta(days=92), status=VariationStatus.REQUESTED,
            requested_by=grantee, requested_at=ctx.at(-5),
        )
    return award


def _seed_instalments(ctx: DemoContext, award: Award, profile: dict[int, Decimal], manager) -> None:
    """Quarterly instalments; those for quarters whose returns are approved are paid."""
    quarters = quarters_of(award)
    per_year: dict[int, list[int]] = defaultdict(list)
    for year, quarter in quarters:
        per_year[year].append(quarter)
    first = True
    last_quarter = quarters[-1]
    for year, year_quarters in per_year.items():
        amount_each = (profile[year] / len(year_quarters)).quantize(Decimal("0.01"), ROUND_DOWN)
        for index, quarter in enumerate(year_quarters):
            amount = amount_each if index < len(year_quarters) - 1 else profile[year] - amount_each * (len(year_quarters) - 1)
            _, quarter_end = fy.FinancialYear(year).quarter(quarter)
            closed = award.status == AwardStatus.CLOSED
            # Paid: the quarter is over and its return would be approved (demo returns do this).
            paid = award.status in (AwardStatus.ACTIVE, AwardStatus.SUSPENDED, AwardStatus.CLOSED) and quarter_end + dt.timedelta(days=45) < ctx.today
            if closed and (year, quarter) == last_quarter:
                paid = False  # the final quarter was underspent: released at closure
            if closed and not paid:
                status = InstalmentStatus.CANCELLED
            elif paid:
                status = InstalmentStatus.PAID
            else:
                status = InstalmentStatus.SCHEDULED
            instalment = Instalment.objects.create(
                award=award, financial_year=year, quarter=quarter, amount=amount, status=status, requires_return=not first,
                released_at=ctx.at(0) - dt.timedelta(days=(ctx.today - quarter_end).days - 40) if paid else None,
                paid_at=ctx.at(0) - dt.timedelta(days=(ctx.today - quarter_end).days - 44) if paid else None,
                paid_by=manager if paid else None,
            )
            first = False
            if paid:
                PotLedgerEntry.objects.create(pot=award.pot, financial_year=year, kind=LedgerEntryKind.PAYMENT, amount=amount,
                                              award=award, created_by=manager, created_at=instalment.paid_at, note=f"Q{quarter} instalment paid")
            elif status == InstalmentStatus.CANCELLED and amount > 0:
                PotLedgerEntry.objects.create(pot=award.pot, financial_year=year, kind=LedgerEntryKind.RELEASE, amount=amount,
                                              award=award, created_by=manager, created_at=award.closed_at, note="Underspend released at closure")
