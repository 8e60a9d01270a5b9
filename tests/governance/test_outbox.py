"""The outbox (governance/outbox.py): a side effect is recorded in its change's transaction,
handed to Celery after the commit, waits when the broker refuses, is handed over by the beat
with backoff, and runs once."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from django.utils import timezone

from governance import outbox
from governance.models import Notification, OutboxMessage, OutboxStatus
from governance.outbox import (
    outbox_dispatch_due,
    outbox_enqueue,
    outbox_is_waiting,
    outbox_oldest_waiting_age,
)
from governance.services import notify
from governance.tasks import deliver_notification, dispatch_outbox
from tests.factories.governance import UserFactory

pytestmark = pytest.mark.django_db

TASK = "governance.tasks.deliver_notification"


def test_a_side_effect_is_recorded_in_the_transaction_and_handed_over_only_after_commit(
        django_capture_on_commit_callbacks, broker):
    with django_capture_on_commit_callbacks(execute=False) as callbacks, transaction.atomic():
        message = outbox_enqueue(TASK, 41)
        assert OutboxMessage.objects.filter(pk=message.pk, status=OutboxStatus.WAITING).exists()
    assert message.args == [41]
    assert OutboxMessage.objects.get(pk=message.pk).status == OutboxStatus.WAITING  # nothing handed over yet
    for callback in callbacks:
        callback()
    message.refresh_from_db()
    assert (message.status, message.attempts) == (OutboxStatus.DISPATCHED, 1)
    assert message.dispatched_at is not None
    assert not outbox_is_waiting(message)


def test_a_rolled_back_change_leaves_no_side_effect(django_capture_on_commit_callbacks, broker, mailoutbox):
    user = UserFactory()

    def notify_then_fail():
        with transaction.atomic():
            notify(user=user, subject="Never", body="Rolled back")
            raise RuntimeError

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        notify_then_fail()
    assert not OutboxMessage.objects.exists()
    assert not Notification.objects.exists()
    assert mailoutbox == []


def test_a_refused_hand_over_leaves_the_message_waiting_and_the_change_saved(django_capture_on_commit_callbacks,
                                                                          broker):
    broker.down()
    user = UserFactory()
    before = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        notification = notify(user=user, subject="Saved anyway", body="b")  # no exception
    assert Notification.objects.filter(pk=notification.pk).exists()
    message = OutboxMessage.objects.get()
    assert (message.status, message.attempts) == (OutboxStatus.WAITING, 1)
    assert message.last_error
    # Offered again after the first backoff, not at once.
    assert message.next_attempt_at >= before + dt.timedelta(seconds=10)
    assert outbox_oldest_waiting_age() is not None


def test_after_a_refusal_the_other_side_effects_of_the_change_do_not_wait_for_the_broker_again(
        django_capture_on_commit_callbacks, broker, monkeypatch):
    broker.down()
    offered = []
    real = outbox._hand_over
    monkeypatch.setattr(outbox, "_hand_over", lambda message: offered.append(message.pk) or real(message))
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        for n in range(3):
            outbox_enqueue(TASK, n)
    assert len(offered) == 1
    assert set(OutboxMessage.objects.values_list("status", "attempts")) == {(OutboxStatus.WAITING, 1)}


def test_the_beat_hands_waiting_messages_over_with_backoff(broker):
    now = timezone.now()
    message = OutboxMessage.objects.create(task_name=TASK, args=[1], next_attempt_at=now + dt.timedelta(seconds=30))
    assert outbox_dispatch_due(now=now) == []  # not yet due
    broker.down()
    due = now + dt.timedelta(seconds=31)
    assert outbox_dispatch_due(now=due) == []
    message.refresh_from_db()
    first_wait = message.next_attempt_at - due
    assert (message.status, message.attempts) == (OutboxStatus.WAITING, 1)
    assert outbox_dispatch_due(now=message.next_attempt_at) == []
    later = message.next_attempt_at
    message.refresh_from_db()
    assert message.attempts == 2
    assert message.next_attempt_at - later > first_wait - dt.timedelta(seconds=5)  # it doubles (with jitter)
    broker.up()
    assert outbox_dispatch_due(now=message.next_attempt_at) == [message.pk]
    message.refresh_from_db()
    assert (message.status, message.attempts) == (OutboxStatus.DISPATCHED, 3)
    assert outbox_dispatch_due(now=message.next_attempt_at + dt.timedelta(hours=1)) == []  # handed over once


def test_backoff_doubles_up_to_its_cap(settings):
    settings.OUTBOX_BACKOFF_SECONDS = 10
    settings.OUTBOX_BACKOFF_MAX_SECONDS = 600
    waits = [outbox.backoff(n).total_seconds() for n in (1, 2, 3, 10)]
    assert 10 <= waits[0] < 15
    assert 20 <= waits[1] < 25
    assert 40 <= waits[2] < 45
    assert 600 <= waits[3] < 605


def test_the_beat_stops_at_the_first_refusal_and_leaves_the_others_their_turn(broker):
    broker.down()
    now = timezone.now()
    first, second = (OutboxMessage.objects.create(task_name=TASK, args=[n], next_attempt_at=now) for n in (1, 2))
    assert outbox_dispatch_due(now=now) == []
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.attempts, second.attempts) == (1, 0)
    assert second.next_attempt_at == now


def test_a_message_handed_over_by_the_commit_hook_is_not_handed_over_again_by_the_beat(
        django_capture_on_commit_callbacks, broker):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        message = outbox_enqueue(TASK, 7)
    # The beat comes round before the commit hook ran (it claims the row first)...
    assert outbox_dispatch_due(now=timezone.now() + dt.timedelta(minutes=2)) == [message.pk]
    # ...and the hook then finds it taken.
    for callback in callbacks:
        callback()
    message.refresh_from_db()
    assert (message.status, message.attempts) == (OutboxStatus.DISPATCHED, 1)


def test_a_message_the_broker_lost_is_handed_over_again_after_a_long_while(broker, settings):
    now = timezone.now()
    message = OutboxMessage.objects.create(task_name=TASK, args=[1], status=OutboxStatus.DISPATCHED, attempts=1,
                                           dispatched_at=now - dt.timedelta(seconds=settings.OUTBOX_REDISPATCH_AFTER_SECONDS + 1))
    recent = OutboxMessage.objects.create(task_name=TASK, args=[2], status=OutboxStatus.DISPATCHED, attempts=1,
                                          dispatched_at=now)
    assert outbox_dispatch_due(now=now) == [message.pk]
    recent.refresh_from_db()
    assert recent.status == OutboxStatus.DISPATCHED
    assert recent.attempts == 1


def test_each_side_effect_runs_exactly_once_even_when_delivered_twice(mailoutbox):
    """Eager Celery (as in ``make run``): the beat runs the task in-process."""
    notification = Notification.objects.create(user=UserFactory(), subject="Once", body="b")
    message = OutboxMessage.objects.create(task_name=TASK, args=[notification.pk])
    assert dispatch_outbox.delay().get() == 1
    message.refresh_from_db()
    assert message.status == OutboxStatus.DONE
    assert message.done_at is not None
    assert len(mailoutbox) == 1
    assert dispatch_outbox.delay().get() == 0
    # The broker delivers the same message again (a worker lost before acknowledging it).
    Notification.objects.filter(pk=notification.pk).update(emailed_at=None)  # even if the task forgot
    deliver_notification.apply(args=[notification.pk], task_id=str(message.task_id))
    assert len(mailoutbox) == 1


def test_a_task_that_fails_for_good_marks_its_message_failed(monkeypatch):
    # The task calls the service through its own module's name: patch that one only, after the
    # module is imported, so that undoing the patch restores the real service.
    from awards import tasks as award_tasks

    def broken(**kwargs):
        raise ValueError("no such letter")

    monkeypatch.setattr(award_tasks, "offer_letter_generate", broken)
    message = OutboxMessage.objects.create(task_name="awards.tasks.generate_offer_letter", args=[999])
    with pytest.raises(ValueError, match="no such letter"):
        outbox_dispatch_due()
    message.refresh_from_db()
    assert message.status == OutboxStatus.FAILED
    assert "no such letter" in message.last_error


def test_an_email_whose_mail_server_stays_down_waits_for_the_beat_again(monkeypatch, settings):
    from smtplib import SMTPServerDisconnected

    from governance import tasks

    def down(**kwargs):
        raise SMTPServerDisconnected("mail server down")

    monkeypatch.setattr(tasks, "notification_email_send", down)
    monkeypatch.setattr(tasks.deliver_notification, "max_retries", 0)
    message = OutboxMessage.objects.create(task_name=TASK, args=[1])
    with pytest.raises(SMTPServerDisconnected):
        tasks.deliver_notification.apply(args=[1], task_id=str(message.task_id), throw=True)
    message.refresh_from_db()
    assert message.status == OutboxStatus.WAITING
    assert message.next_attempt_at > timezone.now()


def test_the_beat_schedule_hands_the_outbox_over_every_few_seconds_and_the_old_sweeps_are_gone(settings):
    tasks = {entry["task"]: entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert tasks["governance.tasks.dispatch_outbox"] <= 30
    assert "governance.tasks.deliver_unemailed_notifications" not in tasks


def test_the_admin_lists_outbox_messages_read_only(client, admin_user):
    client.force_login(admin_user)  # with the second factor, as a site admin signs in
    admin_client = client
    OutboxMessage.objects.create(task_name=TASK, args=[5], last_error="ConnectionRefusedError")
    page = admin_client.get("/admin/governance/outboxmessage/")
    assert page.status_code == 200
    assert TASK in page.content.decode()
    assert admin_client.get("/admin/governance/outboxmessage/add/").status_code == 403
