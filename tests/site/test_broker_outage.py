"""Fault injection with real processes: the test starts a Redis of its own on a spare port and a
real Celery worker pointed at it, stops Redis, drives the journeys through the pages (each answers
normally), starts Redis again and checks that every side effect then happens exactly once; and a
worker killed in the middle of an email or an offer letter still leaves exactly one result.

The worker writes its email to files, so the test counts what was really sent. Impact report
builds killed mid-build and reminder runs killed mid-run are tested the same way in
tests/reporting/test_impact_worker.py and tests/reporting/test_monitoring_worker.py.
"""

from __future__ import annotations

import datetime as dt
import email
import os
import shutil
import socket
import subprocess
import time
from collections import Counter
from email.header import decode_header, make_header
from pathlib import Path
from types import SimpleNamespace

import psycopg
import pytest
import redis
from django.conf import settings
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from applications.models import Bid, BidStatus
from awards.models import Award, AwardStatus, DocumentStatus, OfferLetter
from governance.models import (
    AuditEvent,
    InnovationType,
    Notification,
    OutboxMessage,
    OutboxStatus,
    PartnerKind,
)
from governance.outbox import outbox_dispatch_due, outbox_enqueue
from governance.tasks import dispatch_outbox
from reporting.models import ReportVersion
from tests.applications.conftest import fill_bid, start_bid
from tests.awards.conftest import first_award_year, issue, make_world
from tests.conftest import ROOT, WorkerHandle, _test_database_url
from tests.factories.governance import (
    CallFactory,
    ICBFactory,
    MembershipFactory,
    OrganisationFactory,
)
from tests.reporting.impact_world import build_world

# One pytest-xdist worker runs the whole module, so its own Redis and worker start once.
pytestmark = [pytest.mark.requires_broker, pytest.mark.django_db(transaction=True),
              pytest.mark.xdist_group("broker-outage")]

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
# A page must answer this fast with the broker down (the hand-over fails fast, then waits).
PROMPT_SECONDS = 10


def _spare_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class OwnRedis:
    """A redis-server process of the test's own, on a spare port, stopped and started at will.
    It keeps nothing on disk, so a restart comes back empty, as a lost Redis would."""

    def __init__(self, folder: Path):
        self.port = _spare_port()
        self.folder = folder
        self.process: subprocess.Popen | None = None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if client.ping():
                    return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server did not start on port {self.port}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)


def _point_celery_at(url: str) -> None:
    from fundportal.celery import app

    app.conf.broker_url = url
    app.conf.broker_read_url = url
    app.conf.broker_write_url = url
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture(scope="module")
def outage(django_db_setup, django_db_blocker, tmp_path_factory):
    """Our own Redis, and a real worker (on the pinned clock) using it and the test database."""
    from fundportal.celery import app

    if not REDIS_SERVER or not Path(REDIS_SERVER).exists():
        raise RuntimeError("These tests need redis-server (apt-get install redis-server)")
    folder = tmp_path_factory.mktemp("outage")
    own = OwnRedis(folder)
    own.start()
    saved = (app.conf.broker_url, app.conf.broker_read_url, app.conf.broker_write_url)
    _point_celery_at(own.url)
    mail, media = folder / "mail", folder / "media"
    mail.mkdir()
    media.mkdir()
    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    env = {
        **os.environ, "DJANGO_SETTINGS_MODULE": "fundportal.settings.test", "DATABASE_URL": _test_database_url(),
        "CELERY_BROKER_URL": own.url, "CELERY_QUEUE": queue, "CELERY_EAGER": "0", "MEDIA_ROOT": str(media),
        "TEST_EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend", "TEST_EMAIL_FILE_PATH": str(mail),
    }
    worker = WorkerHandle(env, queue)
    worker.log = ROOT / "var" / f"celery-{queue}-outage.log"
    worker.start()
    yield SimpleNamespace(redis=own, worker=worker, mail=mail, media=media)
    worker.stop()
    own.stop()
    app.conf.broker_url, app.conf.broker_read_url, app.conf.broker_write_url = saved
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def live(outage, settings):
    """Tasks go to the worker (not in-process); health checks look at our Redis."""
    from fundportal.celery import app

    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = outage.redis.url
    app.conf.task_always_eager = False
    if outage.redis.process is None or outage.redis.process.poll() is not None:
        outage.redis.start()
    yield outage
    app.conf.task_always_eager = True


def _wait(predicate, *, seconds: float = 120, what: str = "the worker") -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"Timed out waiting for {what}")


def _all_done() -> bool:
    return not OutboxMessage.objects.exclude(status=OutboxStatus.DONE).exists()


def _unfinished() -> list:
    return list(OutboxMessage.objects.exclude(status=OutboxStatus.DONE).values_list("task_name", "args", "status",
                                                                                   "last_error"))


def _sent_mail(folder: Path) -> Counter:
    """(recipient, subject) of every email the worker sent, counted."""
    sent: Counter = Counter()
    for path in folder.glob("*.log"):
        for chunk in path.read_bytes().split(b"\n" + b"-" * 79 + b"\n"):
            if not chunk.strip():
                continue
            message = email.message_from_bytes(chunk)
            subject = str(make_header(decode_header(message["Subject"] or "")))
            sent[(message["To"], subject)] += 1
    return sent


def _application_world():
    call = CallFactory(endorsement_required=True, required_partner_kinds=[PartnerKind.COMMISSIONER],
                       innovation_types=[InnovationType.DIGITAL, InnovationType.SERVICE_MODEL])
    lead = OrganisationFactory(network=call.host_network, name="Outage Hospitals NHS Trust")
    icb = ICBFactory(network=call.host_network, name="NHS Outage ICB")
    return SimpleNamespace(call=call, lead=lead, icb=icb,
                           applicant=MembershipFactory(organisation=lead).user,
                           commissioner=MembershipFactory(organisation=icb).user)


def _issue_data(decision) -> dict:
    bid = decision.bid
    y = first_award_year()
    deadline = timezone.localdate() + dt.timedelta(days=21)
    data = {"amount": "200000", f"year_{y}": "100000", f"year_{y + 1}": "100000", "return_frequency_months": "3"}
    for name, day in (("start_date", bid.start_date), ("end_date", bid.end_date), ("offer_deadline", deadline)):
        data.update({f"{name}_day": day.day, f"{name}_month": day.month, f"{name}_year": day.year})
    return data


def test_with_redis_down_every_journey_answers_and_each_side_effect_happens_once_when_it_is_back(
        live, client, settings):
    # Given: a bid waiting for endorsement, an endorsed bid ready to submit, a panel decision to
    # turn into an award, an issued award whose letter the manager makes again, and a fund to report on.
    apps = _application_world()
    to_endorse = fill_bid(apps, start_bid(apps, title="Endorse me"), endorse=False)
    from applications import services as bid_services

    bid_services.bid_endorsement_request(actor=apps.applicant, bid=to_endorse)
    to_submit = fill_bid(apps, start_bid(apps, title="Submit me"))
    grants = make_world()
    earlier = issue(grants, decision=grants.new_decision())
    reports = build_world()
    _wait(_all_done, what=f"the set-up's side effects: {_unfinished()}")
    letters_before = OfferLetter.objects.count()
    mail_before = _sent_mail(live.mail)
    notifications_before = set(Notification.objects.values_list("pk", flat=True))

    # When Redis is down...
    live.redis.stop()
    settings.OUTBOX_BACKOFF_SECONDS = 1  # so the beat's next hand-over comes round within the test
    health = client.get("/healthz")
    assert health.status_code == 200
    assert (health.json()["status"], health.json()["broker"]) == ("degraded", "unreachable")
    assert client.get("/readyz").status_code == 503
    assert client.get("/livez").status_code == 200

    def journey(user, url, data):
        client.force_login(user)
        started = time.monotonic()
        response = client.post(url, data, follow=True)
        assert time.monotonic() - started < PROMPT_SECONDS, url
        assert response.status_code == 200, (url, response.status_code)
        return response.content.decode()

    # ...each journey answers normally, and shows what the person did.
    page = journey(apps.commissioner, f"/bids/{to_endorse.pk}/endorsement/", {"decision": "endorse", "comment": "Yes"})
    to_endorse.refresh_from_db()
    assert to_endorse.endorsement_status == "endorsed"
    page = journey(apps.applicant, f"/bids/{to_submit.pk}/check/",
                   {"declarations": ["accurate", "authority", "partners", "conflicts"]})
    to_submit.refresh_from_db()
    assert to_submit.status == BidStatus.SUBMITTED
    assert to_submit.reference in page
    decision = grants.decision
    page = journey(grants.manager, reverse("awards:award_issue", args=[decision.pk]), _issue_data(decision))
    award = Award.objects.get(decision=decision)
    assert award.reference in page
    journey(grants.manager, reverse("awards:letter_request", args=[earlier.reference]), {})
    page = journey(reports.manager, reverse("reporting:report_request", args=[reports.fund.slug]),
                   {"scope": "fund", "period_start": "2025-Q1", "period_end": "2025-Q4"})
    assert "The report is saved and queued" in page
    version = ReportVersion.objects.get(report__fund=reports.fund)

    # Nothing ran, nothing was lost: it all waits in the outbox, and health says for how long.
    waiting = OutboxMessage.objects.filter(status=OutboxStatus.WAITING)
    assert {m.task_name for m in waiting} >= {"governance.tasks.deliver_notification",
                                              "awards.tasks.generate_offer_letter", "reporting.impact.tasks.build_impact_report"}
    assert OfferLetter.objects.filter(status=DocumentStatus.QUEUED).count() == 2
    state = client.get("/healthz").json()
    assert state["outbox_waiting"] == waiting.count()
    assert state["oldest_waiting_side_effect_seconds"] is not None

    # Then Redis comes back (empty), and the beat's hand-over comes round.
    live.redis.start()
    _point_celery_at(live.redis.url)
    assert client.get("/readyz").status_code == 200

    def beat_has_handed_everything_over():
        # The backoff has passed (the worker's clock may trail ours by its start-up time).
        OutboxMessage.objects.filter(status=OutboxStatus.WAITING).update(
            next_attempt_at=timezone.now() - dt.timedelta(minutes=1))
        dispatch_outbox.delay()
        time.sleep(1)
        return not OutboxMessage.objects.filter(status=OutboxStatus.WAITING).exists()

    _wait(beat_has_handed_everything_over, seconds=60, what="the beat to hand the side effects over")
    _wait(_all_done, seconds=180, what=f"the side effects: {_unfinished()}")

    # Every side effect happened, once.
    letters = OfferLetter.objects.filter(award__in=[award, earlier]).order_by("award_id", "version")
    assert OfferLetter.objects.count() == letters_before + 2
    assert all(letter.status == DocumentStatus.READY for letter in letters), [(x.status, x.error) for x in letters]
    for letter_award in (award, earlier):
        ready_events = AuditEvent.objects.filter(action="offer_letter.ready", target_id=str(letter_award.pk))
        assert ready_events.count() == letter_award.letters.count()
    version.refresh_from_db()
    assert (version.status, version.attempts) == ("ready", 1)
    assert AuditEvent.objects.filter(action="report_version.built", target_id=str(version.pk)).count() == 1
    new_notifications = Notification.objects.exclude(pk__in=notifications_before).select_related("user")
    assert new_notifications.exists()
    assert not new_notifications.filter(emailed_at__isnull=True).exists()
    sent = _sent_mail(live.mail) - mail_before
    expected = Counter((n.user.email, n.subject) for n in new_notifications)
    assert sent == expected
    assert not OutboxMessage.objects.filter(status=OutboxStatus.FAILED).exists()

    # The offer was not left waiting on its letter: the signatory accepts it.
    client.force_login(grants.signatory)
    response = client.post(reverse("awards:offer_respond", args=[award.reference]),
                           {"response": "accept", "accept-confirm": "on"})
    assert response.status_code == 302
    award.refresh_from_db()
    assert award.status == AwardStatus.ACCEPTED

    # A message delivered again (the broker redelivers, or the beat hands it over twice) does nothing.
    import awards.tasks  # noqa: F401
    import reporting.impact.tasks  # noqa: F401 - registers the tasks in this process
    from fundportal.celery import app

    events = AuditEvent.objects.count()
    for message in OutboxMessage.objects.filter(status=OutboxStatus.DONE, task_name__in=[
            "governance.tasks.deliver_notification", "awards.tasks.generate_offer_letter",
            "reporting.impact.tasks.build_impact_report"]):
        app.tasks[message.task_name].apply_async(args=message.args, task_id=str(message.task_id))
    marker = Notification.objects.create(user=grants.manager, subject="Marker: after the duplicates", body="b")
    outbox_enqueue("governance.tasks.deliver_notification", marker.pk)  # autocommit: handed over at once
    _wait(lambda: Notification.objects.get(pk=marker.pk).emailed_at is not None, what="the marker email")
    _wait(_all_done, what=f"the outbox: {_unfinished()}")
    everything = Notification.objects.exclude(pk__in=notifications_before).select_related("user")
    assert _sent_mail(live.mail) - mail_before == Counter((n.user.email, n.subject) for n in everything)
    assert AuditEvent.objects.count() == events
    assert Bid.objects.get(pk=to_submit.pk).status == BidStatus.SUBMITTED


def _waiting_on_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")  # inside a transaction the view is a snapshot
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                       "AND wait_event_type = 'Lock'")
        return cursor.fetchone()[0] > 0


def _restart_after_visibility_timeout(worker: WorkerHandle, killed_at: float) -> None:
    timeout = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    time.sleep(max(0.0, timeout + 1 - (time.monotonic() - killed_at)))
    worker.start()


def test_a_worker_killed_in_the_middle_of_an_email_leaves_exactly_one_email(live):
    from tests.factories.governance import UserFactory

    user = UserFactory(email="killed.mid.email@example.com")
    notification = Notification.objects.create(user=user, subject="Sent once despite the crash", body="b")
    message = OutboxMessage.objects.create(task_name="governance.tasks.deliver_notification", args=[notification.pk])
    with transaction.atomic():
        # Hold the notification, so the worker stops inside the task, between taking it and sending.
        Notification.objects.select_for_update().get(pk=notification.pk)
        assert outbox_dispatch_due(now=timezone.now() + dt.timedelta(minutes=2)) == [message.pk]
        _wait(_waiting_on_a_lock, seconds=60, what="the worker to reach the email")
        live.worker.kill()
        killed_at = time.monotonic()
    assert Notification.objects.get(pk=notification.pk).emailed_at is None
    _restart_after_visibility_timeout(live.worker, killed_at)
    _wait(lambda: Notification.objects.get(pk=notification.pk).emailed_at is not None, what="the email")
    _wait(_all_done, what=f"the outbox: {_unfinished()}")
    assert _sent_mail(live.mail)[(user.email, notification.subject)] == 1


def test_a_worker_killed_in_the_middle_of_an_offer_letter_leaves_exactly_one_letter(live):
    grants = make_world()
    with psycopg.connect(_test_database_url()) as blocker:
        # The letter is marked "running", then stops while it reads the award's conditions to render.
        blocker.execute("LOCK TABLE awards_awardcondition IN ACCESS EXCLUSIVE MODE")
        award = issue(grants, conditions=[])
        letter = award.letters.get()
        _wait(lambda: OfferLetter.objects.get(pk=letter.pk).status == DocumentStatus.RUNNING, seconds=60,
              what="the worker to start the letter")
        _wait(_waiting_on_a_lock, seconds=30, what="the worker to reach the rendering")
        live.worker.kill()
        killed_at = time.monotonic()
        blocker.rollback()
    assert OfferLetter.objects.get(pk=letter.pk).status == DocumentStatus.RUNNING  # lost mid-task
    _restart_after_visibility_timeout(live.worker, killed_at)
    _wait(lambda: OfferLetter.objects.get(pk=letter.pk).status in (DocumentStatus.READY, DocumentStatus.FAILED),
          what="the letter")
    _wait(_all_done, what=f"the outbox: {_unfinished()}")
    letter.refresh_from_db()
    assert letter.status == DocumentStatus.READY, letter.error
    assert award.letters.count() == 1
    assert AuditEvent.objects.filter(action="offer_letter.ready", target_id=str(award.pk)).count() == 1
    assert (live.media / letter.file.name).read_bytes().startswith(b"%PDF")  # made once, by the second worker
