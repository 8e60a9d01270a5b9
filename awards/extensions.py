"""Places where later stages add to an award's page without awards importing them.

``award_sections``: ``fn(request, award) -> list[DashboardPanel]``, registered from a later
app's ``AppConfig.ready()`` (monitoring adds the award's returns).

``instalment_return_finders``: ``fn(instalments) -> {instalment id: return}``, registered by the
monitoring stage: the return each instalment waits for when no return is linked to it (returns
every six or twelve months cover several quarters' instalments).
"""

from __future__ import annotations

from collections.abc import Callable

from governance.ui import DashboardPanel

award_sections: list[Callable] = []


def register_award_section(fn: Callable) -> Callable:
    if fn not in award_sections:
        award_sections.append(fn)
    return fn


instalment_return_finders: list[Callable] = []


def register_instalment_return_finder(fn: Callable) -> Callable:
    if fn not in instalment_return_finders:
        instalment_return_finders.append(fn)
    return fn


def returns_found_for(instalments: list) -> dict:
    found: dict = {}
    for fn in instalment_return_finders:
        found.update({k: v for k, v in fn(instalments).items() if k not in found})
    return found


def sections_for_award(request, award) -> list[DashboardPanel]:
    panels = [panel for fn in award_sections for panel in fn(request, award)]
    return sorted(panels, key=lambda panel: panel.order)
