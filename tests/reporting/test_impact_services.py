"""Impact report services: requests, builds (claims, retries, failures), publication, withdrawal,
the quarterly schedule and the sweep for lost builds. Every state change writes an audit event."""

import datetime as dt
from unittest import mock

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import OperationalError
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from governance.models import AuditEvent, Notification, OutboxMessage, OutboxStatus
from governance.outbox import outbox_dispatch_due
from reporting.impact import build, services
from reporting.impact.tasks import build_impact_report
from reporting.models import ImpactReport, ReportScope, ReportVersion
from tests.factories.governance import (
    CallFactory,
    FundFactory,
    FundManagerFactory,
    PotFactory,
    UserFactory,
)
from tests.factories.reporting import ImpactReportFactory, ReportVersionFactory

pytestmark = pytest.mark.django_db

APRIL_2026 = dt.date(2026, 4, 1)
MARCH_2027 = dt.date(2027, 3, 31)


@pytest.fixture
def fund():
    return FundFactory(name="Test Fund", first_year=2026, last_year=2027)


@pytest.fixture
def manager(fund):
    return FundManagerFactory(organisation=fund.host_network).user


def actions(target=None):
    events = AuditEvent.objects.order_by("pk")
    if target is not None:
        events = events.filter(target_type=target._meta.label_lower, target_id=str(target.pk))
    return list(events.values_list("action", flat=True))


def request_report(manager, fund, **kwargs):
    kwargs.setdefault("period_start", APRIL_2026)
    kwargs.setdefault("period_end", MARCH_2027)
    return services.impact_report_request(actor=manager, fund=fund, **kwargs)


# Requests ---------------------------------------------------------------------------------


def test_a_request_queues_a_version_and_builds_it_once_the_transaction_commits(
    manager, fund, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        version = request_report(manager, fund)
        # The request returns at once: queued, nothing built yet.
        assert version.status == "queued"
        assert version.number == 1
        assert version.enqueued_at is not None
    assert len(callbacks) == 1
    report = version.report
    assert report.title == "Test Fund: impact report 2026/27"
    assert actions(report) == ["impact_report.requested"]
    with django_capture_on_commit_callbacks(execute=True):
        callbacks[0]()  # the worker (eager in tests) builds it
    version.refresh_from_db()
    assert version.status == "ready"
    assert version.pdf.name.endswith("-v1.pdf")
    assert version.csv.name.endswith("-v1.csv")
    assert version.xlsx.name.endswith("-v1.xlsx")
    assert version.snapshot["meta"]["fund"] == "Test Fund"
    assert version.data_cutoff is not None
    assert version.attempts == 1
    assert actions(version) == ["report_version.built"]
    # The requester hears that it is ready.
    assert [m.subject for m in mail.outbox] == ["Impact report ready: Test Fund: impact report 2026/27"]


@pytest.mark.parametrize(("scope", "extra", "field", "message"), [
    (ReportScope.CALL, {}, "call", services.CALL_REQUIRED),
    (ReportScope.POT, {}, "pot", services.POT_REQUIRED),
    (ReportScope.NETWORK, {}, "network", services.NETWORK_REQUIRED),
])
def test_a_scoped_request_needs_its_call_pot_or_network(manager, fund, scope, extra, field, message):
    with pytest.raises(ValidationError) as error:
        request_report(manager, fund, scope=scope, **extra)
    assert error.value.message_dict == {field: [message]}
    assert not ImpactReport.objects.exists()
    assert not AuditEvent.objects.exists()


def test_a_request_refuses_another_funds_call_and_pot(manager, fund):
    with pytest.raises(ValidationError) as error:
        request_report(manager, fund, scope=ReportScope.CALL, call=CallFactory())
    assert error.value.message_dict == {"call": [services.CALL_NOT_IN_FUND]}
    with pytest.raises(ValidationError) as error:
        request_report(manager, fund, scope=ReportScope.POT, pot=PotFactory())
    assert error.value.message_dict == {"pot": [services.POT_NOT_IN_FUND]}
    assert not ReportVersion.objects.exists()


def test_a_request_refuses_a_period_out_of_order_or_outside_the_funds_years(manager, fund):
    with pytest.raises(ValidationError) as error:
        request_report(manager, fund, period_start=MARCH_2027, period_end=APRIL_2026)
    assert error.value.message_dict == {"period_end": [services.PERIOD_IN_ORDER]}
    with pytest.raises(ValidationError) as error:
        request_report(manager, fund, period_start=dt.date(2025, 4, 1))
    assert error.value.message_dict == {
        "period_start": [services.PERIOD_OUTSIDE_FUND.format(first="2026/27", last="2027/28")]}
    assert not ImpactReport.objects.exists()


def test_a_scoped_request_keeps_only_its_own_object_and_names_it(manager, fund):
    pot = PotFactory(fund=fund, name="South pot")
    version = request_report(manager, fund, scope=ReportScope.POT, pot=pot, call=CallFactory(fund=fund))
    report = version.report
    assert (report.pot, report.call, report.network) == (pot, None, None)
    assert report.title == "South pot: impact report 2026/27"


def test_with_the_broker_down_a_request_is_kept_queued_and_handed_over_by_the_outbox_later(
    manager, fund, django_capture_on_commit_callbacks
):
    with mock.patch.object(build_impact_report, "apply_async", side_effect=BrokerError("Connection refused")), \
            django_capture_on_commit_callbacks(execute=True):
        version = request_report(manager, fund)
    # Nothing is lost: the report, its queued version and its build are saved, and the page can say so.
    assert services.build_waits_for_broker(version)
    version.refresh_from_db()
    assert version.status == "queued"
    assert actions(version.report) == ["impact_report.requested"]
    message = OutboxMessage.objects.get(task_name=services.BUILD_TASK)
    assert (message.args, message.status) == ([version.pk], OutboxStatus.WAITING)
    # Not yet due (backoff): the beat leaves it alone.
    assert outbox_dispatch_due() == []
    # Later, with the broker back, the beat hands it over and it is built, once.
    assert outbox_dispatch_due(now=timezone.now() + dt.timedelta(minutes=5)) == [message.pk]
    version.refresh_from_db()
    assert version.status == "ready"
    message.refresh_from_db()
    assert message.status == OutboxStatus.DONE
    assert message.pk not in outbox_dispatch_due(now=timezone.now() + dt.timedelta(hours=1))


# Building: claims, heartbeats, failures, retries ----------------------------------------------


def test_a_redelivered_task_for_a_finished_version_does_nothing(manager, fund):
    version = request_report(manager, fund, enqueue=False)
    assert build_impact_report.apply(args=[version.pk]).get() == "built"
    version.refresh_from_db()
    pdf_name, finished, events = version.pdf.name, version.finished_at, AuditEvent.objects.count()
    assert build_impact_report.apply(args=[version.pk]).get() == "finished"
    version.refresh_from_db()
    assert (version.pdf.name, version.finished_at, version.attempts) == (pdf_name, finished, 1)
    assert AuditEvent.objects.count() == events


def test_a_version_another_worker_is_building_is_left_to_it():
    version = ReportVersionFactory(status="running", attempts=1, started_at=timezone.now(), heartbeat_at=timezone.now())
    claim = services.report_version_claim(version_id=version.pk)
    assert claim.outcome == "busy"
    assert 0 < claim.retry_after <= services.LEASE_SECONDS + 1
    version.refresh_from_db()
    assert version.attempts == 1


def test_a_version_whose_worker_fell_silent_is_taken_over_and_the_lost_worker_cannot_save():
    silent = timezone.now() - dt.timedelta(seconds=services.LEASE_SECONDS + 5)
    version = ReportVersionFactory(status="running", attempts=1, started_at=silent, heartbeat_at=silent)
    lost = services.Claim("claimed", version.pk, token=1)
    claim = services.report_version_claim(version_id=version.pk)
    assert (claim.outcome, claim.token) == ("claimed", 2)
    assert actions(version) == ["report_version.build_resumed"]
    # The lost worker, if it comes back, can neither record steps nor save its build.
    with pytest.raises(services.BuildSuperseded):
        services.report_version_step(claim=lost, step="Making the PDF")
    assert services.report_version_complete(claim=lost, data_cutoff=timezone.now(), snapshot_data={}, pdf=b"%PDF",
                                            csv=b"", xlsx=b"", charts={}) is None
    assert services.report_version_heartbeat(claim=lost) is False
    assert services.report_version_heartbeat(claim=claim) is True
    version.refresh_from_db()
    assert (version.status, version.attempts) == ("running", 2)


def test_a_build_tried_too_many_times_fails_with_the_reason():
    silent = timezone.now() - dt.timedelta(minutes=5)
    version = ReportVersionFactory(status="running", attempts=services.MAX_ATTEMPTS, heartbeat_at=silent)
    assert services.report_version_claim(version_id=version.pk).outcome == "gave_up"
    version.refresh_from_db()
    assert version.status == "failed"
    assert version.error == services.GAVE_UP.format(attempts=services.MAX_ATTEMPTS)
    assert actions(version) == ["report_version.build_failed"]


def test_a_build_that_breaks_fails_with_its_reason_and_the_requester_is_told(manager, fund):
    version = request_report(manager, fund, enqueue=False)
    with mock.patch.object(build, "render_pdf", side_effect=ValueError("the layout broke")):
        assert build_impact_report.apply(args=[version.pk]).get() == "failed"
    version.refresh_from_db()
    assert version.status == "failed"
    assert version.error == "The build stopped with an error (ValueError: the layout broke)"
    assert not version.pdf
    assert actions(version) == ["report_version.build_failed"]
    assert Notification.objects.get(user=manager).subject == f"Impact report failed: {version.report.title}"


def test_a_build_over_its_time_limit_fails_with_a_clear_reason(manager, fund):
    version = request_report(manager, fund, enqueue=False)
    with mock.patch.object(build, "render_pdf", side_effect=SoftTimeLimitExceeded()):
        build_impact_report.apply(args=[version.pk])
    version.refresh_from_db()
    assert version.status == "failed"
    assert version.error == services.TIMED_OUT.format(minutes=20)


def test_a_temporary_database_error_gives_the_version_back_and_the_retry_builds_it(manager, fund):
    version = request_report(manager, fund, enqueue=False)
    real = build.impact_sources
    calls = []

    def flaky(report, cutoff):
        calls.append(cutoff)
        if len(calls) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return real(report, cutoff)

    with mock.patch.object(build, "impact_sources", side_effect=flaky), \
            mock.patch.object(services, "LEASE_SECONDS", 0):
        build_impact_report.apply(args=[version.pk]).get()
    version.refresh_from_db()
    assert len(calls) == 2
    assert version.status == "ready"
    assert version.attempts == 2


def test_a_version_given_back_after_a_temporary_error_says_so():
    version = ReportVersionFactory(status="running", attempts=1, heartbeat_at=timezone.now())
    assert services.report_version_release(claim=services.Claim("claimed", version.pk, token=1), reason="OperationalError")
    version.refresh_from_db()
    assert version.status == "queued"
    assert version.step.startswith("Waiting to try again after a temporary problem")


# Retry and rebuild ----------------------------------------------------------------------------


def test_a_failed_version_is_tried_again_as_a_new_version(manager, fund):
    failed = ReportVersionFactory(report__fund=fund, status="failed", error="Lost", number=1)
    retry = services.report_version_retry(actor=manager, version=failed, enqueue=False)
    assert (retry.number, retry.status) == (2, "queued")
    failed.refresh_from_db()
    assert (failed.status, failed.error) == ("failed", "Lost")  # kept, with its reason
    assert actions(failed) == ["report_version.retried"]


def test_only_a_failed_version_can_be_tried_again(manager, fund):
    ready = ReportVersionFactory(report__fund=fund, status="ready", number=1)
    with pytest.raises(ValidationError) as error:
        services.report_version_retry(actor=manager, version=ready)
    assert error.value.messages == [services.ONLY_FAILED_RETRY]
    assert ready.report.versions.count() == 1


def test_a_rebuild_waits_for_the_version_already_queued(manager, fund):
    queued = ReportVersionFactory(report__fund=fund, status="queued", number=1)
    with pytest.raises(ValidationError) as error:
        services.impact_report_rebuild(actor=manager, report=queued.report)
    assert error.value.messages == [services.BUILD_ALREADY_QUEUED]
    queued.status = "ready"
    queued.save()
    rebuilt = services.impact_report_rebuild(actor=manager, report=queued.report, enqueue=False)
    assert rebuilt.number == 2
    assert actions(queued.report) == ["impact_report.rebuild_requested"]


# Publication ----------------------------------------------------------------------------------


def test_only_a_built_version_can_be_published(manager, fund):
    for status in ("queued", "running", "failed"):
        version = ReportVersionFactory(report__fund=fund, status=status)
        with pytest.raises(ValidationError) as error:
            services.report_version_publish(actor=manager, version=version)
        assert error.value.messages == [services.ONLY_READY_PUBLISH]
        version.refresh_from_db()
        assert version.published_at is None
    assert not AuditEvent.objects.exists()


def test_publishing_a_version_withdraws_the_previous_one(manager, fund):
    first = ReportVersionFactory(report__fund=fund, status="ready", number=1)
    second = ReportVersionFactory(report=first.report, status="ready", number=2)
    services.report_version_publish(actor=manager, version=first)
    first.refresh_from_db()
    assert first.is_public
    assert first.published_by == manager
    with pytest.raises(ValidationError) as error:
        services.report_version_publish(actor=manager, version=first)
    assert error.value.messages == [services.ALREADY_PUBLISHED]
    services.report_version_publish(actor=manager, version=second)
    first.refresh_from_db()
    second.refresh_from_db()
    assert second.is_public
    assert not first.is_public
    assert first.unpublished_reason == services.REPLACED_BY.format(number=2)
    assert actions(first) == ["report_version.published", "report_version.unpublished"]
    assert actions(second) == ["report_version.published"]


def test_withdrawing_needs_a_reason_and_records_it(manager, fund):
    version = ReportVersionFactory(report__fund=fund, status="ready")
    with pytest.raises(ValidationError) as error:
        services.report_version_unpublish(actor=manager, version=version, reason="No longer right")
    assert error.value.messages == [services.NOT_PUBLISHED]
    services.report_version_publish(actor=manager, version=version)
    with pytest.raises(ValidationError) as error:
        services.report_version_unpublish(actor=manager, version=version, reason="   ")
    assert error.value.message_dict == {"reason": [services.REASON_REQUIRED]}
    version.refresh_from_db()
    assert version.is_public
    services.report_version_unpublish(actor=manager, version=version, reason="A grantee corrected a return")
    version.refresh_from_db()
    assert not version.is_public
    assert version.unpublished_reason == "A grantee corrected a return"
    event = AuditEvent.objects.filter(action="report_version.unpublished").get()
    assert event.message == "A grantee corrected a return"
    assert event.actor == manager
    assert event.fund == version.report.fund


# The schedule and the sweep ---------------------------------------------------------------------


def test_scheduled_reports_get_one_new_version_each_quarter():
    report = ImpactReportFactory(scheduled_quarterly=True)
    last_quarter = timezone.make_aware(dt.datetime(2026, 6, 20, 9))
    ReportVersionFactory(report=report, number=1, status="ready", created_at=last_quarter)
    ImpactReportFactory(scheduled_quarterly=False)  # not scheduled: never rebuilt
    july = dt.date(2026, 7, 2)
    built = services.impact_reports_build_scheduled(today=july, enqueue=False)
    assert [(v.report, v.number, v.requested_by) for v in built] == [(report, 2, None)]
    assert actions(report) == ["impact_report.scheduled_build"]
    # Run again the same quarter: nothing more (the new version is queued, then ready).
    assert services.impact_reports_build_scheduled(today=july, enqueue=False) == []
    ReportVersion.objects.filter(report=report, number=2).update(
        status="ready", created_at=timezone.make_aware(dt.datetime(2026, 7, 2, 6, 30)))
    assert services.impact_reports_build_scheduled(today=dt.date(2026, 9, 30), enqueue=False) == []
    # Next quarter: one more.
    assert len(services.impact_reports_build_scheduled(today=dt.date(2026, 10, 1), enqueue=False)) == 1


def test_the_schedule_can_be_switched_on_and_off(manager, fund):
    report = ImpactReportFactory(fund=fund)
    services.impact_report_schedule(actor=manager, report=report, scheduled=True)
    report.refresh_from_db()
    assert report.scheduled_quarterly
    event = AuditEvent.objects.get(action="impact_report.schedule_changed")
    assert (event.before, event.after) == ({"scheduled_quarterly": False}, {"scheduled_quarterly": True})


def test_the_sweep_sends_builds_whose_worker_fell_silent_again_and_leaves_the_rest_to_the_outbox(
    django_capture_on_commit_callbacks,
):
    now = timezone.now()
    queued = ReportVersionFactory(status="queued", enqueued_at=now - dt.timedelta(minutes=11))
    live = ReportVersionFactory(status="running", attempts=1, heartbeat_at=now)
    lost = ReportVersionFactory(status="running", attempts=1, heartbeat_at=now - dt.timedelta(minutes=2),
                                enqueued_at=now - dt.timedelta(minutes=6))
    ReportVersionFactory(status="ready")
    with mock.patch.object(build_impact_report, "apply_async") as send, \
            django_capture_on_commit_callbacks(execute=True):
        sent = services.report_versions_requeue_stale(now=now)
    assert sent == [lost.pk]
    assert [call.kwargs["args"] for call in send.call_args_list] == [[lost.pk]]
    assert [m.args for m in OutboxMessage.objects.all()] == [[lost.pk]]
    # Sent once: the next sweep does not send it again straight away.
    assert services.report_versions_requeue_stale(now=now + dt.timedelta(seconds=5)) == []
    queued.refresh_from_db()
    live.refresh_from_db()
    assert (queued.status, live.status) == ("queued", "running")


def test_the_beat_schedule_runs_the_sweep_and_the_quarterly_builds(settings):
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"reporting.impact.tasks.requeue_stale_impact_reports", "reporting.impact.tasks.build_scheduled_impact_reports"} <= tasks


# The heartbeat thread, on PostgreSQL (it writes on its own connection) ----------------------------


@pytest.mark.requires_postgres
@pytest.mark.django_db(transaction=True)
def test_the_heartbeat_thread_keeps_a_long_build_alive():
    import time

    started = timezone.now() - dt.timedelta(minutes=1)
    version = ReportVersionFactory(status="running", attempts=1, heartbeat_at=started,
                                   report=ImpactReportFactory(requested_by=UserFactory()))
    beat = build.Heartbeat(services.Claim("claimed", version.pk, token=1), interval=0.1)
    beat.start()
    time.sleep(0.6)
    beat.stop()
    version.refresh_from_db()
    assert version.heartbeat_at > started + dt.timedelta(seconds=59)
    assert not beat.is_alive()
