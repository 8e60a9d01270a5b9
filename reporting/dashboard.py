"""Header links and dashboard sections of the reporting stage (see ``governance/ui.py``).

Each part of the stage adds its own items here.
"""

from django.urls import reverse

from governance.selectors import Roles
from governance.ui import DashboardPanel, NavItem

from .impact import ui as impact_ui


def navigation(request, roles: Roles) -> list[NavItem]:
    # The register is public: everyone signed in gets the link too, after their own work.
    items: list[NavItem] = [NavItem("Award register", reverse("reporting:register"), order=90)]
    items += impact_ui.navigation(request, roles)
    return items


def panels(request, roles: Roles) -> list[DashboardPanel]:
    panels: list[DashboardPanel] = []
    panels += impact_ui.panels(request, roles)
    return panels
