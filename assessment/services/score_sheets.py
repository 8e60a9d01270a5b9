"""Score sheets: an assessor's draft and submitted scores, a fund manager reopening a sheet, and
the reminders to assessors whose scores fall due."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from applications.models import Bid, BidStatus
from governance import notifications
from governance.access import require_actor
from governance.audit import audit_record
from governance.models import AuditEvent, Call, Criterion, PanelMember, PanelRole, User
from governance.services import notify

from .. import selectors
from ..lifecycle import SCORE_SHEET_LIFECYCLE
from ..messages import (
    ASSIGNMENT_ENDED,
    BID_DECIDED,
    CLARIFICATION_WAITING,
    COMMENT_NEEDED,
    DECLARE_FIRST,
    REOPEN_REASON_NEEDED,
    SCORE_NEEDED,
    SCORE_NOT_WHOLE,
    SCORE_OUTSIDE_SCALE,
    SCORING_CLOSED,
    SHEET_NOT_SUBMITTED,
    SHEET_SUBMITTED,
)
from ..models import Assignment, AssignmentStatus, PanelDecision, Score, ScoreSheet, SheetStatus
from ._shared import _link, _lock_call, _require_in_assessment, _whole

# Score sheets ------------------------------------------------------------------------------------

ScoreInput = Mapping[int, tuple[object, str]]  # criterion id -> (score, comment)


def _check_scores(
    criteria: list[Criterion], scores: ScoreInput, *, complete: bool
) -> dict[int, tuple[int | None, str]]:
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
                    criterion=criterion.title, low=criterion.scale_min, high=criterion.scale_max
                )
        elif complete:
            errors[f"score_{criterion.pk}"] = SCORE_NEEDED.format(criterion=criterion.title)
        if complete and not comment:
            errors[f"comment_{criterion.pk}"] = COMMENT_NEEDED.format(criterion=criterion.title)
        clean[criterion.pk] = (score, comment)
    if errors:
        raise ValidationError(errors, code="invalid")
    return clean


def _write_scores(
    *, actor: User, assignment: Assignment, scores: ScoreInput, submit: bool, now: dt.datetime
) -> ScoreSheet:
    locked = (
        Assignment.objects.select_for_update()
        .select_related("bid__call__fund")
        .get(pk=assignment.pk)
    )
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
        raise ValidationError(
            CLARIFICATION_WAITING.format(date=f"{waiting.reply_by:%-d %B %Y}"), code="clarification"
        )
    criteria = list(call.criteria.all())
    clean = _check_scores(criteria, scores, complete=submit)
    existing = {score.criterion_id: score for score in sheet.scores.all()}
    # What the panel last saw of this sheet: the scores it had when last submitted (before a
    # reopening). What a draft held in between stays its author's (``visibility``).
    last_submitted: dict[str, Any] = {}
    if submit:
        last = (
            AuditEvent.objects.filter(
                action="score_sheet.submitted",
                target_type=ScoreSheet._meta.label_lower,
                target_id=str(sheet.pk),
            )
            .order_by("-occurred_at", "-pk")
            .first()
        )
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
            before = (
                {"criterion": criterion.pk, "score": seen}
                if str(criterion.pk) in last_submitted
                else None
            )
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
            message = (
                f"{criterion.title}: draft score or comment saved (values withheld until submitted)"
            )
        if old is None:
            old = Score(sheet=sheet, criterion=criterion)
        old.score, old.comment = value, comment
        old.full_clean(exclude=["sheet", "criterion"])
        old.save()
        action = "score.changed" if (before is not None if submit else was_set) else "score.set"
        audit_record(
            actor=actor,
            action=action,
            target=sheet,
            fund=call.fund,
            before=before,
            after=after,
            message=message,
        )
    if submit:
        # The event records the scores submitted (the panel's to see now), not the sheet's fields.
        sheet.assignment = locked
        SCORE_SHEET_LIFECYCLE.apply(
            sheet,
            "submit",
            actor=actor,
            locked=sheet,
            clean=False,
            changes={"submitted_at": now},
            recorded=(),
            audit_before={},
            audit_after={str(pk): score for pk, (score, _) in clean.items()},
            message=f"{actor.full_name} submitted their scores on {bid.reference}",
        )
        _tell_chairs_if_all_scores_in(call)
    else:
        sheet.save(update_fields=["updated_at"])
    return sheet


def _tell_chairs_if_all_scores_in(call: Call) -> None:
    """Once every bid in assessment has assessors and every live assignment a submitted sheet, the
    panel's chairs hear (once: a reopened sheet submitted again does not tell them again)."""
    live = Assignment.objects.filter(
        bid__call=call,
        bid__status=BidStatus.IN_ASSESSMENT,
        status__in=[AssignmentStatus.ACTIVE, AssignmentStatus.AWAITING_DECLARATION],
    )
    if (
        not live.exists()
        or live.exclude(sheet__status=SheetStatus.SUBMITTED).exists()
        or not call.panel_id
    ):
        return
    if (
        Bid.objects.filter(call=call, status=BidStatus.IN_ASSESSMENT)
        .exclude(pk__in=live.values("bid_id"))
        .exists()
    ):
        return  # a bid no one is scoring yet
    chairs = [
        member.user
        for member in PanelMember.objects.filter(
            panel_id=call.panel_id,
            role__in=[PanelRole.CHAIR, PanelRole.DEPUTY_CHAIR],
            user__is_active=True,
        )
        .select_related("user")
        .order_by("role", "user__email")
    ]
    notifications.send_to_each(
        "scores_all_in",
        chairs,
        about=call,
        fund=call.fund,
        values={"call_title": call.title},
        link=_link("ranking", call.slug),
    )


@transaction.atomic
def score_sheet_save(
    *, actor: User, assignment: Assignment, scores: ScoreInput, now: dt.datetime | None = None
) -> ScoreSheet:
    """Save a draft: any scores given must be whole numbers on the scale; gaps are allowed."""
    return _write_scores(
        actor=actor, assignment=assignment, scores=scores, submit=False, now=now or timezone.now()
    )


@transaction.atomic
def score_sheet_submit(
    *, actor: User, assignment: Assignment, scores: ScoreInput, now: dt.datetime | None = None
) -> ScoreSheet:
    """Save and submit: every criterion needs a score and a comment. Then the sheet is locked."""
    return _write_scores(
        actor=actor, assignment=assignment, scores=scores, submit=True, now=now or timezone.now()
    )


@transaction.atomic
def score_sheet_reopen(
    *, actor: User, assignment: Assignment, reason: str, now: dt.datetime | None = None
) -> ScoreSheet:
    """A fund manager unlocks a submitted sheet so its assessor can change it, with the reason."""
    require_actor(actor, "assessment.manage_call", assignment.bid.call)
    reason = (reason or "").strip()
    call = _lock_call(assignment.bid.call)
    locked = (
        Assignment.objects.select_for_update()
        .select_related("bid", "assessor")
        .get(pk=assignment.pk)
    )
    _require_in_assessment(call, SCORING_CLOSED)
    if (
        locked.bid.status != BidStatus.IN_ASSESSMENT
        or PanelDecision.objects.filter(bid=locked.bid).exists()
    ):
        raise ValidationError(BID_DECIDED, code="decided")
    sheet = ScoreSheet.objects.select_for_update().filter(assignment=locked).first()
    if (
        sheet is None
        or sheet.status != SheetStatus.SUBMITTED
        or locked.status != AssignmentStatus.ACTIVE
    ):
        raise ValidationError(SHEET_NOT_SUBMITTED, code="not_submitted")
    if not reason:
        raise ValidationError({"reason": REOPEN_REASON_NEEDED}, code="required")
    sheet.assignment = locked
    SCORE_SHEET_LIFECYCLE.apply(
        sheet,
        "reopen",
        actor=actor,
        locked=sheet,
        clean=False,
        changes={"submitted_at": None, "reopened_reason": reason},
        recorded=(),
        audit_before={"status": SheetStatus.SUBMITTED},
        audit_after={"status": SheetStatus.DRAFT, "reason": reason},
        message=f"Reopened: {reason}",
    )
    notify(
        user=locked.assessor,
        subject=f"Your score sheet for {locked.bid.reference} has been reopened",
        body=f"The fund manager has reopened your scores on bid {locked.bid.reference} so you can change them.\n\n"
        f"Reason: {reason}\n\nSubmit the sheet again when you have finished.",
        link=_link("sheet", locked.pk),
    )
    return sheet


# Reminders ---------------------------------------------------------------------------------------


def assignment_reminders_send(
    *, today: dt.date | None = None, now: dt.datetime | None = None
) -> int:
    """Remind each assessor once when their scores are due within 3 days (or overdue). Idempotent:
    each assignment is locked and re-read, and reminded at most once. Returns how many were sent."""
    now = now or timezone.now()
    today = today or timezone.localdate(now)
    sent = 0
    for pk in list(selectors.assignments_due_for_reminder(today).values_list("pk", flat=True)):
        with transaction.atomic():
            assignment = (
                Assignment.objects.select_for_update()
                .select_related("bid", "assessor")
                .filter(pk=pk, reminded_at__isnull=True)
                .first()
            )
            if assignment is None or assignment.due_date is None:
                continue
            due = assignment.due_date
            when = "are overdue" if due < today else f"are due by {due:%-d %B %Y}"
            notifications.send(
                "scores_due",
                to=assignment.assessor,
                about=assignment,
                fund=assignment.bid.call.fund,
                occasion=due.isoformat(),
                link=_link("assignment", assignment.pk),
                values={
                    "bid_reference": assignment.bid.reference,
                    "bid_title": assignment.bid.title,
                    "deadline": when,
                },
            )
            assignment.reminded_at = now
            assignment.save(update_fields=["reminded_at"])
            sent += 1
    return sent
