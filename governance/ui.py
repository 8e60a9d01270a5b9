"""Small shapes shared by the apps' navigation and dashboard providers.

Each app may have a ``dashboard.py`` with two functions, both given the request and the
person's ``Roles``:

- ``navigation(request, roles) -> list[NavItem]``: links for the header menu;
- ``panels(request, roles) -> list[DashboardPanel]``: sections of the signed-in dashboard.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class NavItem:
    label: str
    url: str
    order: int = 50


@dataclass
class DashboardPanel:
    title: str
    template: str
    context: dict[str, Any] = field(default_factory=dict)
    order: int = 50
