"""Fixtures for the whole suite.

- Uploads and generated files go to a temporary folder for every test.
- A PDF WeasyPrint has already made from the same page in this test process is reused
  (``_pdfs_made_once_per_page``): the demo, seeded by many tests, has eight.
- Tests marked ``requires_postgres`` run only against PostgreSQL (row locks, full-text
  search); tests marked ``requires_broker`` run only with a real broker and PostgreSQL, using
  the Celery worker that ``celery_worker`` starts for the session. Elsewhere they are
  deselected (not skipped): CI sets both, and fails the run if anything is skipped.
- Tests marked ``requires_clamd`` use a real ClamAV daemon that ``clamd_server`` starts for the
  session with a signature database of the EICAR test file only; they are deselected where
  clamd is not installed, except in CI (``CI=1``), which installs it and must run them.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.test import Client

ROOT = Path(__file__).resolve().parent.parent


def _using_postgres() -> bool:
    return settings.DATABASES["default"]["ENGINE"].endswith("postgresql")


def _broker_configured() -> bool:
    return bool(os.environ.get("CELERY_BROKER_URL"))


def _clamd_binary() -> str | None:
    return shutil.which("clamd") or shutil.which("clamd", path="/usr/sbin:/usr/local/sbin")


def _clamd_wanted() -> bool:
    # CI installs clamd and must run these tests: there a missing clamd is an error, not a deselection.
    return bool(_clamd_binary()) or os.environ.get("CI") == "1"


def _needs_what_is_missing(item) -> bool:
    if item.get_closest_marker("requires_postgres") and not _using_postgres():
        return True
    if item.get_closest_marker("requires_broker") and not (_broker_configured() and _using_postgres()):
        return True
    return bool(item.get_closest_marker("requires_clamd") and not _clamd_wanted())


def pytest_collection_modifyitems(config, items):
    keep, drop = [], []
    for item in items:
        (drop if _needs_what_is_missing(item) else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


# The suite runs on a pinned clock: every test starts its day at this moment (UK time) and the
# clock runs on from there, so dates written in tests and factories (financial years 2026/27
# onwards, a call that opened a week ago) mean the same thing whatever day the suite runs. The
# Celery worker the session starts runs on the same clock. Tests about other days travel
# further themselves (tests/site/test_demo_calendar.py seeds the demo around the real today).
PINNED_NOW = dt.datetime(2026, 12, 4, 10, 0, tzinfo=ZoneInfo("Europe/London"))


def pytest_configure(config):
    config._pinned_clock = time_machine.travel(PINNED_NOW, tick=True)
    config._pinned_clock.start()


def pytest_unconfigure(config):
    pinned = getattr(config, "_pinned_clock", None)
    if pinned is not None:
        pinned.stop()


def pytest_report_header(config):
    return f"clock pinned to {PINNED_NOW.isoformat()} (tests/conftest.py), running on"


def pytest_sessionfinish(session, exitstatus):
    # In CI a skipped test is a failure: it would hide a missing service or feature.
    if os.environ.get("FAIL_ON_SKIP") == "1":
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None and reporter.stats.get("skipped"):
            session.exitstatus = pytest.ExitCode.TESTS_FAILED


# PDFs made once per distinct page ------------------------------------------------------------


def _pdf_source_key(kwargs: dict):
    """What WeasyPrint reads a document or stylesheet from, as a dictionary key; None when it is
    anything but a string, a file by name, a base URL and a fetcher limited to some protocols."""
    key = []
    for name, value in sorted(kwargs.items()):
        if name == "filename" and value is not None:
            path = Path(value)
            value = (str(path), path.stat().st_mtime_ns)
        elif name == "url_fetcher" and value is not None:
            protocols = getattr(value, "_allowed_protocols", None)
            if type(value).__name__ != "URLFetcher" or protocols is None:
                return None
            value = ("URLFetcher", tuple(protocols), getattr(value, "_fail_on_errors", None))
        elif not isinstance(value, str | int | bool | type(None)):
            return None
        key.append((name, value))
    return tuple(key)


@pytest.fixture(scope="session", autouse=True)
def _pdfs_made_once_per_page():
    """WeasyPrint makes the same PDF from the same HTML, stylesheets and options, and a PDF takes
    a second or more: the demo (eight PDFs) is seeded by some thirty tests, so each distinct page
    is rendered once per test process and its bytes reused. Any page that differs (another
    reference, date or time) is rendered afresh; so is anything written to a file."""
    from weasyprint import CSS, HTML

    made: dict = {}
    html_init, css_init, write_pdf = HTML.__init__, CSS.__init__, HTML.write_pdf

    def html_remembering_its_source(self, guess=None, **kwargs):
        html_init(self, guess, **kwargs)
        self._pdf_source_key = None if guess is not None else _pdf_source_key(kwargs)

    def css_remembering_its_source(self, guess=None, **kwargs):
        css_init(self, guess, **kwargs)
        self._pdf_source_key = None if guess is not None else _pdf_source_key(kwargs)

    def write_pdf_once_per_page(self, target=None, **options):
        sheets = tuple(getattr(sheet, "_pdf_source_key", None) for sheet in options.get("stylesheets") or ())
        rest = _pdf_source_key({name: value for name, value in options.items() if name != "stylesheets"})
        page = getattr(self, "_pdf_source_key", None)
        if target is not None or page is None or rest is None or None in sheets:
            return write_pdf(self, target, **options)
        key = (page, sheets, rest)
        if key not in made:
            made[key] = write_pdf(self, **options)
        return made[key]

    HTML.__init__, CSS.__init__, HTML.write_pdf = (
        html_remembering_its_source, css_remembering_its_source, write_pdf_once_per_page)
    yield made
    HTML.__init__, CSS.__init__, HTML.write_pdf = html_init, css_init, write_pdf


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _outbox_forgets_refusals():
    """A broker refusal in one test does not make the next test's hand-overs wait."""
    from governance import outbox

    outbox._refused_at = None
    yield
    outbox._refused_at = None


@pytest.fixture(autouse=True)
def _empty_cache():
    """Throttles count in the cache (password reset): each test starts with none counted."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


# Signing in with the second factor ------------------------------------------------------------


def pass_second_factor(client, user) -> None:
    """Leave in ``client``'s session what signing in with password and authenticator code leaves:
    the person's (test) authenticator app verified, just now (so re-authentication is fresh)."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from governance.second_factor import AUTHENTICATED_AT, TOTP_DEVICE_NAME, totp_device

    device = totp_device(user) or TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session[AUTHENTICATED_AT] = time.time()
    session.save()


class SignedInClient(Client):
    """Django's test client whose ``force_login`` signs in as a real sign-in would: password and
    second factor (every role may hold one; staff roles must). Tests of the second factor itself
    use ``django.test.Client``, whose ``force_login`` gives the password step only."""

    def force_login(self, user, backend=None):
        super().force_login(user, backend)
        pass_second_factor(self, user)


@pytest.fixture
def client():
    """The test client, signing people in with both factors (see ``SignedInClient``)."""
    return SignedInClient()


@pytest.fixture
def password_only_client():
    """A client whose ``force_login`` stops after the password, before the second factor."""
    return Client()


@pytest.fixture
def anyone(client):
    """An anonymous visitor."""
    return client


# A broker that is up or down ---------------------------------------------------------------


def _publish_to(url: str) -> None:
    from fundportal.celery import app

    app.conf.broker_write_url = url
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def broker(settings):
    """Celery not eager, publishing to a broker the test switches: ``broker.up()`` (an in-memory
    broker that takes every message), ``broker.down()`` (a closed port, as with Redis
    unreachable) and ``broker.eager()`` (tasks run in-process again, as when a worker runs them)."""
    from fundportal.celery import app
    from governance import outbox

    was_eager, was_url = app.conf.task_always_eager, app.conf.broker_write_url

    class Broker:
        def up(self):
            self._not_eager()
            _publish_to("memory://")

        def down(self):
            self._not_eager()
            _publish_to("redis://127.0.0.1:1/0")  # nothing listens on port 1

        def eager(self):
            settings.CELERY_TASK_ALWAYS_EAGER = True
            app.conf.task_always_eager = True
            outbox._refused_at = None

        def _not_eager(self):
            settings.CELERY_TASK_ALWAYS_EAGER = False
            app.conf.task_always_eager = False

    handle = Broker()
    handle.up()
    yield handle
    app.conf.task_always_eager = was_eager
    _publish_to(was_url)


# A real Celery worker --------------------------------------------------------------------


def _test_database_url() -> str:
    from django.db import connection

    url = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(url._replace(path="/" + connection.settings_dict["NAME"]))


@pytest.fixture(scope="session")
def celery_worker(django_db_setup, django_db_blocker, tmp_path_factory):
    """A Celery worker process against the test database and the real broker.

    The worker listens on a queue of its own (and keeps its unacknowledged tasks under keys of
    its own: fundportal/settings/test.py), so two test sessions sharing one Redis, or the
    pytest-xdist workers of one session, never take each other's tasks. It stores files in a
    folder of its own (``env["MEDIA_ROOT"]``). Tests using it must also use ``transactional_db``
    so the worker sees their rows.
    """
    if not (_broker_configured() and _using_postgres()):
        raise RuntimeError("celery_worker needs CELERY_BROKER_URL and a PostgreSQL DATABASE_URL")
    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "fundportal.settings.test",
        "DATABASE_URL": _test_database_url(),
        "CELERY_QUEUE": queue,
        "CELERY_EAGER": "0",
        "MEDIA_ROOT": str(tmp_path_factory.mktemp("worker-media")),
    }
    handle = WorkerHandle(env, queue)
    handle.start()
    yield handle
    handle.stop()


class WorkerHandle:
    """Starts, stops and kills the worker; tests of lost workers use ``kill``."""

    def __init__(self, env: dict, queue: str):
        self.env = env
        self.queue = queue
        self.process: subprocess.Popen | None = None
        self.log = ROOT / "var" / f"celery-{queue}.log"

    def start(self) -> None:
        from fundportal.celery import app

        self.log.parent.mkdir(parents=True, exist_ok=True)
        # The worker's clock starts where the session's pinned clock is now.
        self.env["FUNDPORTAL_PINNED_NOW"] = dt.datetime.now(dt.UTC).isoformat()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.pinned_worker", "-A", "fundportal", "worker", "-Q", self.queue,
             "-c", "1", "--pool", "prefork", "-l", "info", "--without-heartbeat", "--without-gossip",
             "--without-mingle", "-n", f"{self.queue}@%h", "--logfile", str(self.log)],
            cwd=ROOT, env=self.env, start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            replies = app.control.ping(destination=[f"{self.queue}@{os.uname().nodename}"], timeout=1.0)
            if replies:
                return
            if self.process.poll() is not None:
                raise RuntimeError(f"Celery worker exited; see {self.log}")
        raise RuntimeError(f"Celery worker did not answer within 60 s; see {self.log}")

    def kill(self) -> None:
        """Kill the worker and its children at once, as a crash would."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def real_celery(celery_worker, settings):
    """Send tasks to the real worker for this test instead of running them in-process."""
    from fundportal.celery import app

    settings.CELERY_TASK_ALWAYS_EAGER = False
    app.conf.task_always_eager = False
    yield celery_worker
    app.conf.task_always_eager = True


# A real ClamAV daemon -----------------------------------------------------------------------

# The EICAR test file's signature, written as ClamAV's extended (.ndb) format, matched anywhere
# in any file. The only signature the test daemon knows: nothing is downloaded.
EICAR_SIGNATURE_HEX = (b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*").hex()


@pytest.fixture(scope="session")
def clamd_server(tmp_path_factory):
    """clamd on a unix socket of its own, with a database holding only the EICAR signature;
    stopped at the end of the session. Yields the socket path (a CLAMD_ADDRESS)."""
    import clamd

    binary = _clamd_binary()
    if binary is None:
        raise RuntimeError("clamd is not installed (Debian: apt-get install clamav-daemon)")
    folder = tmp_path_factory.mktemp("clamd")
    database = folder / "db"
    database.mkdir()
    (database / "eicar-test.ndb").write_text(f"Eicar-Test-Signature:0:*:{EICAR_SIGNATURE_HEX}\n")
    socket_path = folder / "clamd.sock"
    log = folder / "clamd.log"
    config = folder / "clamd.conf"
    config.write_text("\n".join([
        "Foreground yes", f"LocalSocket {socket_path}", f"DatabaseDirectory {database}", f"LogFile {log}",
        f"PidFile {folder / 'clamd.pid'}", "LogTime yes", "SelfCheck 0", "MaxThreads 2", "",
    ]))
    process = subprocess.Popen([binary, "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
                               start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if socket_path.exists() and clamd.ClamdUnixSocket(path=str(socket_path), timeout=5).ping() == "PONG":
                    break
            except clamd.ClamdError:
                pass
            if process.poll() is not None:
                raise RuntimeError(f"clamd exited: {log.read_text() if log.exists() else 'no log'}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"clamd did not answer within 60 s; see {log}")
            time.sleep(0.2)
        yield str(socket_path)
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=30)


@pytest.fixture
def clamd_scanner(clamd_server, settings):
    """Uploads in this test are scanned by the session's real clamd."""
    settings.CLAMD_ADDRESS = clamd_server
    return clamd_server
