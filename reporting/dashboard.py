"""Header links and dashboard sections of the reporting stage (see ``governance/ui.py``).

Each part of the stage adds its own items here.
"""

from governance.selectors import Roles
from governance.ui import DashboardPanel, NavItem

from .impact import ui as impact_ui


def navigation(request, roles: Roles) -> list[NavItem]:
    items: list[NavItem] = []
    items += impact_ui.navigation(request, roles)
    return items


def panels(request, roles: Roles) -> list[DashboardPanel]:
    panels: list[DashboardPanel] = []
    panels += impact_ui.panels(request, roles)
    return panels
