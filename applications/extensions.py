"""Where later stages widen who may read a bid, without this stage importing them.

The assessment stage lets an assessor read (and download the files of) a bid assigned to
them with no conflict declared: from its ``AppConfig.ready()`` it calls
``register_bid_reader(fn)`` with ``fn(user, bid) -> bool``. Readers see the bid's read-only
page and its attachments; they never change it, and bids they may read are not added to
``bids_visible_to`` lists (each stage lists its own).
"""

from __future__ import annotations

from collections.abc import Callable

bid_readers: list[Callable] = []


def register_bid_reader(fn: Callable) -> Callable:
    if fn not in bid_readers:
        bid_readers.append(fn)
    return fn


def unregister_bid_reader(fn: Callable) -> None:
    if fn in bid_readers:
        bid_readers.remove(fn)


def read_by_later_stage(user, bid) -> bool:
    return any(fn(user, bid) for fn in bid_readers)


# ``fn(request, bid) -> list[DashboardPanel]``: sections a later stage adds to a bid's page (the
# assessment stage's clarification questions). Each reads through its own visibility rule.
bid_sections: list[Callable] = []


def register_bid_section(fn: Callable) -> Callable:
    if fn not in bid_sections:
        bid_sections.append(fn)
    return fn


def sections_for_bid(request, bid) -> list:
    panels = [panel for fn in bid_sections for panel in fn(request, bid)]
    return sorted(panels, key=lambda panel: panel.order)
