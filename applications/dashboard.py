"""The bids stage's header link, dashboard panels and the section on a call's management page."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone

from governance.selectors import Roles
from governance.ui import DashboardPanel, NavItem

from .models import BidStatus
from .selectors import (
    bid_status_counts,
    bids_awaiting_endorsement,
    bids_of_my_organisations,
)
from .visibility import bids_visible_to


def navigation(request, roles: Roles) -> list[NavItem]:
    if roles.is_applicant or roles.is_fund_manager or roles.is_auditor or roles.is_site_admin:
        return [NavItem("Bids", reverse("applications:bids"), order=20)]
    return []


def panels(request, roles: Roles) -> list[DashboardPanel]:
    found: list[DashboardPanel] = []
    now = timezone.now()
    if roles.is_applicant:
        bids = list(bids_of_my_organisations(request.user)[:20])
        found.append(DashboardPanel("Your organisations' bids", "applications/dashboard/my_bids.html",
                                    {"bids": bids, "now": now}, order=20))
    if roles.is_commissioner:
        waiting = list(bids_awaiting_endorsement(request.user))
        found.append(DashboardPanel("Bids waiting for your endorsement", "applications/dashboard/to_endorse.html",
                                    {"bids": waiting, "now": now}, order=15))
    return found


def call_section(request, call) -> list[DashboardPanel]:
    """On a call's management page: the bids received, counted by state, with a link to them."""
    if not request.user.has_perm("applications.view_call_bids", call):
        return []
    counts = bid_status_counts(bids_visible_to(request.user).filter(call=call))
    rows = [(BidStatus(status).label, count) for status, count in counts.items()]
    return [DashboardPanel("Bids", "applications/call_section.html", {
        "call": call, "counts": rows, "total": sum(counts.values()),
        "url": reverse("applications:call_bids", kwargs={"slug": call.slug}),
    }, order=20)]
