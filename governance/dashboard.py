"""Header links and dashboard sections for fund managers and auditors."""

from django.urls import reverse

from .models import CallStatus, OrganisationRequestStatus
from .selectors import Roles, calls_managed_by, funds_visible_to
from .ui import DashboardPanel, NavItem


def navigation(request, roles: Roles) -> list[NavItem]:
    items = [NavItem("Funding calls", reverse("governance:calls"), order=80)]
    if roles.is_fund_manager or roles.is_auditor or roles.is_site_admin:
        items.append(NavItem("Funds", reverse("governance:funds"), order=10))
    return items


def panels(request, roles: Roles) -> list[DashboardPanel]:
    if not (roles.is_fund_manager or roles.is_auditor or roles.is_site_admin):
        return []
    funds = list(funds_visible_to(request.user).select_related("host_network"))
    title = "Funds you manage" if roles.is_fund_manager else "Funds you audit"
    result = [DashboardPanel(title, "governance/dashboard/funds.html", {"funds": funds, "roles": roles}, order=10)]
    if roles.is_fund_manager:
        calls = list(calls_managed_by(request.user).exclude(status=CallStatus.CLOSED_OUT).order_by("closes_at")[:20])
        result.append(DashboardPanel("Calls you run", "governance/dashboard/calls.html", {"calls": calls}, order=11))
    if roles.is_fund_manager or roles.is_site_admin:
        from .organisation_requests import organisation_requests_to_decide

        waiting = list(organisation_requests_to_decide(request.user).filter(status=OrganisationRequestStatus.PENDING)[:10])
        if waiting:
            result.append(DashboardPanel("Organisations to add", "governance/dashboard/organisation_requests.html",
                                         {"waiting": waiting}, order=12))
    return result
