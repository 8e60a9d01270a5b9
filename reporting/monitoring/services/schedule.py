"""The schedule of an award's monitoring returns, and opening them.

- ``return_schedule_sync`` makes an award's returns follow its dates (idempotent).
- ``return_open`` opens a return once its period has ended; ``returns_open_ended`` opens them all.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from awards.models import Award, Instalment
from governance.access import require_actor
from governance.audit import audit_record
from governance.models import User

from ...models import MonitoringReturn, ReturnStatus
from ..lifecycle import RETURN_LIFECYCLE
from ..selectors import (
    KEPT_RETURN_STATUSES,
    SCHEDULED_AWARD_STATUSES,
    due_date_for,
    instalment_key_after,
    return_periods,
)
from ._shared import _date, _period

# The schedule -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Wanted:
    start: dt.date
    end: dt.date
    is_final: bool
    due: dt.date
    instalment: Instalment | None


def _uncovered(
    start: dt.date, end: dt.date, kept: list[MonitoringReturn]
) -> list[tuple[dt.date, dt.date]]:
    """The parts of start..end that no kept return covers."""
    pieces = [(start, end)]
    for ret in kept:
        next_pieces = []
        for first, last in pieces:
            if ret.period_end < first or ret.period_start > last:
                next_pieces.append((first, last))
                continue
            if ret.period_start > first:
                next_pieces.append((first, ret.period_start - dt.timedelta(days=1)))
            if ret.period_end < last:
                next_pieces.append((ret.period_end + dt.timedelta(days=1), last))
        pieces = next_pieces
    return pieces


def _wanted_returns(award: Award, kept: list[MonitoringReturn]) -> list[_Wanted]:
    instalments = {(i.financial_year, i.quarter): i for i in award.instalments.all()}
    held = {ret.instalment_id for ret in kept if ret.instalment_id}
    periods = [
        piece
        for start, end in return_periods(
            award.start_date, award.end_date, award.return_frequency_months
        )
        for piece in _uncovered(start, end, kept)
    ]
    wanted = []
    for start, end in periods:
        is_final = end == award.end_date
        instalment = instalments.get(instalment_key_after(end))
        if instalment is not None and instalment.pk in held:
            instalment = None
        wanted.append(
            _Wanted(start, end, is_final, due_date_for(end, is_final=is_final), instalment)
        )
    return wanted


def _sync(award: Award, *, today: dt.date | None = None) -> dict[str, int]:
    """Make the award's returns follow its dates. The award row must be locked.

    Submitted and approved returns are kept as they are; unsubmitted ones move with the
    schedule (dates, due date, final or not, the instalment they release); returns the
    schedule no longer has are removed unless they were sent back (those hold reviewed work).
    """
    today = today or timezone.localdate()
    existing = list(
        MonitoringReturn.objects.select_for_update().filter(award=award).order_by("period_start")
    )
    kept = [ret for ret in existing if ret.status in KEPT_RETURN_STATUSES]
    movable = {ret.period_start: ret for ret in existing if ret.status not in KEPT_RETURN_STATUSES}
    wanted = _wanted_returns(award, kept)
    wanted_starts = {w.start for w in wanted}
    changes = {"created": 0, "moved": 0, "removed": 0}

    stale = [
        ret
        for start, ret in movable.items()
        if start not in wanted_starts and ret.status != ReturnStatus.RETURNED
    ]
    for gone in stale:
        gone.delete()
        changes["removed"] += 1
    # Instalment links are unique: free the ones that move before any is given to another return.
    relink = [ret for ret in movable.values() if ret.period_start in wanted_starts]
    links = {w.start: (w.instalment.pk if w.instalment else None) for w in wanted}
    moving = [ret.pk for ret in relink if ret.instalment_id != links[ret.period_start]]
    if moving:
        MonitoringReturn.objects.filter(pk__in=moving).update(instalment=None)
    for w in wanted:
        ret = movable.get(w.start)
        if ret is None:
            MonitoringReturn.objects.create(
                award=award,
                period_start=w.start,
                period_end=w.end,
                due_date=w.due,
                is_final=w.is_final,
                instalment=w.instalment,
                status=ReturnStatus.UPCOMING,
            )
            changes["created"] += 1
            continue
        values = {
            "period_end": w.end,
            "due_date": w.due,
            "is_final": w.is_final,
            "instalment_id": links[w.start],
        }
        # its period runs on: not due yet
        postpone = ret.status == ReturnStatus.OPEN and w.end >= today
        if (
            postpone
            or ret.pk in moving
            or any(getattr(ret, name) != value for name, value in values.items())
        ):
            for name, value in values.items():
                setattr(ret, name, value)
            ret.full_clean(exclude=["instalment"])
            ret.save()
            if postpone:
                RETURN_LIFECYCLE.apply(
                    ret,
                    "postpone",
                    actor=None,
                    locked=ret,
                    changes={"opened_at": None},
                    clean=False,
                    message=f"Monitoring return for {_period(ret)} is not due yet: its period "
                    f"now ends {_date(ret.period_end)}",
                )
            changes["moved"] += 1
    if any(changes.values()):
        audit_record(
            actor=None,
            action="returns.scheduled",
            target=award,
            after=changes,
            message=f"Monitoring schedule updated: {changes['created']} returns added, "
            f"{changes['moved']} moved, {changes['removed']} removed",
        )
    return changes


def return_schedule_sync(
    *, award: Award, today: dt.date | None = None, actor: User | None = None
) -> dict[str, int]:
    """Create or update an active (or suspended) award's monitoring returns. Idempotent: running
    it again changes nothing; after a variation the unsubmitted returns follow the new dates.
    Returns how many returns were created, moved and removed. Awards in other states are left alone.
    ``actor=None`` is the portal keeping the schedule (the award's hooks, the beat); a person
    asking for it must manage the award."""
    require_actor(actor, "awards.manage_award", award, system=True)
    with transaction.atomic():
        award = Award.objects.select_for_update().get(pk=award.pk)
        if award.status not in SCHEDULED_AWARD_STATUSES:
            return {"created": 0, "moved": 0, "removed": 0}
        return _sync(award, today=today)


def return_open(*, return_id: int, today: dt.date | None = None) -> bool:
    """Open a return for reporting once its period has ended: upcoming → open. Idempotent."""
    today = today or timezone.localdate()
    with transaction.atomic():
        ret = (
            MonitoringReturn.objects.select_for_update()
            .select_related("award")
            .filter(pk=return_id)
            .first()
        )
        if (
            ret is None
            or ret.status != ReturnStatus.UPCOMING
            or ret.period_end >= today
            or ret.award.status not in SCHEDULED_AWARD_STATUSES
        ):
            return False
        RETURN_LIFECYCLE.apply(
            ret,
            "open",
            actor=None,
            locked=ret,
            changes={"opened_at": timezone.now()},
            clean=False,
            recorded=(),
            audit_before={"status": ReturnStatus.UPCOMING},
            audit_after={"status": ReturnStatus.OPEN, "due_date": ret.due_date},
            message=f"Monitoring return for {_period(ret)} opened, due {_date(ret.due_date)}",
        )
    return True


def returns_open_ended(*, today: dt.date | None = None) -> list[int]:
    """Open every return whose period has ended (ids of those opened)."""
    today = today or timezone.localdate()
    ids = (
        MonitoringReturn.objects.filter(
            status=ReturnStatus.UPCOMING,
            period_end__lt=today,
            award__status__in=SCHEDULED_AWARD_STATUSES,
        )
        .order_by("period_end", "pk")
        .values_list("pk", flat=True)
    )
    return [pk for pk in list(ids) if return_open(return_id=pk, today=today)]
