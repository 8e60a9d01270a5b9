"""A bid's steps after it is written, through ``BID_LIFECYCLE``: submission (with its
declarations and partners' sign-off), withdrawal, ineligibility, assessment, and the panel's
decision (funded or not)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from governance import notifications
from governance.access import require_actor
from governance.models import Call, User
from governance.money import format_money
from governance.selectors import call_managers
from governance.services import notify

from .. import checks
from ..checks import uk_datetime
from ..lifecycle import BID_LIFECYCLE
from ..messages import (
    BID_ALREADY_SUBMITTED,
    DECLARATIONS_NEEDED,
    INELIGIBLE_REASON_NEEDED,
    PARTNERS_NOT_SIGNED_OFF,
    WITHDRAW_AFTER_CLOSE,
    WITHDRAW_ONLY_SUBMITTED,
)
from ..models import Bid, BidSection, BidStatus, SectionStatus
from ..selectors import lead_org_member_users
from ._shared import _check_changeable, _clean_text, _lock, _require_lead_member, _section_state
from .team import partners_not_signed_off

# A change the bid's state does not allow: the table refuses it with this.
TRANSITION_NOT_ALLOWED = BID_LIFECYCLE.refusal
STATE_FIELDS = ("status", "endorsement_status", "submitted_at", "withdrawn_at", "ineligible_reason")


# Submission ------------------------------------------------------------------------------------


def bid_submit(
    *, actor: User, bid: Bid, declarations_confirmed: bool, now: dt.datetime | None = None
) -> Bid:
    """Submit the bid: once, before the closing time (to the second), when nothing is missing.

    The bid's row is locked, so of two submissions at once (double click, two tabs) one
    submits and the other finds it submitted (``BID_ALREADY_SUBMITTED``, code
    ``already_submitted``). The submitter is emailed the reference.
    """
    now = now or timezone.now()
    with transaction.atomic():
        locked = _lock(bid)
        _require_lead_member(actor, locked)
        if locked.status == BidStatus.SUBMITTED:
            raise ValidationError(BID_ALREADY_SUBMITTED, code="already_submitted")
        _check_changeable(locked, now)
        problems = checks.bid_problems(locked, now=now)
        if problems:
            raise ValidationError([problem.message for problem in problems], code="incomplete")
        missing = partners_not_signed_off(locked)
        if missing:
            raise ValidationError(
                PARTNERS_NOT_SIGNED_OFF.format(names=", ".join(o.name for o in missing)),
                code="not_signed_off",
            )
        if not declarations_confirmed:
            raise ValidationError({"declarations": DECLARATIONS_NEEDED}, code="declarations")
        BID_LIFECYCLE.apply(
            bid,
            "submit",
            actor=actor,
            locked=locked,
            message=f"Bid {locked.reference} submitted",
            changes={
                "submitted_at": now,
                "submitted_by": actor,
                "declarations_accepted_at": now,
                "declarations_accepted_by": actor,
            },
        )
        state = _section_state(locked, BidSection.DECLARATIONS)
        state.status, state.version, state.updated_by, state.updated_at = (
            SectionStatus.COMPLETED,
            state.version + 1,
            actor,
            now,
        )
        state.save()
        requested = sum(locked.costs.values_list("amount", flat=True), Decimal("0.00"))
        notify(
            user=actor,
            subject=f"Bid submitted: {locked.reference}",
            body=(
                f"Your bid \u201c{locked.title}\u201d to {locked.call.title} was submitted on "
                f"{uk_datetime(now)}.\n\nReference: {locked.reference}\nLead organisation: "
                f"{locked.lead_organisation.name}\nAmount asked for: {format_money(requested)}\n\n"
                "Keep the reference: quote it if you contact the fund."
            ),
            link=locked.get_absolute_url(),
        )
        notifications.send_to_each(
            "bid_submitted",
            call_managers(locked.call),
            about=locked,
            fund=locked.call.fund,
            values={
                "bid_reference": locked.reference,
                "bid_title": locked.title,
                "call_title": locked.call.title,
                "organisation": locked.lead_organisation.name,
            },
            link=locked.get_absolute_url(),
        )
    bid.refresh_from_db()
    return bid


def bid_withdraw(*, actor: User, bid: Bid, now: dt.datetime | None = None) -> Bid:
    """Withdraw a submitted bid, possible until the call closes."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = _lock(bid)
        _require_lead_member(actor, locked)
        if not BID_LIFECYCLE.allows(locked.status, "withdraw"):
            raise ValidationError(WITHDRAW_ONLY_SUBMITTED, code="not_submitted")
        if now >= locked.call.closes_at:
            raise ValidationError(
                WITHDRAW_AFTER_CLOSE.format(closed=uk_datetime(locked.call.closes_at)),
                code="closed",
            )
        BID_LIFECYCLE.apply(
            bid,
            "withdraw",
            actor=actor,
            locked=locked,
            changes={"withdrawn_at": now},
            message=f"Bid {locked.reference} withdrawn",
        )
    bid.refresh_from_db()
    return bid


def bid_mark_ineligible(*, actor: User | None, bid: Bid, reason: str) -> Bid:
    """Submitted or in assessment → ineligible, with the reason the applicant will see."""
    require_actor(actor, "applications.manage_bid", bid)
    reason = _clean_text(reason)
    if not reason:
        raise ValidationError({"reason": INELIGIBLE_REASON_NEEDED}, code="required")

    with transaction.atomic():
        locked = BID_LIFECYCLE.apply(
            bid,
            "mark_ineligible",
            actor=actor,
            changes={"ineligible_reason": reason},
            message=f"Marked ineligible: {reason[:200]}",
        )
        for user in lead_org_member_users(locked):
            notify(
                user=user,
                subject=f"Bid {locked.reference} is ineligible",
                body=f"The fund has found your bid \u201c{locked.title}\u201d ineligible.\n\nReason: {reason}",
                link=locked.get_absolute_url(),
            )
    bid.refresh_from_db()
    return bid


def bid_start_assessment(*, actor: User | None, bid: Bid) -> Bid:
    """Submitted → in assessment (the assessment stage calls this when the call closes)."""
    require_actor(actor, "applications.manage_bid", bid)
    BID_LIFECYCLE.apply(bid, "start_assessment", actor=actor, message="Assessment started")
    bid.refresh_from_db()
    return bid


def bids_start_assessment_for_call(*, actor: User | None, call: Call) -> int:
    """Every submitted bid of a call → in assessment; run when the call enters assessment
    (``governance.signals.call_entered_assessment``), inside the same transaction."""
    require_actor(actor, "governance.manage_call", call)
    bids = list(Bid.objects.filter(call=call, status=BidStatus.SUBMITTED).order_by("pk"))
    for bid in bids:
        bid_start_assessment(actor=actor, bid=bid)
    return len(bids)


def bid_mark_funded(*, actor: User | None, bid: Bid) -> Bid:
    """In assessment → funded (the panel decided to fund it)."""
    require_actor(actor, "applications.manage_bid", bid)
    BID_LIFECYCLE.apply(bid, "fund", actor=actor, message="Panel decision: funded")
    bid.refresh_from_db()
    return bid


def bid_mark_not_funded(*, actor: User | None, bid: Bid) -> Bid:
    """In assessment → not funded."""
    require_actor(actor, "applications.manage_bid", bid)
    BID_LIFECYCLE.apply(bid, "not_fund", actor=actor, message="Panel decision: not funded")
    bid.refresh_from_db()
    return bid
