"""What the bids stage does when its call moves: bids go into assessment with it, its managers
hear how many came in when it closes, draft writers hear of a later closing time and are
reminded before it closes; and who hears of answers to questions on it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from governance import notifications
from governance.models import Call, CallStatus, Membership, User
from governance.selectors import call_managers
from governance.services import notify

from ..checks import uk_datetime
from ..models import Bid, BidStatus
from ..selectors import lead_org_member_users
from .bid_steps import bids_start_assessment_for_call


def _on_call_entered_assessment(
    sender: Any, *, call: Call, actor: User | None, **kwargs: Any
) -> None:
    bids_start_assessment_for_call(actor=actor, call=call)


def _on_call_closed(sender: Any, *, call: Call, actor: User | None, **kwargs: Any) -> None:
    """Tell the call's fund managers it has closed, and how many bids came in (once)."""
    count = (
        Bid.objects.filter(call=call, submitted_at__isnull=False)
        .exclude(status=BidStatus.WITHDRAWN)
        .count()
    )
    notifications.send_to_each(
        "call_closed",
        call_managers(call),
        about=call,
        fund=call.fund,
        values={
            "call_title": call.title,
            "deadline": uk_datetime(call.closes_at),
            "bid_count": str(count),
        },
        link=reverse("governance:call_manage", kwargs={"slug": call.slug}),
    )


def call_bidder_organisations(call: Call) -> list[int]:
    """Lead organisations of the call's bids (any status): they hear of answers to questions."""
    return list(
        Bid.objects.filter(call=call).values_list("lead_organisation_id", flat=True).distinct()
    )


DRAFT_REMINDER_DAYS = (1, 3, 14)


def draft_bid_reminders_send(*, now: dt.datetime | None = None) -> int:
    """Remind the writers of each draft bid 14, 3 and 1 days before its call closes (UK calendar
    days), each reminder once per bid, person and closing date. A missed run catches up with the
    nearest reminder only. Idempotent: returns how many notifications went now."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    sent = 0
    calls = Call.objects.filter(
        status=CallStatus.OPEN, opens_at__lte=now, closes_at__gt=now
    ).select_related("fund")
    for call in calls.order_by("pk"):
        days_left = (timezone.localdate(call.closes_at) - today).days
        window = next((days for days in DRAFT_REMINDER_DAYS if days_left <= days), None)
        if window is None:
            continue
        occasion = f"{window}d:{timezone.localdate(call.closes_at).isoformat()}"
        for bid in Bid.objects.filter(call=call, status=BidStatus.DRAFT).order_by("pk"):
            with transaction.atomic():
                sent += len(
                    notifications.send_to_each(
                        "bid_draft_closing",
                        lead_org_member_users(bid).order_by("email"),
                        about=bid,
                        fund=call.fund,
                        occasion=occasion,
                        link=bid.get_absolute_url(),
                        values={
                            "bid_reference": bid.reference,
                            "bid_title": bid.title,
                            "call_title": call.title,
                            "deadline": uk_datetime(call.closes_at),
                            "days": notifications.days_label(days_left),
                        },
                    )
                )
    return sent


def _on_call_closing_extended(
    sender: Any, *, call: Call, actor: User | None, previous_closes_at: dt.datetime, **kwargs: Any
) -> None:
    """Tell everyone writing a draft bid on the call that they have longer, and why."""
    # Each lead organisation's first draft, then its members in one query: one message a person.
    first_draft: dict[int, int] = {}
    for bid_id, org_id in (
        Bid.objects.filter(call=call, status=BidStatus.DRAFT)
        .order_by("pk")
        .values_list("pk", "lead_organisation_id")
    ):
        first_draft.setdefault(org_id, bid_id)
    writers: dict[User, int] = {}
    for membership in Membership.objects.filter(
        organisation_id__in=list(first_draft), user__is_active=True
    ).select_related("user"):
        bid_id = first_draft[membership.organisation_id]
        writers[membership.user] = min(bid_id, writers.get(membership.user, bid_id))
    for user, bid_id in writers.items():
        notify(
            user=user,
            subject=f"More time to bid: {call.title}"[:200],
            body=(
                f"The closing time for {call.title} has moved from {uk_datetime(previous_closes_at)} "
                f"to {uk_datetime(call.closes_at)}.\n\nThe reason given: {call.closing_extension_reason}"
            ),
            link=reverse("applications:bid_detail", kwargs={"pk": bid_id}),
        )
