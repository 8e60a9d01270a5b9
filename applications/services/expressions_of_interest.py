"""Two-stage calls: sending an expression of interest while the call's EOI stage is open, and
shortlisting it (invited to bid, or not, with the reason) through ``EOI_LIFECYCLE``."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from governance.access import require_actor
from governance.audit import audit_record, snapshot
from governance.models import Call, Membership, Organisation, User
from governance.money import format_money
from governance.services import notify

from .. import checks
from ..checks import uk_datetime
from ..lifecycle import EOI_LIFECYCLE
from ..messages import (
    AUDITOR_IN_ORGANISATION,
    EOI_ALREADY_SENT,
    EOI_CLOSED,
    EOI_COST_NEEDED,
    EOI_COST_TOO_HIGH,
    EOI_NO_STAGE,
    EOI_NOT_OPEN,
    EOI_NOT_WAITING,
    EOI_PROBLEM_NEEDED,
    EOI_REASON_NEEDED,
    EOI_STILL_OPEN,
    EOI_SUMMARY_NEEDED,
    EOI_TITLE_NEEDED,
    NO_ORGANISATION,
    NOT_YOUR_ORGANISATION,
)
from ..models import EoiStatus, ExpressionOfInterest
from ..selectors import fund_auditor_among_members, organisation_member_users
from ._shared import _clean_text, _is_member, _parse_amount

# Two-stage calls: expressions of interest --------------------------------------------------------

EOI_FIELDS = ("title", "summary", "problem", "estimated_cost", "partners", "status", "reason")


def eoi_submit(
    *,
    actor: User,
    call: Call,
    organisation: Organisation,
    title: str,
    summary: str,
    problem: str,
    estimated_cost: Any,
    partners: str = "",
    now: dt.datetime | None = None,
) -> ExpressionOfInterest:
    """Send an expression of interest for one of the actor's organisations while the call's EOI
    stage is open. Late ones are refused, judged against when the request arrived."""
    now = now or timezone.now()
    if not Membership.objects.filter(user=actor).exists():
        raise ValidationError(NO_ORGANISATION, code="no_organisation")
    if not _is_member(actor, organisation.pk):
        raise ValidationError({"organisation": NOT_YOUR_ORGANISATION}, code="not_member")
    if not call.eoi_stage:
        raise ValidationError(EOI_NO_STAGE, code="no_stage")
    phase = call.eoi_phase(now)
    if phase == "closed":
        raise ValidationError(
            EOI_CLOSED.format(closed=uk_datetime(call.eoi_closes_at) if call.eoi_closes_at else ""),
            code="closed",
        )
    if phase != "open":
        raise ValidationError(
            EOI_NOT_OPEN.format(
                opens=uk_datetime(call.eoi_opens_at) if call.eoi_opens_at else "a later date"
            ),
            code="not_open",
        )
    errors: dict[str, list[str]] = {}
    if reason := checks.lead_eligibility_problem(call, organisation):
        errors["organisation"] = [reason]
    elif fund_auditor_among_members(call.fund_id, organisation.pk):
        errors["organisation"] = [AUDITOR_IN_ORGANISATION.format(organisation=organisation.name)]
    elif ExpressionOfInterest.objects.filter(call=call, lead_organisation=organisation).exists():
        errors["organisation"] = [EOI_ALREADY_SENT.format(organisation=organisation.name)]
    values = {
        "title": _clean_text(title),
        "summary": _clean_text(summary),
        "problem": _clean_text(problem),
        "partners": _clean_text(partners),
    }
    for name, message in (
        ("title", EOI_TITLE_NEEDED),
        ("summary", EOI_SUMMARY_NEEDED),
        ("problem", EOI_PROBLEM_NEEDED),
    ):
        if not values[name]:
            errors[name] = [message]
    cost = None
    if estimated_cost in (None, ""):
        errors["estimated_cost"] = [EOI_COST_NEEDED]
    else:
        cost_errors: list[str] = []
        cost = _parse_amount(estimated_cost, cost_errors)
        if cost_errors:
            errors["estimated_cost"] = cost_errors
        elif cost is not None and call.max_amount and cost > call.max_amount:
            errors["estimated_cost"] = [EOI_COST_TOO_HIGH.format(max=format_money(call.max_amount))]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        eoi = ExpressionOfInterest(
            call=call,
            lead_organisation=organisation,
            estimated_cost=cost,
            submitted_by=actor,
            submitted_at=now,
            **values,
        )
        eoi.full_clean(exclude=["call", "lead_organisation", "submitted_by", "decided_by", "bid"])
        try:
            with transaction.atomic():
                eoi.save()
        except IntegrityError:  # a colleague sent one a moment ago
            raise ValidationError(
                {"organisation": EOI_ALREADY_SENT.format(organisation=organisation.name)}
            ) from None
        audit_record(
            actor=actor,
            action="eoi.submitted",
            target=eoi,
            message=f"Expression of interest sent for {organisation.name}",
            after=snapshot(eoi, EOI_FIELDS),
        )
    return eoi


def _eoi_shortlist(
    *,
    actor: User,
    eoi: ExpressionOfInterest,
    action: str,
    reason: str,
    now: dt.datetime | None = None,
) -> ExpressionOfInterest:
    """Shortlisting (``EOI_LIFECYCLE``): checks the actor, locks the row, checks the state and
    the clock, makes the change and tells the organisation's members."""
    require_actor(actor, "applications.shortlist_eois", eoi.call)
    now = now or timezone.now()
    target = EOI_LIFECYCLE.transition(action).target
    reason = _clean_text(reason)
    with transaction.atomic():
        locked = (
            ExpressionOfInterest.objects.select_for_update()
            .select_related("call", "lead_organisation")
            .get(pk=eoi.pk)
        )
        if not EOI_LIFECYCLE.allows(locked.status, action):
            raise ValidationError(
                EOI_NOT_WAITING.format(status=locked.get_status_display().lower()), code="decided"
            )
        if locked.call.eoi_phase(now) != "closed":
            raise ValidationError(
                EOI_STILL_OPEN.format(
                    closed=uk_datetime(locked.call.eoi_closes_at)
                    if locked.call.eoi_closes_at
                    else ""
                ),
                code="still_open",
            )
        if target == EoiStatus.NOT_INVITED and not reason:
            raise ValidationError({"reason": EOI_REASON_NEEDED}, code="required")
        status_label = EoiStatus(target).label.lower()
        EOI_LIFECYCLE.apply(
            eoi,
            action,
            actor=actor,
            locked=locked,
            changes={"reason": reason, "decided_by": actor, "decided_at": now},
            message=f"{locked.lead_organisation.name}: {status_label}"
            + (f". Reason: {reason}" if reason else ""),
        )
        # The call's public page counts those invited: its cached copies must be read afresh.
        Call.objects.filter(pk=locked.call_id).update(updated_at=timezone.now())
        call = locked.call
        if target == EoiStatus.INVITED:
            subject = f"You are invited to bid: {call.title}"
            body = (
                f"Your expression of interest “{locked.title}” has been shortlisted. {locked.lead_organisation.name} "
                f"is invited to write a full bid, which opens on {uk_datetime(call.opens_at)} and closes on "
                f"{uk_datetime(call.closes_at)}. Your answers are carried forward into the bid."
                + (f"\n\n{reason}" if reason else "")
            )
        else:
            subject = f"Your expression of interest was not shortlisted: {call.title}"
            body = (
                f"Thank you for your expression of interest “{locked.title}”. It has not been shortlisted, so "
                f"{locked.lead_organisation.name} is not invited to write a full bid.\n\nFeedback: {reason}"
            )
        for user in organisation_member_users(locked.lead_organisation_id):
            notify(user=user, subject=subject, body=body, link=locked.get_absolute_url())
    eoi.refresh_from_db()
    return eoi


def eoi_invite(
    *, actor: User, eoi: ExpressionOfInterest, reason: str = "", now: dt.datetime | None = None
) -> ExpressionOfInterest:
    """Shortlist: the organisation may start the full bid once the call opens."""
    return _eoi_shortlist(actor=actor, eoi=eoi, action="invite", reason=reason, now=now)


def eoi_decline(
    *, actor: User, eoi: ExpressionOfInterest, reason: str, now: dt.datetime | None = None
) -> ExpressionOfInterest:
    """Not shortlisted, with the reason the organisation reads as feedback."""
    return _eoi_shortlist(actor=actor, eoi=eoi, action="decline", reason=reason, now=now)
