"""Where impact reports appear on other pages: the fund's page, the header menu, the dashboard."""

from __future__ import annotations

from django.urls import reverse

from governance.selectors import Roles
from governance.ui import DashboardPanel, NavItem

from ..visibility import reports_visible_to
from .selectors import recent_versions_for


def fund_section(request, fund) -> list[DashboardPanel]:
    """The "Impact reports" section of a fund's page, for its managers and auditors."""
    user = request.user
    if not user.has_perm("governance.view_fund", fund):
        return []
    reports = list(reports_visible_to(user).filter(fund=fund).prefetch_related("versions")[:5])
    context = {
        "fund": fund,
        "reports": reports,
        "can_request": user.has_perm("reporting.request_impact_report", fund),
        "list_url": reverse("reporting:fund_reports", args=[fund.slug]),
        "request_url": reverse("reporting:report_request", args=[fund.slug]),
    }
    return [DashboardPanel("Impact reports", "reporting/reports/_fund_section.html", context, order=80)]


def navigation(request, roles: Roles) -> list[NavItem]:
    if roles.is_fund_manager or roles.is_auditor or roles.is_site_admin:
        return [NavItem("Impact reports", reverse("reporting:manage_reports"), order=60)]
    return [NavItem("Impact reports", reverse("reporting:reports"), order=90)]


def panels(request, roles: Roles) -> list[DashboardPanel]:
    if not (roles.is_fund_manager or roles.is_auditor or roles.is_site_admin):
        return []
    versions = recent_versions_for(request.user)
    context = {"versions": versions, "list_url": reverse("reporting:manage_reports")}
    return [DashboardPanel("Impact reports", "reporting/reports/_dashboard_panel.html", context, order=60)]
