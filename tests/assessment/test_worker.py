"""The daily reminder run by a real Celery worker through the broker."""

import datetime as dt
import time

import pytest
from django.utils import timezone

from assessment.tasks import send_assessment_reminders
from governance.models import Notification
from tests.assessment.conftest import assign, make_world

pytestmark = [pytest.mark.requires_broker, pytest.mark.django_db(transaction=True)]


def _wait_for(check, seconds: int = 60) -> bool:
    deadline = time.monotonic() + seconds
    while not check() and time.monotonic() < deadline:
        time.sleep(0.5)
    return check()


def test_the_real_worker_reminds_an_assessor_once(real_celery):
    world = make_world(bids=1)
    assignment = assign(world, world.bids[0], world.assessor, due_date=timezone.localdate() + dt.timedelta(days=1))
    reminders = Notification.objects.filter(user=world.assessor, subject__contains="are due by")
    send_assessment_reminders.delay()
    assert _wait_for(lambda: reminders.count() == 1)
    assignment.refresh_from_db()
    assert assignment.reminded_at is not None
    # The beat firing twice (or two overlapping runs) reminds nobody again. A later assignment,
    # reminded by a run queued after them (the worker takes one task at a time, in order), shows
    # the repeated runs have been through.
    send_assessment_reminders.delay()
    send_assessment_reminders.delay()
    later = assign(world, world.bids[0], world.assessor_b, due_date=timezone.localdate())
    send_assessment_reminders.delay()
    assert _wait_for(lambda: Notification.objects.filter(user=world.assessor_b, subject__contains="are due by").exists())
    later.refresh_from_db()
    assert later.reminded_at is not None
    assert reminders.count() == 1
