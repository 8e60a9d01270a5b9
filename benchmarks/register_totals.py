"""The register's totals on the first request after a change, old way and new, in-process.

For one benchmark database (built by ``benchmarks/register.py --builder copy --awards N``), times
with the cache cleared each time (median of ``--repeat``):

- unfiltered: ``COUNT``/``SUM`` of every visible row (what the list and the API list did) against
  ``public_totals`` (the version row's running totals less the rows not visible yet);
- search ``virtual ward``: every match added up against no more than ``SEARCH_RANK_LIMIT + 1``;
- the first request of ``/register/``, the search and ``/api/v1/awards/`` (page rendered afresh).

Run:   DATABASE_URL=postgres://postgres@127.0.0.1:5432/fpregtot_500000_copy \\
       .venv/bin/python benchmarks/register_totals.py [--repeat 7]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fundportal.settings.local")
    os.environ.setdefault("SITE_URL", "https://fund.bench.example")
    import django

    django.setup()
    from django.core.cache import cache
    from django.test import Client

    from reporting.register import selectors
    from reporting.register.read_model import _sums, cached_totals, public_totals, published_entries
    from reporting.register.selectors import RegisterFilter

    def timed(work) -> tuple[float, object]:
        times, result = [], None
        for _ in range(args.repeat):
            cache.clear()
            started = time.perf_counter()
            result = work()
            times.append((time.perf_counter() - started) * 1000)
        return round(statistics.median(times), 1), result

    def search_rows():
        filterset = RegisterFilter({"q": "virtual ward"})
        filterset.qs  # noqa: B018 - builds the filtered rows
        return filterset

    client = Client()
    report: dict = {"visible rows": published_entries().count()}
    old_ms, old = timed(lambda: _sums(published_entries()))
    new_ms, new = timed(public_totals)
    assert (new.count, new.awarded, new.paid) == old, (new, old)
    report["unfiltered totals"] = {
        "every row added up ms": old_ms,
        "running totals ms": new_ms,
        "count": new.count,
    }
    every_ms, every = timed(lambda: cached_totals(search_rows().unsorted, "bench-every"))
    capped_ms, capped = timed(
        lambda: cached_totals(
            search_rows().unsorted, "bench-capped", limit=selectors.SEARCH_RANK_LIMIT
        )
    )
    report["search totals"] = {
        "every match added up ms": every_ms,
        "first 1,001 at most ms": capped_ms,
        "matches": every.count,
        "shown": ("more than " if capped.more else "") + f"{capped.count:,}",
    }
    for label, path in (
        ("/register/", "/register/"),
        ("search", "/register/?q=virtual+ward"),
        ("API list", "/api/v1/awards/"),
    ):
        ms, response = timed(lambda path=path: client.get(path))
        assert response.status_code == 200, (path, response.status_code)
        report[f"first request {label} ms"] = ms
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
