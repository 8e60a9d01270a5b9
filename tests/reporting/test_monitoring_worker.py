"""The beat task and the reminder task run by a real Celery worker through Redis, on PostgreSQL:
idempotent, retried with backoff when the database refuses, and a worker killed mid-run loses no
reminder and sends none twice."""

from __future__ import annotations

import datetime as dt
import time

import pytest
import redis
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from governance.models import Notification, OutboxMessage, OutboxStatus
from governance.tasks import dispatch_outbox
from reporting.models import MonitoringReturn, ReminderSent, ReturnStatus
from reporting.monitoring import services
from reporting.monitoring.tasks import run_monitoring, send_return_reminder
from tests.factories.awards import AwardFactory
from tests.factories.governance import MembershipFactory
from tests.reporting.conftest import make_monitoring_world

pytestmark = [pytest.mark.requires_broker, pytest.mark.django_db(transaction=True)]


def _broker():
    return redis.Redis.from_url(settings.CELERY_BROKER_URL)


def _idle(queue: str) -> bool:
    """Nothing waiting in the worker's queue and nothing delivered but not acknowledged (the
    session's unacknowledged tasks are kept under a key of its own: fundportal/settings/test.py)."""
    broker = _broker()
    return broker.llen(queue) == 0 and broker.hlen(settings.CELERY_BROKER_TRANSPORT_OPTIONS["unacked_key"]) == 0


def _wait_until(condition, timeout: float = 90, message: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting: {message}")


def _settled(worker) -> None:
    """Wait until the worker has done everything queued (twice idle, a second apart)."""
    for _ in range(2):
        _wait_until(lambda: _idle(worker.queue), message="the worker to finish its queue")
        time.sleep(1)


def _reminder_invariants(expected: set[tuple[int, str]]) -> None:
    sent = list(ReminderSent.objects.values_list("monitoring_return_id", "kind"))
    assert len(sent) == len(set(sent)), "a reminder went twice"
    assert set(sent) == expected, f"missing {expected - set(sent)}, extra {set(sent) - expected}"
    for reminder in ReminderSent.objects.prefetch_related("notifications__user"):
        people = sorted(n.user.email for n in reminder.notifications.all())
        assert people == sorted(reminder.recipients), f"{reminder}: notified {people}"
    notes = Notification.objects.filter(monitoring_reminders__isnull=False)
    _wait_until(lambda: not notes.filter(emailed_at__isnull=True).exists(), message="every reminder email sent")


def test_the_beat_task_run_twice_by_the_worker_sends_each_reminder_once(real_celery):
    mw = make_monitoring_world()
    run_monitoring.delay()
    run_monitoring.delay()
    _settled(real_celery)
    today = timezone.localdate()
    ended = mw.ended()
    assert all(ret.status == ReturnStatus.OPEN for ret in ended)
    expected = set()
    for ret in ended:
        if ret.due_date < today:
            expected.add((ret.pk, "overdue"))
        else:
            expected.add((ret.pk, "opened"))
            days_left = (ret.due_date - today).days
            if days_left <= 14:
                expected.add((ret.pk, "due_1" if days_left <= 1 else "due_3" if days_left <= 3 else "due_14"))
    _reminder_invariants(expected)
    assert MonitoringReturn.objects.count() == len(mw.returns())  # the schedule was made once


def test_a_reminder_refused_by_a_locked_row_is_retried_with_backoff(real_celery):
    mw = make_monitoring_world()
    ret = mw.ended()[-1]
    services.return_open(return_id=ret.pk)
    kind = "overdue" if ret.due_date < timezone.localdate() else "opened"
    log_start = real_celery.log.stat().st_size if real_celery.log.exists() else 0
    with transaction.atomic():
        MonitoringReturn.objects.select_for_update().get(pk=ret.pk)  # another worker holds the return
        result = send_return_reminder.delay(ret.pk, kind)
        _wait_until(lambda: f"send_return_reminder[{result.id}] retry: Retry in" in
                    real_celery.log.read_text(errors="replace")[log_start:], message="the task to retry")
        assert not ReminderSent.objects.exists()
    # The lock is gone: the retry, after its backoff, sends the reminder once.
    _wait_until(lambda: ReminderSent.objects.filter(monitoring_return=ret, kind=kind).exists(), message="the retry")
    _settled(real_celery)
    _reminder_invariants({(ret.pk, kind)})


def _overdue_returns(count: int) -> list[MonitoringReturn]:
    """Active awards each with one return overdue and a signatory to remind: quick to make in bulk."""
    today = timezone.localdate()
    start = (today - dt.timedelta(days=200)).replace(day=1)
    returns = []
    for _ in range(count):
        award = AwardFactory(start_date=start, end_date=today + dt.timedelta(days=400))
        MembershipFactory(organisation=award.recipient, is_authorised_signatory=True)
        services.return_schedule_sync(award=award)
        returns.extend(award.returns.all())
    return returns


def test_killing_the_worker_mid_run_loses_no_reminder_and_sends_none_twice(real_celery):
    _overdue_returns(40)
    # The beat's state changes first (schedules made, ended returns opened): what remains is the reminders.
    expected = set(services.monitoring_run()["reminders"])
    assert len(expected) >= 60
    run_monitoring.delay()
    _wait_until(lambda: ReminderSent.objects.count() >= 5, message="some reminders to go")
    real_celery.kill()  # mid-run: reminders queued, some sent, one perhaps half-done
    done = ReminderSent.objects.count()
    assert 0 < done < len(expected), f"the run finished before the kill ({done} of {len(expected)})"
    # Restart with a short visibility timeout, so the task the dead worker held is delivered again.
    real_celery.env["CELERY_VISIBILITY_TIMEOUT"] = "1"
    try:
        time.sleep(1.5)
        real_celery.start()
        run_monitoring.delay()  # and the next beat comes round
        _settled(real_celery)
        # An email the dead worker committed but never handed over waits in the outbox: the
        # outbox beat comes round once its claim has lapsed.
        OutboxMessage.objects.filter(status=OutboxStatus.WAITING).update(
            next_attempt_at=timezone.now() - dt.timedelta(minutes=1))
        dispatch_outbox.delay()
        _settled(real_celery)
        _reminder_invariants(expected)
    finally:
        real_celery.stop()
        real_celery.env.pop("CELERY_VISIBILITY_TIMEOUT", None)
        real_celery.start()
