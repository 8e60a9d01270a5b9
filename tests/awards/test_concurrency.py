"""Many managers issuing at the same moment against the last of a pot's money (PostgreSQL row
locks): the pot ends at or under budget and every refused award gets a clear message."""

import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from awards import services
from awards.models import Award
from awards.selectors import pot_ledger
from governance import fy
from governance.models import PotBudget
from tests.awards.conftest import first_award_year, issue, make_world

pytestmark = [pytest.mark.requires_postgres, pytest.mark.django_db(transaction=True)]

THREADS = 8


def _race(calls):
    """Run the callables at once (a barrier lines them up); each gets its own connection."""
    barrier = threading.Barrier(len(calls))

    def run(call):
        try:
            barrier.wait(timeout=30)
            return "issued", call()
        except ValidationError as exc:
            return "refused", exc
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


@pytest.mark.parametrize(("each", "expected_issued", "left"), [
    (Decimal("20000.00"), 3, Decimal("0.00")),      # exactly the last of the money
    (Decimal("25000.00"), 2, Decimal("10000.00")),  # not enough for a third: under budget
])
def test_concurrent_issues_never_over_commit_the_pot(each, expected_issued, left):
    world = make_world()
    y = first_award_year()
    PotBudget.objects.filter(pot=world.pot, financial_year=y).update(amount=Decimal("100000.00"))
    PotBudget.objects.filter(pot=world.pot, financial_year=y + 1).update(amount=Decimal("5000000.00"))
    issue(world, profile={y: Decimal("40000.00"), y + 1: Decimal("160000.00")})
    decisions = [world.new_decision() for _ in range(THREADS)]
    profile = {y: each, y + 1: Decimal("200000.00") - each}

    results = _race([lambda d=d: issue(world, decision=d, profile=profile) for d in decisions])

    issued = [value for outcome, value in results if outcome == "issued"]
    refused = [value for outcome, value in results if outcome == "refused"]
    assert len(issued) == expected_issued
    assert len(refused) == THREADS - expected_issued
    expected_message = services.POT_OVERCOMMITTED % {
        "pot": world.pot.name, "year": fy.label(y), "remaining": f"£{left:,.2f}", "needed": f"£{each:,.2f}",
    }
    for exc in refused:
        assert exc.message_dict == {"profile": [expected_message]}
    row = next(r for r in pot_ledger([world.pot.pk]) if r.financial_year == y)
    assert row.committed == Decimal("100000.00") - left
    assert row.committed <= row.budget
    assert Award.objects.count() == 1 + expected_issued


def test_issuing_one_decision_from_many_requests_at_once_makes_one_award():
    world = make_world()
    results = _race([lambda: issue(world) for _ in range(THREADS)])
    issued = [value for outcome, value in results if outcome == "issued"]
    refused = [value for outcome, value in results if outcome == "refused"]
    assert len(issued) == 1
    assert Award.objects.count() == 1
    for exc in refused:
        assert exc.messages == [services.ALREADY_ISSUED % {"reference": issued[0].reference}]
