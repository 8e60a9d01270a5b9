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
    eoi_counts,
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


def eoi_call_section(request, call) -> list[DashboardPanel]:
    """On a two-stage call's management page: expressions of interest received and invited."""
    if not call.eoi_stage or not request.user.has_perm("applications.view_call_bids", call):
        return []
    return [DashboardPanel("Expressions of interest", "applications/eoi_call_section.html", {
        "call": call, "counts": eoi_counts(call), "phase": call.eoi_phase(),
        "url": reverse("applications:call_eois", kwargs={"slug": call.slug}),
    }, order=15)]


def eoi_public_facts(call) -> list[str]:
    """The public call page's count of expressions of interest, once they have closed."""
    if call.eoi_phase() != "closed":
        return []
    counts = eoi_counts(call)
    facts = [f"{counts['received']} expression{'s' if counts['received'] != 1 else ''} of interest received."]
    if counts["invited"] or counts["not_invited"]:
        facts.append(f"{counts['invited']} organisation{'s' if counts['invited'] != 1 else ''} invited to write a full bid.")
    return facts
