"""Fund managers: a call's assignments, each assessor's load, and the candidates for a bid."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Count, QuerySet

from applications.models import Bid, BidStatus
from applications.selectors import bids_for_call
from governance.models import Call, PanelMember

from ..models import Assignment, AssignmentStatus, SheetStatus
from ._shared import ASSESSED_BID_STATUSES, LIVE_STATUSES, ROLE_PREFERENCE, SCORING_ROLES
from .conflicts import automatic_conflicts, bid_org_ids, member_org_ids, organisation_names
from .pool import accepted_assessor_ids, call_uses_invitations

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
        PanelMember.objects.filter(
            panel_id=call.panel_id, role__in=SCORING_ROLES, user__is_active=True
        )
        .select_related("user")
        .order_by("user__full_name", "pk")
    )


def call_assignments(call: Call) -> tuple[list[BidAssignments], list[MemberLoad]]:
    """Each bid in (or waiting for) assessment with its assignments, and each scoring member's
    load in the call. A fixed number of queries."""
    bids = list(
        bids_for_call(call).filter(status__in=(BidStatus.SUBMITTED, *ASSESSED_BID_STATUSES))
    )
    assignments = list(
        Assignment.objects.filter(bid__call=call)
        .select_related("assessor", "sheet", "declaration")
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
    current = dict(
        Assignment.objects.filter(bid=bid)
        .exclude(status=AssignmentStatus.WITHDRAWN)
        .values_list("assessor_id", "status")
    )
    loads = dict(
        Assignment.objects.filter(bid__call=call, status__in=LIVE_STATUSES)
        .values_list("assessor_id")
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
    candidates.sort(
        key=lambda c: (
            bool(c.conflict),
            c.load,
            ROLE_PREFERENCE.get(c.member.role, 0),
            c.member.user.full_name,
            c.member.pk,
        )
    )
    return candidates
