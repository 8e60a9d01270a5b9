"""The ranking and funding line of a large call: how long they take, and how many SQL queries.

Run by hand (not by pytest), from the repository root:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/fp_assessment .venv/bin/python benchmarks/ranking.py [50 500 ...]

It makes a throwaway database (``test_<name>_ranking_bench``, dropped afterwards; SQLite works
too), and for each size N creates, with ``bulk_create``, a call in assessment with 6 weighted
criteria (one with a gateway), a panel of 15 assessors, N bids each asking for money in two
financial years, 3 assessors per bid with submitted score sheets (18 scores a bid), a moderated
score on every tenth bid, and a pot whose budget puts the funding line about half way down.
Then it times, median of 5 runs after one warm-up:

1. ``assessment.selectors.call_ranking``: scores, normalisation off and on, ranking and line;
2. the chair's ranking page (``/assessment/calls/<slug>/ranking/``) rendered through the test
   client, signed in as the chair (session, permission checks and template included);

printing each with its number of SQL queries, which must be the same for every N.
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fundportal.settings.test")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402

RUNS = 5
UNUSABLE = "!"  # the benchmark's people never sign in by password (Django's unusable-password mark)
CRITERIA = [("cost_saving", 25, None), ("patient_benefit", 25, 1), ("deliverability", 15, None),
            ("scalability", 15, None), ("collaboration", 10, None), ("value_for_money", 10, None)]


def _make_call(n: int):
    """A call in assessment with ``n`` scored bids, made with bulk_create."""
    import random

    from applications.models import Bid, BidCost, BidPartner, BidStatus
    from assessment.models import (
        Assignment,
        AssignmentStatus,
        Moderation,
        Score,
        ScoreSheet,
        SheetStatus,
    )
    from governance.models import (
        AllocationModel,
        Call,
        CallStatus,
        Criterion,
        Fund,
        Membership,
        MembershipRole,
        Organisation,
        OrganisationKind,
        Panel,
        PanelMember,
        PanelRole,
        Pot,
        PotBudget,
        RubricDescriptor,
        User,
    )

    rng = random.Random(n)
    now = timezone.now()
    year = timezone.localdate().year + 1
    network = Organisation.objects.create(name=f"Bench network {n}", kind=OrganisationKind.HEALTH_INNOVATION_NETWORK,
                                          short_name=f"B{n}")
    manager = User.objects.create_user(f"manager{n}@bench.example", None, full_name="Bench manager")
    Membership.objects.create(user=manager, organisation=network, role=MembershipRole.FUND_MANAGER)
    fund = Fund.objects.create(name=f"Bench fund {n}", slug=f"bench-fund-{n}", host_network=network, description="-",
                               allocation_model=AllocationModel.NATIONAL, first_year=year - 1, last_year=year + 2)
    pot = Pot.objects.create(fund=fund, name="National pot")
    # Every bid asks for 100,000 a year for two years: half of them fit.
    PotBudget.objects.bulk_create(
        PotBudget(pot=pot, financial_year=y, amount=Decimal(100000) * n / 2) for y in fund.years
    )
    panel = Panel.objects.create(fund=fund, name="Bench panel")
    call = Call.objects.create(
        fund=fund, host_network=network, title=f"Bench call {n}", slug=f"bench-call-{n}", summary="-", purpose="adoption",
        innovation_types=["digital"], opens_at=now - dt.timedelta(days=90), closes_at=now - dt.timedelta(days=30),
        eligible_org_kinds=["nhs_trust"], min_amount=Decimal(0), max_amount=Decimal(500000), max_duration_years=3,
        panel=panel, assessors_per_bid=3, moderation_threshold=Decimal(2), status=CallStatus.ASSESSMENT,
    )
    call.pots.add(pot)
    criteria = Criterion.objects.bulk_create(
        Criterion(call=call, kind=kind, title=kind.replace("_", " ").capitalize(), guidance_for_applicants="-",
                  guidance_for_assessors="-", weight=weight, gateway_min_score=gateway, position=i)
        for i, (kind, weight, gateway) in enumerate(CRITERIA)
    )
    RubricDescriptor.objects.bulk_create(
        RubricDescriptor(criterion=c, score=s, descriptor=f"Score {s}") for c in criteria for s in range(5)
    )
    chair = User.objects.create_user(f"chair{n}@bench.example", None, full_name="Bench chair")
    PanelMember.objects.create(panel=panel, user=chair, role=PanelRole.CHAIR)
    assessors = User.objects.bulk_create(
        User(email=f"assessor{n}-{i}@bench.example", full_name=f"Assessor {i:02d}", password=UNUSABLE) for i in range(15)
    )
    PanelMember.objects.bulk_create(PanelMember(panel=panel, user=a, role=PanelRole.ASSESSOR) for a in assessors)
    trusts = Organisation.objects.bulk_create(
        Organisation(name=f"Bench trust {n}-{i}", kind=OrganisationKind.NHS_TRUST, network=network) for i in range(25)
    )
    bids = Bid.objects.bulk_create(
        Bid(call=call, lead_organisation=trusts[i % len(trusts)], pot=pot, reference=f"B{n}-{i:05d}",
            title=f"Bench bid {i}", status=BidStatus.IN_ASSESSMENT, start_date=dt.date(year, 4, 1),
            end_date=dt.date(year + 2, 3, 31), created_by=manager, submitted_at=now - dt.timedelta(days=40, minutes=i),
            submitted_by=manager)
        for i in range(n)
    )
    BidPartner.objects.bulk_create(
        BidPartner(bid=b, organisation=trusts[(i + 1) % len(trusts)], role="secondary_care", contribution="-")
        for i, b in enumerate(bids)
    )
    BidCost.objects.bulk_create(
        BidCost(bid=b, financial_year=y, category="staff", amount=Decimal(100000)) for b in bids for y in (year, year + 1)
    )
    assignments = Assignment.objects.bulk_create(
        Assignment(bid=b, assessor=assessors[(i * 3 + k) % len(assessors)], assigned_by=manager,
                   status=AssignmentStatus.ACTIVE)
        for i, b in enumerate(bids) for k in range(3)
    )
    sheets = ScoreSheet.objects.bulk_create(
        ScoreSheet(assignment=a, status=SheetStatus.SUBMITTED, submitted_at=now) for a in assignments
    )
    Score.objects.bulk_create(
        Score(sheet=s, criterion=c, score=rng.randint(0, 4), comment="-") for s in sheets for c in criteria
    )
    Moderation.objects.bulk_create(
        Moderation(bid=b, criterion=criteria[0], score=Decimal(2), rationale="-", moderated_by=chair)
        for b in bids[::10]
    )
    return call, chair


def _measure(fn) -> tuple[float, int]:
    fn()  # warm-up
    times, queries = [], []
    for _ in range(RUNS):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            fn()
            times.append(time.perf_counter() - started)
        queries.append(len(captured.captured_queries))
    return statistics.median(times) * 1000, max(queries)


def main() -> None:
    from assessment.selectors import call_ranking

    sizes = [int(a) for a in sys.argv[1:]] or [50, 500]
    setup_test_environment()
    connection.settings_dict.setdefault("TEST", {})["NAME"] = (
        f"test_{connection.settings_dict['NAME']}_ranking_bench" if connection.vendor == "postgresql" else None
    )
    name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False, serialize=False)
    print(f"database: {connection.vendor}; {RUNS} runs each, median")
    print(f"{'bids':>5} {'scores':>7} | {'ranking ms':>10} {'queries':>7} | {'normalised ms':>13} {'queries':>7} | "
          f"{'page ms':>8} {'queries':>7} | above the line")
    try:
        for n in sizes:
            call, chair = _make_call(n)
            ranking_ms, ranking_q = _measure(lambda call=call: call_ranking(call))
            call.normalise_scores = True
            call.save(update_fields=["normalise_scores"])
            normal_ms, normal_q = _measure(lambda call=call: call_ranking(call))
            call.normalise_scores = False
            call.save(update_fields=["normalise_scores"])
            client = Client()
            client.force_login(chair)
            url = f"/assessment/calls/{call.slug}/ranking/"

            def page(client=client, url=url):
                response = client.get(url)
                assert response.status_code == 200, response.status_code

            page_ms, page_q = _measure(page)
            rows = call_ranking(call).pots[0].rows
            above = sum(1 for row in rows if row.above_line)
            print(f"{n:>5} {n * 18:>7} | {ranking_ms:>10.0f} {ranking_q:>7} | {normal_ms:>13.0f} {normal_q:>7} | "
                  f"{page_ms:>8.0f} {page_q:>7} | {above} of {len(rows)}")
    finally:
        connection.creation.destroy_test_db(name, verbosity=0)


if __name__ == "__main__":
    main()
