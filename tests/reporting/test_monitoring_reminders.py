"""The periodic task: returns open when their period ends, reminders go before the due date and
when overdue (to the grantee, and to the fund manager too when overdue), each exactly once
whatever the number of runs, and a run after missed ones catches up."""

import datetime as dt
from unittest import mock

import pytest
from django.conf import settings
from django.db import OperationalError
from django.utils import timezone

from awards import services as award_services
from governance.models import AuditEvent, Membership, Notification, OutboxMessage, OutboxStatus
from governance.tasks import dispatch_outbox
from reporting.models import ReminderKind, ReminderSent, ReturnStatus
from reporting.monitoring import services, tasks as monitoring_tasks
from reporting.monitoring.selectors import reminders_due
from tests.reporting.conftest import start_award, submitted

pytestmark = pytest.mark.django_db


def _run(today, ret=None):
    """What the beat task does, on a given day, sending each reminder through the reminder service;
    the reminders sent (about ``ret`` only, when given)."""
    result = services.monitoring_run(today=today)
    sent = [(pk, kind) for pk, kind in result["reminders"]
            if services.return_reminder_send(return_id=pk, kind=kind, today=today)]
    return result, [(pk, kind) for pk, kind in sent if ret is None or pk == ret.pk]


def _sent(ret):
    return sorted(ReminderSent.objects.filter(monitoring_return=ret).values_list("kind", flat=True))


def test_the_beat_schedule_runs_the_monitoring_task():
    entry = settings.CELERY_BEAT_SCHEDULE["reporting-run-monitoring"]
    assert entry["task"] == monitoring_tasks.run_monitoring.name == "reporting.monitoring.tasks.run_monitoring"
    from fundportal.celery import app

    assert "reporting.monitoring.tasks.send_return_reminder" in app.tasks  # the worker registers them


def test_a_return_opens_the_day_after_its_period_ends_with_an_audit_event(mw):
    earlier, ret = mw.ended()
    assert services.returns_open_ended(today=ret.period_end) == [earlier.pk]  # its own period has not ended
    assert services.returns_open_ended(today=ret.period_end + dt.timedelta(days=1)) == [ret.pk]
    ret.refresh_from_db()
    assert ret.status == ReturnStatus.OPEN
    assert ret.opened_at is not None
    event = AuditEvent.objects.get(action="return.opened", target_id=str(ret.pk))
    assert event.actor is None
    assert services.returns_open_ended(today=ret.period_end + dt.timedelta(days=2)) == []


def test_each_reminder_goes_once_on_its_day_however_often_the_task_runs(mw):
    ret = mw.ended()[-1]
    opened_day = ret.period_end + dt.timedelta(days=1)
    overdue_day = ret.due_date + dt.timedelta(days=1)
    _, sent = _run(opened_day, ret)
    assert sent == [(ret.pk, "opened")]
    assert _run(opened_day, ret)[1] == []  # twice on the same day: nothing more
    assert _run(ret.due_date - dt.timedelta(days=15), ret)[1] == []
    for days, kind in ((14, "due_14"), (3, "due_3"), (1, "due_1")):
        assert _run(ret.due_date - dt.timedelta(days=days), ret)[1] == [(ret.pk, kind)]
        assert _run(ret.due_date - dt.timedelta(days=days), ret)[1] == []
    assert _run(ret.due_date, ret)[1] == []
    assert _run(overdue_day, ret)[1] == [(ret.pk, "overdue")]
    assert _run(overdue_day + dt.timedelta(days=10), ret)[1] == []
    assert _sent(ret) == ["due_1", "due_14", "due_3", "opened", "overdue"]
    notes = Notification.objects.filter(kind="return_due", user=mw.signatory).order_by("pk")
    assert [n.subject.split(":")[0] for n in notes] == [
        "Monitoring return due in 14 days", "Monitoring return due in 3 days", "Monitoring return due in 1 day"]


def test_who_hears_of_each_reminder(mw):
    ret = mw.ended()[-1]
    author = mw.award.bid.created_by
    Membership.objects.create(user=author, organisation=mw.lead)  # the bid's author works at the grantee
    _run(ret.period_end + dt.timedelta(days=1))
    _run(ret.due_date + dt.timedelta(days=1))
    grantee = {mw.signatory.email, mw.award.bid.created_by.email}
    opened = ReminderSent.objects.get(monitoring_return=ret, kind="opened")
    overdue = ReminderSent.objects.get(monitoring_return=ret, kind="overdue")
    assert set(opened.recipients) == grantee
    assert set(overdue.recipients) == grantee | {mw.manager.email}
    notes = Notification.objects.filter(monitoring_reminders=overdue)
    assert {n.user.email for n in notes} == grantee | {mw.manager.email}
    assert all(n.link == ret.get_absolute_url() for n in notes)
    assert all("overdue" in n.subject for n in notes)
    # The member who is neither the bid's author nor a signatory is not emailed.
    assert mw.member.email not in overdue.recipients


def test_a_run_after_missed_runs_catches_up_without_stale_reminders(mw):
    """The task did not run between the period's end and after the due date: the return opens and
    its overdue reminder goes once; the "opened" and "due soon" windows have passed, so those are not sent late."""
    ret = mw.ended()[-1]
    late = ret.due_date + dt.timedelta(days=3)
    result, sent = _run(late, ret)
    assert ret.pk in result["opened"]
    assert sent == [(ret.pk, "overdue")]
    assert _run(late, ret)[1] == []
    assert _sent(ret) == ["overdue"]


def test_a_missed_day_in_a_due_window_is_caught_up_with_the_nearest_reminder_only(mw):
    ret = mw.ended()[-1]
    _run(ret.period_end + dt.timedelta(days=1))
    assert _run(ret.due_date - dt.timedelta(days=12), ret)[1] == [(ret.pk, "due_14")]  # the window opened 2 days ago
    # The 3-day run was missed: the 1-day reminder goes, the 3-day one is not sent late.
    assert _run(ret.due_date - dt.timedelta(days=1), ret)[1] == [(ret.pk, "due_1")]
    assert "due_3" not in _sent(ret)


def test_submitted_returns_and_awards_that_stopped_get_no_reminders(mw):
    first, last = mw.ended()
    services.returns_open_ended()
    submitted(mw, last)
    award_services.award_suspend(actor=mw.manager, award=mw.award, reason="Paused")
    assert [pk for pk, _ in reminders_due(today=last.due_date + dt.timedelta(days=1))] == [first.pk]  # suspended still chased
    award_services.award_withdraw(actor=mw.manager, award=mw.award, reason="Stopped")
    assert reminders_due(today=last.due_date + dt.timedelta(days=1)) == []


def test_a_moved_due_date_earns_a_fresh_reminder(mw, settings):
    ret = mw.ended()[-1]
    _run(ret.period_end + dt.timedelta(days=1))
    _run(ret.due_date - dt.timedelta(days=2))
    settings.MONITORING_RETURN_DUE_DAYS = 44  # returns are now due two weeks later: the schedule follows
    new_due = ret.due_date + dt.timedelta(days=14)
    assert _run(new_due - dt.timedelta(days=2), ret)[1] == [(ret.pk, "due_3")]
    ret.refresh_from_db()
    assert ret.due_date == new_due
    assert sorted(ReminderSent.objects.filter(monitoring_return=ret, kind="due_3").values_list("due_date", flat=True)) \
        == [new_due - dt.timedelta(days=14), new_due]


def test_a_reminder_no_longer_due_when_the_task_runs_is_not_sent(mw):
    ret = mw.ended()[-1]
    services.return_open(return_id=ret.pk)
    submitted(mw, ret)
    assert not services.return_reminder_send(return_id=ret.pk, kind=ReminderKind.OPENED)
    assert not ReminderSent.objects.exists()


def test_the_tasks_send_each_reminder_once_when_run_twice(mw, django_capture_on_commit_callbacks):
    """Eagerly (as without a broker): the beat task queues the reminder tasks, which send."""
    today = timezone.localdate()
    # Each run commits on its own (the reminders it queues are handed over as it commits).
    with django_capture_on_commit_callbacks(execute=True):
        first = monitoring_tasks.run_monitoring.delay().get()
    with django_capture_on_commit_callbacks(execute=True):
        second = monitoring_tasks.run_monitoring.delay().get()
    assert first["opened"] == len(mw.ended())
    assert second["opened"] == 0
    assert second["reminders"] == 0
    for ret in mw.ended():
        ret.refresh_from_db()
        days_left = (ret.due_date - today).days
        due = "due_1" if days_left <= 1 else "due_3" if days_left <= 3 else "due_14" if days_left <= 14 else None
        expected = ["overdue"] if ret.due_date < today else sorted(filter(None, [due, "opened"]))
        assert _sent(ret) == expected
    # Every reminder's notifications were emailed exactly once.
    notes = Notification.objects.filter(monitoring_reminders__isnull=False)
    assert notes.exists()
    assert not notes.filter(emailed_at__isnull=True).exists()
    from django.core import mail

    assert len(mail.outbox) == notes.count()


def test_the_reminder_task_retries_when_the_database_fails(mw):
    ret = mw.ended()[-1]
    services.return_open(return_id=ret.pk)
    real = services.return_reminder_send
    calls = []

    def flaky(**kwargs):
        calls.append(kwargs)
        if len(calls) == 1:
            raise OperationalError("could not obtain lock on row")
        return real(**kwargs)

    kind = "overdue" if ret.due_date < timezone.localdate() else "opened"
    with mock.patch.object(monitoring_tasks, "return_reminder_send", side_effect=flaky), \
            mock.patch.object(monitoring_tasks.send_return_reminder, "retry", wraps=monitoring_tasks.send_return_reminder.retry) as retry:
        result = monitoring_tasks.send_return_reminder.apply(args=[ret.pk, kind], throw=False)
    assert result.get() is True
    assert len(calls) == 2
    retry.assert_called_once()
    assert 0 <= retry.call_args.kwargs["countdown"] <= 5  # first backoff: up to 5 s, with jitter
    assert _sent(ret) == [kind]


def test_one_awards_failure_does_not_stop_the_others(mw):
    ret = mw.ended()[-1]
    real = services.return_schedule_sync

    def broken_for_mw(*, award, today=None):
        if award.pk == mw.award.pk:
            raise ValueError("odd dates")
        return real(award=award, today=today)

    other = start_award(mw.world, mw.world.new_decision())
    with mock.patch.object(services, "return_schedule_sync", side_effect=broken_for_mw):
        result = services.monitoring_run()
    assert result["failed"] == [mw.award.pk]
    assert other.returns.exists()  # the other award was scheduled
    assert ret.pk in result["opened"]  # and the returns that ended still opened

    def database_down(**kwargs):
        raise OperationalError("server closed the connection")

    with mock.patch.object(services, "return_schedule_sync", side_effect=database_down), \
            pytest.raises(OperationalError):
        services.monitoring_run()  # the task's autoretry takes it from here


def test_the_task_settings_retry_with_backoff():
    task = monitoring_tasks.send_return_reminder
    assert OperationalError in task.autoretry_for
    assert task.retry_backoff
    assert task.retry_jitter
    assert task.max_retries >= 5


def test_emails_of_reminders_whose_hand_over_was_lost_are_sent_by_the_outbox_beat(mw, mailoutbox):
    services.returns_open_ended()
    for pk, kind in reminders_due():
        services.return_reminder_send(return_id=pk, kind=kind)
    stuck = list(Notification.objects.filter(monitoring_reminders__isnull=False).values_list("pk", flat=True))
    assert stuck
    # As if the worker died between committing the reminder and handing its emails over.
    Notification.objects.filter(pk__in=stuck).update(emailed_at=None)
    messages = [m for m in OutboxMessage.objects.filter(task_name="governance.tasks.deliver_notification")
                if m.args[0] in stuck]
    assert len(messages) == len(stuck)
    OutboxMessage.objects.filter(pk__in=[m.pk for m in messages]).update(status=OutboxStatus.WAITING,
                                                                         next_attempt_at=timezone.now())
    mailoutbox.clear()
    assert dispatch_outbox.delay().get() == len(stuck)
    assert not Notification.objects.filter(pk__in=stuck, emailed_at__isnull=True).exists()
    assert len(mailoutbox) == len(stuck)
    assert dispatch_outbox.delay().get() == 0


@pytest.mark.requires_postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_sending_the_same_reminder_send_it_once():
    """Two workers at once: one sends; the other finds the row locked (and would retry) or already sent."""
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection

    from tests.reporting.conftest import make_monitoring_world

    mw = make_monitoring_world()
    ret = mw.ended()[-1]
    services.return_open(return_id=ret.pk)
    kind = "overdue" if ret.due_date < timezone.localdate() else "opened"

    def send(_):
        try:
            return services.return_reminder_send(return_id=ret.pk, kind=kind)
        except OperationalError:
            return "locked"
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=4) as pool:
        outcomes = list(pool.map(send, range(4)))
    assert outcomes.count(True) == 1
    assert ReminderSent.objects.filter(monitoring_return=ret).count() == 1
    assert Notification.objects.filter(monitoring_reminders__monitoring_return=ret).count() == len(
        ReminderSent.objects.get(monitoring_return=ret).recipients)
