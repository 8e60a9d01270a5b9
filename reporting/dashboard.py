"""Header links and dashboard sections of the reporting stage (see ``governance/ui.py``).

Each part of the stage adds its own items here: monitoring returns, impact reports and the
public register.
"""

from __future__ import annotations

from django.urls import reverse

from governance.selectors import Roles
from governance.ui import DashboardPanel, NavItem

from .impact import ui as impact_ui
from .monitoring.selectors import grantee_returns, manager_returns_summary


def navigation(request, roles: Roles) -> list[NavItem]:
    items: list[NavItem] = []
    if roles.is_fund_manager or roles.is_auditor or roles.is_site_admin:
        items.append(NavItem("Monitoring", reverse("reporting:portfolio"), order=45))
    elif roles.is_applicant:
        items.append(NavItem("Monitoring returns", reverse("reporting:return_list"), order=45))
    items += impact_ui.navigation(request, roles)
    # The register is public: everyone signed in gets the link too, after their own work.
    items.append(NavItem("Award register", reverse("reporting:register"), order=90))
    return items


def panels(request, roles: Roles) -> list[DashboardPanel]:
    result: list[DashboardPanel] = []
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
    result += impact_ui.panels(request, roles)
    return result
