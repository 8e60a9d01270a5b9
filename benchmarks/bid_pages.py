"""What each page a bid writer opens in the deadline rush costs, in-process: CPU and wall time, queries.

Run by hand (not by pytest), from the repository root, with the database migrated:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/NAME .venv/bin/python benchmarks/bid_pages.py
        [--writers 30] [--warmup 3] [--profile "open savings"] [--profile-sort tottime]

It builds the deadline rush's data (``deadline_rush._setup``: a call closing in an hour, one NHS
trust and one writer per bid, each bid complete, endorsed and signed off) inside a transaction
that is rolled back at the end, so the database is left as it was. Then each writer, signed in by
the session made for them, goes through the rush's pages in the rush's order with Django's test
client: the task list, the summary, costs and savings sections (each opened, then saved as the
rush saves them), the check-your-answers page, the submission and the confirmation. The first
``--warmup`` writers are not counted (templates compiled, caches filled).

For each page it prints the median and p95 of the process's CPU time (``time.process_time``: what
other processes on a shared machine do not change much) and of wall time, in ms, and the SQL
queries it made. ``--profile NAME`` (repeatable; a page name as printed) runs cProfile over those
pages' requests (CPU time) and prints the functions that cost most (all of it in
``benchmarks/results/bid_pages.prof``). Settings as the rush runs the portal
(``fundportal.settings.local``, DEBUG off); set ``CACHE_URL`` (e.g. ``redis://127.0.0.1:6379/N``)
to read sessions and the header menu through Redis as the rush does. Tasks the pages queue after
their transaction commits (the submission's email) are never queued: the transaction is rolled
back. Figures are written to ``benchmarks/results/bid_pages.json`` as well.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
PAGES = (
    "task list",
    "open summary",
    "open costs",
    "open savings",
    "save summary",
    "save costs",
    "save savings",
    "check answers",
    "submit",
    "confirmation",
)


class _Rollback(Exception):
    pass


def _environment() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fundportal.settings.local")
    os.environ["DEBUG"] = "False"
    os.environ.setdefault("SITE_URL", "https://fund.bench.example")
    os.environ.setdefault("EMAIL_URL", "dummymail://")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    sys.path.insert(0, str(ROOT))


def _percentile(values: list[float], cut: int) -> float:
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=100, method="inclusive")[cut - 1]


def _writer_pages(
    client, writer: dict, first_year: int
) -> list[tuple[str, str, str, dict | None, str | None]]:
    """(name, method, path, data, where a POST must send the writer) in the rush's order."""
    bid, organisation = writer["bid"], writer["organisation"]
    base = f"/bids/{bid}"
    summary = {
        "title": f"Remote monitoring for frailty, site {bid}",
        "summary": "Monitoring at home, revised.",
        "problem": "Avoidable admissions.",
        "start_date_day": "1",
        "start_date_month": "4",
        "start_date_year": str(first_year),
        "end_date_day": "31",
        "end_date_month": "3",
        "end_date_year": str(first_year + 2),
    }
    costs = {
        "costs-TOTAL_FORMS": "2",
        "costs-INITIAL_FORMS": "1",
        "match-TOTAL_FORMS": "0",
        "match-INITIAL_FORMS": "0",
        "costs-0-financial_year": str(first_year),
        "costs-0-category": "staff",
        "costs-0-nature": "revenue",
        "costs-0-amount": "62,000",
        "costs-0-description": "Nurses",
        "costs-1-financial_year": str(first_year + 1),
        "costs-1-category": "evaluation",
        "costs-1-nature": "revenue",
        "costs-1-amount": "41000.50",
    }
    savings = {
        "savings-TOTAL_FORMS": "2",
        "savings-INITIAL_FORMS": "1",
        "savings-0-financial_year": str(first_year),
        "savings-0-kind": "cashable",
        "savings-0-realised_by": str(organisation),
        "savings-0-care_setting": "home",
        "savings-0-amount": "90000",
        "savings-0-assumptions": "Fewer admissions.",
        "savings-1-financial_year": str(first_year + 1),
        "savings-1-kind": "cashable",
        "savings-1-realised_by": str(organisation),
        "savings-1-care_setting": "secondary",
        "savings-1-amount": "190000",
        "savings-1-assumptions": "Fewer admissions at £3,200 each.",
    }
    return [
        ("task list", "get", f"{base}/", None, None),
        ("open summary", "get", f"{base}/sections/summary/", None, None),
        ("open costs", "get", f"{base}/sections/costs/", None, None),
        ("open savings", "get", f"{base}/sections/savings/", None, None),
        (
            "save summary",
            "post",
            f"{base}/sections/summary/",
            {"version": "1", "save": "", **summary},
            f"{base}/",
        ),
        (
            "save costs",
            "post",
            f"{base}/sections/costs/",
            {"version": "1", "save": "", **costs},
            f"{base}/",
        ),
        (
            "save savings",
            "post",
            f"{base}/sections/savings/",
            {"version": "1", "save": "", **savings},
            f"{base}/",
        ),
        ("check answers", "get", f"{base}/check/", None, None),
        (
            "submit",
            "post",
            f"{base}/check/",
            {"declarations": ["accurate", "authority", "partners", "conflicts"]},
            f"{base}/submitted/",
        ),
        ("confirmation", "get", f"{base}/submitted/", None, None),
    ]


def run(writers: int, warmup: int, profile: set[str], show_sql: int = 0) -> dict:
    import django

    django.setup()
    from deadline_rush import _setup  # the rush's own data, so both measure the same bids
    from django.db import connection, transaction
    from django.test import Client

    counted: dict[str, list[tuple[float, float, int]]] = {name: [] for name in PAGES}
    profiler = cProfile.Profile(time.process_time) if profile else None  # CPU, not waiting
    queries = [0]
    statements: list[str] = []

    def count(execute, sql, params, many, context):
        queries[0] += 1
        statements.append(sql)
        return execute(sql, params, many, context)

    try:
        with transaction.atomic():
            built = time.perf_counter()
            plan = _setup(writers + warmup)
            print(
                f"{writers + warmup} writers' bids built in {time.perf_counter() - built:.1f} s",
                flush=True,
            )
            for number, writer in enumerate(plan["writers"]):
                client = Client(HTTP_HOST="127.0.0.1")
                client.cookies[plan["session_cookie"]] = writer["session"]
                for name, method, path, data, expect in _writer_pages(
                    client, writer, plan["first_year"]
                ):
                    measured = number >= warmup
                    queries[0] = 0
                    statements.clear()
                    with connection.execute_wrapper(count):
                        if measured and profiler is not None and name in profile:
                            profiler.enable()
                        cpu, wall = time.process_time(), time.perf_counter()
                        response = client.get(path) if method == "get" else client.post(path, data)
                        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
                        if profiler is not None:
                            profiler.disable()
                    if (
                        method == "get"
                        and response.status_code != 200
                        or method == "post"
                        and (response.status_code != 302 or response["Location"] != expect)
                    ):
                        raise RuntimeError(
                            f"{name} {path}: HTTP {response.status_code} "
                            f"{response.get('Location') or response.content[:300]!r}"
                        )
                    if measured:
                        counted[name].append((cpu * 1000, wall * 1000, queries[0]))
                    if show_sql and number == len(plan["writers"]) - 1:
                        print(f"--- {name}: {len(statements)} queries")
                        print("\n".join(f"  {sql[:show_sql]}" for sql in statements))
            raise _Rollback
    except _Rollback:
        pass

    pages = {}
    for name, rows in counted.items():
        cpu, wall, sql = [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]
        pages[name] = {
            "n": len(rows),
            "cpu_p50_ms": round(statistics.median(cpu), 1),
            "cpu_p95_ms": round(_percentile(cpu, 95), 1),
            "wall_p50_ms": round(statistics.median(wall), 1),
            "wall_p95_ms": round(_percentile(wall, 95), 1),
            "queries": max(sql),
            "queries_min": min(sql),
        }
    result = {
        "writers": writers,
        "warmup": warmup,
        "database": connection.vendor,
        "cache": os.environ.get("CACHE_URL", "locmem"),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "pages": pages,
        "writer_cpu_ms": round(sum(p["cpu_p50_ms"] for p in pages.values()), 1),
    }
    if profiler is not None:
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats(os.environ.get("BID_PAGES_PROFILE_SORT", "tottime")).print_stats(45)
        result["profile"] = out.getvalue()
        RESULTS.mkdir(parents=True, exist_ok=True)
        profiler.dump_stats(RESULTS / "bid_pages.prof")  # for pstats or snakeviz
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--writers",
        type=int,
        default=30,
        help="writers measured (each goes through every page once)",
    )
    parser.add_argument("--warmup", type=int, default=3, help="writers first, not measured")
    parser.add_argument(
        "--profile", action="append", default=[], choices=PAGES, help="cProfile these pages"
    )
    parser.add_argument(
        "--show-sql",
        type=int,
        default=0,
        metavar="CHARS",
        help="print the last writer's SQL for each page, each statement cut to CHARS",
    )
    parser.add_argument(
        "--profile-sort", default="tottime", help="pstats sort key (tottime, cumulative, ...)"
    )
    args = parser.parse_args()
    _environment()
    os.environ["BID_PAGES_PROFILE_SORT"] = args.profile_sort
    result = run(args.writers, args.warmup, set(args.profile), args.show_sql)
    profile = result.pop("profile", None)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "bid_pages.json").write_text(json.dumps(result, indent=2))
    print(
        f"{'page':<15} {'n':>3} {'CPU p50':>8} {'CPU p95':>8} {'wall p50':>9} {'wall p95':>9} {'queries':>8}"
    )
    for name, page in result["pages"].items():
        queries = (
            str(page["queries"])
            if page["queries"] == page["queries_min"]
            else f"{page['queries_min']}-{page['queries']}"
        )
        print(
            f"{name:<15} {page['n']:>3} {page['cpu_p50_ms']:>8} {page['cpu_p95_ms']:>8} {page['wall_p50_ms']:>9} "
            f"{page['wall_p95_ms']:>9} {queries:>8}"
        )
    print(
        f"one writer's ten pages, sum of CPU medians: {result['writer_cpu_ms']} ms; "
        f"{result['database']}, cache {result['cache']}, load average {result['load_average']}"
    )
    if profile:
        print(profile)
    return 0


if __name__ == "__main__":
    sys.exit(main())
