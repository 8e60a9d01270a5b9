"""Reads about bids, scoped to what a person may see, and the sums other stages rely on.

Who sees a bid:
- members of its lead organisation (they write it);
- members of the commissioning organisation named on it, once endorsement is asked for;
- fund managers of the call's host network, of the fund's host network, and of the network
  whose pot the bid competes for;
- auditors of the fund;
- site admins.
Assessors see bids through the assessment stage's own selectors (assigned, no conflict).
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import Any

from django.db.models import Count, DecimalField, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from governance.models import (
    COMMISSIONING_KINDS,
    Call,
    FundRole,
    FundRoleKind,
    InnovationType,
    Membership,
    MembershipRole,
    Organisation,
    User,
)
from governance.uploads import ScanStatus

from .checks import projected_return
from .extensions import read_by_later_stage
from .models import (
    Attachment,
    Bid,
    BidCost,
    BidStatus,
    CareSetting,
    CostCategory,
    EndorsementStatus,
    ProjectedSaving,
    SavingKind,
)

ZERO = Decimal("0.00")
# Endorsement states in which the commissioner has been asked, so may see the bid.
ENDORSEMENT_ASKED = (EndorsementStatus.PENDING, EndorsementStatus.ENDORSED, EndorsementStatus.DECLINED)


def _member_orgs(user: User):
    return Membership.objects.filter(user=user).values("organisation_id")


def _managed_networks(user: User):
    return Membership.objects.filter(user=user, role=MembershipRole.FUND_MANAGER).values("organisation_id")


def _bids_base() -> QuerySet[Bid]:
    return Bid.objects.select_related(
        "call", "call__fund", "call__host_network", "lead_organisation", "commissioner", "pot"
    )


def bids_visible_to(user: User) -> QuerySet[Bid]:
    """Every bid ``user`` may open (read-only or to edit); nothing else."""
    if not user.is_authenticated or not user.is_active:
        return Bid.objects.none()
    if user.is_superuser:
        return _bids_base()
    members = _member_orgs(user)
    managed = _managed_networks(user)
    audited = FundRole.objects.filter(user=user, role=FundRoleKind.AUDITOR).values("fund_id")
    return _bids_base().filter(
        Q(lead_organisation__in=members)
        | Q(commissioner__in=members, endorsement_status__in=ENDORSEMENT_ASKED)
        | Q(call__host_network__in=managed)
        | Q(call__fund__host_network__in=managed)
        | Q(pot__network__in=managed)
        | Q(call__fund__in=audited)
    )


def bid_visible_to(user: User, pk: int) -> Bid | None:
    """One bid if ``user`` may see it, else None: the same rule as ``bids_visible_to``, worked
    out with two small queries rather than a query over every bid, and also anyone a later
    stage lets read it (``applications.extensions.register_bid_reader``: assigned assessors)."""
    if not user.is_authenticated or not user.is_active:
        return None
    bid = _bids_base().filter(pk=pk).first()
    if bid is None or user.is_superuser:
        return bid
    roles = dict(Membership.objects.filter(user=user, organisation_id__in={
        bid.lead_organisation_id, bid.commissioner_id, bid.call.host_network_id, bid.call.fund.host_network_id,
        bid.pot.network_id if bid.pot_id else None,
    } - {None}).values_list("organisation_id", "role"))
    managed = {org for org, role in roles.items() if role == MembershipRole.FUND_MANAGER}
    # Kept with the bid for this request, so the permission checks that follow need no query.
    bid._viewer_roles = (user.pk, roles)
    if (
        bid.lead_organisation_id in roles
        or (bid.commissioner_id in roles and bid.endorsement_status in ENDORSEMENT_ASKED)
        or {bid.call.host_network_id, bid.call.fund.host_network_id} & managed
        or (bid.pot_id and bid.pot.network_id in managed)
        or FundRole.objects.filter(user=user, fund_id=bid.call.fund_id, role=FundRoleKind.AUDITOR).exists()
        or read_by_later_stage(user, bid)
    ):
        return bid
    return None


def bids_of_my_organisations(user: User) -> QuerySet[Bid]:
    """Bids led by the person's organisations: their dashboard and 'Your bids'."""
    if not user.is_authenticated:
        return Bid.objects.none()
    return _bids_base().filter(lead_organisation__in=_member_orgs(user)).order_by("call__closes_at", "-created_at")


def bids_awaiting_endorsement(user: User) -> QuerySet[Bid]:
    """Draft bids naming one of the person's commissioning organisations, waiting for them."""
    if not user.is_authenticated:
        return Bid.objects.none()
    return _bids_base().filter(
        commissioner__in=_member_orgs(user), endorsement_status=EndorsementStatus.PENDING, status=BidStatus.DRAFT,
    ).order_by("call__closes_at")


def bids_endorsed_or_declined_by(user: User) -> QuerySet[Bid]:
    if not user.is_authenticated:
        return Bid.objects.none()
    return _bids_base().filter(
        commissioner__in=_member_orgs(user),
        endorsement_status__in=(EndorsementStatus.ENDORSED, EndorsementStatus.DECLINED),
    ).order_by("-endorsed_at", "-updated_at")


def bids_for_call(call: Call) -> QuerySet[Bid]:
    """Every bid on ``call``, in every state, for stages that have already checked access.

    Filter by status as needed, e.g. ``bids_for_call(call).filter(status=BidStatus.SUBMITTED)``.
    """
    return _bids_base().filter(call=call).order_by("reference")


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


def bid_total_match_funding(bid: Bid) -> Decimal:
    total = bid.match_funding.aggregate(total=Sum("amount"))["total"]
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
    return Organisation.objects.filter(kind__in=COMMISSIONING_KINDS).order_by("name")


def bid_attachments(bid: Bid) -> QuerySet[Attachment]:
    return Attachment.objects.filter(bid=bid).select_related("uploaded_by")


def lead_org_member_users(bid: Bid) -> QuerySet[User]:
    return User.objects.filter(memberships__organisation_id=bid.lead_organisation_id, is_active=True).distinct()


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


def bid_content(bid: Bid) -> dict[str, Any]:
    """Everything in the bid, worked out for display (used by every read-only page)."""
    costs = cost_content(bid)
    total_requested = costs["total_requested"]
    total_savings = bid_total_savings(bid)
    savings_by_year = bid_savings_by_year(bid)
    return {
        **costs,
        "partners": list(bid.partners.select_related("organisation")),
        "savings": list(bid.projected_savings.select_related("realised_by")),
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


def attachments_awaiting_scan(*, older_than) -> list[int]:
    """Files still waiting for their virus scan a while after upload (a lost task, a scanner that
    was down longer than the task's retries): the beat sends them to be scanned again."""
    cutoff = timezone.now() - older_than
    return list(Attachment.objects.filter(scan_status=ScanStatus.AWAITING, uploaded_at__lt=cutoff)
                .order_by("pk").values_list("pk", flat=True)[:500])
