import datetime as dt
import time

import pytest
from django.db import transaction
from django.utils import timezone

from governance.models import Notification, OutboxMessage, OutboxStatus
from governance.outbox import outbox_mark_failed
from governance.services import notification_email_send, notify
from governance.tasks import dispatch_outbox
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
def test_an_email_is_an_outbox_message_recorded_with_its_notification(django_capture_on_commit_callbacks):
    user = UserFactory()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        notification = notify(user=user, subject="Queued", body="b")
    message = OutboxMessage.objects.get()
    assert (message.task_name, message.args, message.status) == (
        "governance.tasks.deliver_notification", [notification.pk], OutboxStatus.WAITING)
    assert len(callbacks) == 1  # handed over once the change commits


@pytest.mark.django_db
def test_an_email_failing_for_days_is_given_up_not_retried_for_ever(settings):
    message = OutboxMessage.objects.create(task_name="governance.tasks.deliver_notification", args=[1],
                                           status=OutboxStatus.DISPATCHED,
                                           created_at=timezone.now() - dt.timedelta(days=4))
    outbox_mark_failed(task_id=str(message.task_id), error="SMTPRecipientsRefused", wait=True)
    message.refresh_from_db()
    assert message.status == OutboxStatus.FAILED
    assert message.last_error.startswith("Given up")


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
def test_a_real_worker_sends_an_email_whose_hand_over_was_lost(real_celery):
    # Committed with its outbox message, but the process died before handing it to the broker.
    lost = Notification.objects.create(user=UserFactory(), subject="Lost in transit", body="b")
    five_minutes_ago = timezone.now() - dt.timedelta(minutes=5)
    OutboxMessage.objects.create(task_name="governance.tasks.deliver_notification", args=[lost.pk],
                                 created_at=five_minutes_ago, next_attempt_at=five_minutes_ago)
    dispatch_outbox.delay()
    _wait_until_emailed(lost, seconds=30)
    assert lost.emailed_at is not None
