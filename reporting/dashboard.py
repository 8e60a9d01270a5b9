"""Header links and dashboard panels for the reporting stage (monitoring returns)."""

from __future__ import annotations

from django.urls import reverse

from governance.selectors import Roles
from governance.ui import DashboardPanel, NavItem

from .selectors import grantee_returns, manager_returns_summary


def navigation(request, roles: Roles) -> list[NavItem]:
    if roles.is_fund_manager or roles.is_auditor or roles.is_site_admin:
        return [NavItem("Monitoring", reverse("reporting:portfolio"), order=45)]
    if roles.is_applicant:
        return [NavItem("Monitoring returns", reverse("reporting:return_list"), order=45)]
    return []


def panels(request, roles: Roles) -> list[DashboardPanel]:
    result = []
    if roles.is_applicant:
        returns = grantee_returns(request.user)
        if returns.anything:
            result.append(DashboardPanel("Your monitoring returns", "reporting/monitoring/dashboard/grantee.html",
                                         {"returns": returns}, order=6))
    if roles.is_fund_manager or roles.is_site_admin:
        result.append(DashboardPanel("Monitoring returns", "reporting/monitoring/dashboard/manager.html",
                                     {"summary": manager_returns_summary(request.user)}, order=21))
    elif roles.is_auditor:
        result.append(DashboardPanel("Monitoring", "reporting/monitoring/dashboard/auditor.html", {}, order=21))
    return result
