"""Issuing awards under contention: many threads issue against one pot at once.

Run by hand against PostgreSQL (row locks are what is measured):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/fp_awards \
        .venv/bin/python benchmarks/award_issue_contention.py [threads ...]

It creates a throwaway database (test_<name>_bench; letters are queued, not made), and for each thread count:
1. throughput: every thread issues awards for its own decisions against the same pot and
   years (each issue locks the same budget rows), printing issues per second and latency;
2. the last of the money: the pot's year holds room for exactly 5 awards and every thread
   tries at once; it prints how many were issued and checks the pot is not over-committed.
"""

from __future__ import annotations

import os
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fundportal.settings.test")
# Letters are queued, not rendered in the issuing thread (a worker makes them): measure the issue.
os.environ["CELERY_EAGER"] = "0"
os.environ.pop("CELERY_BROKER_URL", None)

import django  # noqa: E402

django.setup()

from django.core.exceptions import ValidationError  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

PER_THREAD = 10


def _run(threads: int) -> None:
    from awards.selectors import pot_ledger
    from governance.models import PotBudget
    from tests.awards.conftest import first_award_year, issue, make_world

    world = make_world(budget=Decimal("999999999.00"))
    y = first_award_year()
    decisions = [[world.new_decision() for _ in range(PER_THREAD)] for _ in range(threads)]
    latencies: list[float] = []
    lock = threading.Lock()
    barrier = threading.Barrier(threads)

    def work(mine):
        try:
            barrier.wait()
            for decision in mine:
                started = time.perf_counter()
                issue(world, decision=decision)
                with lock:
                    latencies.append(time.perf_counter() - started)
        finally:
            connection.close()

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(work, decisions))
    elapsed = time.perf_counter() - started
    latencies.sort()
    p95 = latencies[int(len(latencies) * 0.95) - 1]
    print(f"{threads:>3} threads: {len(latencies)} awards in {elapsed:.2f} s = {len(latencies) / elapsed:.1f}/s; "
          f"latency median {statistics.median(latencies) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms")

    # The last of the money: room for exactly 5 awards of £20,000 in year y.
    room = Decimal("100000.00")
    committed = next(r.committed for r in pot_ledger([world.pot.pk]) if r.financial_year == y)
    PotBudget.objects.filter(pot=world.pot, financial_year=y).update(amount=committed + room)
    racers = [world.new_decision() for _ in range(max(threads, 6))]
    gate = threading.Barrier(len(racers))
    outcomes: list[str] = []

    def race(decision):
        try:
            gate.wait()
            issue(world, decision=decision, profile={y: Decimal("20000.00"), y + 1: Decimal("180000.00")})
            outcome = "issued"
        except ValidationError:
            outcome = "refused"
        finally:
            connection.close()
        with lock:
            outcomes.append(outcome)

    with ThreadPoolExecutor(len(racers)) as pool:
        list(pool.map(race, racers))
    row = next(r for r in pot_ledger([world.pot.pk]) if r.financial_year == y)
    print(f"     last of the money: {outcomes.count('issued')} issued, {outcomes.count('refused')} refused; "
          f"remaining {row.remaining} (over-committed: {'YES' if row.remaining < 0 else 'no'})")


def main() -> None:
    if connection.vendor != "postgresql":
        sys.exit("Run this against PostgreSQL: set DATABASE_URL=postgres://...")
    counts = [int(a) for a in sys.argv[1:]] or [1, 2, 4, 8, 16]
    setup_test_environment()
    connection.settings_dict.setdefault("TEST", {})["NAME"] = f"test_{connection.settings_dict['NAME']}_bench"
    name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False, serialize=False)
    try:
        for threads in counts:
            _run(threads)
    finally:
        connection.creation.destroy_test_db(name, verbosity=0)


if __name__ == "__main__":
    main()
