"""Impact reports against a real Celery worker and Redis (CI runs these; elsewhere they are
deselected): a report built end to end, a worker killed mid-build, and Redis unreachable."""

import datetime as dt
import io
import time
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from governance.models import AuditEvent, OutboxMessage, OutboxStatus
from governance.outbox import outbox_dispatch_due
from reporting.impact import services
from reporting.models import ReportVersion
from tests.reporting.impact_world import build_world

pytestmark = [pytest.mark.requires_broker, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def worker_media(settings, celery_worker):
    """Read the files where the worker writes them (its MEDIA_ROOT), and clean them up after."""
    settings.MEDIA_ROOT = Path(celery_worker.env["MEDIA_ROOT"])
    yield
    for version in ReportVersion.objects.all():
        for field in (version.pdf, version.csv, version.xlsx):
            if field:
                field.delete(save=False)


def wait_for(version_id: int, predicate, timeout: float = 120, interval: float = 0.05) -> ReportVersion:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        version = ReportVersion.objects.get(pk=version_id)
        if predicate(version):
            return version
        time.sleep(interval)
    version = ReportVersion.objects.get(pk=version_id)
    raise AssertionError(f"Timed out: version {version_id} is {version.status} ({version.step!r}, {version.error!r})")


def test_a_report_is_built_end_to_end_by_the_worker(real_celery):
    world = build_world()
    version = services.impact_report_rebuild(actor=world.manager, report=world.report(title="Worker report"))
    version = wait_for(version.pk, lambda v: v.status in ("ready", "failed"))
    assert version.status == "ready", version.error
    assert version.attempts == 1
    with version.pdf.open("rb") as handle:
        text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(handle.read())).pages)
    assert "Worker report" in text
    assert "£135,000" in text  # paid in the period (see impact_world)
    assert list(AuditEvent.objects.filter(target_id=str(version.pk), target_type="reporting.reportversion")
                .values_list("action", flat=True)) == ["report_version.built"]


def test_a_worker_killed_mid_build_leads_to_exactly_one_finished_version(real_celery, settings):
    world = build_world()
    report = world.report(title="Killed report")
    version = services.impact_report_rebuild(actor=world.manager, report=report)
    # Kill the worker (and its pool child) while it renders the PDF, as a crash would.
    wait_for(version.pk, lambda v: v.status == "running" and v.step == "Making the PDF", timeout=90, interval=0.02)
    real_celery.kill()
    killed_at = time.monotonic()
    lost = ReportVersion.objects.get(pk=version.pk)
    assert (lost.status, lost.attempts) == ("running", 1)
    # Redis hands the unacknowledged task on once its visibility timeout has passed.
    timeout = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    time.sleep(max(0.0, timeout + 1 - (time.monotonic() - killed_at)))
    real_celery.start()
    finished = wait_for(version.pk, lambda v: v.status in ("ready", "failed"), timeout=120)
    assert finished.status == "ready", finished.error
    assert finished.attempts == 2
    assert report.versions.count() == 1
    actions = list(AuditEvent.objects.filter(target_type="reporting.reportversion", target_id=str(version.pk))
                   .order_by("pk").values_list("action", flat=True))
    assert actions == ["report_version.build_resumed", "report_version.built"]
    # A late duplicate of the task changes nothing.
    from reporting.impact.tasks import build_impact_report

    build_impact_report.delay(version.pk)
    time.sleep(3)
    again = ReportVersion.objects.get(pk=version.pk)
    assert (again.status, again.attempts, again.finished_at, again.pdf.name) == (
        "ready", 2, finished.finished_at, finished.pdf.name)


def test_with_redis_down_a_request_says_so_and_is_built_when_it_is_back(real_celery, client):
    from fundportal.celery import app

    world = build_world()
    client.force_login(world.manager)
    working = app.conf.broker_write_url

    def use_broker(url):
        app.conf.broker_write_url = url
        app._pool = None
        app.amqp._producer_pool = None

    use_broker("redis://127.0.0.1:1/0")  # nothing listens there
    try:
        started = time.monotonic()
        response = client.post(reverse("reporting:report_request", args=[world.fund.slug]),
                               {"scope": "fund", "period_start": "2025-Q1", "period_end": "2025-Q4"}, follow=True)
        assert time.monotonic() - started < 15
    finally:
        use_broker(working)
    assert response.status_code == 200
    assert services.QUEUE_UNAVAILABLE in response.content.decode()
    version = ReportVersion.objects.get(report__fund=world.fund)
    assert version.status == "queued"  # nothing lost
    # The outbox's beat hands the build over once Redis is back, and the worker builds it.
    message = OutboxMessage.objects.get(task_name=services.BUILD_TASK, status=OutboxStatus.WAITING)
    assert message.args == [version.pk]
    assert outbox_dispatch_due(now=timezone.now() + dt.timedelta(minutes=5)) == [message.pk]
    assert wait_for(version.pk, lambda v: v.status in ("ready", "failed")).status == "ready"
