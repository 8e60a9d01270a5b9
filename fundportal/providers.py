"""Collects the header menu and the dashboard from each lifecycle app's ``dashboard.py``."""

from __future__ import annotations

from importlib import import_module

from django.conf import settings
from django.core.cache import cache

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


def _menu_links(request) -> list[tuple[str, str]]:
    """The header menu's links for this person: worked out from their roles (four queries) at
    most once a ``MENU_CACHE_SECONDS`` per person, not on every page. The menu only offers links:
    every page still checks who may open it, so a role given or taken shows in the menu within
    that time and in access at once."""
    key = f"menu:{request.user.pk}"
    links = cache.get(key) if settings.MENU_CACHE_SECONDS else None
    if links is None:
        roles = request_roles(request)
        items: list[NavItem] = []
        for module in _providers():
            if hasattr(module, "navigation"):
                items.extend(module.navigation(request, roles))
        items.sort(key=lambda item: item.order)
        links = [(item.label, item.url) for item in items]
        if settings.MENU_CACHE_SECONDS:
            cache.set(key, links, settings.MENU_CACHE_SECONDS)
    return links


def navigation(request) -> list[dict]:
    links = _menu_links(request)
    path = request.path
    # The longest matching link is the current one, so /bids/ and /bids/7/ mark "Bids".
    current = max((url for _, url in links if path.startswith(url) and url != "/"), key=len, default=None)
    return [{"label": label, "url": url, "current": url == current} for label, url in links]


def dashboard_panels(request) -> list[DashboardPanel]:
    roles = request_roles(request)
    panels: list[DashboardPanel] = []
    for module in _providers():
        if hasattr(module, "panels"):
            panels.extend(module.panels(request, roles))
    panels.sort(key=lambda panel: panel.order)
    return panels
