"""Reads: people and their roles, funds, pots and budgets, panels, calls and the audit trail.

Everything protected is scoped here; views check ``rules`` permissions before showing it.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db.models import (
    Case,
    CharField,
    Count,
    F,
    IntegerField,
    Prefetch,
    Q,
    QuerySet,
    Value,
    When,
)
from django.http import HttpRequest
from django.utils import timezone

from . import fy
from .audit import action_label, change_list, object_kind_label
from .extensions import committed_by_pot_year
from .models import (
    COMMISSIONING_KINDS,
    PUBLISHED_CALL_STATUSES,
    AuditEvent,
    Call,
    CallAlertSubscription,
    CallQuestion,
    CallStatus,
    Criterion,
    Fund,
    FundRole,
    FundRoleKind,
    Membership,
    MembershipRole,
    Notification,
    Organisation,
    OrganisationKind,
    Panel,
    PanelMember,
    PanelRole,
    Pot,
    PotBudget,
    User,
)
from .visibility import audit_events_visible_to


@dataclass
class Roles:
    """What a signed-in person may do, worked out once per request from their memberships."""

    managed_network_ids: set[int] = field(default_factory=set)
    member_org_ids: set[int] = field(default_factory=set)
    commissioner_org_ids: set[int] = field(default_factory=set)
    assessor_panel_ids: set[int] = field(default_factory=set)
    chair_panel_ids: set[int] = field(default_factory=set)
    audited_fund_ids: set[int] = field(default_factory=set)
    is_site_admin: bool = False

    @property
    def is_fund_manager(self) -> bool:
        return bool(self.managed_network_ids)

    @property
    def is_applicant(self) -> bool:
        return bool(self.member_org_ids)

    @property
    def is_commissioner(self) -> bool:
        return bool(self.commissioner_org_ids)

    @property
    def is_assessor(self) -> bool:
        return bool(self.assessor_panel_ids)

    @property
    def is_panel_chair(self) -> bool:
        return bool(self.chair_panel_ids)

    @property
    def is_auditor(self) -> bool:
        return bool(self.audited_fund_ids)

    @property
    def labels(self) -> list[str]:
        names = [
            (self.is_fund_manager, "Fund manager"),
            (self.is_applicant, "Applicant"),
            (self.is_commissioner, "Commissioner"),
            (self.is_assessor, "Assessor"),
            (self.is_panel_chair, "Panel chair"),
            (self.is_auditor, "Auditor"),
            (self.is_site_admin, "Site admin"),
        ]
        return [name for held, name in names if held]


def roles_of(user: User | AnonymousUser) -> Roles:
    """Three small queries; views reach it through ``request.roles`` (cached per request)."""
    roles = Roles()
    if isinstance(user, AnonymousUser) or not user.is_authenticated:
        return roles
    roles.is_site_admin = user.is_superuser
    for org_id, kind, role in Membership.objects.filter(user=user).values_list(
        "organisation_id", "organisation__kind", "role"
    ):
        if role == MembershipRole.FUND_MANAGER and kind == OrganisationKind.HEALTH_INNOVATION_NETWORK:
            roles.managed_network_ids.add(org_id)
        if kind != OrganisationKind.HEALTH_INNOVATION_NETWORK:
            roles.member_org_ids.add(org_id)
        if kind in COMMISSIONING_KINDS:
            roles.commissioner_org_ids.add(org_id)
    for panel_id, role in PanelMember.objects.filter(user=user).values_list("panel_id", "role"):
        if role in (PanelRole.CHAIR, PanelRole.DEPUTY_CHAIR):
            roles.chair_panel_ids.add(panel_id)
        if role in (PanelRole.ASSESSOR, PanelRole.LAY_MEMBER, PanelRole.CHAIR, PanelRole.DEPUTY_CHAIR):
            roles.assessor_panel_ids.add(panel_id)
    roles.audited_fund_ids = set(
        FundRole.objects.filter(user=user, role=FundRoleKind.AUDITOR).values_list("fund_id", flat=True)
    )
    return roles


def request_roles(request: HttpRequest) -> Roles:
    """The roles of the request's user, computed at most once per request."""
    cached: Roles | None = getattr(request, "_portal_roles", None)
    if cached is None:
        cached = roles_of(request.user)
        request._portal_roles = cached  # type: ignore[attr-defined]  # a per-request cache HttpRequest's stub does not declare
    return cached


def organisations_of(user: User) -> QuerySet[Organisation]:
    return Organisation.objects.filter(memberships__user=user).distinct()


def organisations() -> QuerySet[Organisation]:
    """Every organisation (their names and codes are public, as on the award register)."""
    return Organisation.objects.all()


def organisation_search(query: str, limit: int = 20) -> QuerySet[Organisation]:
    """Organisations by part of their name, or by ODS code, charity, company or UKPRN number or
    org-id; open organisations first, then closed ones (with their successor)."""
    query = (query or "").strip()[:100]
    if not query:
        return Organisation.objects.none()
    code = re.sub(r"\s+", "", query).upper()
    matches = Q(name__icontains=query) | Q(ods_code__iexact=code) | Q(official_org_id__iexact=query)
    if len(code) >= 6:
        matches |= Q(company_number__iexact=code) | Q(charity_number__iexact=code) | Q(ukprn=code)
    return (Organisation.objects.filter(matches).select_related("successor")
            .order_by(F("closed_on").asc(nulls_first=True), "name")[:limit])


def funds_visible_to(user: User) -> QuerySet[Fund]:
    """Funds a person manages (through their network), holds a pot in (read only) or audits."""
    if user.is_superuser:
        return Fund.objects.all()
    return Fund.objects.filter(
        Q(host_network__memberships__user=user, host_network__memberships__role=MembershipRole.FUND_MANAGER)
        | Q(pots__network__memberships__user=user, pots__network__memberships__role=MembershipRole.FUND_MANAGER)
        | Q(roles__user=user, roles__role=FundRoleKind.AUDITOR)
    ).distinct()


def fund_audit_events(
    user: User, fund: Fund, *, action: str = "", actor: str = "", target_type: str = "", target: str = "",
    reference: str = "", date_from: dt.date | None = None, date_to: dt.date | None = None,
) -> QuerySet[AuditEvent]:
    """The fund's audit trail as the person may read it (``visibility``), newest first, narrowed
    by any of: the action, who acted (their label as recorded), the kind of object, words in the
    object's name, a call, bid or award reference (every event belonging to it, whatever its
    target: an award's conditions and payments too), and UK dates."""
    events = audit_events_visible_to(user, fund)
    reference = (reference or "").strip()[:80]
    if reference:
        events = events.filter(Q(call_ref__iexact=reference) | Q(bid_ref__iexact=reference)
                               | Q(award_ref__iexact=reference))
    if action:
        events = events.filter(action=action)
    if actor:
        events = events.filter(actor_label=actor)
    if target_type:
        events = events.filter(target_type=target_type)
    if target:
        events = events.filter(target_label__icontains=target.strip()[:100])
    if date_from:
        events = events.filter(occurred_at__gte=_start_of_uk_day(date_from))
    if date_to:
        events = events.filter(occurred_at__lt=_start_of_uk_day(date_to + dt.timedelta(days=1)))
    return events


def _start_of_uk_day(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


# The kinds of object on a fund's trail, by their recorded type, with plain names.
AUDIT_OBJECT_TYPES = {
    "governance.fund": "Fund",
    "governance.pot": "Pot",
    "governance.potbudget": "Pot budget",
    "governance.call": "Call",
    "governance.criterion": "Criterion",
    "governance.panel": "Panel",
    "governance.panelmember": "Panel member",
}


def fund_audit_filter_options(fund: Fund) -> dict[str, list[tuple[str, str]]]:
    """The choices a fund's audit trail can be filtered by: only values that occur in it."""
    events = AuditEvent.objects.filter(fund=fund)
    actions = sorted(set(events.values_list("action", flat=True)))
    actors = sorted(set(events.values_list("actor_label", flat=True)))
    types = set(events.values_list("target_type", flat=True)) | set(AUDIT_OBJECT_TYPES)
    return {
        "actions": sorted(((a, action_label(a)) for a in actions), key=lambda choice: choice[1]),
        "actors": [(a, a) for a in actors],
        "target_types": sorted(((t, audit_object_label(t)) for t in types), key=lambda choice: choice[1]),
    }


def audit_object_label(target_type: str) -> str:
    return AUDIT_OBJECT_TYPES.get(target_type) or object_kind_label(target_type)


@dataclass(frozen=True)
class AuditEventView:
    """One event as the trail page and its CSV show it: plain words, a readable change list."""

    event: AuditEvent
    action_label: str
    kind_label: str
    changes: list[dict[str, Any]]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.event, name)


def audit_event_view(event: AuditEvent) -> AuditEventView:
    return AuditEventView(event, action_label(event.action), audit_object_label(event.target_type),
                          change_list(event.before, event.after))


def fund_by_slug(slug: str) -> Fund | None:
    """A fund (not secret in itself: views check ``governance.view_fund`` before showing it)."""
    return Fund.objects.select_related("host_network").filter(slug=slug).first()


def networks() -> QuerySet[Organisation]:
    return Organisation.objects.filter(kind=OrganisationKind.HEALTH_INNOVATION_NETWORK).order_by("name")


def networks_managed_by(user: User) -> QuerySet[Organisation]:
    if user.is_superuser:
        return networks()
    managed = Membership.objects.filter(user=user, role=MembershipRole.FUND_MANAGER).values("organisation_id")
    return networks().filter(pk__in=managed)


def call_host_choices(fund: Fund) -> QuerySet[Organisation]:
    """Networks that may host a call on a fund: the fund's host and networks with a pot in it."""
    return networks().filter(Q(pk=fund.host_network_id) | Q(pots__fund=fund)).distinct()


def pots_of_fund(fund: Fund) -> QuerySet[Pot]:
    return Pot.objects.filter(fund=fund).select_related("network").order_by("name")


def fund_auditors(fund: Fund) -> QuerySet[FundRole]:
    return FundRole.objects.filter(fund=fund, role=FundRoleKind.AUDITOR).select_related("user").order_by(
        "user__full_name", "user__email")


def panels_of_fund(fund: Fund) -> QuerySet[Panel]:
    return Panel.objects.filter(fund=fund).annotate(member_count=Count("members")).order_by("name")


def panel_members(panel: Panel) -> QuerySet[PanelMember]:
    return (
        PanelMember.objects.filter(panel=panel).select_related("user")
        .prefetch_related("affiliations").order_by("role", "user__full_name")
    )


def panel_composition(panel: Panel) -> list[tuple[str, int]]:
    """How many members a panel has in each role, for the public call page (no names)."""
    counts = dict(panel.members.values_list("role").annotate(n=Count("pk")).values_list("role", "n"))
    return [(label, counts[value]) for value, label in PanelRole.choices if counts.get(value)]


# Pot budgets -------------------------------------------------------------------------------


@dataclass
class BudgetCell:
    financial_year: int
    budget: Decimal
    committed: Decimal

    @property
    def remaining(self) -> Decimal:
        return self.budget - self.committed

    @property
    def year_label(self) -> str:
        return fy.label(self.financial_year)


@dataclass
class PotBudgetRow:
    """One pot's budget across the fund's years (``pot`` is None for the totals row)."""

    pot: Pot | None
    cells: list[BudgetCell]

    @property
    def label(self) -> str:
        return self.pot.name if self.pot else "Total"

    @property
    def total(self) -> Decimal:
        return sum((cell.budget for cell in self.cells), Decimal("0.00"))

    @property
    def committed(self) -> Decimal:
        return sum((cell.committed for cell in self.cells), Decimal("0.00"))

    @property
    def remaining(self) -> Decimal:
        return self.total - self.committed

    @property
    def remaining_total(self) -> Decimal:
        """Budget not yet committed, added over the years."""
        return sum((cell.remaining for cell in self.cells), Decimal("0.00"))


@dataclass
class PotBudgetTable:
    years: list[int]
    rows: list[PotBudgetRow]
    totals: PotBudgetRow

    @property
    def year_labels(self) -> list[str]:
        return [fy.label(year) for year in self.years]

    @property
    def is_empty(self) -> bool:
        return not self.rows


def pot_budget_table(fund: Fund, pots: list[Pot] | QuerySet[Pot] | None = None, *,
                     from_year: int | None = None) -> PotBudgetTable:
    """Each pot's budget by financial year (years across), with committed and remaining.

    ``from_year`` leaves out the years before it: money of a financial year that has ended can
    no longer be awarded, so what a call has available starts at the current year.
    Committed money comes from ``governance.extensions.committed_by_pot_year``: the awards
    stage registers its pot ledger there; until then nothing is committed.
    """
    pots = list(pots if pots is not None else pots_of_fund(fund))
    years = [year for year in fund.years if from_year is None or year >= from_year]
    pot_ids = [pot.pk for pot in pots]
    budgets = {
        (pot_id, year): amount
        for pot_id, year, amount in PotBudget.objects.filter(pot_id__in=pot_ids).values_list(
            "pot_id", "financial_year", "amount"
        )
    }
    committed = committed_by_pot_year(pot_ids) if pot_ids else {}
    zero = Decimal("0.00")
    rows = [
        PotBudgetRow(pot, [
            BudgetCell(year, budgets.get((pot.pk, year), zero), committed.get((pot.pk, year), zero)) for year in years
        ])
        for pot in pots
    ]
    totals = PotBudgetRow(None, [
        BudgetCell(year, sum((r.cells[i].budget for r in rows), zero), sum((r.cells[i].committed for r in rows), zero))
        for i, year in enumerate(years)
    ])
    return PotBudgetTable(years=years, rows=rows, totals=totals)


def money_available_to_call(call: Call, *, today: dt.date | None = None) -> PotBudgetTable:
    """What a call's pots have left to award, by financial year, from the current year on."""
    today = today or timezone.localdate()
    return pot_budget_table(call.fund, list(call.pots.all()), from_year=fy.FinancialYear.of(today).start_year)


def notifications_for(user: User) -> QuerySet[Notification]:
    return Notification.objects.filter(user=user)


def unread_notification_count(user: User) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


# Calls ---------------------------------------------------------------------------------------


def calls_public() -> QuerySet[Call]:
    """Every call the public may see: anything but a draft."""
    return Call.objects.filter(status__in=PUBLISHED_CALL_STATUSES).select_related("fund", "host_network")


PUBLIC_PHASES = [
    ("open", "Open for bids"),
    ("upcoming", "Opening soon"),
    ("closed", "Closed: in assessment"),
    ("decided", "Decided"),
]


def _with_public_phase(calls: QuerySet[Call], now: dt.datetime) -> QuerySet[Call]:
    live = [CallStatus.SCHEDULED, CallStatus.OPEN]
    return calls.annotate(
        public_phase=Case(
            When(status__in=live, opens_at__gt=now, then=Value("upcoming")),
            When(status__in=live, closes_at__gt=now, then=Value("open")),
            When(status__in=[CallStatus.DECIDED, CallStatus.CLOSED_OUT], then=Value("decided")),
            default=Value("closed"),
            output_field=CharField(),
        ),
        phase_rank=Case(
            When(status__in=live, opens_at__gt=now, then=Value(1)),
            When(status__in=live, closes_at__gt=now, then=Value(0)),
            When(status__in=[CallStatus.DECIDED, CallStatus.CLOSED_OUT], then=Value(3)),
            default=Value(2),
            output_field=IntegerField(),
        ),
        next_time=Case(
            When(status__in=live, opens_at__gt=now, then=F("opens_at")),
            When(status__in=live, closes_at__gt=now, then=F("closes_at")),
            default=None,
        ),
    )


def calls_public_listing(now: dt.datetime | None = None) -> QuerySet[Call]:
    """Published calls for ``/calls/``, each with its ``public_phase`` at ``now`` (open,
    upcoming, closed, decided): open ones first (closing soonest), then those opening soon,
    then closed and decided ones (most recent first). Drafts never appear.
    Filter with ``governance.filters.PublicCallFilter``.
    """
    now = now or timezone.now()
    calls = _with_public_phase(calls_public(), now)
    # The Django plugin does not follow the annotations _with_public_phase adds.
    return calls.order_by("phase_rank", F("next_time").asc(nulls_last=True), "-closes_at", "pk")  # type: ignore[misc]


def call_public_by_slug(slug: str) -> Call | None:
    """A published call with what its public page shows; None for a draft or no such call."""
    return (
        calls_public()
        .select_related("panel", "fund__host_network")
        .prefetch_related(Prefetch("criteria", queryset=_criteria_with_rubric()), "pots__network")
        .filter(slug=slug)
        .first()
    )


def _criteria_with_rubric() -> QuerySet[Criterion]:
    return Criterion.objects.prefetch_related("descriptors").order_by("position", "pk")


def call_by_slug(slug: str) -> Call | None:
    """Any call, drafts included: for management pages, which check permissions first."""
    return (
        Call.objects.select_related("fund__host_network", "host_network", "panel")
        .prefetch_related(Prefetch("criteria", queryset=_criteria_with_rubric()), "pots__network")
        .filter(slug=slug)
        .first()
    )


def calls_of_fund(fund: Fund) -> QuerySet[Call]:
    return Call.objects.filter(fund=fund).select_related("host_network").order_by("-opens_at", "pk")


def calls_managed_by(user: User) -> QuerySet[Call]:
    """Calls a fund manager runs: hosted by their network or on a fund their network hosts."""
    calls = Call.objects.select_related("fund", "host_network")
    if user.is_superuser:
        return calls.all()
    managed = Membership.objects.filter(user=user, role=MembershipRole.FUND_MANAGER).values("organisation_id")
    return calls.filter(Q(host_network__in=managed) | Q(fund__host_network__in=managed)).distinct()


def calls_open_now(now: dt.datetime | None = None) -> QuerySet[Call]:
    """Calls accepting bids at ``now``, by their times, whether or not the beat task has run."""
    now = now or timezone.now()
    return calls_public().filter(
        status__in=[CallStatus.SCHEDULED, CallStatus.OPEN], opens_at__lte=now, closes_at__gt=now
    ).order_by("closes_at")


@dataclass
class ChartBar:
    label: str
    budget: Decimal
    committed: Decimal
    y: int
    committed_width: int
    remaining_width: int
    label_y: int
    remaining_x: int


def budget_chart(table: PotBudgetTable, *, width: int = 560, label_width: int = 80, bar_height: int = 28) -> dict[str, Any] | None:
    """Geometry for a bar chart of the fund's budget by year (committed, then remaining).

    Drawn as inline SVG beside the budget table, which stays the source for screen readers.
    Pixel sizes only: the money itself stays Decimal.
    """
    cells = table.totals.cells
    top = max((cell.budget for cell in cells), default=Decimal(0))
    if not top:
        return None
    room = Decimal(width - label_width - 8)
    gap = 12
    bars = []
    for index, cell in enumerate(cells):
        y = gap + index * (bar_height + gap)
        committed_width = int(room * cell.committed / top)
        budget_width = int(room * cell.budget / top)
        bars.append(ChartBar(
            label=cell.year_label, budget=cell.budget, committed=cell.committed, y=y,
            committed_width=committed_width, remaining_width=max(budget_width - committed_width, 0),
            label_y=y + bar_height // 2 + 6, remaining_x=label_width + committed_width,
        ))
    legend_y = gap + len(cells) * (bar_height + gap) + 8
    return {
        "width": width, "height": legend_y + 24, "label_width": label_width, "bar_height": bar_height,
        "bars": bars, "legend_y": legend_y, "legend_text_y": legend_y + 13,
    }


# Who hears about a call ------------------------------------------------------------------------


def call_managers(call: Call) -> list[User]:
    """The fund managers of the call's network and of its fund's network (active people)."""
    networks = {call.host_network_id, call.fund.host_network_id} - {None}
    return list(User.objects.filter(
        is_active=True, memberships__organisation_id__in=networks, memberships__role=MembershipRole.FUND_MANAGER,
    ).distinct().order_by("email"))


def call_bid_holders(call: Call) -> list[User]:
    """Everyone with a bid on the call: members of each bid's lead organisation (the
    applications stage registers where bids are, see ``extensions.call_bidder_sources``)."""
    from .extensions import call_bidder_sources

    organisation_ids: set[int] = set()
    for source in call_bidder_sources:
        organisation_ids |= set(source(call))
    if not organisation_ids:
        return []
    return list(User.objects.filter(is_active=True, memberships__organisation_id__in=organisation_ids)
                .distinct().order_by("email"))


def call_alert_subscribers_for(call: Call) -> list[CallAlertSubscription]:
    """Confirmed, still subscribed alerts whose filters (network, purpose, region) match the call."""
    region = call.host_network.region
    found = []
    for subscription in (CallAlertSubscription.objects.filter(confirmed_at__isnull=False, unsubscribed_at__isnull=True)
                         .prefetch_related("networks").order_by("pk")):
        networks = {n.pk for n in subscription.networks.all()}
        if networks and call.host_network_id not in networks:
            continue
        if subscription.purposes and call.purpose not in subscription.purposes:
            continue
        if subscription.regions and region not in subscription.regions:
            continue
        found.append(subscription)
    return found


def call_questions_public(call: Call) -> QuerySet[CallQuestion]:
    """The published questions and answers (never who asked)."""
    return CallQuestion.objects.filter(call=call, published_at__isnull=False).only(
        "pk", "call_id", "question", "answer", "asked_at", "published_at").order_by("published_at", "pk")


def call_questions_all(call: Call) -> QuerySet[CallQuestion]:
    """Every question on the call, for its managers (view_call_questions)."""
    return CallQuestion.objects.filter(call=call).select_related("asked_by").order_by("asked_at", "pk")


def call_questions_asked_by(call: Call, user: User) -> QuerySet[CallQuestion]:
    if not user.is_authenticated:
        return CallQuestion.objects.none()
    return CallQuestion.objects.filter(call=call, asked_by=user).order_by("asked_at", "pk")
