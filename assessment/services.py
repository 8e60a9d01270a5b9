"""Writes for the assessment stage: one function per change, each in a transaction with its
audit event, raising ``ValidationError`` with the message constants below (keyed by the form
field they belong to where there is one).

Locks: a change to a call's assignments, moderations or decisions locks the call's row first,
so automatic assignment, a decision and the release never interleave; a change to a score
sheet locks its assignment's row, so two saves of one sheet (two tabs) run one after the other.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import File
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from applications.models import Bid, BidStatus
from applications.selectors import bids_for_call, lead_org_member_users
from applications.services import bid_mark_funded, bid_mark_not_funded, bid_start_assessment
from governance import fy, notifications, uploads
from governance.access import require_actor
from governance.audit import audit_record, snapshot
from governance.models import (
    AuditEvent,
    Call,
    CallStatus,
    Criterion,
    Expertise,
    Organisation,
    PanelMember,
    PanelRole,
    User,
)
from governance.money import format_money
from governance.outbox import outbox_enqueue
from governance.services import CALL_NOT_CLOSED, call_mark_decided, call_start_assessment, notify

from . import selectors
from .lifecycle import (
    ASSIGNMENT_LIFECYCLE,
    INVITATION_LIFECYCLE,
    PANEL_PACK_LIFECYCLE,
    SCORE_SHEET_LIFECYCLE,
)
from .messages import (  # the messages live beside the services; kept importable from here
    ALREADY_ASSIGNED as ALREADY_ASSIGNED,
    ALREADY_DECLARED as ALREADY_DECLARED,
    ALREADY_REPLIED as ALREADY_REPLIED,
    AMOUNT_ABOVE_REQUESTED as AMOUNT_ABOVE_REQUESTED,
    AMOUNT_NEEDED as AMOUNT_NEEDED,
    AMOUNT_ZERO as AMOUNT_ZERO,
    ASSESSOR_CANNOT_SIGN_IN as ASSESSOR_CANNOT_SIGN_IN,
    ASSESSOR_CONFLICTED as ASSESSOR_CONFLICTED,
    ASSESSOR_DECLARED_CONFLICT as ASSESSOR_DECLARED_CONFLICT,
    ASSESSOR_NOT_ACCEPTED as ASSESSOR_NOT_ACCEPTED,
    ASSIGNMENT_ENDED as ASSIGNMENT_ENDED,
    BID_DECIDED as BID_DECIDED,
    BID_HAS_ENOUGH as BID_HAS_ENOUGH,
    BID_NOT_IN_ASSESSMENT as BID_NOT_IN_ASSESSMENT,
    BIDS_WAITING as BIDS_WAITING,
    CHAIR_CONFLICTED as CHAIR_CONFLICTED,
    CLARIFICATION_WAITING as CLARIFICATION_WAITING,
    COMMENT_NEEDED as COMMENT_NEEDED,
    CONDITIONS_NEEDED as CONDITIONS_NEEDED,
    CONFLICT_CHOICE_NEEDED as CONFLICT_CHOICE_NEEDED,
    CONFLICT_DESCRIPTION_NEEDED as CONFLICT_DESCRIPTION_NEEDED,
    CONFLICT_KIND_NEEDED as CONFLICT_KIND_NEEDED,
    DECISION_NEEDED as DECISION_NEEDED,
    DECISION_RELEASED as DECISION_RELEASED,
    DECISIONS_MISSING as DECISIONS_MISSING,
    DECLARATION_NEEDED as DECLARATION_NEEDED,
    DECLARE_FIRST as DECLARE_FIRST,
    DECLINE_REASON_NEEDED as DECLINE_REASON_NEEDED,
    DEPARTURE_RATIONALE_NEEDED as DEPARTURE_RATIONALE_NEEDED,
    DEPUTY_NOT_NEEDED as DEPUTY_NOT_NEEDED,
    INTEREST_ORGS_NEEDED as INTEREST_ORGS_NEEDED,
    INVITATION_ANSWERED as INVITATION_ANSWERED,
    INVITATION_EXPIRED as INVITATION_EXPIRED,
    INVITATION_OTHER_ACCOUNT as INVITATION_OTHER_ACCOUNT,
    INVITE_CALL_FINISHED as INVITE_CALL_FINISHED,
    INVITE_CHOOSE as INVITE_CHOOSE,
    INVITE_DAYS_RANGE as INVITE_DAYS_RANGE,
    INVITE_NOT_IN_POOL as INVITE_NOT_IN_POOL,
    MODERATION_OUTSTANDING as MODERATION_OUTSTANDING,
    MODERATION_RATIONALE_NEEDED as MODERATION_RATIONALE_NEEDED,
    NO_PANEL as NO_PANEL,
    NOT_A_SCORING_MEMBER as NOT_A_SCORING_MEMBER,
    NOT_FLAGGED as NOT_FLAGGED,
    NOT_IN_ASSESSMENT as NOT_IN_ASSESSMENT,
    NOT_ON_THIS_BID as NOT_ON_THIS_BID,
    NOT_THE_CHAIR as NOT_THE_CHAIR,
    OUTCOME_NEEDED as OUTCOME_NEEDED,
    PACK_EMPTY as PACK_EMPTY,
    PACK_NOT_IN_ASSESSMENT as PACK_NOT_IN_ASSESSMENT,
    POOL_ALREADY as POOL_ALREADY,
    POOL_PERSON_NEEDED as POOL_PERSON_NEEDED,
    POOL_PERSON_UNKNOWN as POOL_PERSON_UNKNOWN,
    POOL_SHARE_NETWORK_NEEDED as POOL_SHARE_NETWORK_NEEDED,
    PUBLIC_REASON_NEEDED as PUBLIC_REASON_NEEDED,
    QUESTION_NEEDED as QUESTION_NEEDED,
    REOPEN_REASON_NEEDED as REOPEN_REASON_NEEDED,
    REPLY_BY_IN_PAST as REPLY_BY_IN_PAST,
    REPLY_BY_NEEDED as REPLY_BY_NEEDED,
    REPLY_BY_TOO_LATE as REPLY_BY_TOO_LATE,
    REPLY_NEEDED as REPLY_NEEDED,
    REPLY_TOO_LATE as REPLY_TOO_LATE,
    SCORE_NEEDED as SCORE_NEEDED,
    SCORE_NOT_WHOLE as SCORE_NOT_WHOLE,
    SCORE_OUTSIDE_SCALE as SCORE_OUTSIDE_SCALE,
    SCORING_CLOSED as SCORING_CLOSED,
    SCORING_NOT_FINISHED as SCORING_NOT_FINISHED,
    SHEET_NOT_SUBMITTED as SHEET_NOT_SUBMITTED,
    SHEET_SUBMITTED as SHEET_SUBMITTED,
    TERMS_NEEDED as TERMS_NEEDED,
    WITHDRAW_REASON_NEEDED as WITHDRAW_REASON_NEEDED,
    WITHDRAW_SUBMITTED as WITHDRAW_SUBMITTED,
)
from .models import (
    CONFIDENTIALITY_TERMS_VERSION,
    FUNDING_OUTCOMES,
    AssessorInvitation,
    AssessorProfile,
    Assignment,
    AssignmentStatus,
    Clarification,
    ConflictDeclaration,
    ConflictKind,
    DecisionOutcome,
    DeclineReason,
    InvitationStatus,
    Moderation,
    PackStatus,
    PanelDecision,
    PanelPack,
    PoolEntry,
    PoolShare,
    Score,
    ScoreSheet,
    SheetStatus,
)

DECISION_FIELDS = (
    "outcome", "amount_approved", "public_reason", "internal_rationale", "conditions", "departure_rationale", "rank", "score",
    "criterion_scores", "above_funding_line", "departs_from_ranking",
)


def _lock_call(call: Call) -> Call:
    return Call.objects.select_for_update().select_related("fund").get(pk=call.pk)


def _require_in_assessment(call: Call, message: str = NOT_IN_ASSESSMENT) -> None:
    if call.status != CallStatus.ASSESSMENT:
        raise ValidationError(message, code="not_in_assessment")


def _require_assessable(call: Call, bid: Bid) -> None:
    _require_in_assessment(call)
    if bid.status != BidStatus.IN_ASSESSMENT:
        raise ValidationError(BID_NOT_IN_ASSESSMENT, code="bid_not_in_assessment")
    if PanelDecision.objects.filter(bid=bid).exists():
        raise ValidationError(BID_DECIDED, code="decided")


def _link(name: str, *args: Any) -> str:
    return reverse(f"assessment:{name}", args=args)


# Starting assessment ---------------------------------------------------------------------------


@transaction.atomic
def call_assessment_start(*, actor: User | None, call: Call, now: dt.datetime | None = None) -> Call:
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
    member = PanelMember.objects.filter(
        panel_id=call.panel_id, user=assessor, role__in=selectors.SCORING_ROLES
    ).first() if call.panel_id else None
    if member is None:
        return NOT_A_SCORING_MEMBER
    if not assessor.is_active:
        return ASSESSOR_CANNOT_SIGN_IN.format(name=assessor.full_name)
    if selectors.call_uses_invitations(call) and assessor.pk not in selectors.accepted_assessor_ids(call):
        return ASSESSOR_NOT_ACCEPTED.format(name=assessor.full_name)
    existing = Assignment.objects.filter(bid=bid, assessor=assessor).exclude(status=AssignmentStatus.WITHDRAWN).first()
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
    return {"bid": assignment.bid.reference, "assessor": assignment.assessor.email, "status": assignment.status,
            "due_date": assignment.due_date}


@transaction.atomic
def assignment_create(
    *, actor: User, bid: Bid, assessor: User, due_date: dt.date | None = None, now: dt.datetime | None = None,
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
    assignment = Assignment(bid=bid, assessor=assessor, assigned_by=actor, assigned_at=now,
                            due_date=due_date or call.assessment_due_date)
    assignment.full_clean()
    assignment.save()
    audit_record(actor=actor, action="assignment.created", target=assignment, after=_assignment_snapshot(assignment),
                 message=f"{assessor.full_name} assigned to {bid.reference}")
    notify(user=assessor, subject=f"A bid to assess: {bid.reference}",
           body=(f"You have been asked to assess \u201c{bid.title}\u201d ({bid.reference}) on {call.title}. "
                 "Declare any conflict of interest first; then the bid and its score sheet open."
                 + (f"\n\nScores are due by {assignment.due_date:%-d %B %Y}." if assignment.due_date else "")),
           link=_link("assignment", assignment.pk))
    return assignment


@dataclass
class AutoAssignment:
    created: list[Assignment] = field(default_factory=list)
    short: dict[str, int] = field(default_factory=dict)  # bid reference -> assessors still missing


@transaction.atomic
def assignments_auto(
    *, actor: User, call: Call, bids: Iterable[Bid] | None = None, exclude: Iterable[int] = (),
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
    candidates_bids = bids_for_call(locked).filter(status=BidStatus.IN_ASSESSMENT, decision__isnull=True)
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
    for bid_id, assessor_id, status in Assignment.objects.filter(bid__call=locked).exclude(
        status=AssignmentStatus.WITHDRAWN
    ).values_list("bid_id", "assessor_id", "status"):
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
            m for m in members
            if m.user_id not in taken[bid.pk] and m.user_id not in excluded
            and not selectors.automatic_conflicts(m.user_id, bid.pk, people, on_bid)
        ]
        free.sort(key=lambda m: (load[m.user_id], -len(expertise.get(m.user_id, set()) & themes),
                                 selectors.ROLE_PREFERENCE.get(m.role, 0), m.user.full_name, m.pk))
        for member in free[:need]:
            result.created.append(Assignment(bid=bid, assessor=member.user, assigned_by=actor, assigned_at=now,
                                             due_date=locked.assessment_due_date))
            load[member.user_id] += 1
            taken[bid.pk].add(member.user_id)
        if len(free) < need:
            result.short[bid.reference] = need - len(free)
    Assignment.objects.bulk_create(result.created)
    for assignment in result.created:
        audit_record(actor=actor, action="assignment.created", target=assignment, fund=locked.fund,
                     after=_assignment_snapshot(assignment),
                     message=f"{assignment.assessor.full_name} assigned to {assignment.bid.reference} automatically")
    if result.created:
        audit_record(actor=actor, action="assignments.automatic", target=locked,
                     message=f"{len(result.created)} assignment{'s' if len(result.created) != 1 else ''} made automatically"
                     + (f"; still short: {', '.join(result.short)}" if result.short else ""),
                     after={"created": len(result.created), "short": result.short})
    per_person: dict[int, list[Assignment]] = defaultdict(list)
    for assignment in result.created:
        per_person[assignment.assessor_id].append(assignment)
    for mine in per_person.values():
        count = len(mine)
        notify(user=mine[0].assessor, subject=f"{count} bid{'s' if count != 1 else ''} to assess on {locked.title}",
               body=(f"You have been asked to assess {count} bid{'s' if count != 1 else ''} on {locked.title}: "
                     + ", ".join(a.bid.reference for a in mine)
                     + ". Declare any conflict of interest on each first; then the bid and its score sheet open."
                     + (f"\n\nScores are due by {locked.assessment_due_date:%-d %B %Y}." if locked.assessment_due_date else "")),
               link=_link("hub"))
    return result


@transaction.atomic
def assignment_reassign(
    *, actor: User, assignment: Assignment, reason: str, replacement: User | None = None, auto: bool = True,
    now: dt.datetime | None = None,
) -> Assignment | None:
    """An assessor comes off a bid (they withdrew, or cannot do it in time), with the reason;
    the bid is given to ``replacement``, or (``auto``) to the least-loaded free member, or to
    nobody yet. Returns the new assignment, if any."""
    require_actor(actor, "assessment.manage_call", assignment.bid.call)
    now = now or timezone.now()
    reason = (reason or "").strip()
    call = _lock_call(assignment.bid.call)
    locked = Assignment.objects.select_for_update().select_related("bid", "assessor").get(pk=assignment.pk)
    _require_assessable(call, locked.bid)
    if locked.status not in selectors.LIVE_STATUSES:
        raise ValidationError(ASSIGNMENT_ENDED, code="ended")
    if ScoreSheet.objects.filter(assignment=locked, status=SheetStatus.SUBMITTED).exists():
        raise ValidationError(WITHDRAW_SUBMITTED, code="submitted")
    if not reason:
        raise ValidationError({"reason": WITHDRAW_REASON_NEEDED}, code="required")
    before = _assignment_snapshot(locked)
    locked.withdrawn_reason = reason
    ASSIGNMENT_LIFECYCLE.apply(locked, "withdraw", actor=actor, locked=locked, clean=False,
                               changes={"withdrawn_reason": reason}, recorded=(), audit_before=before,
                               audit_after={**before, "status": AssignmentStatus.WITHDRAWN},
                               message=f"{locked.assessor.full_name} came off {locked.bid.reference}: {reason}")
    notify(user=locked.assessor, subject=f"You are no longer assessing {locked.bid.reference}",
           body=f"The fund manager has taken you off bid {locked.bid.reference}.\n\nReason: {reason}", link=_link("hub"))
    if replacement is not None:
        try:
            return assignment_create(actor=actor, bid=locked.bid, assessor=replacement, due_date=locked.due_date, now=now)
        except ValidationError as error:
            raise ValidationError({"replacement": error.messages}, code="not_assignable") from None
    if auto:
        made = assignments_auto(actor=actor, call=call, bids=[locked.bid], exclude=[locked.assessor_id], now=now)
        return made.created[0] if made.created else None
    return None


# Conflicts of interest -------------------------------------------------------------------------


@transaction.atomic
def conflict_declare(
    *, actor: User, assignment: Assignment, has_conflict: bool | None, kind: str = "", description: str = "",
    now: dt.datetime | None = None,
) -> ConflictDeclaration:
    """The assessor declares no conflict (the bid opens to them) or a conflict, with its kind and
    a description (they come off the bid; the fund's conflicts register records it)."""
    now = now or timezone.now()
    locked = Assignment.objects.select_for_update().select_related("bid__call__fund", "assessor", "assigned_by").get(
        pk=assignment.pk
    )
    if actor is None or locked.assessor_id != actor.pk:
        raise PermissionDenied("Only the assigned assessor can declare on their assignment")
    if locked.status != AssignmentStatus.AWAITING_DECLARATION:
        raise ValidationError(ALREADY_DECLARED if locked.status != AssignmentStatus.WITHDRAWN else ASSIGNMENT_ENDED,
                              code="declared")
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
        assignment=locked, has_conflict=bool(has_conflict), kind=kind if has_conflict else "",
        description=description if has_conflict else "", declared_at=now,
    )
    declaration.full_clean()
    declaration.save()
    ASSIGNMENT_LIFECYCLE.apply(locked, "declare_conflict" if has_conflict else "declare_no_conflict", actor=actor,
                               locked=locked, clean=False)
    bid = locked.bid
    if has_conflict:
        audit_record(actor=actor, action="conflict.declared", target=declaration,
                     after={"bid": bid.reference, "kind": kind, "description": description},
                     message=f"{actor.full_name} declared a {declaration.get_kind_display().lower()} conflict of interest "
                             f"on {bid.reference} and comes off the bid")
        notify(user=locked.assigned_by, subject=f"Conflict of interest declared on {bid.reference}",
               body=(f"{actor.full_name} declared a conflict of interest on bid {bid.reference} and has come off it. "
                     "Assign another assessor."),
               link=_link("call", bid.call.slug))
    else:
        audit_record(actor=actor, action="conflict.none_declared", target=declaration, after={"bid": bid.reference},
                     message=f"{actor.full_name} declared no conflict of interest on {bid.reference}")
    return declaration


# Score sheets ------------------------------------------------------------------------------------

ScoreInput = Mapping[int, tuple[object, str]]  # criterion id -> (score, comment)


def _whole(value: Any) -> int | None:
    """The score as an int if it is a whole number (``3``, ``Decimal("3")``), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value():
        return int(value)
    return None


def _check_scores(criteria: list[Criterion], scores: ScoreInput, *, complete: bool) -> dict[int, tuple[int | None, str]]:
    errors: dict[str, str] = {}
    clean: dict[int, tuple[int | None, str]] = {}
    for criterion in criteria:
        value, comment = scores.get(criterion.pk, (None, ""))
        comment = (comment or "").strip()
        score = None
        if value is not None and value != "":
            score = _whole(value)
            if score is None:
                errors[f"score_{criterion.pk}"] = SCORE_NOT_WHOLE.format(criterion=criterion.title)
            elif not criterion.scale_min <= score <= criterion.scale_max:
                errors[f"score_{criterion.pk}"] = SCORE_OUTSIDE_SCALE.format(
                    criterion=criterion.title, low=criterion.scale_min, high=criterion.scale_max)
        elif complete:
            errors[f"score_{criterion.pk}"] = SCORE_NEEDED.format(criterion=criterion.title)
        if complete and not comment:
            errors[f"comment_{criterion.pk}"] = COMMENT_NEEDED.format(criterion=criterion.title)
        clean[criterion.pk] = (score, comment)
    if errors:
        raise ValidationError(errors, code="invalid")
    return clean


def _write_scores(*, actor: User, assignment: Assignment, scores: ScoreInput, submit: bool,
                  now: dt.datetime) -> ScoreSheet:
    locked = Assignment.objects.select_for_update().select_related("bid__call__fund").get(pk=assignment.pk)
    if actor is None or locked.assessor_id != actor.pk:
        raise PermissionDenied("Only the assigned assessor can score their assignment")
    if locked.status == AssignmentStatus.AWAITING_DECLARATION:
        raise ValidationError(DECLARE_FIRST, code="declare_first")
    if locked.status != AssignmentStatus.ACTIVE:
        raise ValidationError(ASSIGNMENT_ENDED, code="ended")
    bid, call = locked.bid, locked.bid.call
    _require_in_assessment(call, SCORING_CLOSED)
    if bid.status != BidStatus.IN_ASSESSMENT or PanelDecision.objects.filter(bid=bid).exists():
        raise ValidationError(BID_DECIDED, code="decided")
    sheet, _ = ScoreSheet.objects.get_or_create(assignment=locked)
    if sheet.status == SheetStatus.SUBMITTED:
        raise ValidationError(SHEET_SUBMITTED, code="submitted")
    if submit and (waiting := selectors.clarification_waiting(bid, today=timezone.localdate(now))):
        raise ValidationError(CLARIFICATION_WAITING.format(date=f"{waiting.reply_by:%-d %B %Y}"), code="clarification")
    criteria = list(call.criteria.all())
    clean = _check_scores(criteria, scores, complete=submit)
    existing = {score.criterion_id: score for score in sheet.scores.all()}
    # What the panel last saw of this sheet: the scores it had when last submitted (before a
    # reopening). What a draft held in between stays its author's (``visibility``).
    last_submitted: dict[str, Any] = {}
    if submit:
        last = (AuditEvent.objects.filter(action="score_sheet.submitted", target_type=ScoreSheet._meta.label_lower,
                                          target_id=str(sheet.pk)).order_by("-occurred_at", "-pk").first())
        last_submitted = (last.after or {}) if last else {}
    for criterion in criteria:
        value, comment = clean[criterion.pk]
        old = existing.get(criterion.pk)
        if old is None and value is None and not comment:
            continue
        unchanged = old is not None and (old.score, old.comment) == (value, comment)
        if unchanged and (not submit or last_submitted.get(str(criterion.pk), "none") == value):
            continue
        was_set = old is not None
        if submit:
            # Submitted now: the values are the panel's to see, so the trail records them, from
            # what was last submitted (if anything), never from the draft.
            seen = last_submitted.get(str(criterion.pk))
            before = {"criterion": criterion.pk, "score": seen} if str(criterion.pk) in last_submitted else None
            after = {"criterion": criterion.pk, "score": value, "comment": comment}
            if before is not None and seen != value:
                message = f"{criterion.title}: score changed from {seen} to {value}"
            elif before is not None:
                message = f"{criterion.title}: score {value} submitted again with its comment"
            else:
                message = f"{criterion.title}: score {value} submitted with its comment"
        else:
            # A draft is its author's alone (``visibility``): the trail records that it changed, not to what.
            before = {"criterion": criterion.pk} if was_set else None
            after = {"criterion": criterion.pk}
            message = f"{criterion.title}: draft score or comment saved (values withheld until submitted)"
        if old is None:
            old = Score(sheet=sheet, criterion=criterion)
        old.score, old.comment = value, comment
        old.full_clean(exclude=["sheet", "criterion"])
        old.save()
        action = "score.changed" if (before is not None if submit else was_set) else "score.set"
        audit_record(actor=actor, action=action, target=sheet, fund=call.fund,
                     before=before, after=after, message=message)
    if submit:
        # The event records the scores submitted (the panel's to see now), not the sheet's fields.
        sheet.assignment = locked
        SCORE_SHEET_LIFECYCLE.apply(sheet, "submit", actor=actor, locked=sheet, clean=False,
                                    changes={"submitted_at": now}, recorded=(), audit_before={},
                                    audit_after={str(pk): score for pk, (score, _) in clean.items()},
                                    message=f"{actor.full_name} submitted their scores on {bid.reference}")
        _tell_chairs_if_all_scores_in(call)
    else:
        sheet.save(update_fields=["updated_at"])
    return sheet


def _tell_chairs_if_all_scores_in(call: Call) -> None:
    """Once every bid in assessment has assessors and every live assignment a submitted sheet, the
    panel's chairs hear (once: a reopened sheet submitted again does not tell them again)."""
    live = Assignment.objects.filter(bid__call=call, bid__status=BidStatus.IN_ASSESSMENT,
                                     status__in=[AssignmentStatus.ACTIVE, AssignmentStatus.AWAITING_DECLARATION])
    if not live.exists() or live.exclude(sheet__status=SheetStatus.SUBMITTED).exists() or not call.panel_id:
        return
    if Bid.objects.filter(call=call, status=BidStatus.IN_ASSESSMENT).exclude(
            pk__in=live.values("bid_id")).exists():
        return  # a bid no one is scoring yet
    chairs = [member.user for member in PanelMember.objects.filter(
        panel_id=call.panel_id, role__in=[PanelRole.CHAIR, PanelRole.DEPUTY_CHAIR], user__is_active=True,
    ).select_related("user").order_by("role", "user__email")]
    notifications.send_to_each("scores_all_in", chairs, about=call, fund=call.fund,
                               values={"call_title": call.title}, link=_link("ranking", call.slug))


@transaction.atomic
def score_sheet_save(*, actor: User, assignment: Assignment, scores: ScoreInput, now: dt.datetime | None = None) -> ScoreSheet:
    """Save a draft: any scores given must be whole numbers on the scale; gaps are allowed."""
    return _write_scores(actor=actor, assignment=assignment, scores=scores, submit=False, now=now or timezone.now())


@transaction.atomic
def score_sheet_submit(*, actor: User, assignment: Assignment, scores: ScoreInput, now: dt.datetime | None = None) -> ScoreSheet:
    """Save and submit: every criterion needs a score and a comment. Then the sheet is locked."""
    return _write_scores(actor=actor, assignment=assignment, scores=scores, submit=True, now=now or timezone.now())


@transaction.atomic
def score_sheet_reopen(*, actor: User, assignment: Assignment, reason: str, now: dt.datetime | None = None) -> ScoreSheet:
    """A fund manager unlocks a submitted sheet so its assessor can change it, with the reason."""
    require_actor(actor, "assessment.manage_call", assignment.bid.call)
    reason = (reason or "").strip()
    call = _lock_call(assignment.bid.call)
    locked = Assignment.objects.select_for_update().select_related("bid", "assessor").get(pk=assignment.pk)
    _require_in_assessment(call, SCORING_CLOSED)
    if locked.bid.status != BidStatus.IN_ASSESSMENT or PanelDecision.objects.filter(bid=locked.bid).exists():
        raise ValidationError(BID_DECIDED, code="decided")
    sheet = ScoreSheet.objects.select_for_update().filter(assignment=locked).first()
    if sheet is None or sheet.status != SheetStatus.SUBMITTED or locked.status != AssignmentStatus.ACTIVE:
        raise ValidationError(SHEET_NOT_SUBMITTED, code="not_submitted")
    if not reason:
        raise ValidationError({"reason": REOPEN_REASON_NEEDED}, code="required")
    sheet.assignment = locked
    SCORE_SHEET_LIFECYCLE.apply(sheet, "reopen", actor=actor, locked=sheet, clean=False,
                                changes={"submitted_at": None, "reopened_reason": reason},
                                recorded=(), audit_before={"status": SheetStatus.SUBMITTED},
                                audit_after={"status": SheetStatus.DRAFT, "reason": reason}, message=f"Reopened: {reason}")
    notify(user=locked.assessor, subject=f"Your score sheet for {locked.bid.reference} has been reopened",
           body=f"The fund manager has reopened your scores on bid {locked.bid.reference} so you can change them.\n\n"
                f"Reason: {reason}\n\nSubmit the sheet again when you have finished.",
           link=_link("sheet", locked.pk))
    return sheet


# Moderation ---------------------------------------------------------------------------------------


def _require_chair(actor: User, call: Call) -> None:
    """The view's rule: the chair or a deputy chair of the call's panel (``assessment.chair_call``)."""
    if actor is None or not actor.has_perm("assessment.chair_call", call):
        raise PermissionDenied(NOT_THE_CHAIR)


def _require_chairs_bid(actor: User, call: Call, bid: Bid) -> None:
    """The actor chairs this bid: the chair if not conflicted, else a deputy chair who is not."""
    if bid.pk in selectors.bids_chaired_by(actor, call, [bid]):
        return
    if selectors.is_excluded(actor, call, bid):
        raise ValidationError(CHAIR_CONFLICTED, code="conflicted")
    raise ValidationError(DEPUTY_NOT_NEEDED, code="chair_not_conflicted")


def _score_on_scale(criterion: Criterion, value: Any) -> int:
    if value is None or value == "":
        raise ValidationError({"score": SCORE_NEEDED.format(criterion=criterion.title)}, code="required")
    score = _whole(value)
    if score is None:
        raise ValidationError({"score": SCORE_NOT_WHOLE.format(criterion=criterion.title)}, code="invalid")
    if not criterion.scale_min <= score <= criterion.scale_max:
        raise ValidationError({"score": SCORE_OUTSIDE_SCALE.format(
            criterion=criterion.title, low=criterion.scale_min, high=criterion.scale_max)}, code="invalid")
    return score


@transaction.atomic
def moderation_record(
    *, actor: User, bid: Bid, criterion: Criterion, score: Any, rationale: str, now: dt.datetime | None = None,
) -> Moderation:
    """The panel chair's agreed score on a criterion whose assessors' scores differ by more than
    the call's threshold, with the rationale. It replaces the mean for that criterion."""
    now = now or timezone.now()
    call = _lock_call(bid.call)
    bid = Bid.objects.get(pk=bid.pk)
    _require_chair(actor, call)
    _require_assessable(call, bid)
    _require_chairs_bid(actor, call, bid)
    if criterion.call_id != call.pk:
        raise ValidationError(NOT_FLAGGED, code="not_flagged")
    existing = Moderation.objects.filter(bid=bid, criterion=criterion).first()
    given = [given_score for given_score in Score.objects.filter(
        sheet__assignment__bid=bid, sheet__assignment__status=AssignmentStatus.ACTIVE,
        sheet__status=SheetStatus.SUBMITTED, criterion=criterion, score__isnull=False,
    ).values_list("score", flat=True) if given_score is not None]
    spread = max(given) - min(given) if given else 0
    if existing is None and not spread > call.moderation_threshold:
        raise ValidationError(NOT_FLAGGED, code="not_flagged")
    value = _score_on_scale(criterion, score)
    rationale = (rationale or "").strip()
    if not rationale:
        raise ValidationError({"rationale": MODERATION_RATIONALE_NEEDED}, code="required")
    gave = ", ".join(str(s) for s in sorted(given))
    if existing is None:
        moderation = Moderation(bid=bid, criterion=criterion, score=Decimal(value), rationale=rationale,
                                moderated_by=actor, moderated_at=now)
        moderation.full_clean()
        moderation.save()
        audit_record(actor=actor, action="moderation.recorded", target=moderation,
                     after={"criterion": criterion.pk, "score": value, "rationale": rationale, "assessors_gave": given},
                     message=f"{criterion.title}: moderated score {value} (the assessors gave {gave})")
        return moderation
    before = {"criterion": criterion.pk, "score": existing.score, "rationale": existing.rationale}
    if existing.score == value and existing.rationale == rationale:
        return existing
    old = existing.score.normalize()
    existing.score, existing.rationale, existing.moderated_by, existing.moderated_at = Decimal(value), rationale, actor, now
    existing.full_clean()
    existing.save()
    audit_record(actor=actor, action="moderation.changed", target=existing, before=before,
                 after={"criterion": criterion.pk, "score": value, "rationale": rationale},
                 message=f"{criterion.title}: moderated score changed from {old:f} to {value}")
    return existing


# Panel decisions ------------------------------------------------------------------------------------


def _where(row: selectors.RankedBid) -> str:
    if not row.fundable:
        return "below a gateway minimum"
    return "above the funding line" if row.above_line else "below the funding line"


@transaction.atomic
def decision_record(
    *, actor: User, bid: Bid, outcome: str, public_reason: str, internal_rationale: str = "",
    amount_approved: Decimal | None = None, conditions: Iterable[str] = (), departure_rationale: str = "",
    now: dt.datetime | None = None,
) -> PanelDecision:
    """The chair records (or, until release, changes) the panel's decision on a bid.

    Scoring must be finished and flagged criteria moderated. The decision keeps a snapshot of
    the bid's score, rank, criterion scores and place against the funding line; a decision
    that departs from the ranking needs its own rationale. Members conflicted on the bid are
    recorded as excluded; a conflicted chair cannot record it. ``public_reason`` (required) is
    what the applicant and the public read; ``internal_rationale`` and ``departure_rationale``
    stay with the panel, the fund's managers and auditors (``visibility``).
    """
    now = now or timezone.now()
    call = _lock_call(bid.call)
    bid = Bid.objects.select_related("call").get(pk=bid.pk)
    _require_chair(actor, call)
    existing = PanelDecision.objects.filter(bid=bid).first()
    if existing is not None and existing.released_at is not None:
        raise ValidationError(DECISION_RELEASED, code="released")
    _require_in_assessment(call)
    if bid.status != BidStatus.IN_ASSESSMENT:
        raise ValidationError(BID_NOT_IN_ASSESSMENT, code="bid_not_in_assessment")
    _require_chairs_bid(actor, call, bid)
    row = selectors.call_ranking(call).by_bid[bid.pk]
    if not row.complete or row.result is None:  # complete: it has a result
        raise ValidationError(SCORING_NOT_FINISHED.format(done=row.sheets_submitted, expected=row.sheets_expected),
                              code="scoring_not_finished")
    if row.needs_moderation:
        titles = ", ".join(c.criterion.title for c in row.result.needing_moderation)
        raise ValidationError(MODERATION_OUTSTANDING.format(titles=titles), code="moderation_outstanding")
    errors: dict[str, str] = {}
    public_reason = (public_reason or "").strip()
    internal_rationale = (internal_rationale or "").strip()
    departure_rationale = (departure_rationale or "").strip()
    conditions = [text.strip() for text in conditions if text and text.strip()]
    if outcome not in DecisionOutcome.values:
        errors["outcome"] = OUTCOME_NEEDED
    funds = outcome in FUNDING_OUTCOMES
    if funds:
        if amount_approved is None:
            errors["amount_approved"] = AMOUNT_NEEDED
        elif amount_approved <= 0:
            errors["amount_approved"] = AMOUNT_ZERO
        elif amount_approved > row.total_requested:
            errors["amount_approved"] = AMOUNT_ABOVE_REQUESTED.format(requested=format_money(row.total_requested, pence=True))
    else:
        amount_approved = None
    if outcome == DecisionOutcome.FUND_WITH_CONDITIONS and not conditions:
        errors["conditions"] = CONDITIONS_NEEDED
    if outcome != DecisionOutcome.FUND_WITH_CONDITIONS:
        conditions = []
    if not public_reason:
        errors["public_reason"] = PUBLIC_REASON_NEEDED
    departs = outcome in DecisionOutcome.values and selectors.departs_from_ranking(row, outcome)
    if departs and not departure_rationale:
        errors["departure_rationale"] = DEPARTURE_RATIONALE_NEEDED.format(where=_where(row))
    if errors:
        raise ValidationError(errors, code="invalid")
    decision = existing or PanelDecision(bid=bid)
    before = snapshot(existing, DECISION_FIELDS) if existing else None
    decision.outcome, decision.amount_approved = outcome, amount_approved
    decision.public_reason, decision.internal_rationale = public_reason, internal_rationale
    decision.conditions = conditions
    decision.departure_rationale = departure_rationale if departs else ""
    decision.rank, decision.score, decision.criterion_scores = row.rank, row.score, row.result.criterion_scores
    decision.above_funding_line, decision.departs_from_ranking = bool(row.fundable and row.above_line), departs
    decision.decided_by, decision.decided_at = actor, now
    decision.full_clean(exclude=["bid"])
    decision.save()
    decision.excluded_members.set([e.member for e in selectors.panel_exclusions(call, bid)])
    after = snapshot(decision, DECISION_FIELDS)
    summary = (f"{decision.get_outcome_display()}"
               + (f", {format_money(amount_approved, pence=True)} approved" if amount_approved else "")
               + (" (departs from the ranking)" if departs else ""))
    if before is None:
        audit_record(actor=actor, action="decision.recorded", target=decision, after=after,
                     message=f"Panel decision on {bid.reference}: {summary}")
    elif before != after:
        changed = [name for name in DECISION_FIELDS if before[name] != after[name]]
        audit_record(actor=actor, action="decision.changed", target=decision,
                     before={k: before[k] for k in changed}, after={k: after[k] for k in changed},
                     message=f"Panel decision on {bid.reference} changed: {summary}")
    return decision


@transaction.atomic
def decisions_release(*, actor: User, call: Call, now: dt.datetime | None = None) -> list[PanelDecision]:
    """Release every decision on the call at once: bids become funded or not funded, the call
    moves to decided and each applicant is told, with a link to their feedback."""
    require_actor(actor, "assessment.manage_call", call)
    now = now or timezone.now()
    locked = _lock_call(call)
    _require_in_assessment(locked)
    bids = list(bids_for_call(locked).filter(status__in=(BidStatus.SUBMITTED, BidStatus.IN_ASSESSMENT)))
    waiting = [bid.reference for bid in bids if bid.status == BidStatus.SUBMITTED]
    if waiting:
        raise ValidationError(BIDS_WAITING.format(refs=", ".join(waiting)), code="bids_waiting")
    decisions = {d.bid_id: d for d in PanelDecision.objects.filter(bid__in=bids).select_for_update()}
    missing = [bid.reference for bid in bids if bid.pk not in decisions]
    if missing:
        raise ValidationError(DECISIONS_MISSING.format(refs=", ".join(missing)), code="decisions_missing")
    funded = 0
    for bid in bids:
        decision = decisions[bid.pk]
        decision.released_at = now
        decision.save(update_fields=["released_at"])
        if decision.is_funded:
            funded += 1
            bid_mark_funded(actor=actor, bid=bid)
        else:
            bid_mark_not_funded(actor=actor, bid=bid)
    audit_record(actor=actor, action="decisions.released", target=locked,
                 after={"released": len(decisions), "funded": funded, "not_funded": len(decisions) - funded},
                 message=f"{len(decisions)} decision{'s' if len(decisions) != 1 else ''} released: "
                         f"{funded} funded, {len(decisions) - funded} not funded")
    call_mark_decided(actor=actor, call=locked, now=now)
    for bid in bids:
        decision = decisions[bid.pk]
        verdict = "funded" if decision.is_funded else "not funded"
        for user in lead_org_member_users(bid):
            notify(user=user, subject=f"Decision on bid {bid.reference}: {verdict}",
                   body=(f"The panel's decision on \u201c{bid.title}\u201d ({bid.reference}) is: "
                         f"{decision.get_outcome_display().lower()}."
                         + (f"\n\nAmount approved: {format_money(decision.amount_approved, pence=True)}."
                            if decision.amount_approved else "")
                         + f"\n\nWhy: {decision.public_reason}"
                         + "\n\nYour score on each criterion and the assessors' comments are on the feedback page."),
                   link=_link("feedback", bid.pk))
    call.status = CallStatus.DECIDED
    return list(decisions.values())


# Reminders ---------------------------------------------------------------------------------------


def assignment_reminders_send(*, today: dt.date | None = None, now: dt.datetime | None = None) -> int:
    """Remind each assessor once when their scores are due within 3 days (or overdue). Idempotent:
    each assignment is locked and re-read, and reminded at most once. Returns how many were sent."""
    now = now or timezone.now()
    today = today or timezone.localdate(now)
    sent = 0
    for pk in list(selectors.assignments_due_for_reminder(today).values_list("pk", flat=True)):
        with transaction.atomic():
            assignment = (Assignment.objects.select_for_update().select_related("bid", "assessor")
                          .filter(pk=pk, reminded_at__isnull=True).first())
            if assignment is None or assignment.due_date is None:
                continue
            due = assignment.due_date
            when = "are overdue" if due < today else f"are due by {due:%-d %B %Y}"
            notifications.send(
                "scores_due", to=assignment.assessor, about=assignment, fund=assignment.bid.call.fund,
                occasion=due.isoformat(), link=_link("assignment", assignment.pk),
                values={"bid_reference": assignment.bid.reference, "bid_title": assignment.bid.title, "deadline": when})
            assignment.reminded_at = now
            assignment.save(update_fields=["reminded_at"])
            sent += 1
    return sent


# Clarification questions to the applicant ----------------------------------------------------------


def _require_open_for_questions(bid: Bid) -> None:
    _require_in_assessment(bid.call)
    if bid.status != BidStatus.IN_ASSESSMENT or PanelDecision.objects.filter(bid=bid).exists():
        raise ValidationError(BID_DECIDED, code="decided")


@transaction.atomic
def clarification_ask(*, actor: User, bid: Bid, question: str, reply_by: dt.date | None,
                      now: dt.datetime | None = None) -> Clarification:
    """An assessor of the bid (with no conflict) or its chair asks the applicant a question, with
    a date to reply by. The applicant's organisation is told; scoring waits for the reply."""
    require_actor(actor, "assessment.ask_clarification", bid)
    now = now or timezone.now()
    today = timezone.localdate(now)
    locked = Bid.objects.select_for_update().select_related("call__fund").get(pk=bid.pk)
    _require_open_for_questions(locked)
    question = (question or "").strip()
    errors: dict[str, list[str]] = {}
    if not question:
        errors["question"] = [QUESTION_NEEDED]
    if reply_by is None:
        errors["reply_by"] = [REPLY_BY_NEEDED]
    elif reply_by < today:
        errors["reply_by"] = [REPLY_BY_IN_PAST]
    elif reply_by > today + dt.timedelta(weeks=8):
        errors["reply_by"] = [REPLY_BY_TOO_LATE]
    if errors or reply_by is None:
        raise ValidationError(errors)
    clarification = Clarification.objects.create(bid=locked, question=question, reply_by=reply_by, asked_by=actor, asked_at=now)
    audit_record(actor=actor, action="clarification.asked", target=locked, fund=locked.call.fund,
                 message=f"Clarification asked, reply by {reply_by:%-d %B %Y}: {question[:300]}",
                 after={"clarification": clarification.pk, "question": question, "reply_by": reply_by.isoformat()})
    for user in lead_org_member_users(locked):
        notify(user=user, subject=f"A question from the panel about {locked.reference}",
               body=(f"The panel assessing bid {locked.reference} asks:\n\n{question}\n\n"
                     f"Please reply through the portal by {reply_by:%-d %B %Y}."),
               link=locked.get_absolute_url())
    return clarification


@transaction.atomic
def clarification_reply(*, actor: User, clarification: Clarification, reply: str, upload: File[Any] | None = None,
                        now: dt.datetime | None = None) -> Clarification:
    """The applicant replies once, in text with an optional file (the one upload pipeline). The
    reply goes to the panel with the bid; whoever asked is told."""
    require_actor(actor, "assessment.reply_clarification", clarification)
    now = now or timezone.now()
    locked = Clarification.objects.select_for_update().select_related("bid__call__fund", "asked_by").get(pk=clarification.pk)
    bid = locked.bid
    _require_open_for_questions(bid)
    if locked.answered:
        raise ValidationError(ALREADY_REPLIED, code="answered")
    if locked.is_lapsed(timezone.localdate(now)):
        raise ValidationError(REPLY_TOO_LATE.format(date=f"{locked.reply_by:%-d %B %Y}"), code="late")
    reply = (reply or "").strip()
    errors: dict[str, list[str]] = {}
    if not reply:
        errors["reply"] = [REPLY_NEEDED]
    checked = None
    if upload is not None:
        try:
            checked = uploads.check(upload, policy=uploads.BID_ATTACHMENT, field="attachment")
        except ValidationError as error:
            for name, messages in error.message_dict.items():
                errors.setdefault(name, []).extend(messages)
    if errors:
        raise ValidationError(errors)
    locked.reply, locked.replied_by, locked.replied_at = reply, actor, now
    fields = ["reply", "replied_by", "replied_at"]
    if checked is not None:
        locked.attachment.save(checked.storage_name, checked.upload, save=False)
        locked.attachment_name = checked.original_name or "attachment"
        locked.attachment_type = checked.file_type.content_type
        locked.attachment_size, locked.attachment_sha256 = checked.size, checked.sha256
        locked.attachment_scan_status = uploads.initial_scan_status()
        fields += ["attachment", "attachment_name", "attachment_type", "attachment_size", "attachment_sha256",
                   "attachment_scan_status"]
    locked.save(update_fields=fields)
    audit_record(actor=actor, action="clarification.answered", target=bid, fund=bid.call.fund,
                 message=f"Clarification answered: {reply[:300]}",
                 after={"clarification": locked.pk, "reply": reply,
                        **({"file": locked.attachment_name, "sha256": locked.attachment_sha256} if checked else {})})
    if checked is not None and locked.attachment_scan_status == uploads.ScanStatus.AWAITING:
        outbox_enqueue("assessment.tasks.scan_clarification_attachment", locked.pk)
    notify(user=locked.asked_by, subject=f"The applicant has replied about {bid.reference}",
           body=f"{bid.lead_organisation.name} has replied to your question on bid {bid.reference}.",
           link=bid.get_absolute_url())
    clarification.refresh_from_db()
    return clarification


def clarification_attachment_scan(*, clarification_id: int) -> str | None:
    """Scan a reply's file awaiting its virus scan: available or quarantined. Safe to run twice."""
    found = Clarification.objects.filter(pk=clarification_id, attachment_scan_status=uploads.ScanStatus.AWAITING).first()
    if found is None:
        return None
    signature = uploads.scan_file(found.attachment)
    with transaction.atomic():
        locked = Clarification.objects.select_for_update().select_related("bid__call__fund").get(pk=clarification_id)
        if locked.attachment_scan_status != uploads.ScanStatus.AWAITING:
            return None
        locked.attachment_scan_status = uploads.ScanStatus.QUARANTINED if signature else uploads.ScanStatus.AVAILABLE
        locked.save(update_fields=["attachment_scan_status"])
        audit_record(actor=None, action="clarification.file_scanned", target=locked.bid, fund=locked.bid.call.fund,
                     message=f"{locked.attachment_name[:100]}: {'virus found, quarantined' if signature else 'no virus found'}")
    return locked.attachment_scan_status


# The assessor pool ------------------------------------------------------------------------------------


@transaction.atomic
def pool_member_add(*, actor: User, network: Organisation, email: str, organisation: Organisation | None = None,
                    expertise: Iterable[Expertise] = (), now: dt.datetime | None = None) -> PoolEntry:
    """A fund manager adds a person (who has an account) to their network's pool, with their
    organisation and expertise from the managed list."""
    require_actor(actor, "assessment.manage_pool", network)
    now = now or timezone.now()
    email = (email or "").strip()
    if not email:
        raise ValidationError({"email": POOL_PERSON_NEEDED}, code="required")
    person = User.objects.filter(email__iexact=email).first()
    if person is None:
        raise ValidationError({"email": POOL_PERSON_UNKNOWN.format(email=email)}, code="unknown")
    profile, _ = AssessorProfile.objects.get_or_create(user=person)
    if PoolEntry.objects.filter(network=network, profile=profile).exists():
        raise ValidationError({"email": POOL_ALREADY.format(name=person.full_name)}, code="already")
    if organisation is not None:
        profile.organisation = organisation
        profile.save(update_fields=["organisation"])
    if expertise:
        profile.expertise.add(*expertise)
    entry = PoolEntry.objects.create(network=network, profile=profile, added_by=actor, added_at=now)
    audit_record(actor=actor, action="pool.member_added", target=entry,
                 after={"network": network.name, "person": person.email,
                        "expertise": sorted(e.name for e in profile.expertise.all())},
                 message=f"{person.full_name} added to {network.name}'s assessor pool")
    notify(user=person, subject=f"You are in {network.name}'s assessor pool",
           body=("You may be invited to assess bids. Make your yearly declaration of interests and accept the "
                 "confidentiality terms first: invitations can only be accepted with a current declaration."),
           link=reverse("assessment:declaration"))
    return entry


@transaction.atomic
def pool_member_update(*, actor: User, entry: PoolEntry, organisation: Organisation | None,
                       expertise: Iterable[Expertise]) -> AssessorProfile:
    require_actor(actor, "assessment.manage_pool", entry.network)
    profile = entry.profile
    before = {"organisation": profile.organisation.name if profile.organisation else "",
              "expertise": sorted(e.name for e in profile.expertise.all())}
    profile.organisation = organisation
    profile.save(update_fields=["organisation"])
    profile.expertise.set(list(expertise))
    audit_record(actor=actor, action="pool.member_changed", target=entry, before=before,
                 after={"organisation": organisation.name if organisation else "",
                        "expertise": sorted(e.name for e in profile.expertise.all())},
                 message=f"{profile.user.full_name}'s pool details changed")
    return profile


@transaction.atomic
def pool_member_remove(*, actor: User, entry: PoolEntry) -> None:
    require_actor(actor, "assessment.manage_pool", entry.network)
    audit_record(actor=actor, action="pool.member_removed", target=entry,
                 message=f"{entry.profile.user.full_name} removed from {entry.network.name}'s assessor pool")
    entry.delete()


@transaction.atomic
def pool_share(*, actor: User, network: Organisation, shared_with: Organisation | None) -> PoolShare:
    """A network's fund manager lets another network invite from its pool."""
    require_actor(actor, "assessment.manage_pool", network)
    if shared_with is None or shared_with.pk == network.pk or not shared_with.is_network:
        raise ValidationError({"shared_with": POOL_SHARE_NETWORK_NEEDED}, code="invalid")
    share, created = PoolShare.objects.get_or_create(network=network, shared_with=shared_with,
                                                     defaults={"agreed_by": actor})
    if created:
        audit_record(actor=actor, action="pool.shared", target=share,
                     message=f"{network.name} shares its assessor pool with {shared_with.name}")
    return share


@transaction.atomic
def assessor_declaration_make(*, actor: User, interests: str, interest_organisations: Iterable[Organisation] = (),
                              expertise: Iterable[Expertise] | None = None, accept_terms: bool,
                              now: dt.datetime | None = None) -> AssessorProfile:
    """The yearly declaration of interests, with the confidentiality terms: it lapses on the
    next 6 April (``governance.fy.declaration_lapses_on``)."""
    require_actor(actor, "assessment.declare_interests")
    now = now or timezone.now()
    if not accept_terms:
        raise ValidationError({"accept_terms": TERMS_NEEDED}, code="terms")
    profile = AssessorProfile.objects.select_for_update().filter(user=actor).first()
    if profile is None:
        raise PermissionDenied("Only people in an assessor pool make this declaration")
    before = {"interests": profile.interests, "lapses_on": profile.declaration_lapses_on}
    profile.interests = (interests or "").strip()
    profile.declared_at = now
    profile.declaration_lapses_on = fy.declaration_lapses_on(timezone.localdate(now))
    profile.terms_accepted_at = now
    profile.terms_version = CONFIDENTIALITY_TERMS_VERSION
    profile.save()
    profile.interest_organisations.set(list(interest_organisations))
    if expertise is not None:
        profile.expertise.set(list(expertise))
    audit_record(actor=actor, action="pool.declaration_made", target=profile, before=before,
                 after={"interests": profile.interests, "lapses_on": profile.declaration_lapses_on,
                        "interest_organisations": sorted(o.name for o in profile.interest_organisations.all()),
                        "terms_version": profile.terms_version},
                 message=f"Yearly declaration made; lapses on {profile.declaration_lapses_on:%-d %B %Y}")
    return profile


# Invitations to assess a call ---------------------------------------------------------------------------

INVITATION_DAYS = 7
REMIND_BEFORE = dt.timedelta(days=2)


def _uk(moment: dt.datetime) -> str:
    local = timezone.localtime(moment)
    return f"{local:%-d %B %Y} at {local:%-I:%M%p}".replace("AM", "am").replace("PM", "pm")


@transaction.atomic
def assessors_invite(*, actor: User, call: Call, invitees: Iterable[User], days: int = INVITATION_DAYS,
                     now: dt.datetime | None = None) -> list[AssessorInvitation]:
    """Invite people from the pool (the host network's, and the pools shared with it) to assess
    the call. People already invited are left as they are."""
    require_actor(actor, "assessment.manage_call", call)
    now = now or timezone.now()
    invitees = list(invitees)
    if call.status in (CallStatus.DECIDED, CallStatus.CLOSED_OUT, CallStatus.DRAFT):
        raise ValidationError({"invitees": INVITE_CALL_FINISHED}, code="finished")
    if not invitees:
        raise ValidationError({"invitees": INVITE_CHOOSE}, code="required")
    if not 1 <= int(days) <= 60:
        raise ValidationError({"days": INVITE_DAYS_RANGE}, code="range")
    pooled = {p.user_id for p in selectors.pool_profiles_of(call.host_network)}
    outside = [u.full_name for u in invitees if u.pk not in pooled]
    if outside:
        raise ValidationError({"invitees": [INVITE_NOT_IN_POOL.format(name=n, network=call.host_network.name)
                                            for n in outside]}, code="not_in_pool")
    made = []
    already = set(AssessorInvitation.objects.filter(call=call).values_list("invitee_id", flat=True))
    for person in invitees:
        if person.pk in already:
            continue
        invitation = AssessorInvitation.objects.create(call=call, invitee=person, invited_by=actor, invited_at=now,
                                                       expires_at=now + dt.timedelta(days=int(days)))
        audit_record(actor=actor, action="invitation.sent", target=invitation,
                     after={"invitee": person.email, "expires_at": invitation.expires_at},
                     message=f"{person.full_name} invited to assess {call.title}")
        notify(user=person, subject=f"Will you assess bids on {call.title}?",
               body=(f"{actor.full_name} invites you to assess bids on {call.title} ({call.fund.name})."
                     + (f" Scores are due by {call.assessment_due_date:%-d %B %Y}." if call.assessment_due_date else "")
                     + f"\n\nAccept or decline by {_uk(invitation.expires_at)}."),
               link=reverse("assessment:invitation", args=[invitation.token]))
        made.append(invitation)
    return made


@transaction.atomic
def invitation_respond(*, actor: User, token: str, accept: bool | None, reason: str = "",
                       now: dt.datetime | None = None) -> AssessorInvitation:
    """The invitee accepts (and joins the call's panel as an assessor) or declines with a reason."""
    now = now or timezone.now()
    invitation = (AssessorInvitation.objects.select_for_update(of=("self",)).select_related("call", "call__panel", "invitee")
                  .filter(token=token).first())
    if invitation is None:
        raise PermissionDenied("No such invitation")
    if invitation.invitee_id != actor.pk:
        raise ValidationError(INVITATION_OTHER_ACCOUNT.format(email=actor.email), code="other_account")
    if invitation.status in (InvitationStatus.ACCEPTED, InvitationStatus.DECLINED):
        raise ValidationError(INVITATION_ANSWERED.format(status=invitation.get_status_display().lower()), code="answered")
    if invitation.is_expired(now):  # the beat marks it expired (invitations_remind_and_expire)
        raise ValidationError(INVITATION_EXPIRED.format(when=_uk(invitation.expires_at)), code="expired")
    if accept is None:
        raise ValidationError({"decision": DECISION_NEEDED}, code="required")
    before = {"status": invitation.status}
    if accept:
        profile = getattr(actor, "assessor_profile", None)
        if profile is None or not profile.declaration_current(timezone.localdate(now)) or not profile.terms_current:
            raise ValidationError({"decision": DECLARATION_NEEDED}, code="declaration")
        call = invitation.call
        if call.panel_id:
            PanelMember.objects.get_or_create(panel_id=call.panel_id, user=actor,
                                              defaults={"role": PanelRole.ASSESSOR})
    elif reason not in DeclineReason.values:
        raise ValidationError({"reason": DECLINE_REASON_NEEDED}, code="reason")
    action = "accept" if accept else "decline"
    answer = INVITATION_LIFECYCLE.transition(action).target
    decline_reason = "" if accept else reason
    label = InvitationStatus(answer).label.lower()
    reason_label = f": {DeclineReason(decline_reason).label.lower()}" if decline_reason else ""
    INVITATION_LIFECYCLE.apply(
        invitation, action, actor=actor, locked=invitation,
        changes={"responded_at": now, **({} if accept else {"decline_reason": decline_reason})},
        recorded=(), audit_before=before, audit_after={"status": answer, "reason": invitation.decline_reason if accept else decline_reason},
        message=f"{actor.full_name} {label} the invitation to assess {invitation.call.title}{reason_label}")
    notify(user=invitation.invited_by, subject=f"{actor.full_name} {invitation.get_status_display().lower()}: {invitation.call.title}",
           body=(f"{actor.full_name} {invitation.get_status_display().lower()} your invitation to assess {invitation.call.title}"
                 + (f" ({invitation.get_decline_reason_display().lower()})" if invitation.decline_reason else "") + "."),
           link=reverse("assessment:invitations", args=[invitation.call.slug]))
    return invitation


def invitations_remind_and_expire(*, now: dt.datetime | None = None) -> tuple[int, int]:
    """Beat: remind (once) whoever has not answered two days before their invitation expires, and
    expire the invitations whose time is up. Idempotent. Returns (reminded, expired)."""
    now = now or timezone.now()
    reminded = 0
    for invitation in selectors.invitations_due_for_reminder(now, REMIND_BEFORE).select_related("call", "invitee"):
        with transaction.atomic():
            updated = AssessorInvitation.objects.filter(pk=invitation.pk, reminded_at__isnull=True).update(reminded_at=now)
            if not updated:
                continue
            notify(user=invitation.invitee, subject=f"Reminder: will you assess bids on {invitation.call.title}?",
                   body=f"Please accept or decline by {_uk(invitation.expires_at)}; after that the invitation expires.",
                   link=reverse("assessment:invitation", args=[invitation.token]))
            reminded += 1
    expired = 0
    for invitation in AssessorInvitation.objects.filter(status=InvitationStatus.PENDING, expires_at__lte=now):
        with transaction.atomic():
            # Under the row lock: answered (or expired) a moment ago by someone else, it is left alone.
            locked = AssessorInvitation.objects.select_for_update(of=("self",)).filter(
                pk=invitation.pk, status=InvitationStatus.PENDING).first()
            if locked is None:
                continue
            INVITATION_LIFECYCLE.apply(locked, "expire", actor=None, locked=locked, clean=False,
                                       recorded=(), audit_before={}, audit_after={},
                                       message=f"The invitation to {invitation.invitee.full_name} expired unanswered")
            expired += 1
    return reminded, expired


# Panel packs ---------------------------------------------------------------------------------------------


@transaction.atomic
def panel_pack_request(*, actor: User, call: Call, bid: Bid | None = None, now: dt.datetime | None = None) -> PanelPack:
    """Ask for a pack of the bids the person may see (or one of them): a worker builds it."""
    require_actor(actor, "assessment.request_pack", call)
    if call.status != CallStatus.ASSESSMENT:
        raise ValidationError(PACK_NOT_IN_ASSESSMENT, code="not_in_assessment")
    bids = selectors.pack_bids_for(actor, call, bid)
    if not bids:
        raise ValidationError(PACK_EMPTY, code="empty")
    pack = PanelPack.objects.create(call=call, bid=bid, requested_by=actor, requested_at=now or timezone.now(),
                                    total=len(bids), references=[b.reference for b in bids])
    audit_record(actor=actor, action="panel_pack.requested", target=pack, fund=call.fund,
                 after={"bids": pack.references}, message=f"Panel pack of {len(bids)} bid{'s' if len(bids) != 1 else ''} asked for")
    outbox_enqueue("assessment.tasks.build_panel_pack", pack.pk)
    return pack


def panel_pack_build(*, pack_id: int) -> PanelPack | None:
    """Build the zip (in a temporary file, then into storage): each bid's PDF and its available
    attachments, in a folder named by the bid's reference. The bids are worked out again now,
    so a conflict declared since the request keeps its bid out. queued → running → ready | failed.
    Idempotent: a ready pack is left alone."""
    import tempfile
    import zipfile

    from django.core.files import File

    from applications.documents import render_bid_pdf
    from applications.selectors import bid_attachments
    from applications.services import attachment_download_name
    from governance.uploads import ScanStatus

    pack = PanelPack.objects.select_related("call", "bid", "requested_by").filter(pk=pack_id).first()
    if pack is None or pack.status == PackStatus.READY:
        return pack
    PANEL_PACK_LIFECYCLE.apply(pack, "start", actor=None, changes={"done": 0}, clean=False)
    try:
        viewer = pack.requested_by
        bids = selectors.pack_bids_for(viewer, pack.call, pack.bid)
        PanelPack.objects.filter(pk=pack.pk).update(total=len(bids), references=[b.reference for b in bids])
        with tempfile.TemporaryFile(suffix=".zip") as handle:
            with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_DEFLATED) as archive:
                for done, bid in enumerate(bids, start=1):
                    archive.writestr(f"{bid.reference}/{bid.reference}.pdf", render_bid_pdf(bid, viewer))
                    used: set[str] = set()
                    for attachment in bid_attachments(bid).filter(scan_status=ScanStatus.AVAILABLE):
                        name = attachment_download_name(attachment)
                        if name in used:
                            name = f"{attachment.pk}-{name}"
                        used.add(name)
                        with attachment.file.open("rb") as source:
                            archive.writestr(f"{bid.reference}/attachments/{name}", source.read())
                    PanelPack.objects.filter(pk=pack.pk).update(done=done)
            handle.seek(0)
            pack.refresh_from_db()
            pack.file.save(pack.download_name, File(handle), save=False)
        PANEL_PACK_LIFECYCLE.apply(pack, "finish", actor=None, clean=False,
                                   changes={"file": pack.file.name, "finished_at": timezone.now(), "error": ""})
    except Exception as exc:  # recorded for the status page, then raised for the worker's log
        PANEL_PACK_LIFECYCLE.apply(pack, "fail", actor=None, clean=False,
                                   changes={"error": f"{type(exc).__name__}: {exc}", "finished_at": timezone.now()})
        raise
    return pack
