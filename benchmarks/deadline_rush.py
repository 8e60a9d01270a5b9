"""Deadline rush: 200 bid writers save sections and submit in the last 60 seconds before a call closes.

Run by hand (not by pytest), from the repository root, with PostgreSQL and Redis running:

    .venv/bin/python benchmarks/deadline_rush.py [--writers 200] [--window 60] [--workers 4] [--threads 4]

What it does, all on 127.0.0.1 and bounded in time:

1. creates a fresh PostgreSQL database (``fp_bench_deadline_rush``; dropped afterwards unless
   ``--keep``) and migrates it;
2. creates a call and ``--writers`` bid writers, each a member of their own NHS trust with a
   complete, endorsed draft bid and a signed-in session;
3. starts the portal as docker-compose runs it: nginx with ``deploy/nginx.conf`` (it stamps
   ``X-Request-Start``) in front of two gunicorns, one for page views and one for changes (saves,
   submissions), production-like settings, DEBUG off, Celery tasks queued on Redis rather than
   run in the request (``--front gunicorn``: one gunicorn and no proxy, the script stamping
   ``X-Request-Start`` itself; needs ``nginx`` otherwise, Debian's ``nginx-light``);
4. moves the call's closing time to ``--window`` seconds from now and runs locust (headless,
   a separate process) so that each writer, at a random moment in the window, opens the bid,
   saves three sections (summary, costs, savings: each a read then a versioned save), checks
   their answers and submits;
5. counts the submissions in the database and prints (and writes to
   ``benchmarks/results/deadline_rush.json``) submissions lost, errors, p50/p95/p99 of saves
   and of submits, and throughput.

This same file is the locustfile: locust imports it with ``DEADLINE_RUSH_PLAN`` set.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
# Another checkout benchmarking on the same server names its own database.
DATABASE = os.environ.get("DEADLINE_RUSH_DATABASE", "fp_bench_deadline_rush")
SERVER = "postgres://postgres@127.0.0.1:5432"
QUEUE = "bench-deadline-rush"
RUSH_REQUESTS = ("save section", "check answers", "submit", "confirmation")
UNUSABLE = "!"  # the writers sign in by a session made for them, never by password

# The locust side -------------------------------------------------------------------------------------

if os.environ.get("DEADLINE_RUSH_PLAN"):
    import gevent
    from locust import HttpUser, constant, events, task
    from locust.exception import StopUser

    PLAN = json.loads(Path(os.environ["DEADLINE_RUSH_PLAN"]).read_text())
    WRITERS = list(PLAN["writers"])
    random.Random(7).shuffle(WRITERS)
    TIMINGS: list[tuple[str, float, bool, float]] = []  # name, milliseconds, ok, finished at
    CSRF_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
    VERSION_RE = re.compile(r'name="version" value="(\d+)"')

    @events.request.add_listener
    def _record(request_type, name, response_time, response_length, exception, **kwargs):
        TIMINGS.append((name, response_time, exception is None, time.time()))

    @events.quitting.add_listener
    def _dump(environment, **kwargs):
        Path(os.environ["DEADLINE_RUSH_TIMINGS"]).write_text(json.dumps(TIMINGS))

    class BidWriter(HttpUser):
        """One writer. Before the rush they open the bid and the three sections they will
        change (as a writer has them open in tabs); in the last minute, at a random moment,
        they save the three sections, check their answers and submit."""

        wait_time = constant(0)

        def on_start(self):
            self.writer = WRITERS.pop()
            self.client.cookies.set(PLAN["session_cookie"], self.writer["session"], domain="127.0.0.1", path="/")
            gevent.sleep(max(0.0, PLAN["opening_starts"] + random.uniform(0, PLAN["opening_seconds"]) - time.time()))
            bid = self.writer["bid"]
            self._get(f"/bids/{bid}/", "open task list")
            self.opened = {}
            for section in ("summary", "costs", "savings"):
                page = self._get(f"/bids/{bid}/sections/{section}/", "open section")
                self.opened[section] = (CSRF_RE.search(page).group(1), VERSION_RE.search(page).group(1))
            # Then wait for their moment in the rush, leaving time to finish before the call closes.
            gevent.sleep(max(0.0, PLAN["rush_starts"] + random.uniform(0, PLAN["latest_start"]) - time.time()))

        def _front(self):
            """What the reverse proxy in front (docker-compose's nginx) adds as the request arrives."""
            return {"X-Request-Start": f"t={time.time():.3f}"} if PLAN["proxy_start"] else {}

        def _get(self, path, name):
            with self.client.get(path, name=name, headers=self._front(), catch_response=True) as response:
                if response.status_code != 200:
                    response.failure(f"{name}: HTTP {response.status_code}")
                    raise StopUser
                return response.text

        def _post(self, path, data, name, expect_location):
            with self.client.post(path, data=data, name=name, headers=self._front(), allow_redirects=False,
                                  catch_response=True) as response:
                location = response.headers.get("Location", "")
                if response.status_code != 302 or not location.endswith(expect_location):
                    response.failure(f"{name}: HTTP {response.status_code} {location or response.text[:200]}")
                    raise StopUser

        def _save(self, section, fields):
            bid = self.writer["bid"]
            token, version = self.opened[section]
            data = {"csrfmiddlewaretoken": token, "version": version, "save": "", **fields}
            self._post(f"/bids/{bid}/sections/{section}/", data, "save section", f"/bids/{bid}/")

        @task
        def rush(self):
            bid = self.writer["bid"]
            self._save("summary", {
                "title": f"Remote monitoring for frailty, site {bid}", "summary": "Monitoring at home, revised.",
                "problem": "Avoidable admissions.", "start_date_day": "1", "start_date_month": "4",
                "start_date_year": str(PLAN["first_year"]), "end_date_day": "31", "end_date_month": "3",
                "end_date_year": str(PLAN["first_year"] + 2)})
            self._save("costs", {
                "costs-TOTAL_FORMS": "2", "costs-INITIAL_FORMS": "1", "match-TOTAL_FORMS": "0", "match-INITIAL_FORMS": "0",
                "costs-0-financial_year": str(PLAN["first_year"]), "costs-0-category": "staff",
                "costs-0-nature": "revenue", "costs-0-amount": "62,000", "costs-0-description": "Nurses",
                "costs-1-financial_year": str(PLAN["first_year"] + 1), "costs-1-category": "evaluation",
                "costs-1-nature": "revenue", "costs-1-amount": "41000.50"})
            self._save("savings", {
                "savings-TOTAL_FORMS": "2", "savings-INITIAL_FORMS": "1",
                "savings-0-financial_year": str(PLAN["first_year"]), "savings-0-kind": "cashable",
                "savings-0-realised_by": str(self.writer["organisation"]), "savings-0-care_setting": "home",
                "savings-0-amount": "90000", "savings-0-assumptions": "Fewer admissions.",
                "savings-1-financial_year": str(PLAN["first_year"] + 1), "savings-1-kind": "cashable",
                "savings-1-realised_by": str(self.writer["organisation"]), "savings-1-care_setting": "secondary",
                "savings-1-amount": "190000", "savings-1-assumptions": "Fewer admissions at £3,200 each."})
            page = self._get(f"/bids/{bid}/check/", "check answers")
            self._post(f"/bids/{bid}/check/", {
                "csrfmiddlewaretoken": CSRF_RE.search(page).group(1),
                "declarations": ["accurate", "authority", "partners", "conflicts"]}, "submit", f"/bids/{bid}/submitted/")
            self._get(f"/bids/{bid}/submitted/", "confirmation")
            raise StopUser


# The orchestrating side ------------------------------------------------------------------------------


def _environment(database_url: str, proxy_start: bool = True) -> dict:
    return {
        # As behind docker-compose's nginx: the proxy's X-Request-Start is believed (the
        # client sends it as it sends the request, the moment the proxy would stamp it).
        "TRUSTED_PROXY_COUNT": "1" if proxy_start else "0",
        **os.environ,
        # The production settings insist on HTTPS (secure cookies); over plain HTTP on loopback
        # the local settings with DEBUG off behave the same way otherwise.
        "DJANGO_SETTINGS_MODULE": "fundportal.settings.local",
        "DEBUG": "False",
        "SITE_URL": os.environ.get("SITE_URL", "https://fund.bench.example"),  # DEBUG off: the checks want it
        "DATABASE_URL": database_url,
        "CONN_MAX_AGE": "60",
        "CELERY_BROKER_URL": os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/2"),
        "CELERY_QUEUE": QUEUE,
        # As docker-compose runs it: one Redis cache for every worker (the header menu kept once a
        # minute per person, sessions read through it).
        "CACHE_URL": os.environ.get("BENCH_CACHE_URL", os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/2")),
        "EMAIL_URL": "dummymail://",
        "LOG_LEVEL": "WARNING",
    }


def _psql(sql: str) -> None:
    subprocess.run(["psql", "-q", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-c", sql],
                   check=True, timeout=60, capture_output=True)


def _fresh_database() -> str:
    _psql(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
    _psql(f"CREATE DATABASE {DATABASE}")
    return f"{SERVER}/{DATABASE}"


def _setup(writers: int) -> dict:
    """Create the call, the writers, their complete endorsed drafts and their sessions (in-process)."""
    import datetime as dt
    from decimal import Decimal

    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.db import transaction
    from django.utils import timezone

    from applications import models as a
    from applications.services import reference_prefix
    from governance import fy, models as g

    now = timezone.now()
    this_year = fy.FinancialYear.of(timezone.localdate()).start_year
    first_year = this_year + 1
    with transaction.atomic():
        network = g.Organisation.objects.create(name="Health Innovation Rush", kind="hin", short_name="RUSH")
        icb = g.Organisation.objects.create(name="NHS Rush ICB", kind="icb", ods_code="QRU", network=network)
        commissioner = g.User.objects.create_user("commissioner@rush.example", None, full_name="Rush Commissioner")
        g.Membership.objects.create(user=commissioner, organisation=icb)
        fund = g.Fund.objects.create(name="Rush fund", slug="rush-fund", host_network=network, description="Benchmark",
                                     allocation_model="national", first_year=this_year, last_year=this_year + 3)
        pot = g.Pot.objects.create(fund=fund, name="National pot")
        call = g.Call.objects.create(
            fund=fund, host_network=network, title="Deadline rush call", slug="deadline-rush", summary="Benchmark",
            purpose="adoption", innovation_types=["digital"], opens_at=now - dt.timedelta(days=30),
            closes_at=now + dt.timedelta(hours=1), eligible_org_kinds=["nhs_trust"], min_amount=Decimal("10000"),
            max_amount=Decimal("500000"), max_duration_years=3, required_partner_kinds=["commissioner"],
            endorsement_required=True, status="open", published_at=now - dt.timedelta(days=31),
        )
        call.pots.add(pot)
        prefix = reference_prefix(call)
        orgs = g.Organisation.objects.bulk_create(
            g.Organisation(name=f"Rush NHS Trust {i}", kind="nhs_trust", network=network) for i in range(writers))
        users = g.User.objects.bulk_create(
            g.User(email=f"writer{i}@rush.example", full_name=f"Writer {i}", password=UNUSABLE) for i in range(writers))
        g.Membership.objects.bulk_create(g.Membership(user=u, organisation=o) for u, o in zip(users, orgs, strict=True))
        start, end = dt.date(first_year, 4, 1), dt.date(first_year + 2, 3, 31)
        bids = a.Bid.objects.bulk_create(a.Bid(
            call=call, lead_organisation=org, pot=pot, reference=f"{prefix}-{i + 1:04d}", title=f"Rush bid {i}",
            summary="Monitoring at home.", problem="Admissions.", start_date=start, end_date=end,
            innovation_type="digital", innovation_description="Sensors.", evidence_base="Evaluations.",
            care_settings=["home"], pathway_description="GP to hub.", delivery_plan="Go live.",
            commissioner=icb, endorsement_status="endorsed", endorsed_by=commissioner, endorsed_at=now,
            created_by=user) for i, (org, user) in enumerate(zip(orgs, users, strict=True)))
        a.BidSectionState.objects.bulk_create(
            a.BidSectionState(bid=bid, section=section, status="completed" if section != "declarations" else "not_started",
                              version=1 if section != "declarations" else 0, updated_by=bid.created_by, updated_at=now)
            for bid in bids for section in a.BidSection.values)
        a.BidPartner.objects.bulk_create(a.BidPartner(bid=bid, organisation=icb, role="commissioner", contribution="Data")
                                         for bid in bids)
        # The commissioner has signed its part off (calls ask partners to, by default), as it
        # endorsed the bid: without it every submission would be refused.
        a.PartnerSignOff.objects.bulk_create(a.PartnerSignOff(bid=bid, organisation=icb, signed_by=commissioner, signed_at=now)
                                             for bid in bids)
        a.BidCost.objects.bulk_create(a.BidCost(bid=bid, financial_year=first_year, category="staff",
                                                amount=Decimal("50000")) for bid in bids)
        a.ProjectedSaving.objects.bulk_create(a.ProjectedSaving(
            bid=bid, financial_year=first_year, kind="cashable", realised_by=bid.lead_organisation, care_setting="home",
            amount=Decimal("90000"), assumptions="Fewer admissions.") for bid in bids)
        a.BenefitMeasure.objects.bulk_create(a.BenefitMeasure(
            bid=bid, name="Bed days avoided", unit="days", baseline=0, target=500, target_date=end) for bid in bids)
        a.Milestone.objects.bulk_create(a.Milestone(bid=bid, title="Live", due_date=start + dt.timedelta(days=90))
                                        for bid in bids)
        a.Risk.objects.bulk_create(a.Risk(bid=bid, description="Recruitment", likelihood="low", impact="low",
                                          mitigation="Bank staff") for bid in bids)
    sessions = []
    for user in users:
        store = SessionStore()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = "governance.signin.EmailBackend"  # a backend the settings list
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.create()
        sessions.append(store.session_key)
    return {
        "call": call.pk, "first_year": first_year, "session_cookie": settings.SESSION_COOKIE_NAME,
        "writers": [{"bid": bid.pk, "organisation": bid.lead_organisation_id, "session": session}
                    for bid, session in zip(bids, sessions, strict=True)],
    }


def _close_call_in(call_id: int, seconds: float) -> float:
    import datetime as dt

    from django.utils import timezone

    from governance.models import Call

    closes = timezone.now() + dt.timedelta(seconds=seconds)
    Call.objects.filter(pk=call_id).update(closes_at=closes)
    return closes.timestamp()


def _count(call_id: int, closes_at: float) -> dict:
    import datetime as dt

    from applications.models import Bid
    from governance.models import AuditEvent

    bids = Bid.objects.filter(call_id=call_id)
    closes = dt.datetime.fromtimestamp(closes_at, tz=dt.UTC)
    submitted = bids.filter(status="submitted")
    return {
        "submitted": submitted.count(),
        "submitted_after_closing": submitted.filter(submitted_at__gte=closes).count(),
        "submitted_events": AuditEvent.objects.filter(action="bid.submitted").count(),
        "still_draft": bids.filter(status="draft").count(),
        "references_unique": bids.values("reference").distinct().count() == bids.count(),
    }


def _wait_for(url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback only
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


def _percentiles(values: list[float]) -> dict:
    if not values:
        return {"count": 0}
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return {"count": len(values), "p50_ms": round(cuts[49], 1), "p95_ms": round(cuts[94], 1),
            "p99_ms": round(cuts[98], 1), "max_ms": round(max(values), 1)}


def _gunicorn(name: str, port: int, workers: int, threads: int, env: dict, log) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "fundportal.wsgi:application", "-b", f"127.0.0.1:{port}",
         "-w", str(workers), "-k", "gthread", "--threads", str(threads), "--timeout", "60",
         "--access-logfile", str(RESULTS / f"deadline_rush_access_{name}.log"),
         "--access-logformat", '%(t)s "%(r)s" %(s)s %(M)sms'],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def _nginx(port: int, pages_port: int, changes_port: int, folder: Path, log) -> subprocess.Popen:
    """nginx with docker-compose's own site (``deploy/nginx.conf``): page views to one gunicorn,
    changes to the other, ``X-Request-Start`` stamped as each request arrives."""
    site = (ROOT / "deploy" / "nginx.conf").read_text()
    for compose_name, here in (("listen 80;", f"listen 127.0.0.1:{port};"),
                               ("server web:8000;", f"server 127.0.0.1:{pages_port};"),
                               ("server web-changes:8000;", f"server 127.0.0.1:{changes_port};")):
        if site.count(compose_name) != 1:
            raise SystemExit(f"deploy/nginx.conf no longer has one {compose_name!r}: update this script")
        site = site.replace(compose_name, here)
    temp = " ".join(f"{kind}_temp_path {folder / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    config = folder / "nginx.conf"
    config.write_text(
        f"daemon off;\nworker_processes 1;\npid {folder / 'nginx.pid'};\nerror_log {folder / 'error.log'} warn;\n"
        f"{'user root;' if os.geteuid() == 0 else ''}\nevents {{ worker_connections 2048; }}\n"
        f"http {{\n access_log {RESULTS / 'deadline_rush_access_nginx.log'};\n {temp}\n{site}\n}}\n")
    return subprocess.Popen(["nginx", "-p", str(folder), "-e", str(folder / "error.log"), "-c", str(config)],
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:  # requests still queued on a loaded machine
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--writers", type=int, default=200)
    parser.add_argument("--window", type=float, default=60.0, help="seconds from the start of the rush to closing")
    parser.add_argument("--opening", type=float, default=40.0,
                        help="seconds before the rush in which the writers open their bids")
    parser.add_argument("--front", choices=("nginx", "gunicorn"), default="nginx",
                        help="nginx: as docker-compose runs the portal, deploy/nginx.conf in front of two gunicorns "
                             "(page views, changes); gunicorn: one gunicorn, and the script stamps X-Request-Start "
                             "itself as the proxy would")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes (page views, or all)")
    parser.add_argument("--change-workers", type=int, default=2, help="worker processes of the changes' gunicorn")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker")
    parser.add_argument("--port", type=int, default=8131)
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database afterwards")
    parser.add_argument("--no-proxy-start", action="store_true",
                        help="with --front gunicorn, no X-Request-Start (as if no proxy were in front): the deadline "
                             "is judged by when Django received each request")
    args = parser.parse_args()
    proxied = args.front == "nginx"
    if proxied and shutil.which("nginx") is None:
        raise SystemExit("nginx is not installed (apt-get install nginx-light), or run with --front gunicorn")

    RESULTS.mkdir(parents=True, exist_ok=True)
    database_url = _fresh_database()
    env = _environment(database_url, proxy_start=proxied or not args.no_proxy_start)
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    servers: list[subprocess.Popen] = []
    folder = tempfile.TemporaryDirectory(prefix="deadline-rush-")
    for old_log in RESULTS.glob("deadline_rush_access*.log"):
        old_log.unlink()
    try:
        print(f"Migrating {DATABASE}...", flush=True)
        subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True,
                       timeout=600)
        print(f"Creating {args.writers} writers with complete, endorsed drafts...", flush=True)
        plan = _setup(args.writers)
        server_log = (RESULTS / "deadline_rush_gunicorn.log").open("w")
        if proxied:
            print(f"Starting nginx on 127.0.0.1:{args.port} (deploy/nginx.conf) in front of two gunicorns: page "
                  f"views {args.workers} workers x {args.threads} threads, changes {args.change_workers} x "
                  f"{args.threads}", flush=True)
            servers.append(_gunicorn("pages", args.port + 1, args.workers, args.threads, env, server_log))
            servers.append(_gunicorn("changes", args.port + 2, args.change_workers, args.threads, env, server_log))
            _wait_for(f"http://127.0.0.1:{args.port + 1}/healthz", 60)
            _wait_for(f"http://127.0.0.1:{args.port + 2}/healthz", 60)
            servers.append(_nginx(args.port, args.port + 1, args.port + 2, Path(folder.name), server_log))
        else:
            print(f"Starting gunicorn: {args.workers} workers x {args.threads} threads on 127.0.0.1:{args.port}",
                  flush=True)
            servers.append(_gunicorn("all", args.port, args.workers, args.threads, env, server_log))
        _wait_for(f"http://127.0.0.1:{args.port}/healthz", 60)

        now = time.time()
        closes_at = _close_call_in(plan["call"], args.opening + args.window)
        plan.update(proxy_start=not proxied and not args.no_proxy_start, opening_starts=now + 1, opening_seconds=max(1.0, args.opening - 10),
                    rush_starts=closes_at - args.window, latest_start=max(1.0, args.window - 20))
        plan_file, timings_file = RESULTS / "deadline_rush_plan.json", RESULTS / "deadline_rush_timings.json"
        plan_file.write_text(json.dumps(plan))
        print(f"The writers open their bids in the next {args.opening:.0f} s; the call closes {args.window:.0f} s "
              f"after that, and each writer starts saving and submitting at random in the first "
              f"{plan['latest_start']:.0f} s of those.", flush=True)
        load_before = os.getloadavg()
        started = time.time()
        subprocess.run(
            [sys.executable, "-m", "locust", "-f", str(Path(__file__).resolve()), "--headless", "--only-summary",
             "-u", str(args.writers), "-r", str(args.writers), "-t", f"{int(args.opening + args.window + 15)}s",
             "--host", f"http://127.0.0.1:{args.port}", "--loglevel", "WARNING", "--stop-timeout", "10"],
            cwd=ROOT, env={**env, "DEADLINE_RUSH_PLAN": str(plan_file), "DEADLINE_RUSH_TIMINGS": str(timings_file)},
            check=False, timeout=args.opening + args.window + 120)
        elapsed = time.time() - started
        load_after = os.getloadavg()
        timings = json.loads(timings_file.read_text())
        database = _count(plan["call"], closes_at)
    finally:
        for server in reversed(servers):
            _stop(server)
        folder.cleanup()
        try:
            import redis

            redis.Redis.from_url(env["CELERY_BROKER_URL"]).delete(QUEUE)
        except Exception as exc:  # the queue is only notifications for the benchmark's users
            print(f"Could not empty the benchmark queue: {exc}")
        if not args.keep:
            from django.db import connections

            connections.close_all()
            _psql(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")

    by_name: dict[str, list[float]] = {}
    failures = sum(1 for _, _, ok, _ in timings if not ok)
    rush = [(name, ms, end) for name, ms, _, end in timings if name in RUSH_REQUESTS]
    rush_seconds = (max(end for *_, end in rush) - min(end - ms / 1000 for _, ms, end in rush)) if rush else 0
    for name, response_time, ok, _ in timings:
        if ok:
            by_name.setdefault(name, []).append(response_time)
    # nginx sees every request (and answers 502 itself if a gunicorn is gone); without it, gunicorn's log.
    access_log = RESULTS / ("deadline_rush_access_nginx.log" if proxied else "deadline_rush_access_all.log")
    server_errors = sum(1 for line in access_log.read_text().splitlines() if re.search(r'" 5\d\d ', line))
    result = {
        "writers": args.writers, "window_s": args.window, "front": args.front,
        "proxy_start_header": proxied or not args.no_proxy_start,
        "gunicorn": (f"page views {args.workers} x {args.threads}, changes {args.change_workers} x {args.threads}"
                     if proxied else f"{args.workers} workers x {args.threads} threads"),
        "submissions_expected": args.writers, "submissions_in_database": database["submitted"],
        "submissions_lost": args.writers - database["submitted"], "submitted_after_closing": database["submitted_after_closing"],
        "submitted_audit_events": database["submitted_events"], "references_unique": database["references_unique"],
        "requests": len(timings), "errors": failures, "server_5xx": server_errors,
        "throughput_rps": round(len(timings) / elapsed, 1), "submissions_per_s": round(database["submitted"] / elapsed, 2),
        "elapsed_s": round(elapsed, 1), "cpus": os.cpu_count(),
        "load_average_before": [round(x, 2) for x in load_before], "load_average_after": [round(x, 2) for x in load_after],
        "rush_requests": len(rush), "rush_seconds": round(rush_seconds, 1),
        "rush_throughput_rps": round(len(rush) / rush_seconds, 1) if rush_seconds else 0,
        "save": _percentiles(by_name.get("save section", [])), "submit": _percentiles(by_name.get("submit", [])),
        "open_section": _percentiles(by_name.get("open section", [])),
        "check_answers": _percentiles(by_name.get("check answers", [])),
    }
    (RESULTS / "deadline_rush.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    return 0 if result["submissions_lost"] == 0 and result["errors"] == 0 and result["server_5xx"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
