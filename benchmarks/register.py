"""Award register benchmark: the public register, one award page and the open data exports
served by gunicorn from PostgreSQL, against a minimal Django view on the same server.

What it does, bounded in time and on loopback only:

1. Builds (once; reused by later runs) two dedicated PostgreSQL databases of published awards
   with partners, costs, profiles, payments and approved monitoring returns:
   ``fp_register_bench_<small>`` and ``fp_register_bench_<large>`` (default 5,000 and 50,000),
   using ``bulk_create`` (``tests/reporting/register_builders.bulk_register``, which also fills
   the register's read model slice by slice). It makes sure the read model's GIN index of
   ``reporting/migrations/0006_register_read_model.py`` is there (``GinIndex(fields=["search"])``,
   the stored ``SearchVector("title", "description", config="english")``) so search runs as in
   production.
2. Counts the SQL queries of each request in-process (Django test client, same code path) at
   both sizes: they must be the same.
3. Serves the portal with gunicorn (2 sync workers) on 127.0.0.1, and for each page drives it
   with 2 client threads for a few seconds: p50/p95 response time and throughput, and the
   throughput as a ratio of a minimal Django view (``HttpResponse("ok")``) served by the same
   gunicorn in the same run. Exports are downloaded in full a few times each while the
   workers' memory (RSS) is sampled every 10 ms: the peak, and its rise over the idle worker.
4. Measures search once more without the GIN index, to show what the index buys.

Run:   .venv/bin/python benchmarks/register.py [--large 50000] [--small 5000] [--seconds 8] [--rebuild]
       .venv/bin/python benchmarks/register.py --builder copy --small 50000 --large 500000 --skip-exports
            (``--builder copy``: the data written with COPY by ``benchmarks/register_copy.py``, in
            databases named ``..._<size>_copy``; the run ends with each page's growth, large / small)
       .venv/bin/python benchmarks/register.py --builder copy --awards 500000   (build one size, count queries)
       .venv/bin/python benchmarks/register.py --exports-only   (the exports against a static file of the same bytes)
       (REGISTER_BENCH_PREFIX names the databases: default fp_register_bench)
Needs: PostgreSQL on 127.0.0.1:5432 with trust authentication (as in the development setup).
Results are printed and written to benchmarks/results/register.json.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SERVER = "postgres://postgres@127.0.0.1:5432/"
TAG = "BENCH"
# Another checkout benchmarking on the same server names its own databases (``--prefix``).
PREFIX = os.environ.get("REGISTER_BENCH_PREFIX", "fp_register_bench_")
# How the awards are written: ``bulk`` (``bulk_register``: ~2.6 ms an award) or ``copy``
# (``benchmarks/register_copy.py``: COPY, then the read model in SQL); the database's name says which.
BUILDER = os.environ.get("REGISTER_BENCH_BUILDER", "bulk")
SEARCH_INDEX = "register_search_gin"

SETTINGS = '''
from fundportal.settings.base import *  # noqa
DEBUG = False
ROOT_URLCONF = "register_bench_urls"
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
DATABASES["default"]["CONN_MAX_AGE"] = 600
LOGGING["root"]["level"] = "WARNING"
OPEN_DATA_API_RATE = "1000000/minute"
'''
URLS = '''
import os
from django.http import FileResponse, HttpResponse
from django.urls import include, path
from governance.access import public

@public
def baseline(request):
    return HttpResponse("ok", content_type="text/plain")

@public
def static_file(request, name):
    """A file on disk, no database: the baseline an export built ahead is compared with."""
    folder = os.environ["REGISTER_BENCH_STATIC"]
    return FileResponse(open(os.path.join(folder, os.path.basename(name)), "rb"),
                        content_type="application/octet-stream")

urlpatterns = [path("bench/baseline/", baseline), path("bench/static/<str:name>", static_file),
               path("", include("fundportal.urls"))]
'''


def endpoints(reference: str) -> dict[str, str]:
    return {
        "minimal Django view (baseline)": "/bench/baseline/",
        "/register/ (no filter)": "/register/",
        "/register/ search": "/register/?q=virtual+ward",
        "/register/ three filters": "/register/?region=E40000006&purpose=adoption&min_amount=100000",
        "award page": f"/register/{reference}/",
        "API awards list": "/api/v1/awards/",
        "360Giving JSON (all)": "/register/360giving.json",
        "CSV (all)": "/register/awards.csv",
        "XLSX (all)": "/register/awards.xlsx",
    }


EXPORTS = {"360Giving JSON (all)", "CSV (all)", "XLSX (all)"}


# Databases ---------------------------------------------------------------------------------


def database(size: int) -> str:
    return f"{PREFIX}{size}" + ("_copy" if BUILDER == "copy" else "")


def ensure_database(name: str, rebuild: bool) -> None:
    import psycopg

    with psycopg.connect(SERVER + "postgres", autocommit=True) as conn:
        if rebuild:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def child_env(name: str, **extra) -> dict:
    return {**os.environ, "DATABASE_URL": SERVER + name, "DJANGO_SETTINGS_MODULE": "fundportal.settings.local",
            "DEBUG": "False", "LOG_LEVEL": "WARNING", "PYTHONPATH": str(ROOT),
            # DEBUG off: the checks want the public address set (links in the 360Giving data).
            "SITE_URL": os.environ.get("SITE_URL", "https://fund.bench.example"), **extra}


def run_child(name: str, *args: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", *args], env=child_env(name), cwd=ROOT,
                         check=True, capture_output=True, text=True, timeout=3600)
    return json.loads(out.stdout.strip().splitlines()[-1])


def prepare(size: int, rebuild: bool) -> dict:
    name = database(size)
    ensure_database(name, rebuild)
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], env=child_env(name), cwd=ROOT,
                   check=True, timeout=600)
    started = time.monotonic()
    info = run_child(name, "build", str(size))
    info["prepare_seconds"] = round(time.monotonic() - started, 1)
    return info


# Work done inside Django (child processes) ------------------------------------------------


def child_main(argv: list[str]) -> None:
    import django

    django.setup()
    from django.db import connection

    from awards.models import Award
    from reporting.models import RegisterEntry
    from reporting.register.selectors import published_awards

    command = argv[0]
    if command == "build":
        size = int(argv[1])
        built = published_awards().filter(reference__startswith=f"{TAG}-").count()
        reused = built >= size
        steps: dict = {}
        checked = 0
        if not reused:
            def progress(done, total):
                print(f"  built {done:,} of {total:,}", file=sys.stderr, flush=True)

            if BUILDER == "copy":
                from benchmarks.register_copy import check_read_model, copy_register

                steps = copy_register(size, tag=TAG, seed=7, progress=progress)
                checked = check_read_model()
            else:
                from tests.reporting.register_builders import bulk_register

                bulk_register(size, tag=TAG, seed=7, progress=progress)
        set_search_index(True)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
            # The totals are read from covering indexes (reporting migration 0009) once the table's
            # pages are marked all-visible, as autovacuum does after a load: do it now.
            cursor.execute(f"VACUUM {connection.ops.quote_name(RegisterEntry._meta.db_table)}")
        reference = published_awards().filter(reference__startswith=f"{TAG}-").order_by("pk")[size // 2].reference
        print(json.dumps({"published": published_awards().count(), "awards": Award.objects.count(),
                          "reused": reused, "reference": reference, "builder": BUILDER, "steps": steps,
                          "read_model_rows_checked": checked}))
    elif command == "index":
        set_search_index(argv[1] == "on")
        print(json.dumps({"index": argv[1]}))
    elif command == "queries":
        from django.core.cache import cache
        from django.test import Client
        from django.test.utils import CaptureQueriesContext

        client = Client()
        counts, cold = {}, {}
        for label, path in endpoints(argv[1]).items():
            if path.startswith("/bench/") or (label in EXPORTS and argv[2:] == ["skip-exports"]):
                continue
            made = []
            for _ in range(2):  # the first request renders the page's part, the second reuses it
                with CaptureQueriesContext(connection) as captured:
                    response = client.get(path)
                    for _ in (response.streaming_content if response.streaming else [response.content]):
                        pass
                assert response.status_code == 200, (path, response.status_code)
                made.append(len(captured.captured_queries))
            counts[label] = f"{made[0]} then {made[1]}"
            # The first request after a change (nothing kept: the page and its totals rendered
            # afresh), median of 3 in-process, with where its SQL time went.
            times, sql_times = [], []
            for _ in range(3):
                cache.clear()
                with CaptureQueriesContext(connection) as captured:
                    started = time.perf_counter()
                    response = client.get(path)
                    times.append((time.perf_counter() - started) * 1000)
                sql_times.append(sum(float(q["time"]) for q in captured.captured_queries) * 1000)
            cold[label] = {"ms": round(statistics.median(times), 1), "sql_ms": round(statistics.median(sql_times), 1)}
        print(json.dumps({"counts": counts, "cold": cold}))
    elif command == "explain":
        from django.contrib.postgres.search import SearchQuery

        from reporting.models import RegisterEntry

        query = RegisterEntry.objects.filter(
            search=SearchQuery("virtual ward", search_type="websearch", config="english")).values("pk")
        with connection.cursor() as cursor:
            sql, params = query.query.sql_with_params()
            cursor.execute("EXPLAIN " + sql, params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
        print(json.dumps({"uses_index": SEARCH_INDEX in plan, "plan": plan}))


def set_search_index(on: bool) -> None:
    from django.contrib.postgres.indexes import GinIndex
    from django.db import connection

    from reporting.models import RegisterEntry

    index = GinIndex(fields=["search"], name=SEARCH_INDEX)
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_indexes WHERE indexname = %s", [SEARCH_INDEX])
        exists = cursor.fetchone() is not None
    with connection.schema_editor() as editor:
        if on and not exists:
            editor.add_index(RegisterEntry, index)
        elif not on and exists:
            editor.remove_index(RegisterEntry, index)


# The server and the load -----------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    def __init__(self, name: str):
        self.folder = tempfile.TemporaryDirectory()
        Path(self.folder.name, "register_bench_settings.py").write_text(SETTINGS)
        Path(self.folder.name, "register_bench_urls.py").write_text(URLS)
        self.port = free_port()
        self.static = Path(self.folder.name, "static")
        self.static.mkdir()
        env = {**child_env(name), "DJANGO_SETTINGS_MODULE": "register_bench_settings",
               "PYTHONPATH": f"{self.folder.name}{os.pathsep}{ROOT}", "REGISTER_BENCH_STATIC": str(self.static),
               "MEDIA_ROOT": str(Path(self.folder.name, "media"))}
        gunicorn = Path(sys.executable).parent / "gunicorn"
        self.process = subprocess.Popen(
            [str(gunicorn), "fundportal.wsgi:application", "--bind", f"127.0.0.1:{self.port}", "--workers", "2",
             "--worker-class", "sync", "--timeout", "600", "--log-level", "warning"],
            cwd=ROOT, env=env,
        )
        self.base = f"http://127.0.0.1:{self.port}"
        self._wait()

    def _wait(self) -> None:
        import requests

        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if requests.get(self.base + "/bench/baseline/", timeout=10).status_code == 200:
                    return
            except requests.RequestException:
                time.sleep(0.3)
        self.stop()
        raise RuntimeError("gunicorn did not start")

    def workers(self):
        import psutil

        return psutil.Process(self.process.pid).children()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.folder.cleanup()


class MemoryWatch:
    """Samples the workers' resident memory every 10 ms while a download runs."""

    def __init__(self, server: Server):
        self.workers = server.workers()
        self.idle = max(w.memory_info().rss for w in self.workers)
        self.peak = self.idle
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            for worker in self.workers:
                try:
                    self.peak = max(self.peak, worker.memory_info().rss)
                except Exception:  # noqa: S112 - a worker may be restarting
                    continue
            time.sleep(0.01)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def drive(url: str, *, seconds: float, threads: int, max_requests: int | None = None) -> dict:
    import requests

    latencies: list[float] = []
    first_bytes: list[float] = []
    sizes: list[int] = []
    failures: list[int] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds
    begun = [0]

    def client():
        session = requests.Session()
        while time.monotonic() < stop_at:
            with lock:
                if max_requests is not None and begun[0] >= max_requests:
                    return
                begun[0] += 1
            started = time.perf_counter()
            response = session.get(url, stream=True, timeout=600)
            chunks = response.iter_content(65536)
            size = len(next(chunks, b""))
            first_byte = time.perf_counter() - started
            size += sum(len(chunk) for chunk in chunks)
            elapsed = time.perf_counter() - started
            with lock:
                first_bytes.append(first_byte)
                latencies.append(elapsed)
                sizes.append(size)
                if response.status_code != 200:
                    failures.append(response.status_code)

    began = time.perf_counter()
    pool = [threading.Thread(target=client) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    wall = time.perf_counter() - began
    ordered = sorted(latencies)
    return {
        "requests": len(ordered),
        "p50_ms": round(statistics.median(ordered) * 1000, 1),
        "p95_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))] * 1000, 1),
        "throughput_rps": round(len(ordered) / wall, 2),
        "first_byte_p50_ms": round(statistics.median(first_bytes) * 1000, 1) if first_bytes else None,
        "first_byte_max_ms": round(max(first_bytes) * 1000, 1) if first_bytes else None,
        "bytes": sizes[-1] if sizes else 0,
        "failures": failures,
    }


def static_copy(server: Server, label: str, url: str, seconds: float) -> dict:
    """The same bytes as the export, served as a plain file from disk by the same gunicorn."""
    import requests

    name = "".join(c for c in label if c.isalnum()) + ".bin"
    Path(server.static, name).write_bytes(requests.get(url, timeout=600).content)
    static_url = f"{server.base}/bench/static/{name}"
    drive(static_url, seconds=600, threads=1, max_requests=1)
    return drive(static_url, seconds=max(seconds * 8, 60), threads=1, max_requests=5)


def measure(size: int, info: dict, seconds: float, exports_only: bool = False,
            skip_exports: bool = False) -> dict:
    name = database(size)
    server = Server(name)
    results: dict[str, dict] = {"load average at start": {"1min": round(os.getloadavg()[0], 2)}}
    try:
        for label, path in endpoints(info["reference"]).items():
            if (exports_only and label not in EXPORTS and not path.startswith("/bench/")) or (skip_exports and label in EXPORTS):
                continue
            url = server.base + path
            # Warm up: connections, caches, imports; for an export, the first download of this
            # version asks for its files (Celery in-process here: built during that download).
            drive(url, seconds=600, threads=1, max_requests=1)
            if label in EXPORTS:
                # Timed as the static file is, with nothing else running; memory on a download of its own
                # (sampling the workers' memory every 10 ms takes CPU from the 2 cores it measures).
                result = drive(url, seconds=max(seconds * 8, 60), threads=1, max_requests=5)
                with MemoryWatch(server) as watch:
                    drive(url, seconds=max(seconds * 8, 60), threads=1, max_requests=1)
                result["peak_rss_mb"] = round(watch.peak / 2**20, 1)
                result["rss_rise_mb"] = round((watch.peak - watch.idle) / 2**20, 1)
                static = static_copy(server, label, url, seconds)
                result["static_file"] = static
                result["vs_static_file"] = round(result["throughput_rps"] / static["throughput_rps"], 3)
                print(f"  {size:>6,} awards  {'  static file, same bytes':<32} p50 {static['p50_ms']:>8} ms  "
                      f"first byte {static['first_byte_p50_ms']} ms  {static['throughput_rps']:>7} req/s", flush=True)
            else:
                result = drive(url, seconds=seconds, threads=2)
            results[label] = result
            print(f"  {size:>6,} awards  {label:<32} p50 {result['p50_ms']:>8} ms  p95 {result['p95_ms']:>8} ms  "
                  f"{result['throughput_rps']:>7} req/s" + (f"  first byte {result['first_byte_p50_ms']} ms (max {result['first_byte_max_ms']})  peak RSS {result['peak_rss_mb']} MB (+{result['rss_rise_mb']})  x static {result['vs_static_file']}" if label in EXPORTS else ""),
                  flush=True)
        baseline = results["minimal Django view (baseline)"]["throughput_rps"]
        for result in results.values():
            if "throughput_rps" in result:
                result["vs_baseline"] = round(result["throughput_rps"] / baseline, 4)
        if exports_only:
            return results
        run_child(name, "index", "off")
        results["/register/ search without the GIN index"] = drive(server.base + endpoints(info["reference"])["/register/ search"],
                                                                   seconds=seconds, threads=2)
        results["/register/ search without the GIN index"]["vs_baseline"] = round(
            results["/register/ search without the GIN index"]["throughput_rps"] / baseline, 4)
        run_child(name, "index", "on")
        results["load average at end"] = {"1min": round(os.getloadavg()[0], 2)}
    finally:
        server.stop()
    return results


def main() -> None:
    global BUILDER
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--large", type=int, default=50_000)
    parser.add_argument("--small", type=int, default=5_000)
    parser.add_argument("--seconds", type=float, default=8.0, help="how long each page is driven")
    parser.add_argument("--rebuild", action="store_true", help="drop and rebuild the benchmark databases")
    parser.add_argument("--prepare-only", action="store_true", help="build the databases and count queries; no load")
    parser.add_argument("--exports-only", action="store_true",
                        help="only the open data exports (and a static file of the same bytes), at the large size")
    parser.add_argument("--skip-exports", action="store_true", help="drive the pages and the API only, not the downloads")
    parser.add_argument("--builder", choices=["bulk", "copy"], default=BUILDER,
                        help="how the awards are written: bulk_create (bulk_register) or COPY (register_copy.py)")
    parser.add_argument("--awards", type=int, help="build (or reuse) this one size and count its queries; no load")
    args = parser.parse_args()
    os.environ["REGISTER_BENCH_BUILDER"] = args.builder  # the children build with it too
    BUILDER = args.builder
    if args.awards:
        print(f"Preparing {database(args.awards)} ...", flush=True)
        info = prepare(args.awards, args.rebuild)
        print(f"  {info['published']:,} published awards ({info['awards']:,} in all), "
              f"{'reused' if info['reused'] else 'built'} in {info['prepare_seconds']} s {info['steps']}, "
              f"{info['read_model_rows_checked']} read-model rows checked against register_sync's", flush=True)
        measured = run_child(database(args.awards), "queries", info["reference"], "skip-exports")
        print(f"  queries: {measured['counts']}\n  first request after a change (in-process): {measured['cold']}")
        return
    if args.exports_only:
        report = {"machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]}, "sizes": {}}
        print(f"Preparing {database(args.large)} ...", flush=True)
        info = prepare(args.large, args.rebuild)
        report["sizes"][args.large] = {"info": info, "timings": measure(args.large, info, args.seconds, exports_only=True)}
        out = ROOT / "benchmarks" / "results" / "register_exports.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, indent=2, default=str))
        print(f"\nWritten to {out.relative_to(ROOT)}")
        return

    report: dict = {"machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]}, "sizes": {}}
    for size in (args.small, args.large):
        print(f"Preparing {database(size)} ...", flush=True)
        info = prepare(size, args.rebuild)
        print(f"  {info['published']:,} published awards ({info['awards']:,} in all), "
              f"{'reused' if info['reused'] else 'built'} in {info['prepare_seconds']} s", flush=True)
        measured = run_child(database(size), "queries", info["reference"], *(["skip-exports"] if args.skip_exports else []))
        explain = run_child(database(size), "explain")
        report["sizes"][size] = {"info": info, "queries": measured["counts"], "first_request": measured["cold"],
                                 "search_uses_index": explain["uses_index"]}
        print(f"  queries: {measured['counts']}\n  first request after a change (in-process): {measured['cold']}", flush=True)
    if args.prepare_only:
        return
    for size in (args.small, args.large):
        print(f"Serving {database(size)} with gunicorn ...", flush=True)
        report["sizes"][size]["timings"] = measure(size, report["sizes"][size]["info"], args.seconds,
                                                   skip_exports=args.skip_exports)

    small, large = report["sizes"][args.small], report["sizes"][args.large]
    print("\nSQL queries per request (constant in the number of awards):")
    for label, count in large["queries"].items():
        print(f"  {label:<32} {small['queries'][label]:>8} at {args.small:,}   {count:>8} at {args.large:,}")
    print(f"\nSearch plan uses {SEARCH_INDEX}: {large['search_uses_index']}")
    print(f"\nGrowth, {args.large:,} / {args.small:,} awards (served: repeat reads; first request: in-process, nothing kept):")
    report["growth"] = {}
    for label, at_large in large["timings"].items():
        at_small = small["timings"].get(label, {})
        if "p50_ms" not in at_large or "p50_ms" not in at_small:
            continue
        growth = {key: round(at_large[key] / at_small[key], 2) for key in ("p50_ms", "p95_ms", "first_byte_p50_ms")
                  if at_small.get(key) and at_large.get(key)}
        growth["throughput"] = round(at_small["throughput_rps"] / at_large["throughput_rps"], 2)  # > 1: slower
        if label in large["first_request"]:
            growth["first_request_ms"] = round(large["first_request"][label]["ms"] / small["first_request"][label]["ms"], 2)
        report["growth"][label] = growth
        print(f"  {label:<40} {growth}")
    out = ROOT / "benchmarks" / "results" / "register.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2, default=str))
    print(f"\nWritten to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        sys.path.insert(0, str(ROOT))
        child_main(sys.argv[2:])
    else:
        main()
