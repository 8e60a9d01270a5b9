"""Header link, dashboard panels and fund page sections for the awards stage."""

from __future__ import annotations

from django.urls import reverse

from governance.selectors import Roles
from governance.ui import DashboardPanel, NavItem

from .charts import ledger_chart
from .models import AwardStatus, ConditionStatus, DocumentStatus, InstalmentStatus
from .selectors import (
    awards_of_recipient_member,
    is_authorised_signatory,
    ledger_totals,
    manager_to_do,
    pot_ledger,
)
from .visibility import sees_pot_ledger


def navigation(request, roles: Roles) -> list[NavItem]:
    if roles.is_fund_manager or roles.is_auditor or roles.is_site_admin:
        return [NavItem("Awards", reverse("awards:list"), order=40)]
    if roles.is_applicant and awards_of_recipient_member(request.user).exists():
        return [NavItem("Your awards", reverse("awards:list"), order=40)]
    return []


def _grantee_summary(user, award) -> dict:
    conditions = list(award.conditions.all())
    instalments = [i for i in award.instalments.all() if i.status in (InstalmentStatus.SCHEDULED, InstalmentStatus.RELEASED)]
    letter = next((letter for letter in award.letters.all() if letter.status == DocumentStatus.READY), None)
    return {
        "award": award,
        "is_signatory": is_authorised_signatory(user, award),
        "conditions_open": [c for c in conditions if c.status == ConditionStatus.OPEN],
        "conditions_waiting": [c for c in conditions if c.status == ConditionStatus.EVIDENCE_SUBMITTED],
        "next_instalment": min(instalments, key=lambda i: (i.financial_year, i.quarter), default=None),
        "letter": letter,
    }


def panels(request, roles: Roles) -> list[DashboardPanel]:
    result = []
    if roles.is_applicant:
        awards = list(
            awards_of_recipient_member(request.user)
            .prefetch_related("conditions", "instalments", "letters")
            .order_by("-issued_at")[:10]
        )
        if awards:
            result.append(DashboardPanel(
                "Your awards", "awards/dashboard/grantee.html",
                {"summaries": [_grantee_summary(request.user, award) for award in awards],
                 "offered": AwardStatus.OFFERED},
                order=5,
            ))
    if roles.is_fund_manager or roles.is_site_admin:
        result.append(DashboardPanel("Awards to act on", "awards/dashboard/manager.html",
                                     {"todo": manager_to_do(request.user)}, order=20))
    return result


def fund_sections(request, fund) -> list[DashboardPanel]:
    """The fund page's pot ledger: per pot and year, budget, committed, paid, released, remaining."""
    if not sees_pot_ledger(request.user, fund):
        return []
    rows = pot_ledger(fund.pots.values_list("pk", flat=True))
    return [DashboardPanel("Pot ledger", "awards/sections/pot_ledger.html", {
        "fund": fund,
        "rows": rows,
        "totals": ledger_totals(rows),
        "chart": ledger_chart(rows),
        "can_manage": request.user.has_perm("governance.manage_fund", fund),
    }, order=60)]
