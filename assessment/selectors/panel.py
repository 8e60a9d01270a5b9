"""The panel's reads: a bid's scores, the calls chairs, fund managers and auditors see, decisions
and the applicants' feedback, reminders and clarifications, and panel packs.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import F, Prefetch, Q, QuerySet
from django.utils import timezone

from applications.models import Bid, BidStatus
from applications.selectors import bids_for_call
from governance.models import Call, CallStatus, Criterion, PanelMember, User
from governance.selectors import calls_managed_by

from ..models import (
    Assignment,
    AssignmentStatus,
    Clarification,
    Moderation,
    PanelDecision,
    PanelPack,
    Score,
    SheetStatus,
)
from ._shared import ASSESSED_BID_STATUSES, CHAIRING_ROLES, LIVE_STATUSES, criteria_of
from .conflicts import excluded_bid_ids

# A bid's scores for the panel --------------------------------------------------------------------


@dataclass
class AssessorScores:
    assignment: Assignment
    scores: dict[int, Score]


def bid_sheets(bid: Bid) -> list[AssessorScores]:
    """Each live assignment's sheet with its scores (submitted or not), in assignment order."""
    assignments = list(
        Assignment.objects.filter(bid=bid, status__in=LIVE_STATUSES)
        .select_related("assessor", "sheet")
        .prefetch_related(
            Prefetch("sheet__scores", queryset=Score.objects.order_by("criterion_id"))
        )
        .order_by("assigned_at", "pk")
    )
    result = []
    for assignment in assignments:
        sheet = getattr(assignment, "sheet", None)
        result.append(
            AssessorScores(
                assignment, {s.criterion_id: s for s in sheet.scores.all()} if sheet else {}
            )
        )
    return result


def moderations_of(bid: Bid) -> dict[int, Moderation]:
    return {
        m.criterion_id: m for m in Moderation.objects.filter(bid=bid).select_related("moderated_by")
    }


# Chairs, fund managers and applicants --------------------------------------------------------------


def calls_chaired_by(user: User) -> QuerySet[Call]:
    """Calls in assessment whose panel the person chairs or deputy-chairs."""
    if not user.is_authenticated:
        return Call.objects.none()
    panels = PanelMember.objects.filter(user=user, role__in=CHAIRING_ROLES).values("panel_id")
    return (
        Call.objects.filter(panel__in=panels, status=CallStatus.ASSESSMENT)
        .select_related("fund")
        .order_by("closes_at")
    )


def calls_to_assess_managed_by(user: User) -> QuerySet[Call]:
    """Calls a fund manager runs that have closed (assessment can start) or are in assessment."""
    closed = Q(status__in=(CallStatus.SCHEDULED, CallStatus.OPEN), closes_at__lte=timezone.now())
    return (
        calls_managed_by(user)
        .filter(closed | Q(status__in=(CallStatus.CLOSED, CallStatus.ASSESSMENT)))
        .order_by("closes_at")
    )


def calls_audited_by(user: User) -> QuerySet[Call]:
    if not user.is_authenticated:
        return Call.objects.none()
    funds = user.fund_roles.values("fund_id")
    return (
        Call.objects.filter(
            fund__in=funds,
            status__in=(CallStatus.ASSESSMENT, CallStatus.DECIDED, CallStatus.CLOSED_OUT),
        )
        .select_related("fund")
        .order_by("-closes_at")
    )


@dataclass
class CriterionFeedback:
    criterion: Criterion
    score: str | None  # the score the panel used, as recorded with the decision
    comments: list[tuple[int, str]]  # (assessor number, comment): no names


def bid_feedback(bid: Bid, decision: PanelDecision) -> list[CriterionFeedback]:
    """Per criterion: the score used in the decision and every assessor's comment, numbered
    (Assessor 1, 2...) in the order they were assigned, never named."""
    criteria = criteria_of(bid.call)
    numbers: dict[int, int] = {}
    comments: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for sheet_id, criterion_id, comment in (
        Score.objects.filter(
            sheet__assignment__bid=bid,
            sheet__assignment__status=AssignmentStatus.ACTIVE,
            sheet__status=SheetStatus.SUBMITTED,
        )
        .order_by("sheet__assignment__assigned_at", "sheet__assignment_id", "criterion_id")
        .values_list("sheet_id", "criterion_id", "comment")
    ):
        number = numbers.setdefault(sheet_id, len(numbers) + 1)
        if comment.strip():
            comments[criterion_id].append((number, comment))
    snapshot = decision.criterion_scores or {}
    return [CriterionFeedback(c, snapshot.get(str(c.pk)), comments.get(c.pk, [])) for c in criteria]


def decisions_of_call(call: Call) -> QuerySet[PanelDecision]:
    return PanelDecision.objects.filter(bid__call=call).select_related(
        "bid__lead_organisation", "bid__pot", "decided_by"
    )


def decisions_in_rank_order(call: Call) -> list[PanelDecision]:
    """The call's decisions by pot, then by the rank recorded with each (unranked last)."""
    return list(
        decisions_of_call(call).order_by(
            "bid__pot__name", F("rank").asc(nulls_last=True), "bid__reference"
        )
    )


def assignments_due_for_reminder(today: dt.date) -> QuerySet[Assignment]:
    """Live assignments on calls in assessment, not yet submitted or reminded, due within 3 days
    (or overdue)."""
    return (
        Assignment.objects.filter(
            status__in=LIVE_STATUSES,
            reminded_at__isnull=True,
            due_date__isnull=False,
            due_date__lte=today + dt.timedelta(days=3),
            bid__status=BidStatus.IN_ASSESSMENT,
            bid__call__status=CallStatus.ASSESSMENT,
        )
        .exclude(sheet__status=SheetStatus.SUBMITTED)
        .select_related("assessor", "bid")
    )


def clarification_waiting(bid: Bid, today: dt.date | None = None) -> Clarification | None:
    """The clarification the bid's scoring waits for (unanswered, reply-by date not passed), if any."""
    today = today or timezone.localdate()
    return (
        Clarification.objects.filter(bid=bid, replied_at__isnull=True, reply_by__gte=today)
        .order_by("-reply_by")
        .first()
    )


# Panel packs ----------------------------------------------------------------------------------------


def pack_bids_for(user: User, call: Call, bid: Bid | None = None) -> list[Bid]:
    """The bids a person's panel pack holds: the call's bids in assessment that the person
    may open (``applications.visibility.bid_visible_to``) and is not conflicted on
    (``excluded_bid_ids``), exactly as the panel's pages let them in."""
    from applications.visibility import bid_visible_to

    in_assessment = (
        bids_for_call(call).filter(status__in=ASSESSED_BID_STATUSES).order_by("reference")
    )
    if bid is not None:
        in_assessment = in_assessment.filter(pk=bid.pk)
    bids = list(in_assessment)
    excluded = excluded_bid_ids(user, call, bids)
    return [b for b in bids if b.pk not in excluded and bid_visible_to(user, b.pk) is not None]


def packs_of(user: User, call: Call) -> QuerySet[PanelPack]:
    return PanelPack.objects.filter(requested_by=user, call=call).select_related("bid")


def pack_of(user: User, pk: int) -> PanelPack | None:
    """A pack, only for the person who asked for it (anyone else: None, a 404)."""
    if not user.is_authenticated:
        return None
    return PanelPack.objects.filter(pk=pk, requested_by=user).select_related("call", "bid").first()
