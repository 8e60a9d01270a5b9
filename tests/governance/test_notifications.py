import datetime as dt
import time

import pytest
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from governance.models import Notification
from governance.selectors import EMAIL_GIVE_UP_AFTER
from governance.services import notification_email_send, notify
from governance.tasks import deliver_unemailed_notifications
from tests.factories.governance import UserFactory


@pytest.mark.django_db
def test_a_notification_is_listed_and_emailed_once_the_change_commits(django_capture_on_commit_callbacks, mailoutbox):
    user = UserFactory(email="grantee@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        notify(user=user, subject="Your return is due", body="Due on 30 April.", link="/returns/1/")
    notification = Notification.objects.get(user=user)
    assert notification.emailed_at is not None
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["grantee@example.com"]
    assert "/returns/1/" in mailoutbox[0].body


@pytest.mark.django_db
def test_a_rolled_back_change_sends_no_email(django_capture_on_commit_callbacks, mailoutbox):
    user = UserFactory()

    def notify_then_fail():
        with transaction.atomic():
            notify(user=user, subject="Never", body="Rolled back")
            raise RuntimeError

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        notify_then_fail()
    assert mailoutbox == []
    assert not Notification.objects.exists()


@pytest.mark.django_db
def test_sending_twice_emails_once(mailoutbox):
    notification = Notification.objects.create(user=UserFactory(), subject="Hello", body="Body")
    assert notification_email_send(notification_id=notification.pk) is True
    assert notification_email_send(notification_id=notification.pk) is False
    assert len(mailoutbox) == 1


@pytest.mark.django_db
def test_emails_left_unsent_past_the_grace_period_are_sent_once_by_the_sweep(mailoutbox):
    user = UserFactory()
    grace = dt.timedelta(seconds=settings.NOTIFICATION_EMAIL_GRACE_SECONDS)
    # Written, but the email was never queued (the process died between commit and publishing).
    lost = Notification.objects.create(user=user, subject="Lost", body="b", created_at=timezone.now() - grace * 2)
    recent = Notification.objects.create(user=user, subject="Still in the queue", body="b")
    sent = Notification.objects.create(user=user, subject="Sent", body="b", created_at=timezone.now() - grace * 2,
                                       emailed_at=timezone.now() - grace)
    # Failing for days (an address the mail server refuses for good): given up, not retried for ever.
    Notification.objects.create(user=user, subject="Given up", body="b",
                                created_at=timezone.now() - EMAIL_GIVE_UP_AFTER - dt.timedelta(minutes=1))
    assert deliver_unemailed_notifications.delay().get() == 1
    assert [m.subject for m in mailoutbox] == ["Lost"]
    lost.refresh_from_db()
    recent.refresh_from_db()
    assert lost.emailed_at is not None
    assert recent.emailed_at is None  # its own task may still be waiting: not raced
    assert Notification.objects.get(pk=sent.pk).emailed_at == sent.emailed_at
    assert deliver_unemailed_notifications.delay().get() == 0
    assert len(mailoutbox) == 1


def test_the_sweep_runs_every_few_minutes_in_the_beat():
    entries = [e for e in settings.CELERY_BEAT_SCHEDULE.values()
               if e["task"] == "governance.tasks.deliver_unemailed_notifications"]
    assert len(entries) == 1
    assert entries[0]["schedule"] <= settings.NOTIFICATION_EMAIL_GRACE_SECONDS


@pytest.mark.django_db
def test_the_notifications_page_lists_only_my_notifications(client):
    me, other = UserFactory(), UserFactory()
    Notification.objects.create(user=me, subject="Mine", body="For me")
    Notification.objects.create(user=other, subject="Theirs", body="Not for me")
    client.force_login(me)
    body = client.get("/accounts/notifications/").content.decode()
    assert "Mine" in body
    assert "Theirs" not in body
    client.post("/accounts/notifications/read/")
    assert not Notification.objects.filter(user=me, read_at__isnull=True).exists()
    assert Notification.objects.filter(user=other, read_at__isnull=True).exists()


def _wait_until_emailed(notification: Notification, *, seconds: float) -> None:
    """Give the worker up to ``seconds`` to email the notification (refreshed as it goes)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        notification.refresh_from_db()
        if notification.emailed_at:
            return
        time.sleep(0.2)


@pytest.mark.requires_broker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_emails_the_notification(real_celery):
    user = UserFactory()
    notification = notify(user=user, subject="From the worker", body="Sent by Celery")
    _wait_until_emailed(notification, seconds=30)
    assert notification.emailed_at is not None


@pytest.mark.requires_broker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_sends_an_email_whose_queuing_was_lost(real_celery):
    # Committed an hour ago, but its delivery task never reached the broker.
    lost = Notification.objects.create(user=UserFactory(), subject="Lost in transit", body="b",
                                       created_at=timezone.now() - dt.timedelta(hours=1))
    deliver_unemailed_notifications.delay()
    _wait_until_emailed(lost, seconds=30)
    assert lost.emailed_at is not None
