"""Header link, dashboard panels and sections of the call and fund pages for assessment."""

from __future__ import annotations

from django.db.models import Count
from django.urls import reverse
from django.utils import timezone

from applications.models import BidStatus
from applications.selectors import bids_for_call
from governance.models import CallStatus
from governance.selectors import Roles
from governance.ui import DashboardPanel, NavItem

from .models import AssessorProfile, InvitationStatus
from .selectors import (
    assessor_queue,
    calls_chaired_by,
    calls_to_assess_managed_by,
    conflicts_register,
    invitations_for,
)
from .visibility import clarifications_visible_to, feedback_decisions_for, ranking_for

ASSESSMENT_STATUSES = (CallStatus.CLOSED, CallStatus.ASSESSMENT, CallStatus.DECIDED, CallStatus.CLOSED_OUT)


def navigation(request, roles: Roles) -> list[NavItem]:
    if roles.is_assessor or roles.is_fund_manager or roles.is_auditor or roles.is_site_admin:
        return [NavItem("Assessment", reverse("assessment:hub"), order=30)]
    return []


def chair_summary(call, user) -> dict:
    """How far the panel has got on a call: bids scored, to moderate, decided (of the bids the
    person may see the scores of: not those they are conflicted on)."""
    ranking = ranking_for(user, call)
    rows = ranking.all_rows
    live = [row for row in rows if row.bid.status == BidStatus.IN_ASSESSMENT]
    return {
        "call": call,
        "bids": len(live),
        "scored": sum(1 for row in live if row.complete),
        "to_moderate": sum(1 for row in live if row.complete and row.needs_moderation),
        "decided": sum(1 for row in live if row.decision is not None),
    }


def panels(request, roles: Roles) -> list[DashboardPanel]:
    found: list[DashboardPanel] = []
    if roles.is_assessor:
        queue = assessor_queue(request.user)
        if queue:
            found.append(DashboardPanel("Bids to assess", "assessment/dashboard/queue.html",
                                        {"queue": [item for item in queue if not item.submitted][:10],
                                         "submitted": sum(1 for item in queue if item.submitted)}, order=12))
    profile = AssessorProfile.objects.filter(user=request.user).first() if request.user.is_authenticated else None
    if profile is not None:
        waiting = [i for i in invitations_for(request.user) if i.status == InvitationStatus.PENDING
                   and i.expires_at > timezone.now()]
        found.append(DashboardPanel("Asked of you as an assessor", "assessment/dashboard/invitations.html",
                                    {"profile": profile, "waiting": waiting, "today": timezone.localdate(),
                                     "current": profile.ready()}, order=11))
    if roles.is_panel_chair:
        summaries = [chair_summary(call, request.user) for call in calls_chaired_by(request.user)[:5]]
        if summaries:
            found.append(DashboardPanel("Calls to moderate and decide", "assessment/dashboard/chair.html",
                                        {"summaries": summaries}, order=13))
    if roles.is_fund_manager:
        calls = list(calls_to_assess_managed_by(request.user)[:10])
        if calls:
            found.append(DashboardPanel("Calls in assessment", "assessment/dashboard/manager.html",
                                        {"calls": calls}, order=14))
    if roles.is_applicant:
        decisions = list(feedback_decisions_for(request.user)[:10])
        if decisions:
            found.append(DashboardPanel("Feedback on your bids", "assessment/dashboard/feedback.html",
                                        {"decisions": decisions}, order=21))
    return found


def call_section(request, call) -> list[DashboardPanel]:
    """On a call's management page: where assessment stands, with links to its pages."""
    if call.status not in ASSESSMENT_STATUSES or not request.user.has_perm("assessment.view_call", call):
        return []
    counts = dict(bids_for_call(call).order_by().values_list("status").annotate(n=Count("pk")))
    return [DashboardPanel("Assessment", "assessment/sections/call.html", {
        "call": call,
        "submitted": counts.get(BidStatus.SUBMITTED, 0),
        "in_assessment": counts.get(BidStatus.IN_ASSESSMENT, 0),
        "funded": counts.get(BidStatus.FUNDED, 0),
        "not_funded": counts.get(BidStatus.NOT_FUNDED, 0),
        "can_manage": request.user.has_perm("assessment.manage_call", call),
    }, order=25)]


def fund_section(request, fund) -> list[DashboardPanel]:
    """On a fund's page: the conflicts of interest register, for its managers and auditors."""
    if not request.user.has_perm("assessment.view_conflicts", fund):
        return []
    return [DashboardPanel("Conflicts of interest", "assessment/sections/fund.html", {
        "fund": fund, "count": conflicts_register(fund).count(),
    }, order=55)]


def bid_section(request, bid) -> list[DashboardPanel]:
    """On a bid's page: the panel's clarification questions and the replies, for those who may
    see them (never anyone conflicted on the bid: ``visibility.clarifications_visible_to``)."""
    clarifications = list(clarifications_visible_to(request.user, bid))
    can_ask = (bid.status == "in_assessment" and bid.call.status == "assessment"
               and request.user.has_perm("assessment.ask_clarification", bid))
    if not clarifications and not can_ask:
        return []
    return [DashboardPanel("Questions from the panel", "assessment/includes/clarifications_panel.html", {
        "clarifications": clarifications, "bid": bid, "can_ask": can_ask, "today": timezone.localdate(),
        "can_reply": request.user.has_perm("assessment.reply_clarifications_of", bid),
    }, order=10)]
