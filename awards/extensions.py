"""Places where later stages add to an award's page without awards importing them.

``award_sections``: ``fn(request, award) -> list[DashboardPanel]``, registered from a later
app's ``AppConfig.ready()`` (monitoring adds the award's returns).
"""

from __future__ import annotations

from collections.abc import Callable

from governance.ui import DashboardPanel

award_sections: list[Callable] = []


def register_award_section(fn: Callable) -> Callable:
    if fn not in award_sections:
        award_sections.append(fn)
    return fn


def sections_for_award(request, award) -> list[DashboardPanel]:
    panels = [panel for fn in award_sections for panel in fn(request, award)]
    return sorted(panels, key=lambda panel: panel.order)
