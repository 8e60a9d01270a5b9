"""Reads for the assessment stage, scoped to what the person may see.

- Assessors see their own assignments only (``assignment_of``); a bid's content only once they
  have declared no conflict on it (the score sheet, and the bid's page through
  ``applications.extensions.register_bid_reader``: see ``assessor_reads_bid``).
- Fund managers, panel chairs and the fund's auditors see a call's assignments, ranking and
  decisions; the views check ``assessment.*`` permissions (``rules.py``) first.
- Applicants see feedback on their own organisations' bids once decisions are released.

Who may see which fields of sheets, scores, conflicts and decisions is ``visibility.py``'s rule;
the pages and files read through it, and these selectors give it the raw material.

The ranking (``call_ranking``) reads a call's scores, assignments, moderations, costs, budgets
and decisions in a fixed number of queries however many bids the call has, and hands them to
the plain arithmetic in ``scoring.py``.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, F, Prefetch, Q, QuerySet, Sum
from django.utils import timezone

from applications.models import Bid, BidCost, BidPartner, BidStatus
from applications.selectors import bids_for_call
from governance import fy
from governance.extensions import committed_by_pot_year
from governance.models import (
    Call,
    CallStatus,
    Criterion,
    Fund,
    Membership,
    Organisation,
    PanelMember,
    PanelRole,
    Pot,
    PotBudget,
    User,
)
from governance.selectors import BudgetCell, calls_managed_by

from . import scoring
from .models import (
    AssessorInvitation,
    AssessorProfile,
    Assignment,
    AssignmentStatus,
    Clarification,
    ConflictDeclaration,
    DecisionOutcome,
    InvitationStatus,
    Moderation,
    PanelDecision,
    PanelPack,
    PoolEntry,
    PoolShare,
    Score,
    ScoreSheet,
    SheetStatus,
)

ZERO = Decimal("0.00")
# Assignments that still count: the assessor has not withdrawn or declared a conflict.
LIVE_STATUSES = (AssignmentStatus.AWAITING_DECLARATION, AssignmentStatus.ACTIVE)
# Bids that take part in a call's assessment once it has started.
ASSESSED_BID_STATUSES = (BidStatus.IN_ASSESSMENT, BidStatus.FUNDED, BidStatus.NOT_FUNDED)
# Panel roles that score bids (observers do not).
SCORING_ROLES = (PanelRole.ASSESSOR, PanelRole.LAY_MEMBER, PanelRole.CHAIR, PanelRole.DEPUTY_CHAIR)
# Panel roles that moderate and decide: the chair, and the deputy chair on bids every chair is
# conflicted on (see ``bids_chaired_by``).
CHAIRING_ROLES = (PanelRole.CHAIR, PanelRole.DEPUTY_CHAIR)
# Automatic assignment spreads work over assessors and lay members first; chairs, who also
# moderate and decide, are given bids last.
ROLE_PREFERENCE: dict[str, int] = {PanelRole.ASSESSOR: 0, PanelRole.LAY_MEMBER: 0, PanelRole.CHAIR: 1, PanelRole.DEPUTY_CHAIR: 1}


def criteria_of(call: Call) -> list[Criterion]:
    """The call's criteria in order (uses a prefetch when the call came with one)."""
    return list(call.criteria.all())


def criteria_with_rubric(call: Call) -> list[Criterion]:
    return list(Criterion.objects.filter(call=call).prefetch_related("descriptors").order_by("position", "pk"))


def criterion_specs(criteria: list[Criterion]) -> list[scoring.CriterionSpec]:
    return [
        scoring.CriterionSpec(id=c.pk, weight=c.weight, scale_min=c.scale_min, scale_max=c.scale_max,
                              gateway_min=c.gateway_min_score, title=c.title)
        for c in criteria
    ]


# Conflicts of interest --------------------------------------------------------------------------


def member_org_ids(user_ids: Iterable[int]) -> dict[int, set[int]]:
    """Each person's own organisations: where they are members, (for panel members) the
    organisations they declared they work for or with on any panel, and (for the assessor pool)
    where they work and the organisations they declared an interest in. Four queries."""
    user_ids = list(user_ids)
    orgs: dict[int, set[int]] = defaultdict(set)
    for user_id, org_id in Membership.objects.filter(user_id__in=user_ids).values_list("user_id", "organisation_id"):
        orgs[user_id].add(org_id)
    through = PanelMember.affiliations.through
    for user_id, org_id in through.objects.filter(panelmember__user_id__in=user_ids).values_list(
        "panelmember__user_id", "organisation_id"
    ):
        orgs[user_id].add(org_id)
    # The assessor pool: where the person works and the organisations they declared an interest in.
    for user_id, org_id in AssessorProfile.objects.filter(user_id__in=user_ids, organisation__isnull=False).values_list(
        "user_id", "organisation_id"
    ):
        orgs[user_id].add(org_id)
    interests = AssessorProfile.interest_organisations.through
    for user_id, org_id in interests.objects.filter(assessorprofile__user_id__in=user_ids).values_list(
        "assessorprofile__user_id", "organisation_id"
    ):
        orgs[user_id].add(org_id)
    return orgs


def bid_org_ids(bids: Iterable[Bid]) -> dict[int, set[int]]:
    """The organisations on each bid: its lead, its partners and its commissioner. One query."""
    bids = list(bids)
    orgs = {bid.pk: {bid.lead_organisation_id} | ({bid.commissioner_id} if bid.commissioner_id else set())
            for bid in bids}
    for bid_id, org_id in BidPartner.objects.filter(bid_id__in=list(orgs)).values_list("bid_id", "organisation_id"):
        orgs[bid_id].add(org_id)
    return orgs


def automatic_conflicts(user_id: int, bid_id: int, people: dict[int, set[int]], bids: dict[int, set[int]]) -> set[int]:
    """The organisations both on the bid and the person's own: a conflict when not empty."""
    return people.get(user_id, set()) & bids.get(bid_id, set())


def organisation_names(org_ids: Iterable[int]) -> dict[int, str]:
    return dict(Organisation.objects.filter(pk__in=set(org_ids)).values_list("pk", "name"))


@dataclass
class Exclusion:
    member: PanelMember
    reason: str


def panel_exclusions(call: Call, bid: Bid) -> list[Exclusion]:
    """Panel members conflicted on a bid: their own organisation leads or partners it, or they
    declared a conflict on it. They take no part in the bid's moderation or decision."""
    if call.panel_id is None:
        return []
    members = list(PanelMember.objects.filter(panel_id=call.panel_id).select_related("user").order_by("user__full_name"))
    people = member_org_ids([m.user_id for m in members])
    on_bid = bid_org_ids([bid])
    declared = {
        a.assessor_id: a for a in Assignment.objects.filter(bid=bid, status=AssignmentStatus.CONFLICTED)
        .select_related("declaration")
    }
    names = organisation_names(on_bid[bid.pk])
    exclusions = []
    for member in members:
        common = automatic_conflicts(member.user_id, bid.pk, people, on_bid)
        if common:
            orgs = ", ".join(sorted(names.get(org, "") for org in common))
            exclusions.append(Exclusion(member, f"Works for or with {orgs}"))
        elif member.user_id in declared:
            declaration = getattr(declared[member.user_id], "declaration", None)
            kind = declaration.get_kind_display().lower() if declaration else "declared"
            exclusions.append(Exclusion(member, f"Declared a conflict of interest ({kind})"))
    return exclusions


def is_excluded(user: User, call: Call, bid: Bid) -> bool:
    return any(e.member.user_id == user.pk for e in panel_exclusions(call, bid))


def excluded_bid_ids(user: User, call: Call, bids: Iterable[Bid]) -> set[int]:
    """Of ``bids``, those the person is conflicted on (their own organisation is on the bid, or
    they declared a conflict on it): they never see those bids' scores. Three queries."""
    bids = list(bids)
    if not user.is_authenticated or not bids:
        return set()
    people = member_org_ids([user.pk])
    on_bid = bid_org_ids(bids)
    ids = {bid.pk for bid in bids if automatic_conflicts(user.pk, bid.pk, people, on_bid)}
    ids |= set(Assignment.objects.filter(assessor=user, bid_id__in=list(on_bid), status=AssignmentStatus.CONFLICTED)
               .values_list("bid_id", flat=True))
    return ids


def bids_chaired_by(user: User, call: Call, bids: Iterable[Bid], excluded: set[int] | None = None) -> set[int]:
    """Of ``bids``, those whose moderation and decision this person chairs.

    The chair chairs every bid they are not conflicted on. A deputy chair chairs the bids that
    every chair of the panel is conflicted on (and they are not), so a conflicted chair never
    leaves a bid, and with it the call's release, undecided. ``excluded``: the person's own
    ``excluded_bid_ids`` for these bids, when the caller has it already.
    """
    bids = list(bids)
    if not user.is_authenticated or call.panel_id is None or not bids:
        return set()
    roles = set(PanelMember.objects.filter(panel_id=call.panel_id, user=user, role__in=CHAIRING_ROLES)
                .values_list("role", flat=True))
    if not roles:
        return set()
    chaired = {bid.pk for bid in bids} - (excluded if excluded is not None else excluded_bid_ids(user, call, bids))
    if PanelRole.CHAIR in roles:
        return chaired
    for chair in User.objects.filter(panel_memberships__panel_id=call.panel_id,
                                     panel_memberships__role=PanelRole.CHAIR):
        chaired &= excluded_bid_ids(chair, call, bids)
    return chaired


def bids_no_chair_can_decide(call: Call, bids: Iterable[Bid], known: dict[int, set[int]] | None = None) -> list[Bid]:
    """Of ``bids``, those that every chair and deputy chair of the panel is conflicted on: the
    fund manager must add a deputy chair before the panel can decide them. ``known`` maps a
    person's id to their ``excluded_bid_ids`` for these bids, when the caller has them."""
    bids = list(bids)
    if call.panel_id is None or not bids:
        return bids
    known = known or {}
    open_ids = {bid.pk for bid in bids}
    for person in User.objects.filter(panel_memberships__panel_id=call.panel_id,
                                      panel_memberships__role__in=CHAIRING_ROLES).distinct():
        excluded = known[person.pk] if person.pk in known else excluded_bid_ids(person, call, bids)
        open_ids -= {bid.pk for bid in bids} - excluded
    return [bid for bid in bids if bid.pk in open_ids]


def conflicts_register(fund: Fund) -> QuerySet[ConflictDeclaration]:
    """Every conflict of interest declared on the fund's bids, newest first."""
    return (
        ConflictDeclaration.objects.filter(has_conflict=True, assignment__bid__call__fund=fund)
        .select_related("assignment__assessor", "assignment__bid__call", "assignment__bid__lead_organisation")
        .order_by("-declared_at", "-pk")
    )


def panel_affiliations(fund: Fund) -> list[PanelMember]:
    """The fund's panel members with the organisations they declared they work for or with."""
    return list(
        PanelMember.objects.filter(panel__fund=fund).select_related("user", "panel")
        .prefetch_related("affiliations").order_by("panel__name", "user__full_name")
    )


# Assessors: their queue and their own assignments ---------------------------------------------


def assignment_of(user: User, pk: int) -> Assignment | None:
    """One of the person's own assignments (withdrawn ones are gone from their view), else None."""
    if not user.is_authenticated:
        return None
    return (
        Assignment.objects.filter(pk=pk, assessor=user).exclude(status=AssignmentStatus.WITHDRAWN)
        .select_related("bid__call__fund", "bid__call__panel", "bid__lead_organisation", "bid__commissioner", "bid__pot")
        .first()
    )


def panel_reads_bid(user: User, bid: Bid) -> bool:
    """Who the assessment stage lets read a bid and its files (``register_bid_reader``): an
    assessor assigned to it who has declared no conflict, and the chair of the call's panel,
    who moderates and decides, once the bid is in assessment, unless conflicted on it."""
    if not user.is_authenticated:
        return False
    if Assignment.objects.filter(bid=bid, assessor=user, status=AssignmentStatus.ACTIVE).exists():
        return True
    call = bid.call
    if bid.status not in ASSESSED_BID_STATUSES or call.panel_id is None:
        return False
    return bid.pk in bids_chaired_by(user, call, [bid])


@dataclass
class QueueItem:
    assignment: Assignment
    criteria: int
    done: int

    @property
    def submitted(self) -> bool:
        sheet = getattr(self.assignment, "sheet", None)
        return sheet is not None and sheet.status == SheetStatus.SUBMITTED

    @property
    def state(self) -> str:
        if self.assignment.status == AssignmentStatus.AWAITING_DECLARATION:
            return "Declare any conflict"
        if self.submitted:
            return "Submitted"
        if self.done:
            return "In progress"
        return "Not started"

    @property
    def overdue(self) -> bool:
        due = self.assignment.due_date
        return due is not None and not self.submitted and due < timezone.localdate()


def assessor_queue(user: User) -> list[QueueItem]:
    """The person's assignments on calls in assessment: declaration needed, scoring (with how many
    criteria are scored and commented) or submitted; soonest due first. Three queries."""
    if not user.is_authenticated:
        return []
    done = Count("sheet__scores", filter=Q(sheet__scores__score__isnull=False) & ~Q(sheet__scores__comment=""))
    assignments = list(
        Assignment.objects.filter(assessor=user, status__in=LIVE_STATUSES, bid__status=BidStatus.IN_ASSESSMENT,
                                  bid__call__status=CallStatus.ASSESSMENT)
        .select_related("bid__call", "bid__lead_organisation", "sheet")
        .annotate(done=done).order_by("due_date", "bid__reference")
    )
    call_ids = {a.bid.call_id for a in assignments}
    counts = dict(Criterion.objects.filter(call_id__in=call_ids).values_list("call_id").annotate(n=Count("pk")))
    return [QueueItem(a, counts.get(a.bid.call_id, 0), a.done) for a in assignments]


def assignments_managed_by(user: User) -> QuerySet[Assignment]:
    """Assignments on calls the person runs as a fund manager."""
    return Assignment.objects.filter(bid__call__in=calls_managed_by(user)).select_related(
        "bid__call__fund", "bid__lead_organisation", "assessor", "sheet"
    )


def decision_of(bid: Bid) -> PanelDecision | None:
    return PanelDecision.objects.filter(bid=bid).first()


def sheet_scores(assignment: Assignment) -> dict[int, Score]:
    sheet = ScoreSheet.objects.filter(assignment=assignment).first()
    if sheet is None:
        return {}
    return {score.criterion_id: score for score in sheet.scores.all()}


# What the applicant wrote, by criterion ---------------------------------------------------------

# For each kind of criterion, the parts of the bid an assessor needs beside it (keys below), and
# the headings in the whole bid (``applications/includes/bid_content.html``) to read more.
ANSWERS_BY_KIND = {
    "cost_saving": (["savings_total", "projected_return", "savings_assumptions", "requested_total"], ["savings", "costs"]),
    "patient_benefit": (["problem", "measures", "care_settings"], ["benefits", "pathway"]),
    "deliverability": (["dates", "delivery_plan", "milestones", "risks"], ["delivery", "risks"]),
    "scalability": (["innovation", "evidence_base", "nice_evidence", "sustainability"], ["innovation", "delivery"]),
    "collaboration": (["pathway", "partners", "commissioner"], ["partners", "pathway"]),
    "value_for_money": (["requested_total", "match_funding", "savings_total", "projected_return"], ["costs", "savings"]),
    "other": (["summary", "problem"], ["summary"]),
}
SECTION_LABELS = {
    "summary": "Project summary", "innovation": "The innovation", "pathway": "Care pathway", "partners": "Partners",
    "costs": "Costs", "savings": "Projected savings", "benefits": "Patient benefits",
    "delivery": "Delivery plan and milestones", "risks": "Risks",
}


def _answer(key: str, bid: Bid, content: dict[str, Any]) -> tuple[str, str]:
    """(label, text) of one part of the bid, as plain text (templates escape it)."""
    def money(amount: Decimal) -> str:
        return f"£{amount:,.2f}"
    if key == "savings_total":
        return "Projected savings", money(content["total_savings"])
    if key == "projected_return":
        value = content["projected_return"]
        return "Projected return", f"£{value} of savings for each £1 asked for" if value is not None else "Not worked out"
    if key == "savings_assumptions":
        lines = [f"{fy.label(s.financial_year)} {s.get_kind_display().lower()} {money(s.amount)}: {s.assumptions}"
                 for s in content["savings"]]
        return "Savings and their assumptions", "\n".join(lines) or "None given"
    if key == "requested_total":
        years = ", ".join(f"{fy.label(y)} {money(a)}" for y, a in content["requested_by_year"].items())
        return "Amount asked for", f"{money(content['total_requested'])}{f' ({years})' if years else ''}"
    if key == "match_funding":
        return "Match funding", money(content["total_match_funding"])
    if key == "problem":
        return "The problem it solves", bid.problem or "Not given"
    if key == "summary":
        return "Summary", bid.summary or "Not given"
    if key == "measures":
        lines = [f"{m.name}: from {m.baseline.normalize():f} to {m.target.normalize():f} {m.unit} by {m.target_date:%-d %B %Y}"
                 for m in content["measures"]]
        return "Patient-benefit measures", "\n".join(lines) or "None given"
    if key == "care_settings":
        return "Settings covered", ", ".join(content["care_setting_labels"]) or "Not given"
    if key == "dates":
        dates = f"{bid.start_date:%-d %B %Y} to {bid.end_date:%-d %B %Y}" if bid.start_date and bid.end_date else "Not given"
        return "Dates", dates
    if key == "delivery_plan":
        return "Delivery plan", bid.delivery_plan or "Not given"
    if key == "milestones":
        lines = [f"{m.due_date:%-d %b %Y}: {m.title}" for m in content["milestones"]]
        return "Milestones", "\n".join(lines) or "None given"
    if key == "risks":
        lines = [f"{r.description} (likelihood {r.get_likelihood_display().lower()}, impact "
                 f"{r.get_impact_display().lower()}). Managed by: {r.mitigation}" for r in content["risks"]]
        return "Risks", "\n".join(lines) or "None given"
    if key == "innovation":
        label = content["innovation_type_label"]
        return "The innovation", f"{label}: {bid.innovation_description}" if label else bid.innovation_description or "Not given"
    if key == "evidence_base":
        return "Evidence base", bid.evidence_base or "Not given"
    if key == "nice_evidence":
        return "NICE or other evidence", bid.nice_evidence or "None given"
    if key == "sustainability":
        return "Sustainability", bid.sustainability_plan or "Not given"
    if key == "pathway":
        return "The care pathway", bid.pathway_description or "Not given"
    if key == "partners":
        lines = [f"{p.organisation.name} ({p.get_role_display().lower()}): {p.contribution}" for p in content["partners"]]
        return "Partners", "\n".join(lines) or "None"
    if key == "commissioner":
        if bid.commissioner is None:
            return "Commissioner", "None named"
        comment = f"\n{bid.endorsement_comment}" if bid.endorsement_comment else ""
        return "Commissioner", f"{bid.commissioner.name} ({bid.get_endorsement_status_display().lower()}){comment}"
    raise KeyError(key)


def criterion_answers(criterion: Criterion, bid: Bid, content: dict[str, Any]) -> dict[str, Any]:
    """The applicant's answers relevant to a criterion, with links to read more in the bid."""
    keys, sections = ANSWERS_BY_KIND.get(criterion.kind, ANSWERS_BY_KIND["other"])
    return {
        "answers": [_answer(key, bid, content) for key in keys],
        "sections": [(section, SECTION_LABELS[section]) for section in sections],
    }


# Fund managers: a call's assignments and each assessor's load ----------------------------------


@dataclass
class MemberLoad:
    member: PanelMember
    assigned: int = 0  # live assignments in the call
    awaiting: int = 0
    scoring: int = 0
    submitted: int = 0
    conflicts: int = 0
    withdrawn: int = 0


@dataclass
class BidAssignments:
    bid: Bid
    assignments: list[Assignment]
    needed: int

    @property
    def live(self) -> list[Assignment]:
        return [a for a in self.assignments if a.status in LIVE_STATUSES]

    @property
    def shortfall(self) -> int:
        return max(self.needed - len(self.live), 0)

    @property
    def submitted(self) -> int:
        return sum(1 for a in self.live if _sheet_status(a) == SheetStatus.SUBMITTED)


def _sheet_status(assignment: Assignment) -> str | None:
    sheet = getattr(assignment, "sheet", None)
    return sheet.status if sheet is not None else None


def live_assignments_of(bid: Bid) -> QuerySet[Assignment]:
    """The bid's assessors who have not withdrawn or declared a conflict."""
    return Assignment.objects.filter(bid=bid, status__in=LIVE_STATUSES).select_related("assessor")


def scoring_members(call: Call) -> list[PanelMember]:
    if call.panel_id is None:
        return []
    return list(
        PanelMember.objects.filter(panel_id=call.panel_id, role__in=SCORING_ROLES, user__is_active=True)
        .select_related("user").order_by("user__full_name", "pk")
    )


def call_assignments(call: Call) -> tuple[list[BidAssignments], list[MemberLoad]]:
    """Each bid in (or waiting for) assessment with its assignments, and each scoring member's
    load in the call. A fixed number of queries."""
    bids = list(bids_for_call(call).filter(status__in=(BidStatus.SUBMITTED, *ASSESSED_BID_STATUSES)))
    assignments = list(
        Assignment.objects.filter(bid__call=call).select_related("assessor", "sheet", "declaration")
        .order_by("assigned_at", "pk")
    )
    by_bid: dict[int, list[Assignment]] = defaultdict(list)
    for assignment in assignments:
        by_bid[assignment.bid_id].append(assignment)
    rows = [BidAssignments(bid, by_bid.get(bid.pk, []), call.assessors_per_bid) for bid in bids]
    loads = {m.user_id: MemberLoad(m) for m in scoring_members(call)}
    for assignment in assignments:
        load = loads.get(assignment.assessor_id)
        if load is None:
            continue
        if assignment.status in LIVE_STATUSES:
            load.assigned += 1
            if assignment.status == AssignmentStatus.AWAITING_DECLARATION:
                load.awaiting += 1
            elif _sheet_status(assignment) == SheetStatus.SUBMITTED:
                load.submitted += 1
            else:
                load.scoring += 1
        elif assignment.status == AssignmentStatus.CONFLICTED:
            load.conflicts += 1
        else:
            load.withdrawn += 1
    return rows, list(loads.values())


@dataclass
class Candidate:
    member: PanelMember
    load: int
    conflict: str = ""  # why they cannot take the bid, if they cannot


def assessor_candidates(call: Call, bid: Bid) -> list[Candidate]:
    """The panel's scoring members not already on the bid, least loaded first, each with the
    reason they cannot take it (their organisation is on the bid, or they declared a conflict)."""
    members = scoring_members(call)
    current = dict(Assignment.objects.filter(bid=bid).exclude(status=AssignmentStatus.WITHDRAWN)
                   .values_list("assessor_id", "status"))
    loads = dict(
        Assignment.objects.filter(bid__call=call, status__in=LIVE_STATUSES).values_list("assessor_id")
        .annotate(n=Count("pk"))
    )
    people = member_org_ids([m.user_id for m in members])
    on_bid = bid_org_ids([bid])
    names = organisation_names(on_bid[bid.pk])
    accepted = accepted_assessor_ids(call) if call_uses_invitations(call) else None
    candidates = []
    for member in members:
        status = current.get(member.user_id)
        if status in LIVE_STATUSES:
            continue
        common = automatic_conflicts(member.user_id, bid.pk, people, on_bid)
        reason = ""
        if common:
            reason = f"Works for or with {', '.join(sorted(names.get(org, '') for org in common))}"
        elif status == AssignmentStatus.CONFLICTED:
            reason = "Declared a conflict of interest on this bid"
        elif accepted is not None and member.user_id not in accepted:
            reason = "Has not accepted an invitation to assess this call"
        candidates.append(Candidate(member, loads.get(member.user_id, 0), reason))
    candidates.sort(key=lambda c: (bool(c.conflict), c.load, ROLE_PREFERENCE.get(c.member.role, 0),
                                   c.member.user.full_name, c.member.pk))
    return candidates


# The ranking and the funding line ---------------------------------------------------------------


@dataclass
class YearCell:
    year: int
    requested: Decimal
    running: Decimal | None
    overspent: bool


@dataclass
class RankedBid:
    bid: Bid
    result: scoring.BidResult | None
    sheets_expected: int
    sheets_submitted: int
    requested: dict[int, Decimal]
    decision: PanelDecision | None = None
    rank: int | None = None
    above_line: bool | None = None
    running: dict[int, Decimal] = field(default_factory=dict)
    overspent_years: list[int] = field(default_factory=list)
    cells: list[YearCell] = field(default_factory=list)
    line_falls_here: bool = False
    excluded: bool = False  # the viewer is conflicted on the bid: its scores are not shown to them
    chaired: bool = False  # the viewer chairs its moderation and decision (set by visibility.ranking_for)

    @property
    def complete(self) -> bool:
        """Every assessor still on the bid has submitted, and there is a score."""
        return (self.sheets_expected > 0 and self.sheets_submitted == self.sheets_expected
                and self.result is not None and self.result.score is not None)

    @property
    def total_requested(self) -> Decimal:
        return sum(self.requested.values(), ZERO)

    @property
    def score(self) -> Decimal | None:
        return self.result.score if self.result else None

    @property
    def fundable(self) -> bool:
        return bool(self.result and self.result.fundable)

    @property
    def needs_moderation(self) -> bool:
        return bool(self.result and self.result.needing_moderation)

    @property
    def recommended(self) -> str:
        if not self.complete:
            return "Still being scored"
        if not self.fundable:
            return "Not fundable: gateway not met"
        return "Above the funding line" if self.above_line else "Below the funding line"


@dataclass
class PotRanking:
    pot: Pot | None
    years: list[BudgetCell]  # the pot's budget, committed and remaining for each year asked for
    rows: list[RankedBid]  # ranked: scoring complete
    unscored: list[RankedBid]

    @property
    def line_year_labels(self) -> str:
        row = next((r for r in self.rows if r.line_falls_here), None)
        return ", ".join(fy.label(y) for y in row.overspent_years) if row else ""


@dataclass
class CallRanking:
    call: Call
    criteria: list[Criterion]
    pots: list[PotRanking]
    by_bid: dict[int, RankedBid]
    excluded: set[int] = field(default_factory=set)  # the viewer's conflicted bids (set by visibility.ranking_for)

    @property
    def years(self) -> list[int]:
        return sorted({y.financial_year for pot in self.pots for y in pot.years})

    @property
    def all_rows(self) -> list[RankedBid]:
        return [row for pot in self.pots for row in (*pot.rows, *pot.unscored)]


# What the ranking, its page and its export read of each bid (the rest is left in the database).
RANKED_BID_FIELDS = ("pk", "call_id", "pot_id", "reference", "title", "status", "submitted_at", "lead_organisation_id",
                     "commissioner_id", "lead_organisation__name", "lead_organisation__ods_code")


def call_ranking(call: Call, criteria: list[Criterion] | None = None) -> CallRanking:
    """The call's bids ranked within each pot, with their scores, flags, requested money per
    year, running totals against the pot's remaining budget, the funding line and any decision
    recorded. About ten queries, whatever the number of bids."""
    criteria = criteria if criteria is not None else criteria_of(call)
    specs = criterion_specs(criteria)
    spec_by_id = {spec.id: spec for spec in specs}
    bids = list(
        bids_for_call(call).filter(status__in=ASSESSED_BID_STATUSES).select_related(None).select_related("lead_organisation")
        .only(*RANKED_BID_FIELDS)
    )
    bid_ids = [bid.pk for bid in bids]

    expected: dict[int, int] = defaultdict(int)
    submitted: dict[int, int] = defaultdict(int)
    for bid_id, sheet_status in Assignment.objects.filter(bid__call=call, status__in=LIVE_STATUSES).values_list(
        "bid_id", "sheet__status"
    ):
        expected[bid_id] += 1
        submitted[bid_id] += sheet_status == SheetStatus.SUBMITTED
    raw_scores = [
        scoring.RawScore._make(row)
        for row in Score.objects.filter(
            sheet__assignment__bid__call=call, sheet__assignment__bid__status__in=ASSESSED_BID_STATUSES,
            sheet__assignment__status=AssignmentStatus.ACTIVE, sheet__status=SheetStatus.SUBMITTED,
            criterion_id__in=list(spec_by_id), score__isnull=False,
        ).values_list("sheet__assignment__bid_id", "sheet__assignment__assessor_id", "criterion_id", "score")
    ]
    raw_by_bid: dict[int, dict[tuple[int, int], int]] = defaultdict(dict)
    for s in raw_scores:
        raw_by_bid[s.bid_id][(s.assessor_id, s.criterion_id)] = s.score
    values_by_bid: dict[int, dict[tuple[int, int], Decimal]] | None = None
    if call.normalise_scores:
        values_by_bid = defaultdict(dict)
        for (bid_id, assessor_id, criterion_id), value in scoring.normalised_scores(raw_scores, spec_by_id).items():
            values_by_bid[bid_id][(assessor_id, criterion_id)] = value
    moderated: dict[int, dict[int, Decimal]] = defaultdict(dict)
    for bid_id, criterion_id, score in Moderation.objects.filter(bid__call=call).values_list("bid_id", "criterion_id", "score"):
        moderated[bid_id][criterion_id] = score
    requested: dict[int, dict[int, Decimal]] = defaultdict(dict)
    for bid_id, year, amount in (
        BidCost.objects.filter(bid_id__in=bid_ids).order_by().values_list("bid_id", "financial_year")
        .annotate(total=Sum("amount"))
    ):
        requested[bid_id][year] = amount
    decisions = {d.bid_id: d for d in PanelDecision.objects.filter(bid_id__in=bid_ids)}

    ranked: dict[int, RankedBid] = {}
    for bid in bids:
        result = None
        if raw_by_bid.get(bid.pk):
            bid_values = values_by_bid.get(bid.pk, {}) if values_by_bid is not None else None
            result = scoring.bid_result(bid.pk, specs, raw_by_bid[bid.pk], bid_values, moderated.get(bid.pk),
                                        call.moderation_threshold)
        ranked[bid.pk] = RankedBid(bid, result, expected[bid.pk], submitted[bid.pk],
                                   dict(sorted(requested[bid.pk].items())), decisions.get(bid.pk))

    pot_ids = sorted({bid.pot_id for bid in bids if bid.pot_id})
    pots = {pot.pk: pot for pot in call.pots.all()}
    budgets = {(pot_id, year): amount for pot_id, year, amount in
               PotBudget.objects.filter(pot_id__in=pot_ids).values_list("pot_id", "financial_year", "amount")}
    committed = committed_by_pot_year(pot_ids) if pot_ids else {}
    pot_rankings = []
    for pot_id in pot_ids:
        members = [ranked[bid.pk] for bid in bids if bid.pot_id == pot_id]
        years = sorted({year for row in members for year in row.requested})
        remaining = {year: budgets.get((pot_id, year), ZERO) - committed.get((pot_id, year), ZERO) for year in years}
        complete = [row for row in members if row.complete]
        entries = [
            scoring.LineEntry(row.bid.pk, complete_score, row.fundable, row.requested,
                              (row.bid.submitted_at or timezone.now(), row.bid.reference))
            for row in complete if (complete_score := row.score) is not None  # always, once complete
        ]
        rows = []
        line_drawn = False
        for line in scoring.funding_line(entries, remaining):
            row = ranked[line.bid_id]
            row.rank, row.above_line, row.running, row.overspent_years = (
                line.rank, line.above_line, line.running, line.overspent_years)
            if row.fundable and not row.above_line and not line_drawn:
                row.line_falls_here = line_drawn = True
            rows.append(row)
        for row in members:
            row.cells = [
                YearCell(year, row.requested.get(year, ZERO), row.running.get(year) if row.rank else None,
                         year in row.overspent_years)
                for year in years
            ]
        pot_rankings.append(PotRanking(
            pot=pots.get(pot_id) or bids[0].pot,
            years=[BudgetCell(year, budgets.get((pot_id, year), ZERO), committed.get((pot_id, year), ZERO)) for year in years],
            rows=rows,
            unscored=sorted((row for row in members if not row.complete), key=lambda r: r.bid.reference),
        ))
    return CallRanking(call=call, criteria=criteria, pots=pot_rankings, by_bid=ranked)


def departs_from_ranking(row: RankedBid, outcome: str) -> bool:
    """A decision departs from the ranking when it funds a bid below the funding line (or one
    failing a gateway), or does not fund a bid above the line."""
    funds = outcome in (DecisionOutcome.FUND, DecisionOutcome.FUND_WITH_CONDITIONS)
    return funds != bool(row.above_line)


# A bid's scores for the panel --------------------------------------------------------------------


@dataclass
class AssessorScores:
    assignment: Assignment
    scores: dict[int, Score]


def bid_sheets(bid: Bid) -> list[AssessorScores]:
    """Each live assignment's sheet with its scores (submitted or not), in assignment order."""
    assignments = list(
        Assignment.objects.filter(bid=bid, status__in=LIVE_STATUSES).select_related("assessor", "sheet")
        .prefetch_related(Prefetch("sheet__scores", queryset=Score.objects.order_by("criterion_id")))
        .order_by("assigned_at", "pk")
    )
    result = []
    for assignment in assignments:
        sheet = getattr(assignment, "sheet", None)
        result.append(AssessorScores(assignment, {s.criterion_id: s for s in sheet.scores.all()} if sheet else {}))
    return result


def moderations_of(bid: Bid) -> dict[int, Moderation]:
    return {m.criterion_id: m for m in Moderation.objects.filter(bid=bid).select_related("moderated_by")}


# Chairs, fund managers and applicants --------------------------------------------------------------


def calls_chaired_by(user: User) -> QuerySet[Call]:
    """Calls in assessment whose panel the person chairs or deputy-chairs."""
    if not user.is_authenticated:
        return Call.objects.none()
    panels = PanelMember.objects.filter(user=user, role__in=CHAIRING_ROLES).values("panel_id")
    return Call.objects.filter(panel__in=panels, status=CallStatus.ASSESSMENT).select_related("fund").order_by("closes_at")


def calls_to_assess_managed_by(user: User) -> QuerySet[Call]:
    """Calls a fund manager runs that have closed (assessment can start) or are in assessment."""
    closed = Q(status__in=(CallStatus.SCHEDULED, CallStatus.OPEN), closes_at__lte=timezone.now())
    return calls_managed_by(user).filter(closed | Q(status__in=(CallStatus.CLOSED, CallStatus.ASSESSMENT))).order_by("closes_at")


def calls_audited_by(user: User) -> QuerySet[Call]:
    if not user.is_authenticated:
        return Call.objects.none()
    funds = user.fund_roles.values("fund_id")
    return Call.objects.filter(fund__in=funds, status__in=(CallStatus.ASSESSMENT, CallStatus.DECIDED, CallStatus.CLOSED_OUT)).select_related("fund").order_by("-closes_at")


@dataclass
class CriterionFeedback:
    criterion: Criterion
    score: str | None  # the score the panel used, as recorded with the decision
    comments: list[tuple[int, str]]  # (assessor number, comment): no names


def bid_feedback(bid: Bid, decision: PanelDecision) -> list[CriterionFeedback]:
    """Per criterion: the score used in the decision and every assessor's comment, numbered
    (Assessor 1, 2...) in the order they were assigned, never named."""
    criteria = criteria_of(bid.call)
    numbers: dict[int, int] = {}
    comments: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for sheet_id, criterion_id, comment in (
        Score.objects.filter(sheet__assignment__bid=bid, sheet__assignment__status=AssignmentStatus.ACTIVE,
                             sheet__status=SheetStatus.SUBMITTED)
        .order_by("sheet__assignment__assigned_at", "sheet__assignment_id", "criterion_id")
        .values_list("sheet_id", "criterion_id", "comment")
    ):
        number = numbers.setdefault(sheet_id, len(numbers) + 1)
        if comment.strip():
            comments[criterion_id].append((number, comment))
    snapshot = decision.criterion_scores or {}
    return [CriterionFeedback(c, snapshot.get(str(c.pk)), comments.get(c.pk, [])) for c in criteria]


def decisions_of_call(call: Call) -> QuerySet[PanelDecision]:
    return PanelDecision.objects.filter(bid__call=call).select_related("bid__lead_organisation", "bid__pot", "decided_by")


def decisions_in_rank_order(call: Call) -> list[PanelDecision]:
    """The call's decisions by pot, then by the rank recorded with each (unranked last)."""
    return list(decisions_of_call(call).order_by("bid__pot__name", F("rank").asc(nulls_last=True), "bid__reference"))


def assignments_due_for_reminder(today: dt.date) -> QuerySet[Assignment]:
    """Live assignments on calls in assessment, not yet submitted or reminded, due within 3 days
    (or overdue)."""
    return (
        Assignment.objects.filter(
            status__in=LIVE_STATUSES, reminded_at__isnull=True, due_date__isnull=False,
            due_date__lte=today + dt.timedelta(days=3),
            bid__status=BidStatus.IN_ASSESSMENT, bid__call__status=CallStatus.ASSESSMENT,
        )
        .exclude(sheet__status=SheetStatus.SUBMITTED)
        .select_related("assessor", "bid")
    )


def clarification_waiting(bid: Bid, today: dt.date | None = None) -> Clarification | None:
    """The clarification the bid's scoring waits for (unanswered, reply-by date not passed), if any."""
    today = today or timezone.localdate()
    return (Clarification.objects.filter(bid=bid, replied_at__isnull=True, reply_by__gte=today)
            .order_by("-reply_by").first())


# The assessor pool and invitations -------------------------------------------------------------------


def pool_networks_for(network: Organisation) -> list[int]:
    """The network's own pool and the pools of the networks that share theirs with it."""
    return [network.pk, *PoolShare.objects.filter(shared_with=network).values_list("network_id", flat=True)]


def pool_of(network: Organisation) -> QuerySet[PoolEntry]:
    """The pool a network's fund managers invite from: their own and the shared ones."""
    return (PoolEntry.objects.filter(network_id__in=pool_networks_for(network))
            .select_related("profile__user", "profile__organisation", "network")
            .prefetch_related("profile__expertise", "profile__interest_organisations")
            .order_by("profile__user__full_name", "network__name"))


def pool_profiles_of(network: Organisation) -> list[AssessorProfile]:
    seen: dict[int, AssessorProfile] = {}
    for entry in pool_of(network):
        seen.setdefault(entry.profile_id, entry.profile)
    return list(seen.values())


def invitations_of_call(call: Call) -> QuerySet[AssessorInvitation]:
    return (AssessorInvitation.objects.filter(call=call)
            .select_related("invitee", "invitee__assessor_profile").order_by("invitee__full_name"))


def call_uses_invitations(call: Call) -> bool:
    return AssessorInvitation.objects.filter(call=call).exists()


def accepted_assessor_ids(call: Call, today: dt.date | None = None) -> set[int]:
    """Who may be assigned on a call that invites its assessors: accepted, can sign in, and
    with a current yearly declaration and the confidentiality terms accepted."""
    today = today or timezone.localdate()
    ids = set()
    for invitation in AssessorInvitation.objects.filter(
        call=call, status=InvitationStatus.ACCEPTED, invitee__is_active=True,
    ).select_related("invitee__assessor_profile"):
        profile = getattr(invitation.invitee, "assessor_profile", None)
        if profile is not None and profile.declaration_current(today) and profile.terms_current:
            ids.add(invitation.invitee_id)
    return ids


def expertise_ids_by_user(user_ids: Iterable[int]) -> dict[int, set[int]]:
    through = AssessorProfile.expertise.through
    found: dict[int, set[int]] = defaultdict(set)
    for user_id, expertise_id in through.objects.filter(assessorprofile__user_id__in=list(user_ids)).values_list(
        "assessorprofile__user_id", "expertise_id"
    ):
        found[user_id].add(expertise_id)
    return found


def invitations_for(user: User) -> QuerySet[AssessorInvitation]:
    """The person's invitations to assess, newest first (for their dashboard)."""
    if not user.is_authenticated:
        return AssessorInvitation.objects.none()
    return (AssessorInvitation.objects.filter(invitee=user)
            .select_related("call", "call__fund").order_by("-invited_at"))


def pool_networks_managed_by(user: User) -> QuerySet[Organisation]:
    return Organisation.objects.filter(
        kind="hin", memberships__user=user, memberships__role="fund_manager").distinct().order_by("name")


def invitations_due_for_reminder(now: dt.datetime, within: dt.timedelta) -> QuerySet[AssessorInvitation]:
    return AssessorInvitation.objects.filter(status=InvitationStatus.PENDING, reminded_at__isnull=True,
                                             expires_at__gt=now, expires_at__lte=now + within)


# Panel packs ----------------------------------------------------------------------------------------


def pack_bids_for(user: User, call: Call, bid: Bid | None = None) -> list[Bid]:
    """The bids a person's panel pack holds: the call's bids in assessment that the person
    may open (``applications.visibility.bid_visible_to``) and is not conflicted on
    (``excluded_bid_ids``), exactly as the panel's pages let them in."""
    from applications.visibility import bid_visible_to

    in_assessment = bids_for_call(call).filter(status__in=ASSESSED_BID_STATUSES).order_by("reference")
    if bid is not None:
        in_assessment = in_assessment.filter(pk=bid.pk)
    bids = list(in_assessment)
    excluded = excluded_bid_ids(user, call, bids)
    return [b for b in bids if b.pk not in excluded and bid_visible_to(user, b.pk) is not None]


def packs_of(user: User, call: Call) -> QuerySet[PanelPack]:
    return PanelPack.objects.filter(requested_by=user, call=call).select_related("bid")


def pack_of(user: User, pk: int) -> PanelPack | None:
    """A pack, only for the person who asked for it (anyone else: None, a 404)."""
    if not user.is_authenticated:
        return None
    return PanelPack.objects.filter(pk=pk, requested_by=user).select_related("call", "bid").first()
