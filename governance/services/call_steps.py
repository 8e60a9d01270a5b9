"""The steps of a call's life (its table is in ``governance/call_lifecycle.py``): publish,
unpublish, open, close (early, with a reason), extend the closing time, start assessment, mark
decided, close out, and the beat's ``calls_advance``. Each checks its own rules, then changes
the state through the table."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from ..access import require_actor
from ..audit import audit_record, snapshot
from ..call_lifecycle import CALL_LIFECYCLE
from ..messages import (
    CALL_ALREADY_OPENED,
    CALL_NOT_CLOSED,
    CALL_NOT_DECIDED,
    CALL_NOT_DRAFT,
    CALL_NOT_EXTENDABLE,
    CALL_NOT_IN_ASSESSMENT,
    CALL_NOT_OPEN,
    CALL_NOT_SCHEDULED,
    CALL_NOT_STARTED,
    CALL_NOT_YET_OPENING,
    CLOSE_EARLY_REASON,
    EXTENSION_NOT_LATER,
    EXTENSION_PAST_TIMETABLE,
    EXTENSION_REASON,
    EXTENSION_TOO_LONG,
    UNPUBLISH_REASON,
)
from ..models import Call, CallStatus, User
from ..signals import call_closed, call_closing_extended, call_entered_assessment
from ..timefmt import nhs_datetime
from ._shared import _add, _lock_call
from .calls import _call_snapshot, _criteria_snapshot, call_publish_problems
from .engagement import call_alerts_send


def _sync(call: Call, locked: Call) -> Call:
    """Bring the caller's copy up to date with the saved one."""
    for name in (
        "status",
        "published_at",
        "closes_at",
        "published_closes_at",
        "closing_extension_reason",
        "decisions_released_at",
        "updated_at",
    ):
        setattr(call, name, getattr(locked, name))
    return locked


@transaction.atomic
def call_publish(*, actor: User | None, call: Call, now: dt.datetime | None = None) -> Call:
    """Publish a complete draft: it opens now if its opening time has come, else it is scheduled.

    From here on the criteria, rubric and eligibility are frozen; the audit event keeps the
    published version.
    """
    require_actor(actor, "governance.manage_call", call)
    now = now or timezone.now()
    locked = _lock_call(call)
    if not CALL_LIFECYCLE.allows(locked.status, "publish"):
        raise ValidationError(CALL_NOT_DRAFT)
    problems = call_publish_problems(locked, now=now)
    if problems:
        raise ValidationError(problems)
    CALL_LIFECYCLE.apply(
        call,
        "publish",
        actor=actor,
        locked=locked,
        changes={"published_at": now},
        audit_after={**_call_snapshot(locked), "criteria": _criteria_snapshot(locked)},
        message="Published: criteria, rubric and eligibility are now frozen",
    )
    if locked.opens_at <= now:
        CALL_LIFECYCLE.apply(
            call, "open", actor=actor, locked=locked, message="Opened for bids on publication"
        )
        call_alerts_send(call=locked)
    return _sync(call, locked)


@transaction.atomic
def call_unpublish(
    *, actor: User | None, call: Call, reason: str, now: dt.datetime | None = None
) -> Call:
    """Scheduled → draft, before the opening time: the call leaves the public pages and its
    criteria and eligibility can be corrected, then published again. Nobody can have bid yet."""
    require_actor(actor, "governance.manage_call", call)
    now = now or timezone.now()
    locked = _lock_call(call)
    if locked.status == CallStatus.DRAFT:
        return _sync(call, locked)  # already a draft (say the form was sent twice): nothing to do
    if (
        not CALL_LIFECYCLE.allows(locked.status, "unpublish")
        or locked.phase(now) != CallStatus.SCHEDULED
    ):
        raise ValidationError(CALL_ALREADY_OPENED)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": UNPUBLISH_REASON})
    CALL_LIFECYCLE.apply(
        call,
        "unpublish",
        actor=actor,
        locked=locked,
        changes={"published_at": None, "published_closes_at": None, "closing_extension_reason": ""},
        message=f"Taken back to draft before opening: {reason}",
    )
    return _sync(call, locked)


@transaction.atomic
def call_open(*, actor: User | None, call: Call, now: dt.datetime | None = None) -> Call:
    """Scheduled → open, at or after the opening time (the beat task calls this)."""
    require_actor(actor, "governance.manage_call", call, system=True)  # None: the beat, on time
    now = now or timezone.now()
    locked = _lock_call(call)
    if not CALL_LIFECYCLE.allows(locked.status, "open"):
        raise ValidationError(CALL_NOT_SCHEDULED)
    if now < locked.opens_at:
        raise ValidationError(CALL_NOT_YET_OPENING)
    CALL_LIFECYCLE.apply(call, "open", actor=actor, locked=locked, message="Opened for bids")
    call_alerts_send(call=locked)
    return _sync(call, locked)


@transaction.atomic
def call_close(
    *, actor: User | None, call: Call, now: dt.datetime | None = None, reason: str = ""
) -> Call:
    """Open → closed. At the closing time the beat task does this; a fund manager may close an
    open call early, giving the reason (the closing time then becomes now)."""
    require_actor(actor, "governance.manage_call", call, system=True)  # None: the beat, on time
    now = now or timezone.now()
    locked = _lock_call(call)
    if not CALL_LIFECYCLE.allows(locked.status, "close"):
        raise ValidationError(CALL_NOT_OPEN)
    extra: dict[str, Any] = {}
    message = "Closed at its published closing time"
    if now < locked.closes_at:
        if now <= locked.opens_at:
            raise ValidationError(CALL_NOT_STARTED)
        reason = (reason or "").strip()
        if not reason:
            raise ValidationError({"reason": CLOSE_EARLY_REASON})
        extra["closes_at"] = now
        message = f"Closed early: {reason}"
    CALL_LIFECYCLE.apply(call, "close", actor=actor, locked=locked, changes=extra, message=message)
    call_closed.send(sender=Call, call=locked, actor=actor)
    return _sync(call, locked)


@transaction.atomic
def call_extend_closing(
    *,
    actor: User | None,
    call: Call,
    closes_at: dt.datetime,
    reason: str,
    now: dt.datetime | None = None,
) -> Call:
    """Move a published call's closing time later, before it has closed, with a published reason.

    Only the closing time moves (criteria and eligibility stay frozen); the later timetable must
    still follow it. The first published closing time is kept to show bidders what changed.
    """
    require_actor(actor, "governance.manage_call", call)
    now = now or timezone.now()
    locked = _lock_call(call)
    if locked.phase(now) not in (CallStatus.SCHEDULED, CallStatus.OPEN):
        raise ValidationError(CALL_NOT_EXTENDABLE)
    errors: dict[str, list[str]] = {}
    reason = (reason or "").strip()
    if (
        locked.published_closes_at
        and closes_at == locked.closes_at
        and reason == locked.closing_extension_reason
    ):
        return _sync(call, locked)  # the same extension sent twice (a double submit): already done
    if not reason:
        _add(errors, "reason", EXTENSION_REASON)
    if closes_at <= locked.closes_at:
        _add(errors, "closes_at", EXTENSION_NOT_LATER)
    elif closes_at - locked.closes_at > dt.timedelta(days=366):
        _add(errors, "closes_at", EXTENSION_TOO_LONG)
    else:
        closes_on = timezone.localdate(closes_at)
        for name, what in (
            ("assessment_due_date", "date assessors' scores are due"),
            ("panel_meeting_date", "panel meeting"),
            ("decisions_expected_date", "date decisions are announced by"),
        ):
            date = getattr(locked, name)
            if date and date <= closes_on:
                _add(
                    errors,
                    "closes_at",
                    EXTENSION_PAST_TIMETABLE.format(what=what, date=f"{date:%-d %B %Y}"),
                )
                break
    if errors:
        raise ValidationError(errors)
    previous = locked.closes_at
    before = snapshot(locked, ("closes_at", "closing_extension_reason"))
    locked.published_closes_at = locked.published_closes_at or previous
    locked.closes_at = closes_at
    locked.closing_extension_reason = reason
    locked.full_clean()
    locked.save(
        update_fields=["closes_at", "published_closes_at", "closing_extension_reason", "updated_at"]
    )
    shown = timezone.localtime(closes_at)
    audit_record(
        actor=actor,
        action="call.closing_extended",
        target=locked,
        before=before,
        after=snapshot(locked, ("closes_at", "closing_extension_reason")),
        message=f"Closing time extended to {nhs_datetime(shown)} (UK time): {reason}",
    )
    call_closing_extended.send(sender=Call, call=locked, actor=actor, previous_closes_at=previous)
    return _sync(call, locked)


@transaction.atomic
def call_start_assessment(
    *, actor: User | None, call: Call, now: dt.datetime | None = None
) -> Call:
    """Closed → in assessment. A call past its closing time counts as closed even if the
    beat task has not run yet; its closing is then recorded first."""
    require_actor(actor, "governance.manage_call", call)
    now = now or timezone.now()
    locked = _lock_call(call)
    if locked.phase(now) != CallStatus.CLOSED:
        raise ValidationError(CALL_NOT_CLOSED)
    if locked.status != CallStatus.CLOSED:
        CALL_LIFECYCLE.apply(
            call, "close", actor=None, locked=locked, message="Closed at its published closing time"
        )
    CALL_LIFECYCLE.apply(
        call, "start_assessment", actor=actor, locked=locked, message="Assessment started"
    )
    call_entered_assessment.send(sender=Call, call=locked, actor=actor)
    return _sync(call, locked)


@transaction.atomic
def call_mark_decided(*, actor: User | None, call: Call, now: dt.datetime | None = None) -> Call:
    """In assessment → decided; the decisions count as released now (``decisions_released_at``)."""
    require_actor(actor, "governance.manage_call", call)
    now = now or timezone.now()
    locked = _lock_call(call)
    if not CALL_LIFECYCLE.allows(locked.status, "decide"):
        raise ValidationError(CALL_NOT_IN_ASSESSMENT)
    CALL_LIFECYCLE.apply(
        call,
        "decide",
        actor=actor,
        locked=locked,
        message="Decisions made and released",
        changes={"decisions_released_at": locked.decisions_released_at or now},
    )
    return _sync(call, locked)


@transaction.atomic
def call_close_out(*, actor: User | None, call: Call) -> Call:
    """Decided → closed out: nothing more happens on the call itself."""
    require_actor(actor, "governance.manage_call", call)
    locked = _lock_call(call)
    if not CALL_LIFECYCLE.allows(locked.status, "close_out"):
        raise ValidationError(CALL_NOT_DECIDED)
    CALL_LIFECYCLE.apply(call, "close_out", actor=actor, locked=locked, message="Closed out")
    return _sync(call, locked)


def calls_advance(*, now: dt.datetime | None = None) -> list[tuple[int, str]]:
    """Open and close calls whose times have come, as the portal (the beat task runs this).

    Idempotent: each call is locked and its status re-read before it moves, so running this
    twice, or in two workers at once, makes each transition (and its audit event) once.
    """
    now = now or timezone.now()
    due = (
        Call.objects.filter(
            Q(status=CallStatus.SCHEDULED, opens_at__lte=now)
            | Q(status__in=[CallStatus.SCHEDULED, CallStatus.OPEN], closes_at__lte=now)
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    done: list[tuple[int, str]] = []
    for pk in list(due):
        with transaction.atomic():
            call = Call.objects.select_for_update().filter(pk=pk).first()
            if call is None:
                continue
            if call.status == CallStatus.SCHEDULED and call.opens_at <= now:
                call_open(actor=None, call=call, now=now)
                done.append((pk, CallStatus.OPEN))
            if call.status == CallStatus.OPEN and call.closes_at <= now:
                call_close(actor=None, call=call, now=now)
                done.append((pk, CallStatus.CLOSED))
    return done
