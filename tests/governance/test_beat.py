"""The beat task opens and closes calls at their times, idempotently, as the portal."""

import datetime as dt
import time

import pytest
from django.conf import settings
from django.utils import timezone

from governance.audit import SYSTEM_ACTOR_LABEL
from governance.models import AuditEvent, CallStatus, Notification
from governance.tasks import advance_calls, deliver_notification
from tests.factories.governance import CallFactory, UserFactory


def _due_calls():
    now = timezone.now()
    opening = CallFactory(status=CallStatus.SCHEDULED, opens_at=now - dt.timedelta(minutes=1))
    closing = CallFactory(status=CallStatus.OPEN, opens_at=now - dt.timedelta(days=30),
                          closes_at=now - dt.timedelta(seconds=5))
    waiting = CallFactory(status=CallStatus.SCHEDULED, opens_at=now + dt.timedelta(hours=1))
    return opening, closing, waiting


def _events(call):
    return list(AuditEvent.objects.filter(target_type="governance.call", target_id=str(call.pk)))


def test_the_beat_schedule_runs_the_task_every_minute():
    entry = settings.CELERY_BEAT_SCHEDULE["governance-advance-calls"]
    assert entry["task"] == advance_calls.name == "governance.tasks.advance_calls"
    assert entry["schedule"] == 60.0


@pytest.mark.django_db
def test_running_the_task_twice_makes_one_transition_and_one_audit_event_per_call():
    opening, closing, waiting = _due_calls()
    first = advance_calls.delay().get()
    second = advance_calls.delay().get()
    assert sorted(map(tuple, first)) == sorted([(opening.pk, CallStatus.OPEN), (closing.pk, CallStatus.CLOSED)])
    assert second == []
    for call, status, action in [(opening, CallStatus.OPEN, "call.opened"), (closing, CallStatus.CLOSED, "call.closed")]:
        call.refresh_from_db()
        assert call.status == status
        events = _events(call)
        assert [e.action for e in events] == [action]
        assert events[0].actor is None
        assert events[0].actor_label == SYSTEM_ACTOR_LABEL
    waiting.refresh_from_db()
    assert waiting.status == CallStatus.SCHEDULED
    assert _events(waiting) == []


@pytest.mark.requires_broker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_the_beat_task_idempotently(real_celery):
    opening, closing, _ = _due_calls()
    marker = Notification.objects.create(user=UserFactory(), subject="Marker", body="Sent after both runs")
    advance_calls.delay()
    advance_calls.delay()
    # The worker runs one task at a time, in order: once the marker is sent, both runs are done.
    deliver_notification.delay(marker.pk)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        marker.refresh_from_db()
        if marker.emailed_at is not None:
            break
        time.sleep(0.2)
    assert marker.emailed_at is not None, "the worker did not run the tasks"
    opening.refresh_from_db()
    closing.refresh_from_db()
    assert (opening.status, closing.status) == (CallStatus.OPEN, CallStatus.CLOSED)
    assert [e.action for e in _events(opening)] == ["call.opened"]
    assert [e.action for e in _events(closing)] == ["call.closed"]


@pytest.mark.requires_postgres
@pytest.mark.django_db(transaction=True)
def test_two_overlapping_runs_make_each_transition_once():
    """Two workers running the task at the same moment: the row lock lets only one move each call."""
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection

    from governance.services import calls_advance

    opening, closing, _ = _due_calls()
    now = timezone.now()

    def run():
        try:
            return calls_advance(now=now)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda _: run(), range(2)))
    moved = sorted(item for result in results for item in result)
    assert moved == sorted([(opening.pk, CallStatus.OPEN), (closing.pk, CallStatus.CLOSED)])
    assert [e.action for e in _events(opening)] == ["call.opened"]
    assert [e.action for e in _events(closing)] == ["call.closed"]
