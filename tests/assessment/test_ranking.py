"""The ranking read from the database: per pot (ring-fenced) or overall (national), against each
pot's remaining budget (budget less committed) in every year, with normalisation when the call
asks for it, in a number of queries that does not grow with the number of bids."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from applications.models import BidCost
from assessment import selectors
from governance import extensions
from governance.models import AllocationModel, PotBudget
from tests.assessment.conftest import first_year, make_world, scored
from tests.factories.governance import OrganisationFactory, PotBudgetFactory, PotFactory

pytestmark = pytest.mark.django_db
D = Decimal


def _costs(bid, amounts: dict[int, str]):
    BidCost.objects.filter(bid=bid).delete()
    for year, amount in amounts.items():
        BidCost.objects.create(bid=bid, financial_year=year, category="staff", amount=D(amount))


def test_the_line_falls_where_a_later_year_would_be_overspent_against_what_remains(monkeypatch):
    world = make_world(bids=3, assessors_per_bid=1)
    y = first_year()
    PotBudget.objects.filter(pot=world.pot, financial_year=y).update(amount=D("300000"))
    PotBudget.objects.filter(pot=world.pot, financial_year=y + 1).update(amount=D("300000"))
    # 50,000 of next year's budget is already committed to an award: 250,000 remains in y + 1.
    monkeypatch.setattr(extensions, "commitment_sources",
                        [*extensions.commitment_sources, lambda pot_ids: {(world.pot.pk, y + 1): D("50000")}])
    first, second, third = world.bids
    _costs(first, {y: "100000", y + 1: "100000"})
    _costs(second, {y: "100000", y + 1: "200000"})  # fits in y (200,000 of 300,000), not in y + 1 (300,000 > 250,000)
    _costs(third, {y: "10000"})  # would fit, but the line has fallen
    scored(world, first, world.assessor, [4, 4])  # 100
    scored(world, second, world.assessor_b, [3, 4])  # 50 x 0.75 + 50 x 1 = 87.50
    scored(world, third, world.assessor_c, [3, 3])  # 75
    ranking = selectors.call_ranking(world.call)
    (pot,) = ranking.pots
    assert [(y_.financial_year, y_.remaining) for y_ in pot.years] == [(y, D("300000")), (y + 1, D("250000"))]
    assert [(r.bid, r.rank, r.score, r.above_line) for r in pot.rows] == [
        (first, 1, D("100.00"), True), (second, 2, D("87.50"), False), (third, 3, D("75.00"), False),
    ]
    assert pot.rows[1].line_falls_here
    assert pot.rows[1].overspent_years == [y + 1]
    assert pot.line_year_labels == f"{y + 1}/{(y + 2) % 100:02d}"
    assert [(c.year, c.requested, c.running, c.overspent) for c in pot.rows[1].cells] == [
        (y, D("100000"), D("200000"), False), (y + 1, D("200000"), D("300000"), True),
    ]


def test_a_ring_fenced_fund_ranks_each_networks_bids_for_its_own_pot():
    world = make_world(bids=1, assessors_per_bid=1)
    world.fund.allocation_model = AllocationModel.RING_FENCED
    world.fund.save()
    world.pot.network = world.network
    world.pot.save()
    other_pot = PotFactory(fund=world.fund, network=world.other_network, name="Other network pot")
    for year in world.fund.years:
        PotBudgetFactory(pot=other_pot, financial_year=year, amount=D("1000000"))
    world.call.pots.add(other_pot)
    elsewhere = world.new_bid(lead=OrganisationFactory(network=world.other_network))
    elsewhere.pot = other_pot
    elsewhere.save()
    scored(world, world.bids[0], world.assessor, [2, 2])
    scored(world, elsewhere, world.assessor_b, [4, 4])
    ranking = selectors.call_ranking(world.call)
    by_pot = {pot.pot: [(row.bid, row.rank) for row in pot.rows] for pot in ranking.pots}
    # Each is first in its own pot, whatever the other scored.
    assert by_pot == {world.pot: [(world.bids[0], 1)], other_pot: [(elsewhere, 1)]}


def test_bids_still_being_scored_are_listed_apart_and_not_ranked(world):
    done, waiting = world.bids
    scored(world, done, world.assessor, [3, 3])
    scored(world, done, world.assessor_b, [3, 3])
    scored(world, waiting, world.assessor, [4, 4])
    scored(world, waiting, world.assessor_c, [4, 4], submit=False)
    (pot,) = selectors.call_ranking(world.call).pots
    assert [row.bid for row in pot.rows] == [done]
    assert [(row.bid, row.sheets_submitted, row.sheets_expected, row.rank) for row in pot.unscored] == [(waiting, 1, 2, None)]


def test_the_call_setting_normalises_each_assessors_scores():
    world = make_world(bids=4, assessors_per_bid=1)
    world.call.normalise_scores = True
    world.call.save()
    b1, b2, b3, b4 = world.bids
    # A generous assessor scores bids 1 and 2: 4 and 3 on both criteria; a strict one bids 3
    # and 4: 2 and 1. Shares: generous 1, 1, 0.75, 0.75 (mean 0.875, sd 0.125); strict 0.5, 0.5,
    # 0.25, 0.25 (mean 0.375, sd 0.125). The call: mean 0.625, SD sqrt(5)/8 = 0.279508.
    # Bids 1 and 3 (z = +1): 0.625 + 0.279508 = 0.904508 of the scale -> 3.618 -> 3.62 -> 90.50.
    # Bids 2 and 4 (z = -1): 0.345492 of the scale -> 1.382 -> 1.38 -> 34.50.
    scored(world, b1, world.assessor, [4, 4])
    scored(world, b2, world.assessor, [3, 3])
    scored(world, b3, world.assessor_b, [2, 2])
    scored(world, b4, world.assessor_b, [1, 1])
    ranking = selectors.call_ranking(world.call)
    scores = {bid: ranking.by_bid[bid.pk].score for bid in world.bids}
    assert scores == {b1: D("90.50"), b2: D("34.50"), b3: D("90.50"), b4: D("34.50")}
    assert ranking.by_bid[b3.pk].result.criterion_scores == {str(c.pk): "3.62" for c in world.criteria}
    # Without normalisation the strict assessor's best bid would be far behind: 50.00 against 100.00.
    world.call.normalise_scores = False
    world.call.save()
    raw = selectors.call_ranking(world.call)
    assert (raw.by_bid[b1.pk].score, raw.by_bid[b3.pk].score) == (D("100.00"), D("50.00"))


def _queries(call) -> int:
    with CaptureQueriesContext(connection) as captured:
        selectors.call_ranking(call)
    return len(captured.captured_queries)


def test_the_number_of_queries_does_not_grow_with_the_number_of_bids():
    world = make_world(bids=2, assessors_per_bid=2)
    for bid in world.bids:
        scored(world, bid, world.assessor, [3, 2])
        scored(world, bid, world.assessor_b, [4, 2])
    few = _queries(world.call)
    for _ in range(8):
        bid = world.new_bid()
        scored(world, bid, world.assessor, [2, 2])
        scored(world, bid, world.assessor_c, [1, 3])
    assert _queries(world.call) == few
    assert few <= 12
