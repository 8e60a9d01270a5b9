"""Helpers the topic modules share: membership checks, the bid's row lock, the clock and
state checks every change makes, the section-editing context (version check, next version,
audit event) and small cleaners for what a form sent."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils import timezone

from governance.audit import audit_record
from governance.models import Membership, User
from governance.money import parse_money
from governance.prepared import PreparedQuery

from .. import checks
from ..checks import uk_datetime
from ..messages import BID_LOCKED, CALL_CLOSED_FOR_CHANGES, NOT_YOUR_SECTION, SECTION_CONFLICT
from ..models import (
    Bid,
    BidCollaborator,
    BidSection,
    BidSectionState,
    BidStatus,
    InvitationState,
    TeamRole,
)

# Helpers ---------------------------------------------------------------------------------------


def _is_member(user: User | None, organisation_id: int | None) -> bool:
    if user is None or organisation_id is None or not user.is_authenticated:
        return False
    return Membership.objects.filter(user=user, organisation_id=organisation_id).exists()


def _require_lead_member(actor: User, bid: Bid) -> None:
    if not _is_member(actor, bid.lead_organisation_id):
        raise PermissionDenied("Only members of the lead organisation can change this bid")


def _require_section_writer(actor: User, bid: Bid, section: str) -> None:
    """Members of the lead organisation write every section; a team editor writes the
    sections they are responsible for (all of them if none were named)."""
    if _is_member(actor, bid.lead_organisation_id):
        return
    member = (
        BidCollaborator.objects.filter(
            bid=bid, user=actor, state=InvitationState.ACCEPTED, role=TeamRole.EDIT
        ).first()
        if actor is not None and actor.is_authenticated
        else None
    )
    if member is None:
        raise PermissionDenied(
            "Only members of the lead organisation and the bid team's editors can change this bid"
        )
    if member.sections and section not in member.sections:
        raise ValidationError(
            NOT_YOUR_SECTION.format(section=BidSection(section).label), code="not_your_section"
        )


# Every save locks its bid first: the SQL is built once per process.
_LOCKED_BID: PreparedQuery[Bid] = PreparedQuery(
    lambda pk: Bid.objects.select_for_update(of=("self",))
    .select_related("call", "call__fund", "lead_organisation", "commissioner")
    .filter(pk=pk)
    .order_by()
)


def _lock(bid: Bid) -> Bid:
    """The bid's row, locked until the transaction ends, with its call."""
    return _LOCKED_BID.get(bid.pk)


def _check_changeable(bid: Bid, now: dt.datetime) -> None:
    if bid.status != BidStatus.DRAFT:
        raise ValidationError(
            BID_LOCKED.format(status=bid.get_status_display().lower()), code="locked"
        )
    if not bid.call.is_accepting_bids(now):
        raise ValidationError(
            CALL_CLOSED_FOR_CHANGES.format(closed=uk_datetime(bid.call.closes_at)), code="closed"
        )


def _section_state(bid: Bid, section: str) -> BidSectionState:
    state, _ = BidSectionState.objects.get_or_create(bid=bid, section=section)
    return state


def _conflict(state: BidSectionState) -> ValidationError:
    who = state.updated_by.full_name if state.updated_by else "Someone else"
    when = uk_datetime(state.updated_at) if state.updated_at else "an earlier date"
    return ValidationError(SECTION_CONFLICT.format(who=who, when=when), code="conflict")


@contextmanager
def _editing(
    *,
    actor: User,
    bid: Bid,
    section: str,
    version: int | None,
    message: str = "",
    now: dt.datetime | None = None,
) -> Iterator[tuple[Bid, dict[str, Any]]]:
    """Lock the bid, check it can change and the section has not moved on, then (after the
    body has written) move the section to its next version and record who saved it.

    ``version=None`` skips the conflict check: used for adding or removing one item
    (a partner, a file), which cannot overwrite anyone's work. ``now`` is when the request
    reached the service (``governance.request_time``): the closing time is judged against it.
    """
    now = now or timezone.now()
    with transaction.atomic():
        locked = _lock(bid)
        _require_section_writer(actor, locked, section)
        _check_changeable(locked, now)
        state = _section_state(locked, section)
        if version is not None and version != state.version:
            raise _conflict(state)
        record: dict[str, Any] = {}
        yield locked, record
        state.version += 1
        state.updated_by = actor
        state.updated_at = now
        state.status = checks.status_of(state.version, checks.problems_in_section(locked, section))
        state.save()
        audit_record(
            actor=actor,
            action=record.get("action", "bid.section_saved"),
            target=locked,
            message=message or f"{BidSection(section).label} saved (version {state.version})",
            before=record.get("before"),
            after=record.get("after"),
        )
    bid.refresh_from_db()


def _parse_amount(value: Any, field_errors: list[str]) -> Decimal | None:
    try:
        return parse_money(value)
    except ValidationError as error:
        field_errors.extend(error.messages)
        return None


def _clean_text(value: Any) -> str:
    return (
        (value or "").strip()
        if isinstance(value, str)
        else ("" if value is None else str(value).strip())
    )


def _replace(manager: Any, rows: Sequence[models.Model]) -> None:
    """Swap a section's rows for the new ones, each checked by its model first."""
    errors = []
    for row in rows:
        try:
            row.full_clean(exclude=["bid"])
        except ValidationError as error:
            errors.extend(error.messages)
    if errors:
        raise ValidationError(sorted(set(errors)))
    manager.all().delete()
    manager.model.objects.bulk_create(rows)
