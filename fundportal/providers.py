"""Collects the header menu and the dashboard from each lifecycle app's ``dashboard.py``."""

from __future__ import annotations

from importlib import import_module

from governance.selectors import request_roles
from governance.ui import DashboardPanel, NavItem

LIFECYCLE_APPS = ("governance", "applications", "assessment", "awards", "reporting")


def _providers():
    for app in LIFECYCLE_APPS:
        try:
            yield import_module(f"{app}.dashboard")
        except ModuleNotFoundError as exc:
            if exc.name != f"{app}.dashboard":
                raise


def navigation(request) -> list[dict]:
    roles = request_roles(request)
    items: list[NavItem] = []
    for module in _providers():
        if hasattr(module, "navigation"):
            items.extend(module.navigation(request, roles))
    items.sort(key=lambda item: item.order)
    path = request.path
    # The longest matching link is the current one, so /bids/ and /bids/7/ mark "Bids".
    current = max((i for i in items if path.startswith(i.url) and i.url != "/"), key=lambda i: len(i.url), default=None)
    return [{"label": i.label, "url": i.url, "current": i is current} for i in items]


def dashboard_panels(request) -> list[DashboardPanel]:
    roles = request_roles(request)
    panels: list[DashboardPanel] = []
    for module in _providers():
        if hasattr(module, "panels"):
            panels.extend(module.panels(request, roles))
    panels.sort(key=lambda panel: panel.order)
    return panels
