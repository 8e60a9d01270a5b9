"""Starting assessment, assigning assessors (by hand, automatically, reassigning) and their
declarations of conflicts of interest."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from applications.models import Bid, BidStatus
from applications.selectors import bids_for_call
from applications.services import bid_start_assessment
from governance.access import require_actor
from governance.audit import audit_record
from governance.models import Call, CallStatus, PanelMember, User
from governance.services import CALL_NOT_CLOSED, call_start_assessment, notify

from .. import selectors
from ..lifecycle import ASSIGNMENT_LIFECYCLE
from ..messages import (
    ALREADY_ASSIGNED,
    ALREADY_DECLARED,
    ASSESSOR_CANNOT_SIGN_IN,
    ASSESSOR_CONFLICTED,
    ASSESSOR_DECLARED_CONFLICT,
    ASSESSOR_NOT_ACCEPTED,
    ASSIGNMENT_ENDED,
    BID_HAS_ENOUGH,
    CONFLICT_CHOICE_NEEDED,
    CONFLICT_DESCRIPTION_NEEDED,
    CONFLICT_KIND_NEEDED,
    NO_PANEL,
    NOT_A_SCORING_MEMBER,
    SCORING_CLOSED,
    WITHDRAW_REASON_NEEDED,
    WITHDRAW_SUBMITTED,
)
from ..models import (
    Assignment,
    AssignmentStatus,
    ConflictDeclaration,
    ConflictKind,
    ScoreSheet,
    SheetStatus,
)
from ._shared import _link, _lock_call, _require_assessable, _require_in_assessment

# Starting assessment ---------------------------------------------------------------------------


@transaction.atomic
def call_assessment_start(
    *, actor: User | None, call: Call, now: dt.datetime | None = None
) -> Call:
    """Closed → in assessment, and every submitted bid → in assessment.

    Also finishes the job for a call already moved into assessment (from the call's own page)
    whose submitted bids were left behind. Each move writes its own audit event.
    """
    require_actor(actor, "assessment.manage_call", call)
    now = now or timezone.now()
    locked = _lock_call(call)
    if locked.status != CallStatus.ASSESSMENT:
        if locked.phase(now) != CallStatus.CLOSED:
            raise ValidationError(CALL_NOT_CLOSED, code="not_closed")
        if locked.panel_id is None:
            raise ValidationError(NO_PANEL, code="no_panel")
        locked = call_start_assessment(actor=actor, call=locked, now=now)
    for bid in bids_for_call(locked).filter(status=BidStatus.SUBMITTED):
        bid_start_assessment(actor=actor, bid=bid)
    call.status = locked.status
    return locked


# Assigning assessors ---------------------------------------------------------------------------


def _assignment_problem(call: Call, bid: Bid, assessor: User) -> str:
    """Why ``assessor`` cannot take ``bid`` (empty if they can): checked by hand and by the
    automatic assignment alike."""
    member = (
        PanelMember.objects.filter(
            panel_id=call.panel_id, user=assessor, role__in=selectors.SCORING_ROLES
        ).first()
        if call.panel_id
        else None
    )
    if member is None:
        return NOT_A_SCORING_MEMBER
    if not assessor.is_active:
        return ASSESSOR_CANNOT_SIGN_IN.format(name=assessor.full_name)
    if selectors.call_uses_invitations(call) and assessor.pk not in selectors.accepted_assessor_ids(
        call
    ):
        return ASSESSOR_NOT_ACCEPTED.format(name=assessor.full_name)
    existing = (
        Assignment.objects.filter(bid=bid, assessor=assessor)
        .exclude(status=AssignmentStatus.WITHDRAWN)
        .first()
    )
    if existing is not None:
        if existing.status == AssignmentStatus.CONFLICTED:
            return ASSESSOR_DECLARED_CONFLICT.format(name=assessor.full_name)
        return ALREADY_ASSIGNED.format(name=assessor.full_name)
    common = selectors.automatic_conflicts(
        assessor.pk, bid.pk, selectors.member_org_ids([assessor.pk]), selectors.bid_org_ids([bid])
    )
    if common:
        names = ", ".join(sorted(selectors.organisation_names(common).values()))
        return ASSESSOR_CONFLICTED.format(name=assessor.full_name, organisations=names)
    live = Assignment.objects.filter(bid=bid, status__in=selectors.LIVE_STATUSES).count()
    if live >= call.assessors_per_bid:
        return BID_HAS_ENOUGH.format(n=call.assessors_per_bid)
    return ""


def _assignment_snapshot(assignment: Assignment) -> dict[str, Any]:
    return {
        "bid": assignment.bid.reference,
        "assessor": assignment.assessor.email,
        "status": assignment.status,
        "due_date": assignment.due_date,
    }


@transaction.atomic
def assignment_create(
    *,
    actor: User,
    bid: Bid,
    assessor: User,
    due_date: dt.date | None = None,
    now: dt.datetime | None = None,
) -> Assignment:
    """Assign one assessor to one bid by hand (the fund manager). Never a person whose own
    organisation (membership or declared affiliation) leads or partners the bid."""
    require_actor(actor, "assessment.manage_call", bid.call)
    now = now or timezone.now()
    call = _lock_call(bid.call)
    bid = Bid.objects.select_related("call").get(pk=bid.pk)
    _require_assessable(call, bid)
    problem = _assignment_problem(call, bid, assessor)
    if problem:
        raise ValidationError({"assessor": problem}, code="not_assignable")
    assignment = Assignment(
        bid=bid,
        assessor=assessor,
        assigned_by=actor,
        assigned_at=now,
        due_date=due_date or call.assessment_due_date,
    )
    assignment.full_clean()
    assignment.save()
    audit_record(
        actor=actor,
        action="assignment.created",
        target=assignment,
        after=_assignment_snapshot(assignment),
        message=f"{assessor.full_name} assigned to {bid.reference}",
    )
    notify(
        user=assessor,
        subject=f"A bid to assess: {bid.reference}",
        body=(
            f"You have been asked to assess \u201c{bid.title}\u201d ({bid.reference}) on {call.title}. "
            "Declare any conflict of interest first; then the bid and its score sheet open."
            + (
                f"\n\nScores are due by {assignment.due_date:%-d %B %Y}."
                if assignment.due_date
                else ""
            )
        ),
        link=_link("assignment", assignment.pk),
    )
    return assignment


@dataclass
class AutoAssignment:
    created: list[Assignment] = field(default_factory=list)
    short: dict[str, int] = field(default_factory=dict)  # bid reference -> assessors still missing


@transaction.atomic
def assignments_auto(
    *,
    actor: User,
    call: Call,
    bids: Iterable[Bid] | None = None,
    exclude: Iterable[int] = (),
    now: dt.datetime | None = None,
) -> AutoAssignment:
    """Give every bid in assessment (or just ``bids``) the call's number of assessors.

    For each bid short of assessors, in reference order, the panel's scoring members who can
    sign in, are not conflicted (their organisations, pool employer and declared interests are
    not on the bid, they have not declared a conflict on it) and not already on it are taken
    least loaded first (fewest live assignments in this call), then those whose expertise
    matches more of the call's themes, assessors and lay members before the chair, then by
    name. On a call that invites its assessors, only those who accepted (with a current yearly
    declaration) are candidates. A bid for which too few
    members are free is reported in ``short``. ``exclude`` are user ids never to pick.
    """
    require_actor(actor, "assessment.manage_call", call)
    now = now or timezone.now()
    locked = _lock_call(call)
    _require_in_assessment(locked)
    if locked.panel_id is None:
        raise ValidationError(NO_PANEL, code="no_panel")
    candidates_bids = bids_for_call(locked).filter(
        status=BidStatus.IN_ASSESSMENT, decision__isnull=True
    )
    if bids is not None:
        candidates_bids = candidates_bids.filter(pk__in=[bid.pk for bid in bids])
    targets = list(candidates_bids.order_by("reference"))
    members = selectors.scoring_members(locked)
    if selectors.call_uses_invitations(locked):
        # A call that invites its assessors assigns only those who accepted and can sign in.
        accepted = selectors.accepted_assessor_ids(locked, timezone.localdate(now))
        members = [m for m in members if m.user_id in accepted]
    themes = set(locked.themes.values_list("pk", flat=True))
    expertise = selectors.expertise_ids_by_user([m.user_id for m in members]) if themes else {}
    people = selectors.member_org_ids([m.user_id for m in members])
    on_bid = selectors.bid_org_ids(targets)
    taken: dict[int, set[int]] = defaultdict(set)
    live: Counter[int] = Counter()
    load: Counter[int] = Counter()
    for bid_id, assessor_id, status in (
        Assignment.objects.filter(bid__call=locked)
        .exclude(status=AssignmentStatus.WITHDRAWN)
        .values_list("bid_id", "assessor_id", "status")
    ):
        taken[bid_id].add(assessor_id)
        if status in selectors.LIVE_STATUSES:
            live[bid_id] += 1
            load[assessor_id] += 1
    excluded = set(exclude)
    result = AutoAssignment()
    for bid in targets:
        need = locked.assessors_per_bid - live[bid.pk]
        if need <= 0:
            continue
        free = [
            m
            for m in members
            if m.user_id not in taken[bid.pk]
            and m.user_id not in excluded
            and not selectors.automatic_conflicts(m.user_id, bid.pk, people, on_bid)
        ]
        free.sort(
            key=lambda m: (
                load[m.user_id],
                -len(expertise.get(m.user_id, set()) & themes),
                selectors.ROLE_PREFERENCE.get(m.role, 0),
                m.user.full_name,
                m.pk,
            )
        )
        for member in free[:need]:
            result.created.append(
                Assignment(
                    bid=bid,
                    assessor=member.user,
                    assigned_by=actor,
                    assigned_at=now,
                    due_date=locked.assessment_due_date,
                )
            )
            load[member.user_id] += 1
            taken[bid.pk].add(member.user_id)
        if len(free) < need:
            result.short[bid.reference] = need - len(free)
    Assignment.objects.bulk_create(result.created)
    for assignment in result.created:
        audit_record(
            actor=actor,
            action="assignment.created",
            target=assignment,
            fund=locked.fund,
            after=_assignment_snapshot(assignment),
            message=f"{assignment.assessor.full_name} assigned to {assignment.bid.reference} automatically",
        )
    if result.created:
        audit_record(
            actor=actor,
            action="assignments.automatic",
            target=locked,
            message=f"{len(result.created)} assignment{'s' if len(result.created) != 1 else ''} made automatically"
            + (f"; still short: {', '.join(result.short)}" if result.short else ""),
            after={"created": len(result.created), "short": result.short},
        )
    per_person: dict[int, list[Assignment]] = defaultdict(list)
    for assignment in result.created:
        per_person[assignment.assessor_id].append(assignment)
    for mine in per_person.values():
        count = len(mine)
        notify(
            user=mine[0].assessor,
            subject=f"{count} bid{'s' if count != 1 else ''} to assess on {locked.title}",
            body=(
                f"You have been asked to assess {count} bid{'s' if count != 1 else ''} on {locked.title}: "
                + ", ".join(a.bid.reference for a in mine)
                + ". Declare any conflict of interest on each first; then the bid and its score sheet open."
                + (
                    f"\n\nScores are due by {locked.assessment_due_date:%-d %B %Y}."
                    if locked.assessment_due_date
                    else ""
                )
            ),
            link=_link("hub"),
        )
    return result


@transaction.atomic
def assignment_reassign(
    *,
    actor: User,
    assignment: Assignment,
    reason: str,
    replacement: User | None = None,
    auto: bool = True,
    now: dt.datetime | None = None,
) -> Assignment | None:
    """An assessor comes off a bid (they withdrew, or cannot do it in time), with the reason;
    the bid is given to ``replacement``, or (``auto``) to the least-loaded free member, or to
    nobody yet. Returns the new assignment, if any."""
    require_actor(actor, "assessment.manage_call", assignment.bid.call)
    now = now or timezone.now()
    reason = (reason or "").strip()
    call = _lock_call(assignment.bid.call)
    locked = (
        Assignment.objects.select_for_update()
        .select_related("bid", "assessor")
        .get(pk=assignment.pk)
    )
    _require_assessable(call, locked.bid)
    if locked.status not in selectors.LIVE_STATUSES:
        raise ValidationError(ASSIGNMENT_ENDED, code="ended")
    if ScoreSheet.objects.filter(assignment=locked, status=SheetStatus.SUBMITTED).exists():
        raise ValidationError(WITHDRAW_SUBMITTED, code="submitted")
    if not reason:
        raise ValidationError({"reason": WITHDRAW_REASON_NEEDED}, code="required")
    before = _assignment_snapshot(locked)
    locked.withdrawn_reason = reason
    ASSIGNMENT_LIFECYCLE.apply(
        locked,
        "withdraw",
        actor=actor,
        locked=locked,
        clean=False,
        changes={"withdrawn_reason": reason},
        recorded=(),
        audit_before=before,
        audit_after={**before, "status": AssignmentStatus.WITHDRAWN},
        message=f"{locked.assessor.full_name} came off {locked.bid.reference}: {reason}",
    )
    notify(
        user=locked.assessor,
        subject=f"You are no longer assessing {locked.bid.reference}",
        body=f"The fund manager has taken you off bid {locked.bid.reference}.\n\nReason: {reason}",
        link=_link("hub"),
    )
    if replacement is not None:
        try:
            return assignment_create(
                actor=actor, bid=locked.bid, assessor=replacement, due_date=locked.due_date, now=now
            )
        except ValidationError as error:
            raise ValidationError({"replacement": error.messages}, code="not_assignable") from None
    if auto:
        made = assignments_auto(
            actor=actor, call=call, bids=[locked.bid], exclude=[locked.assessor_id], now=now
        )
        return made.created[0] if made.created else None
    return None


# Conflicts of interest -------------------------------------------------------------------------


@transaction.atomic
def conflict_declare(
    *,
    actor: User,
    assignment: Assignment,
    has_conflict: bool | None,
    kind: str = "",
    description: str = "",
    now: dt.datetime | None = None,
) -> ConflictDeclaration:
    """The assessor declares no conflict (the bid opens to them) or a conflict, with its kind and
    a description (they come off the bid; the fund's conflicts register records it)."""
    now = now or timezone.now()
    locked = (
        Assignment.objects.select_for_update()
        .select_related("bid__call__fund", "assessor", "assigned_by")
        .get(pk=assignment.pk)
    )
    if actor is None or locked.assessor_id != actor.pk:
        raise PermissionDenied("Only the assigned assessor can declare on their assignment")
    if locked.status != AssignmentStatus.AWAITING_DECLARATION:
        raise ValidationError(
            ALREADY_DECLARED if locked.status != AssignmentStatus.WITHDRAWN else ASSIGNMENT_ENDED,
            code="declared",
        )
    _require_in_assessment(locked.bid.call, SCORING_CLOSED)
    description = (description or "").strip()
    errors: dict[str, str] = {}
    if has_conflict is None:
        errors["has_conflict"] = CONFLICT_CHOICE_NEEDED
    elif has_conflict:
        if kind not in ConflictKind.values:
            errors["kind"] = CONFLICT_KIND_NEEDED
        if not description:
            errors["description"] = CONFLICT_DESCRIPTION_NEEDED
    if errors:
        raise ValidationError(errors, code="invalid")
    declaration = ConflictDeclaration(
        assignment=locked,
        has_conflict=bool(has_conflict),
        kind=kind if has_conflict else "",
        description=description if has_conflict else "",
        declared_at=now,
    )
    declaration.full_clean()
    declaration.save()
    ASSIGNMENT_LIFECYCLE.apply(
        locked,
        "declare_conflict" if has_conflict else "declare_no_conflict",
        actor=actor,
        locked=locked,
        clean=False,
    )
    bid = locked.bid
    if has_conflict:
        audit_record(
            actor=actor,
            action="conflict.declared",
            target=declaration,
            after={"bid": bid.reference, "kind": kind, "description": description},
            message=f"{actor.full_name} declared a {declaration.get_kind_display().lower()} conflict of interest "
            f"on {bid.reference} and comes off the bid",
        )
        notify(
            user=locked.assigned_by,
            subject=f"Conflict of interest declared on {bid.reference}",
            body=(
                f"{actor.full_name} declared a conflict of interest on bid {bid.reference} and has come off it. "
                "Assign another assessor."
            ),
            link=_link("call", bid.call.slug),
        )
    else:
        audit_record(
            actor=actor,
            action="conflict.none_declared",
            target=declaration,
            after={"bid": bid.reference},
            message=f"{actor.full_name} declared no conflict of interest on {bid.reference}",
        )
    return declaration
