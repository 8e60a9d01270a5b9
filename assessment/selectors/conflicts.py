"""Conflicts of interest: whose organisations are on which bids, who is excluded from a bid's
moderation and decision, and which bids each chair or deputy chair chairs.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import QuerySet

from applications.models import Bid, BidPartner
from governance.models import (
    Call,
    Fund,
    Membership,
    Organisation,
    PanelMember,
    PanelRole,
    User,
)

from ..models import AssessorProfile, Assignment, AssignmentStatus, ConflictDeclaration
from ._shared import CHAIRING_ROLES

# Conflicts of interest --------------------------------------------------------------------------


def member_org_ids(user_ids: Iterable[int]) -> dict[int, set[int]]:
    """Each person's own organisations: where they are members, (for panel members) the
    organisations they declared they work for or with on any panel, and (for the assessor pool)
    where they work and the organisations they declared an interest in. Four queries."""
    user_ids = list(user_ids)
    orgs: dict[int, set[int]] = defaultdict(set)
    for user_id, org_id in Membership.objects.filter(user_id__in=user_ids).values_list(
        "user_id", "organisation_id"
    ):
        orgs[user_id].add(org_id)
    through = PanelMember.affiliations.through
    for user_id, org_id in through.objects.filter(panelmember__user_id__in=user_ids).values_list(
        "panelmember__user_id", "organisation_id"
    ):
        orgs[user_id].add(org_id)
    # The assessor pool: where the person works and the organisations they declared an interest in.
    for user_id, org_id in AssessorProfile.objects.filter(
        user_id__in=user_ids, organisation__isnull=False
    ).values_list("user_id", "organisation_id"):
        orgs[user_id].add(org_id)
    interests = AssessorProfile.interest_organisations.through
    for user_id, org_id in interests.objects.filter(
        assessorprofile__user_id__in=user_ids
    ).values_list("assessorprofile__user_id", "organisation_id"):
        orgs[user_id].add(org_id)
    return orgs


def bid_org_ids(bids: Iterable[Bid]) -> dict[int, set[int]]:
    """The organisations on each bid: its lead, its partners and its commissioner. One query."""
    bids = list(bids)
    orgs = {
        bid.pk: {bid.lead_organisation_id}
        | ({bid.commissioner_id} if bid.commissioner_id else set())
        for bid in bids
    }
    for bid_id, org_id in BidPartner.objects.filter(bid_id__in=list(orgs)).values_list(
        "bid_id", "organisation_id"
    ):
        orgs[bid_id].add(org_id)
    return orgs


def automatic_conflicts(
    user_id: int, bid_id: int, people: dict[int, set[int]], bids: dict[int, set[int]]
) -> set[int]:
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
    members = list(
        PanelMember.objects.filter(panel_id=call.panel_id)
        .select_related("user")
        .order_by("user__full_name")
    )
    people = member_org_ids([m.user_id for m in members])
    on_bid = bid_org_ids([bid])
    declared = {
        a.assessor_id: a
        for a in Assignment.objects.filter(
            bid=bid, status=AssignmentStatus.CONFLICTED
        ).select_related("declaration")
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
    ids |= set(
        Assignment.objects.filter(
            assessor=user, bid_id__in=list(on_bid), status=AssignmentStatus.CONFLICTED
        ).values_list("bid_id", flat=True)
    )
    return ids


def bids_chaired_by(
    user: User, call: Call, bids: Iterable[Bid], excluded: set[int] | None = None
) -> set[int]:
    """Of ``bids``, those whose moderation and decision this person chairs.

    The chair chairs every bid they are not conflicted on. A deputy chair chairs the bids that
    every chair of the panel is conflicted on (and they are not), so a conflicted chair never
    leaves a bid, and with it the call's release, undecided. ``excluded``: the person's own
    ``excluded_bid_ids`` for these bids, when the caller has it already.
    """
    bids = list(bids)
    if not user.is_authenticated or call.panel_id is None or not bids:
        return set()
    roles = set(
        PanelMember.objects.filter(
            panel_id=call.panel_id, user=user, role__in=CHAIRING_ROLES
        ).values_list("role", flat=True)
    )
    if not roles:
        return set()
    chaired = {bid.pk for bid in bids} - (
        excluded if excluded is not None else excluded_bid_ids(user, call, bids)
    )
    if PanelRole.CHAIR in roles:
        return chaired
    for chair in User.objects.filter(
        panel_memberships__panel_id=call.panel_id, panel_memberships__role=PanelRole.CHAIR
    ):
        chaired &= excluded_bid_ids(chair, call, bids)
    return chaired


def bids_no_chair_can_decide(
    call: Call, bids: Iterable[Bid], known: dict[int, set[int]] | None = None
) -> list[Bid]:
    """Of ``bids``, those that every chair and deputy chair of the panel is conflicted on: the
    fund manager must add a deputy chair before the panel can decide them. ``known`` maps a
    person's id to their ``excluded_bid_ids`` for these bids, when the caller has them."""
    bids = list(bids)
    if call.panel_id is None or not bids:
        return bids
    known = known or {}
    open_ids = {bid.pk for bid in bids}
    for person in User.objects.filter(
        panel_memberships__panel_id=call.panel_id, panel_memberships__role__in=CHAIRING_ROLES
    ).distinct():
        excluded = known[person.pk] if person.pk in known else excluded_bid_ids(person, call, bids)
        open_ids -= {bid.pk for bid in bids} - excluded
    return [bid for bid in bids if bid.pk in open_ids]


def conflicts_register(fund: Fund) -> QuerySet[ConflictDeclaration]:
    """Every conflict of interest declared on the fund's bids, newest first."""
    return (
        ConflictDeclaration.objects.filter(has_conflict=True, assignment__bid__call__fund=fund)
        .select_related(
            "assignment__assessor", "assignment__bid__call", "assignment__bid__lead_organisation"
        )
        .order_by("-declared_at", "-pk")
    )


def panel_affiliations(fund: Fund) -> list[PanelMember]:
    """The fund's panel members with the organisations they declared they work for or with."""
    return list(
        PanelMember.objects.filter(panel__fund=fund)
        .select_related("user", "panel")
        .prefetch_related("affiliations")
        .order_by("panel__name", "user__full_name")
    )
