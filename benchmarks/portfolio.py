"""The portfolio dashboard with 2,000 awards and 16,000 returns.

Run by hand against PostgreSQL:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/fp_monitoring \
        .venv/bin/python benchmarks/portfolio.py [awards]

It creates a throwaway database (test_<name>_bench), fills it with ``bulk_create`` (two funds,
three networks, four calls; per award a two-year profile, two projected savings, three
patient-benefit measures and eight quarterly returns, the older ones approved with spend,
savings and actuals), then renders ``/monitoring/`` as a fund manager and as an auditor, with and
without filters, printing the median time and the number of queries of each. It also times the
periodic task's work over all the awards (schedules already in place, so nothing to change).
"""

from __future__ import annotations

import datetime as dt
import os
import random
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fundportal.settings.test")
os.environ["CELERY_EAGER"] = "1"
os.environ.pop("CELERY_BROKER_URL", None)

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402

RUNS = 5
RETURNS_PER_AWARD = 8


def _build(awards: int) -> dict:
    from applications.models import BenefitMeasure, Bid, ProjectedSaving
    from assessment.models import PanelDecision
    from awards.models import Award, AwardStatus, AwardYear
    from governance import fy
    from governance.models import (
        AllocationModel,
        Fund,
        FundRole,
        FundRoleKind,
        Membership,
        MembershipRole,
        Organisation,
        OrganisationKind,
        Pot,
        User,
    )
    from reporting.models import (
        MonitoringReturn,
        ReturnMeasureActual,
        ReturnSaving,
        ReturnSpend,
        ReturnStatus,
    )
    from reporting.monitoring.selectors import due_date_for, return_periods
    from tests.factories.governance import CallFactory

    rng = random.Random(7)
    today = timezone.localdate()
    this_year = fy.FinancialYear.of(today).start_year
    networks = [Organisation.objects.create(name=f"Network {n}", short_name=f"N{n}",
                                            kind=OrganisationKind.HEALTH_INNOVATION_NETWORK) for n in range(3)]
    trusts = Organisation.objects.bulk_create(
        Organisation(name=f"Trust {n}", kind=OrganisationKind.NHS_TRUST, ods_code=f"T{n:04d}", network=networks[n % 3])
        for n in range(300))
    manager = User.objects.create_user("manager@example.com", "x", full_name="Bench Manager")
    auditor = User.objects.create_user("auditor@example.com", "x", full_name="Bench Auditor")
    Membership.objects.create(user=manager, organisation=networks[0], role=MembershipRole.FUND_MANAGER)
    funds, calls, pots = [], [], []
    for index in range(2):
        fund = Fund.objects.create(name=f"Fund {index}", slug=f"fund-{index}", host_network=networks[0],
                                   allocation_model=AllocationModel.RING_FENCED, first_year=this_year - 2,
                                   last_year=this_year + 3)
        funds.append(fund)
        FundRole.objects.create(user=auditor, fund=fund, role=FundRoleKind.AUDITOR)
        fund_pots = [Pot.objects.create(fund=fund, name=f"Pot {index}-{n.short_name}", network=n) for n in networks]
        pots.extend(fund_pots)
        for _c in range(2):
            calls.append(CallFactory(fund=fund, host_network=networks[0], status="closed_out", pots=fund_pots,
                                     opens_at=timezone.now() - dt.timedelta(days=900),
                                     closes_at=timezone.now() - dt.timedelta(days=800)))
    bids = Bid.objects.bulk_create(
        Bid(call=calls[n % len(calls)], lead_organisation=trusts[n % len(trusts)], pot=pots[n % len(pots)],
            reference=f"BENCH-{n:05d}", title=f"Innovation {n}", status="funded", created_by=manager)
        for n in range(awards))
    decisions = PanelDecision.objects.bulk_create(
        PanelDecision(bid=bid, outcome="fund", amount_approved=Decimal("200000"), public_reason="x", decided_by=manager,
                      released_at=timezone.now()) for bid in bids)
    statuses = [AwardStatus.ACTIVE] * 8 + [AwardStatus.SUSPENDED, AwardStatus.CLOSED]
    award_rows = []
    for n, (bid, decision) in enumerate(zip(bids, decisions, strict=True)):
        start = fy.FinancialYear(this_year - 1).quarter(rng.randint(1, 4))[0]
        award_rows.append(Award(
            decision=decision, bid=bid, pot=bid.pot, recipient=bid.lead_organisation, reference=bid.reference,
            title=bid.title, description="x", amount=Decimal("200000"), start_date=start,
            end_date=start.replace(year=start.year + 2) - dt.timedelta(days=1), status=statuses[n % len(statuses)],
            offer_deadline=today, issued_by=manager))
    award_list = Award.objects.bulk_create(award_rows)
    years, projected, measures = [], [], []
    for award in award_list:
        for year in fy.years_spanning(award.start_date, award.end_date)[:3]:
            years.append(AwardYear(award=award, financial_year=year, amount=Decimal("66666.67")))
            projected.append(ProjectedSaving(bid_id=award.bid_id, financial_year=year, kind="cashable",
                                             realised_by_id=award.recipient_id, care_setting="secondary",
                                             amount=Decimal("50000"), assumptions="x"))
        for name, baseline, target in (("Bed days avoided", 0, 1200), ("Patients reached", 0, 800),
                                       ("Emergency admissions", 45, 30)):
            measures.append(BenefitMeasure(bid_id=award.bid_id, name=name, unit="n", baseline=baseline, target=target,
                                           target_date=award.end_date))
    AwardYear.objects.bulk_create(years)
    ProjectedSaving.objects.bulk_create(projected)
    measures = BenefitMeasure.objects.bulk_create(measures)
    measures_by_bid: dict[int, list] = {}
    for measure in measures:
        measures_by_bid.setdefault(measure.bid_id, []).append(measure)
    returns = []
    for award in award_list:
        periods = return_periods(award.start_date, award.end_date, 3)
        for index, (start, end) in enumerate(periods[:RETURNS_PER_AWARD]):
            final = index == len(periods) - 1
            if end >= today:
                status = ReturnStatus.UPCOMING
            else:
                status = rng.choice([ReturnStatus.APPROVED] * 6 + [ReturnStatus.SUBMITTED, ReturnStatus.OPEN,
                                                                   ReturnStatus.RETURNED])
            rag = rng.choice(["red", "amber", "green", "green", "green"]) if status in ("approved", "submitted") else ""
            returns.append(MonitoringReturn(award=award, period_start=start, period_end=end, is_final=final,
                                            due_date=due_date_for(end, is_final=final), status=status, rag=rag,
                                            submitted_at=timezone.now() if status in ("approved", "submitted") else None))
    returns = MonitoringReturn.objects.bulk_create(returns)
    spend, savings, actuals = [], [], []
    for ret in returns:
        if ret.status != ReturnStatus.APPROVED:
            continue
        year = ret.financial_year
        spend.append(ReturnSpend(monitoring_return=ret, financial_year=year, category="staff", amount=Decimal("15000")))
        spend.append(ReturnSpend(monitoring_return=ret, financial_year=year, category="evaluation", amount=Decimal("2000")))
        savings.append(ReturnSaving(monitoring_return=ret, financial_year=year, kind="cashable",
                                    realised_by_id=ret.award.recipient_id, care_setting="secondary", amount=Decimal("9000")))
        savings.append(ReturnSaving(monitoring_return=ret, financial_year=year, kind="non_cashable",
                                    realised_by_id=ret.award.recipient_id, care_setting="community", amount=Decimal("3000")))
        for measure in measures_by_bid[ret.award.bid_id]:
            actuals.append(ReturnMeasureActual(monitoring_return=ret, measure=measure,
                                               value=Decimal(rng.randint(0, int(max(measure.target, measure.baseline))))))
    ReturnSpend.objects.bulk_create(spend)
    ReturnSaving.objects.bulk_create(savings)
    ReturnMeasureActual.objects.bulk_create(actuals)
    connection.cursor().execute("ANALYZE")
    print(f"built {len(award_list)} awards, {len(returns)} returns, {len(spend)} spend rows, {len(savings)} savings, "
          f"{len(actuals)} actuals, {len(measures)} measures")
    return {"manager": manager, "auditor": auditor, "fund": funds[0], "call": calls[1], "pot": pots[1],
            "network": networks[1], "year": this_year}


def _measure(client: Client, url: str) -> tuple[float, int]:
    client.get(url)  # warm up
    times, queries = [], 0
    for _ in range(RUNS):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(url)
            times.append(time.perf_counter() - started)
        assert response.status_code == 200, response.status_code
        queries = len(captured)
    return statistics.median(times), queries


def _profile(client: Client, url: str) -> None:
    """With BENCH_PROFILE=1: the slowest queries of one request."""
    timings = []

    def timer(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            timings.append((time.perf_counter() - started, sql))

    with connection.execute_wrapper(timer):
        client.get(url)
    for seconds, sql in sorted(timings, reverse=True)[:6]:
        print(f"    {seconds * 1000:7.1f} ms  {sql[:300]}")


def main() -> None:
    if connection.vendor != "postgresql":
        sys.exit("Run this against PostgreSQL: set DATABASE_URL=postgres://...")
    awards = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    setup_test_environment()
    connection.settings_dict.setdefault("TEST", {})["NAME"] = f"test_{connection.settings_dict['NAME']}_bench"
    name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False, serialize=False)
    try:
        started = time.perf_counter()
        world = _build(awards)
        print(f"built in {time.perf_counter() - started:.1f} s")
        client = Client()
        cases = [
            ("manager, no filters", world["manager"], ""),
            ("manager, fund", world["manager"], f"?fund={world['fund'].pk}"),
            ("manager, call", world["manager"], f"?call={world['call'].pk}"),
            ("manager, pot", world["manager"], f"?pot={world['pot'].pk}"),
            ("manager, network", world["manager"], f"?network={world['network'].pk}"),
            ("manager, year", world["manager"], f"?year={world['year']}"),
            ("manager, RAG red", world["manager"], "?rag=red"),
            ("manager, all filters", world["manager"],
             f"?fund={world['fund'].pk}&pot={world['pot'].pk}&year={world['year']}&rag=green"),
            ("manager, page 40", world["manager"], "?page=40"),
            ("auditor, no filters", world["auditor"], ""),
        ]
        print(f"{'case':<24} {'median':>9} {'queries':>8}")
        for label, user, query in cases:
            client.force_login(user)
            seconds, queries = _measure(client, "/monitoring/" + query)
            print(f"{label:<24} {seconds * 1000:>7.0f} ms {queries:>8}")
            if os.environ.get("BENCH_PROFILE"):
                _profile(client, "/monitoring/" + query)
        from reporting.monitoring.services import monitoring_run

        started = time.perf_counter()
        with CaptureQueriesContext(connection) as captured:
            result = monitoring_run()
        print(f"periodic task's work over {awards} awards: {time.perf_counter() - started:.1f} s, "
              f"{len(captured)} queries, {len(result['opened'])} opened, {len(result['reminders'])} reminders due")
    finally:
        connection.creation.destroy_test_db(name, verbosity=0)


if __name__ == "__main__":
    main()
