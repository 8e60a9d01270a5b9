"""Benchmark: building an impact report for a large fund, step by step.

    .venv/bin/python benchmarks/impact_report.py                 # 100, 1,000 and 10,000 awards
    .venv/bin/python benchmarks/impact_report.py --awards 1000   # one size

Synthetic data (bulk_create) goes into a dedicated benchmark database, PostgreSQL by default
(``BENCH_DATABASE_URL``, default postgres://postgres@127.0.0.1:5432/fp_reports_bench, created if
missing); each fund size is made once and reused. Every award runs three financial years with
quarterly returns (12 per award: 10 approved, each with spend, cashable and non-cashable savings
and two measure actuals), a three-year profile, commitments and quarterly payments in the pot
ledger, and bids around it (funded, not funded, ineligible) with decisions.

Each size runs in its own process, so peak memory (maximum resident set size) is per size. The
steps timed are the build's own (``reporting.impact.build``): queries, pandas, charts, HTML, PDF,
CSV+XLSX. The baseline is WeasyPrint alone rendering the same final HTML (after a warm-up), and
the target is our total within 1.5 times that baseline.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import resource
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/fp_reports_bench"
RESULTS = ROOT / "benchmarks" / "results"
FIRST_YEAR = 2024
YEARS = (2024, 2025, 2026)
NETWORKS = 10


def setup_django(url: str) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fundportal.settings.base")
    os.environ.setdefault("MEDIA_ROOT", str(ROOT / "var" / "bench-media"))
    os.environ.pop("CELERY_BROKER_URL", None)
    import django

    django.setup()


def ensure_database(url: str) -> None:
    if not url.startswith("postgres"):
        return
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


# Synthetic data -------------------------------------------------------------------------------


def seed(awards: int, returns_per_award: int = 12) -> int:
    """A fund with ``awards`` awards and their returns; returns the fund's id. Made once."""
    from django.db import transaction

    from applications.models import (
        BenefitMeasure,
        Bid,
        BidStatus,
        CareSetting,
        ProjectedSaving,
        SavingKind,
    )
    from assessment.models import DecisionOutcome, PanelDecision
    from awards.models import (
        Award,
        AwardStatus,
        AwardYear,
        LedgerEntryKind,
        PotLedgerEntry,
        Variation,
    )
    from governance import fy
    from governance.models import (
        AllocationModel,
        Call,
        CallPurpose,
        CallStatus,
        Fund,
        Organisation,
        OrganisationKind,
        Pot,
        PotBudget,
        Region,
        User,
    )
    from reporting.models import (
        MonitoringReturn,
        ReturnMeasureActual,
        ReturnSaving,
        ReturnSpend,
        ReturnStatus,
    )

    slug = f"bench-{awards}"
    existing = Fund.objects.filter(slug=slug).first()
    if existing:
        return existing.pk
    rng = random.Random(awards)
    started = time.perf_counter()
    tz = dt.UTC
    batch = 5000
    with transaction.atomic():
        user, _ = User.objects.get_or_create(email="bench@example.com", defaults={"full_name": "Benchmark"})
        regions = list(Region.values)
        networks = [Organisation.objects.get_or_create(
            short_name=f"B{awards}N{i}", defaults={"name": f"Bench network {i} ({awards})",
                                                   "kind": OrganisationKind.HEALTH_INNOVATION_NETWORK,
                                                   "region": regions[i % len(regions)]})[0] for i in range(NETWORKS)]
        fund = Fund.objects.create(name=f"Benchmark fund with {awards:,} awards", slug=slug, host_network=networks[0],
                                   description="Synthetic data for the impact report benchmark.",
                                   allocation_model=AllocationModel.RING_FENCED, first_year=FIRST_YEAR, last_year=FIRST_YEAR + 2)
        pots = [Pot.objects.create(fund=fund, name=f"{n.name} pot", network=n) for n in networks]
        PotBudget.objects.bulk_create(PotBudget(pot=p, financial_year=y, amount=Decimal("50000000.00"))
                                      for p in pots for y in YEARS)
        organisations = Organisation.objects.bulk_create(
            Organisation(name=f"Bench trust {awards}-{i}", kind=OrganisationKind.NHS_TRUST, network=networks[i % NETWORKS],
                         region=networks[i % NETWORKS].region) for i in range(max(10, awards // 5)))
        calls = []
        for i, purpose in enumerate(CallPurpose.values):
            call = Call.objects.create(
                fund=fund, host_network=networks[0], title=f"Bench call {i + 1}", slug=f"{slug}-call-{i}",
                summary="Synthetic.", purpose=purpose, opens_at=dt.datetime(2023, 10, 1, tzinfo=tz),
                closes_at=dt.datetime(2024, 1, 31, tzinfo=tz), min_amount=Decimal("1000"), max_amount=Decimal("900000"),
                max_duration_years=3, status=CallStatus.DECIDED)
            call.pots.set(pots)
            calls.append(call)
        # Bids: one funded per award, and half as many again not funded or ineligible.
        statuses = [BidStatus.FUNDED] * awards + [BidStatus.NOT_FUNDED] * (awards // 3) + [BidStatus.INELIGIBLE] * (awards // 6)
        bids = Bid.objects.bulk_create(
            (Bid(call=calls[i % 3], lead_organisation=organisations[i % len(organisations)], pot=pots[i % NETWORKS],
                 reference=f"B{awards}-{i:06d}", title=f"Innovation {i}", status=status, created_by=user,
                 start_date=dt.date(FIRST_YEAR, 4, 1), end_date=dt.date(FIRST_YEAR + 3, 3, 31),
                 submitted_at=dt.datetime(2024, 1, 20, tzinfo=tz)) for i, status in enumerate(statuses)), batch_size=batch)
        decided = [b for b in bids if b.status != BidStatus.INELIGIBLE]
        decisions = PanelDecision.objects.bulk_create(
            (PanelDecision(bid=b, outcome=DecisionOutcome.FUND if b.status == BidStatus.FUNDED else DecisionOutcome.NOT_FUND,
                           amount_approved=Decimal(rng.randrange(90, 300) * 1000) if b.status == BidStatus.FUNDED else None,
                           public_reason="Synthetic.", score=Decimal(rng.randrange(3000, 9500)) / 100, decided_by=user,
                           decided_at=dt.datetime(2024, 2, 20, tzinfo=tz), above_funding_line=b.status == BidStatus.FUNDED)
             for b in decided), batch_size=batch)
        funded = [d for d in decisions if d.outcome == DecisionOutcome.FUND]
        award_rows = Award.objects.bulk_create(
            (Award(decision=d, bid=d.bid, pot=d.bid.pot, recipient=d.bid.lead_organisation, reference=d.bid.reference,
                   title=d.bid.title, description="Synthetic.", amount=d.amount_approved, start_date=d.bid.start_date,
                   end_date=d.bid.end_date, status=AwardStatus.ACTIVE if i % 10 else AwardStatus.CLOSED,
                   offer_deadline=dt.date(2024, 3, 31), issued_by=user, issued_at=dt.datetime(2024, 3, 1, tzinfo=tz))
             for i, d in enumerate(funded)), batch_size=batch)
        profile, ledger, projected, measures = [], [], [], []
        for award in award_rows:
            third = (award.amount / 3).quantize(Decimal("0.01"))
            for year in YEARS:
                profile.append(AwardYear(award=award, financial_year=year, amount=third))
                ledger.append(PotLedgerEntry(pot=award.pot, financial_year=year, kind=LedgerEntryKind.COMMIT, amount=third,
                                             award=award, created_at=dt.datetime(2024, 3, 1, tzinfo=tz)))
                for quarter in (1, 2, 3, 4):
                    paid_on = fy.FinancialYear(year).quarter(quarter)[1] + dt.timedelta(days=20)
                    if paid_on < dt.date(2026, 11, 1):
                        ledger.append(PotLedgerEntry(pot=award.pot, financial_year=year, kind=LedgerEntryKind.PAYMENT,
                                                     amount=(third / 4).quantize(Decimal("0.01")), award=award,
                                                     created_at=dt.datetime.combine(paid_on, dt.time(12), tzinfo=tz)))
                projected.append(ProjectedSaving(bid_id=award.bid_id, financial_year=year, kind=SavingKind.CASHABLE,
                                                 realised_by_id=award.recipient_id, care_setting=CareSetting.SECONDARY,
                                                 amount=(third * Decimal("0.8")).quantize(Decimal("0.01")), assumptions="Synthetic."))
                projected.append(ProjectedSaving(bid_id=award.bid_id, financial_year=year, kind=SavingKind.NON_CASHABLE,
                                                 realised_by_id=award.recipient_id, care_setting=CareSetting.COMMUNITY,
                                                 amount=(third * Decimal("0.3")).quantize(Decimal("0.01")), assumptions="Synthetic."))
            measures.append(BenefitMeasure(bid_id=award.bid_id, name="Bed days avoided", unit="days", baseline=0,
                                           target=1000, target_date=award.end_date))
            measures.append(BenefitMeasure(bid_id=award.bid_id, name="Patients reached", unit="patients", baseline=0,
                                           target=800, target_date=award.end_date))
        AwardYear.objects.bulk_create(profile, batch_size=batch)
        PotLedgerEntry.objects.bulk_create(ledger, batch_size=batch)
        ProjectedSaving.objects.bulk_create(projected, batch_size=batch)
        measures = BenefitMeasure.objects.bulk_create(measures, batch_size=batch)
        by_bid: dict[int, list] = {}
        for measure in measures:
            by_bid.setdefault(measure.bid_id, []).append(measure)
        Variation.objects.bulk_create((Variation(award=a, kind="extension", reasons="Synthetic.", requested_by=user,
                                                 requested_at=dt.datetime(2025, 6, 1, tzinfo=tz))
                                       for a in award_rows[::10]), batch_size=batch)
        quarters = [(y, q) for y in YEARS for q in (1, 2, 3, 4)][:returns_per_award]
        returns = []
        for award in award_rows:
            for index, (year, quarter) in enumerate(quarters):
                start, end = fy.FinancialYear(year).quarter(quarter)
                approved = index < returns_per_award - 2
                returns.append(MonitoringReturn(
                    award=award, period_start=start, period_end=end, due_date=end + dt.timedelta(days=30),
                    status=ReturnStatus.APPROVED if approved else ReturnStatus.OPEN, is_final=index == returns_per_award - 1,
                    rag=rng.choice(["green", "green", "green", "green", "amber", "red"]) if approved else "",
                    organisations_adopting=1 + index // 2 if approved else None, sites_adopting=1 + index if approved else None,
                    patients_reached=40 * (index + 1) if approved else None,
                    submitted_at=dt.datetime.combine(end + dt.timedelta(days=rng.randrange(10, 40)), dt.time(12), tzinfo=tz) if approved else None,
                ))
        returns = MonitoringReturn.objects.bulk_create(returns, batch_size=batch)
        spend, savings, actuals = [], [], []
        award_by_id = {a.pk: a for a in award_rows}
        for ret in returns:
            if ret.status != ReturnStatus.APPROVED:
                continue
            award = award_by_id[ret.award_id]
            year = fy.FinancialYear.of(ret.period_start).start_year
            quarter_budget = (award.amount / 12).quantize(Decimal("0.01"))
            spend.append(ReturnSpend(monitoring_return=ret, financial_year=year, category="staff",
                                     amount=(quarter_budget * Decimal("0.7")).quantize(Decimal("0.01"))))
            spend.append(ReturnSpend(monitoring_return=ret, financial_year=year, category="digital_licences",
                                     amount=(quarter_budget * Decimal("0.25")).quantize(Decimal("0.01"))))
            savings.append(ReturnSaving(monitoring_return=ret, financial_year=year, kind=SavingKind.CASHABLE,
                                        realised_by_id=award.recipient_id, care_setting=CareSetting.SECONDARY,
                                        amount=(quarter_budget * Decimal("0.6")).quantize(Decimal("0.01"))))
            savings.append(ReturnSaving(monitoring_return=ret, financial_year=year, kind=SavingKind.NON_CASHABLE,
                                        realised_by_id=award.recipient_id, care_setting=CareSetting.COMMUNITY,
                                        amount=(quarter_budget * Decimal("0.3")).quantize(Decimal("0.01"))))
            for measure in by_bid[award.bid_id]:
                actuals.append(ReturnMeasureActual(monitoring_return=ret, measure=measure,
                                                   value=Decimal(rng.randrange(0, 90000)) / 100))
        ReturnSpend.objects.bulk_create(spend, batch_size=batch)
        ReturnSaving.objects.bulk_create(savings, batch_size=batch)
        ReturnMeasureActual.objects.bulk_create(actuals, batch_size=batch)
    print(f"  seeded {awards:,} awards, {len(returns):,} returns, {len(spend) + len(savings) + len(actuals):,} return rows "
          f"and {len(ledger):,} ledger entries in {time.perf_counter() - started:.0f} s", flush=True)
    return fund.pk


# The measured run -------------------------------------------------------------------------------


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_one(awards: int, repeat: int) -> dict:
    """Time the build ``repeat`` times, alternating with WeasyPrint alone on the same HTML, and
    keep the fastest of each (the usual way to see through a busy machine's noise)."""
    import io

    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone
    from pypdf import PdfReader

    from governance.models import Fund, User
    from reporting.impact import build
    from reporting.impact.analytics import impact_snapshot
    from reporting.impact.charts import draw_charts
    from reporting.impact.document import render_document_html, render_pdf
    from reporting.impact.exports import report_csv, report_xlsx
    from reporting.models import ImpactReport, MonitoringReturn

    fund = Fund.objects.get(pk=seed(awards))
    report = ImpactReport(fund=fund, title=f"Benchmark: {awards:,} awards", period_start=dt.date(FIRST_YEAR, 4, 1),
                          period_end=dt.date(FIRST_YEAR + 2, 3, 31), requested_by=User.objects.get(email="bench@example.com"))
    returns = MonitoringReturn.objects.filter(award__pot__fund=fund).count()
    if connection.vendor == "postgresql":
        # Planner statistics, as autovacuum keeps them on a live database: without them, freshly
        # bulk-loaded tables get nested-loop plans that take seconds instead of milliseconds.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    render_pdf("<!DOCTYPE html><html lang='en-GB'><head><title>Warm-up</title></head><body><p>Warm-up</p></body></html>")
    runs, baselines, memory = [], [], {}

    def clock():
        return time.perf_counter(), time.process_time()

    for _ in range(repeat):
        wall, cpu = {}, {}

        def timed(name, fn, *args, wall=wall, cpu=cpu, **kwargs):
            started, started_cpu = clock()
            result = fn(*args, **kwargs)
            ended, ended_cpu = clock()
            wall[name], cpu[name] = ended - started, ended_cpu - started_cpu
            memory[name] = peak_mb()
            return result

        with CaptureQueriesContext(connection) as queries:
            cutoff, sources = timed("queries", build.read_consistently, report)
        snapshot = timed("pandas", impact_snapshot, report, sources, cutoff)
        charts = timed("charts", draw_charts, snapshot)
        html = timed("html", render_document_html, snapshot, charts, generated_at=timezone.now(), version_number=1)
        pdf = timed("pdf", render_pdf, html)
        timed("csv_xlsx", lambda snapshot=snapshot: (report_csv(snapshot), report_xlsx(snapshot)))
        runs.append((wall, cpu))
        started, started_cpu = clock()
        render_pdf(html)
        ended, ended_cpu = clock()
        baselines.append((ended - started, ended_cpu - started_cpu))
        del sources, snapshot, charts
    steps = {name: min(w[name] for w, _ in runs) for name in runs[0][0]}
    cpu = {name: min(c[name] for _, c in runs) for name in runs[0][1]}
    total, total_cpu = min(sum(w.values()) for w, _ in runs), min(sum(c.values()) for _, c in runs)
    baseline, baseline_cpu = min(b for b, _ in baselines), min(c for _, c in baselines)
    return {
        "awards": awards, "returns": returns, "repeat": repeat, "queries": len(queries.captured_queries),
        "steps": steps, "cpu": cpu, "total": total, "weasyprint_baseline": baseline, "ratio": total / baseline,
        "total_cpu": total_cpu, "weasyprint_baseline_cpu": baseline_cpu, "ratio_cpu": total_cpu / baseline_cpu,
        "peak_rss_mb": memory, "load_average": os.getloadavg(),
        "pdf_pages": len(PdfReader(io.BytesIO(pdf)).pages), "pdf_bytes": len(pdf), "html_bytes": len(html),
    }


def table(results: list[dict], key: str = "steps", total: str = "total", baseline: str = "weasyprint_baseline",
          ratio: str = "ratio") -> str:
    lines = ["| awards | returns | queries | queries s | pandas s | charts s | HTML s | PDF s | CSV+XLSX s | total s "
             "| WeasyPrint alone s | total ÷ WeasyPrint | PDF pages | peak RSS MB |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        s = r[key]
        lines.append(
            f"| {r['awards']:,} | {r['returns']:,} | {r['queries']} | {s['queries']:.2f} | {s['pandas']:.2f} | "
            f"{s['charts']:.2f} | {s['html']:.2f} | {s['pdf']:.1f} | {s['csv_xlsx']:.2f} | {r[total]:.1f} | "
            f"{r[baseline]:.1f} | {r[ratio]:.2f} | {r['pdf_pages']:,} | {max(r['peak_rss_mb'].values()):,.0f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--awards", type=int, action="append", help="fund size(s); default 100, 1000 and 10000")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--repeat", type=int, default=3, help="runs per size (the fastest is kept); 1 above 5,000 awards")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    sizes = args.awards or [100, 1000, 10_000]
    if args.child:
        setup_django(args.database_url)
        print(json.dumps(run_one(sizes[0], args.repeat)), flush=True)
        return
    ensure_database(args.database_url)
    setup_django(args.database_url)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    results = []
    for size in sizes:
        print(f"{size:,} awards...", flush=True)
        repeat = args.repeat if size <= 5000 else 1
        output = subprocess.run([sys.executable, __file__, "--child", "--awards", str(size), "--repeat", str(repeat),
                                 "--database-url", args.database_url], check=True, capture_output=True, text=True, cwd=ROOT)
        for line in output.stdout.splitlines():
            if line.startswith("{"):
                results.append(json.loads(line))
            else:
                print(line)
        r = results[-1]
        print(f"  total {r['total']:.1f} s, WeasyPrint alone {r['weasyprint_baseline']:.1f} s, ratio {r['ratio']:.2f}, "
              f"{r['pdf_pages']} pages", flush=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "impact_report.json").write_text(json.dumps(results, indent=2))
    print("Wall-clock seconds:")
    print(table(results))
    print("\nCPU seconds (steadier on a shared machine):")
    print(table(results, "cpu", "total_cpu", "weasyprint_baseline_cpu", "ratio_cpu"))


if __name__ == "__main__":
    main()
