"""Places where later stages add to governance pages without governance importing them.

Governance is the first layer: it cannot import awards or assessment. Later apps register
callables here from their ``AppConfig.ready()``:

- ``commitment_sources``: ``fn(pot_ids) -> {(pot_id, financial_year): Decimal}``, money
  committed against each pot's budget (awards registers the pot ledger).
- ``fund_sections``: ``fn(request, fund) -> list[DashboardPanel]``, sections of a fund's page
  (bids, conflicts register, pot ledger, reports...).
- ``call_sections``: ``fn(request, call) -> list[DashboardPanel]``, sections of a call's
  management page (bids received, assignments, ranking...).
- ``bidder_sources``: ``fn(organisation_ids) -> {(fund_id, organisation_id)}``, the funds each
  of these organisations has a bid in, leading or partnering (applications registers its bids):
  a member of a bidder cannot audit the fund.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from decimal import Decimal

from .ui import DashboardPanel

commitment_sources: list[Callable[[Iterable[int]], dict[tuple[int, int], Decimal]]] = []
fund_sections: list[Callable] = []
call_sections: list[Callable] = []
bidder_sources: list[Callable[[Iterable[int]], set[tuple[int, int]]]] = []
# fn(call) -> organisation ids leading a bid (any status) on the call: they hear of answers.
call_bidder_sources: list[Callable] = []

# ``fn(call) -> list[str]``: public sentences about a published call (expressions of interest received).
public_call_facts: list[Callable] = []


def _register(registry: list, fn: Callable) -> Callable:
    if fn not in registry:
        registry.append(fn)
    return fn


def register_commitment_source(fn):
    return _register(commitment_sources, fn)


def register_fund_section(fn):
    return _register(fund_sections, fn)


def register_call_section(fn):
    return _register(call_sections, fn)


def register_bidder_source(fn):
    return _register(bidder_sources, fn)


def register_call_bidder_source(fn):
    return _register(call_bidder_sources, fn)


def register_public_call_facts(fn):
    return _register(public_call_facts, fn)


def facts_for_public_call(call) -> list[str]:
    return [fact for fn in public_call_facts for fact in fn(call)]


def funds_bid_in(organisation_ids: Iterable[int]) -> dict[int, set[int]]:
    """For each fund any of these organisations has a bid in: which of them."""
    organisation_ids = [pk for pk in organisation_ids if pk is not None]
    found: dict[int, set[int]] = defaultdict(set)
    if organisation_ids:
        for source in bidder_sources:
            for fund_id, organisation_id in source(organisation_ids):
                found[fund_id].add(organisation_id)
    return dict(found)


def committed_by_pot_year(pot_ids: Iterable[int]) -> dict[tuple[int, int], Decimal]:
    pot_ids = list(pot_ids)
    total: dict[tuple[int, int], Decimal] = defaultdict(Decimal)
    for source in commitment_sources:
        for key, amount in source(pot_ids).items():
            total[key] += amount
    return dict(total)


def sections_for_fund(request, fund) -> list[DashboardPanel]:
    panels = [panel for fn in fund_sections for panel in fn(request, fund)]
    return sorted(panels, key=lambda panel: panel.order)


def sections_for_call(request, call) -> list[DashboardPanel]:
    panels = [panel for fn in call_sections for panel in fn(request, call)]
    return sorted(panels, key=lambda panel: panel.order)
