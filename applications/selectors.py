"""Reads about bids and the sums other stages rely on. Who may see a bid is
``applications.visibility``'s rule: lists of bids for a person start from there."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.db.models import (
    Count,
    DecimalField,
    Exists,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from governance.models import (
    COMMISSIONING_KINDS,
    Call,
    FundRole,
    FundRoleKind,
    InnovationType,
    MembershipRole,
    Organisation,
    User,
)
from governance.uploads import ScanStatus

from .checks import projected_return
from .models import (
    Attachment,
    Bid,
    BidCost,
    BidPartner,
    BidSectionState,
    BidStatus,
    CareSetting,
    CostCategory,
    EndorsementStatus,
    EoiStatus,
    ExpressionOfInterest,
    ProjectedSaving,
    SavingKind,
)
from .visibility import bids_base, member_organisations

ZERO = Decimal("0.00")


def funds_bid_in_by(organisation_ids: Iterable[int]) -> set[tuple[int, int]]:
    """(fund, organisation) for each fund these organisations have a bid in, as lead or partner,
    whatever its status: a member of a bidder cannot audit the fund (registered with
    ``governance.extensions.register_bidder_source``)."""
    ids = list(organisation_ids)
    leads = Bid.objects.filter(lead_organisation_id__in=ids).values_list("call__fund_id", "lead_organisation_id")
    partners = BidPartner.objects.filter(organisation_id__in=ids).values_list("bid__call__fund_id", "organisation_id")
    return set(leads) | set(partners)


def fund_auditor_among_members(fund_id: int, organisation_id: int) -> bool:
    """A member of ``organisation_id`` audits the fund, so the organisation may not bid in it."""
    return FundRole.objects.filter(
        fund_id=fund_id, role=FundRoleKind.AUDITOR, user__memberships__organisation_id=organisation_id
    ).exists()


def bids_of_my_organisations(user: User) -> QuerySet[Bid]:
    """Bids led by the person's organisations: their dashboard and 'Your bids'."""
    if not user.is_authenticated:
        return Bid.objects.none()
    return bids_base().filter(lead_organisation__in=member_organisations(user)).order_by("call__closes_at", "-created_at")


def bids_awaiting_endorsement(user: User) -> QuerySet[Bid]:
    """Draft bids naming one of the person's commissioning organisations, waiting for them."""
    if not user.is_authenticated:
        return Bid.objects.none()
    return bids_base().filter(
        commissioner__in=member_organisations(user), endorsement_status=EndorsementStatus.PENDING, status=BidStatus.DRAFT,
    ).order_by("call__closes_at")


def bids_endorsed_or_declined_by(user: User) -> QuerySet[Bid]:
    if not user.is_authenticated:
        return Bid.objects.none()
    return bids_base().filter(
        commissioner__in=member_organisations(user),
        endorsement_status__in=(EndorsementStatus.ENDORSED, EndorsementStatus.DECLINED),
    ).order_by("-endorsed_at", "-updated_at")


def bids_for_call(call: Call) -> QuerySet[Bid]:
    """Every bid on ``call``, in every state, for stages that have already checked access.

    Filter by status as needed, e.g. ``bids_for_call(call).filter(status=BidStatus.SUBMITTED)``.
    """
    return bids_base().filter(call=call).order_by("reference")


def with_totals(bids: QuerySet[Bid]) -> QuerySet[Bid]:
    """Annotate ``total_requested`` and ``total_savings`` (Decimal, 0 when none) in one query."""
    money = DecimalField(max_digits=14, decimal_places=2)
    requested = (
        BidCost.objects.filter(bid=OuterRef("pk")).order_by().values("bid").annotate(total=Sum("amount")).values("total")
    )
    savings = (
        ProjectedSaving.objects.filter(bid=OuterRef("pk")).order_by().values("bid")
        .annotate(total=Sum("amount")).values("total")
    )
    return bids.annotate(
        total_requested=Coalesce(Subquery(requested, output_field=money), Value(ZERO), output_field=money),
        total_savings=Coalesce(Subquery(savings, output_field=money), Value(ZERO), output_field=money),
    )


def bid_status_counts(bids: QuerySet[Bid]) -> dict[str, int]:
    """How many bids are in each state, every state listed (0 when none)."""
    counted = Counter(dict(bids.order_by().values_list("status").annotate(n=Count("pk"))))
    return {status: counted.get(status, 0) for status in BidStatus.values}


# Money ---------------------------------------------------------------------------------------


def bid_requested_by_year(bid: Bid) -> dict[int, Decimal]:
    """What the bid asks the fund for in each financial year (every project year, 0 when none)."""
    totals = dict.fromkeys(bid.years, ZERO)
    for year, amount in (
        BidCost.objects.filter(bid=bid).order_by().values_list("financial_year").annotate(total=Sum("amount"))
    ):
        totals[year] = amount
    return dict(sorted(totals.items()))


def bid_total_requested(bid: Bid) -> Decimal:
    total = BidCost.objects.filter(bid=bid).aggregate(total=Sum("amount"))["total"]
    return total if total is not None else ZERO


def bid_costs_by_year_and_category(bid: Bid) -> dict[int, dict[str, Decimal]]:
    table: dict[int, dict[str, Decimal]] = {year: {} for year in bid.years}
    for year, category, amount in (
        BidCost.objects.filter(bid=bid).order_by().values_list("financial_year", "category").annotate(total=Sum("amount"))
    ):
        table.setdefault(year, {})[category] = amount
    return dict(sorted(table.items()))


def bid_savings_by_year(bid: Bid) -> dict[int, dict[str, Decimal]]:
    """Projected savings per financial year, split cashable / non-cashable."""
    table: dict[int, dict[str, Decimal]] = {year: {} for year in bid.years}
    for year, kind, amount in (
        ProjectedSaving.objects.filter(bid=bid).order_by().values_list("financial_year", "kind").annotate(total=Sum("amount"))
    ):
        table.setdefault(year, {})[kind] = amount
    return dict(sorted(table.items()))


def bid_total_savings(bid: Bid) -> Decimal:
    total = ProjectedSaving.objects.filter(bid=bid).aggregate(total=Sum("amount"))["total"]
    return total if total is not None else ZERO


def bid_projected_return(bid: Bid) -> Decimal | None:
    """Projected savings (cashable and non-cashable) for each £1 asked for, to 2 places.

    None when nothing is asked for yet. The savings form's script shows the same figure as
    the applicant types (``frontend/js/bid-totals.mjs``); both round halves up.
    """
    return projected_return(bid_total_savings(bid), bid_total_requested(bid))


# Related organisations and files ---------------------------------------------------------------


def bid_organisations(bid: Bid) -> QuerySet[Organisation]:
    """The lead, the partners and the commissioner: who may realise savings or match-fund."""
    return Organisation.objects.filter(
        Q(pk=bid.lead_organisation_id) | Q(pk=bid.commissioner_id) | Q(bid_partnerships__bid=bid)
    ).distinct().order_by("name")


def commissioning_organisations() -> QuerySet[Organisation]:
    """Open commissioning organisations, each with ``has_endorser``: whether anyone on the portal
    can endorse for it (an active member). Closed ones (merged ICBs) cannot be chosen."""
    endorsers = User.objects.filter(memberships__organisation_id=OuterRef("pk"), is_active=True)
    return (Organisation.objects.filter(kind__in=COMMISSIONING_KINDS, closed_on__isnull=True)
            .annotate(has_endorser=Exists(endorsers)).order_by("name"))


def has_active_endorser(organisation_id: int | None) -> bool:
    """Whether anyone on the portal can endorse for this commissioning organisation."""
    if not organisation_id:
        return False
    return User.objects.filter(
        memberships__organisation_id=organisation_id, is_active=True).exists()


def fund_manager_users(bid: Bid) -> QuerySet[User]:
    """The fund managers of the bid's call's host network (and of its pot's network)."""
    networks = [bid.call.fund.host_network_id, bid.call.host_network_id]
    if bid.pot is not None and bid.pot.network_id:
        networks.append(bid.pot.network_id)
    return User.objects.filter(memberships__organisation_id__in=networks, memberships__role=MembershipRole.FUND_MANAGER,
                               is_active=True).distinct()


def section_state(bid: Bid, section: str) -> BidSectionState:
    """The section's saved status and version, or (for a section never saved) the state it starts
    in, not saved: reading a section writes nothing; the first save creates its row."""
    saved = BidSectionState.objects.filter(bid=bid, section=section).select_related("updated_by").first()
    return saved or BidSectionState(bid=bid, section=section)


def bid_attachments(bid: Bid) -> QuerySet[Attachment]:
    return Attachment.objects.filter(bid=bid).select_related("uploaded_by")


def lead_org_member_users(bid: Bid) -> QuerySet[User]:
    return User.objects.filter(memberships__organisation_id=bid.lead_organisation_id, is_active=True).distinct()


def organisation_member_users(organisation_id: int) -> QuerySet[User]:
    return User.objects.filter(memberships__organisation_id=organisation_id, is_active=True).distinct()


def commissioner_users(bid: Bid) -> QuerySet[User]:
    if not bid.commissioner_id:
        return User.objects.none()
    return User.objects.filter(memberships__organisation_id=bid.commissioner_id, is_active=True).distinct()


# What a bid contains, for the read-only pages (the bid's writers, its commissioner, fund managers
# and, through the assessment stage, its assessors) -----------------------------------------------


def cost_content(bid: Bid) -> dict[str, Any]:
    """The costs by category and year, totals by year and overall, and match funding."""
    costs_table = bid_costs_by_year_and_category(bid)
    requested_by_year = {year: sum(row.values(), ZERO) for year, row in costs_table.items()}
    categories = [c for c in CostCategory if any(c.value in row for row in costs_table.values())]
    match_funding = list(bid.match_funding.select_related("organisation"))
    return {
        "cost_years": list(costs_table),
        "cost_rows": [(category.label, [costs_table[y].get(category.value) for y in costs_table]) for category in categories],
        "requested_by_year": requested_by_year,
        "total_requested": sum(requested_by_year.values(), ZERO),
        "match_funding": match_funding,
        "total_match_funding": sum((row.amount for row in match_funding), ZERO),
    }


def _prefetched(bid: Bid, name: str) -> list[Any] | None:
    """The bid's related rows ``name`` if the page already prefetched them (with what they link
    to), else None: a page that reads them anyway need not read them twice."""
    rows = getattr(bid, "_prefetched_objects_cache", {}).get(name)
    return None if rows is None else list(rows)


def _savings_by_year_of(bid: Bid, savings: list[ProjectedSaving]) -> dict[int, dict[str, Decimal]]:
    """``bid_savings_by_year`` worked out from rows already read."""
    table: dict[int, dict[str, Decimal]] = {year: {} for year in bid.years}
    for saving in savings:
        row = table.setdefault(saving.financial_year, {})
        row[saving.kind] = row.get(saving.kind, ZERO) + saving.amount
    return dict(sorted(table.items()))


def bid_content(bid: Bid) -> dict[str, Any]:
    """Everything in the bid, worked out for display (used by every read-only page). A page that
    prefetched the partners (with their organisations) and the savings (with who realises them)
    has them used as they are, totals included."""
    costs = cost_content(bid)
    total_requested = costs["total_requested"]
    partners = _prefetched(bid, "partners")
    savings = _prefetched(bid, "projected_savings")
    if savings is None:
        savings = list(bid.projected_savings.select_related("realised_by"))
        total_savings, savings_by_year = bid_total_savings(bid), bid_savings_by_year(bid)
    else:
        total_savings, savings_by_year = sum((s.amount for s in savings), ZERO), _savings_by_year_of(bid, savings)
    return {
        **costs,
        "partners": partners if partners is not None else list(bid.partners.select_related("organisation")),
        "savings": savings,
        "savings_by_year": [
            (year, row.get(SavingKind.CASHABLE, ZERO), row.get(SavingKind.NON_CASHABLE, ZERO),
             row.get(SavingKind.CASHABLE, ZERO) + row.get(SavingKind.NON_CASHABLE, ZERO))
            for year, row in savings_by_year.items()
        ],
        "total_savings": total_savings,
        "projected_return": projected_return(total_savings, total_requested),
        "measures": list(bid.benefit_measures.all()),
        "milestones": list(bid.milestones.all()),
        "risks": list(bid.risks.all()),
        "attachments": list(bid_attachments(bid)),
        "care_setting_labels": [label for value, label in CareSetting.choices if value in (bid.care_settings or [])],
        "innovation_type_label": dict(InnovationType.choices).get(bid.innovation_type, ""),
    }


def attachments_awaiting_scan(*, older_than: dt.timedelta) -> list[int]:
    """Files still waiting for their virus scan a while after upload (a lost task, a scanner that
    was down longer than the task's retries): the beat sends them to be scanned again."""
    cutoff = timezone.now() - older_than
    return list(Attachment.objects.filter(scan_status=ScanStatus.AWAITING, uploaded_at__lt=cutoff)
                .order_by("pk").values_list("pk", flat=True)[:500])


# Two-stage calls ----------------------------------------------------------------------------------


def eois_of_call(call: Call) -> QuerySet[ExpressionOfInterest]:
    """A call's expressions of interest, for the people who shortlist or audit them (the view checks)."""
    return ExpressionOfInterest.objects.filter(call=call).select_related("lead_organisation", "bid", "decided_by")


def eoi_counts(call: Call) -> dict[str, int]:
    """How many expressions of interest a call received, and how many were invited (public figures)."""
    rows = dict(ExpressionOfInterest.objects.filter(call=call).values_list("status").annotate(n=Count("pk")))
    return {"received": sum(rows.values()), "invited": rows.get(EoiStatus.INVITED, 0),
            "not_invited": rows.get(EoiStatus.NOT_INVITED, 0), "waiting": rows.get(EoiStatus.SUBMITTED, 0)}


def eoi_visible_to(user: User, pk: int) -> ExpressionOfInterest | None:
    """One expression of interest if the person may read it (``applications.view_eoi``), else None."""
    eoi = ExpressionOfInterest.objects.select_related("call", "call__fund", "lead_organisation", "bid").filter(pk=pk).first()
    if eoi is None or not user.is_authenticated or not user.has_perm("applications.view_eoi", eoi):
        return None
    return eoi


def eois_of_my_organisations(user: User) -> QuerySet[ExpressionOfInterest]:
    return (ExpressionOfInterest.objects.filter(lead_organisation__memberships__user=user)
            .select_related("call", "lead_organisation", "bid").distinct().order_by("-submitted_at"))
