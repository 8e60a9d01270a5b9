import time

import pytest
from django.db import transaction

from governance.models import Notification
from governance.services import notification_email_send, notify
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


@pytest.mark.requires_broker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_emails_the_notification(real_celery):
    user = UserFactory()
    notification = notify(user=user, subject="From the worker", body="Sent by Celery")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        notification.refresh_from_db()
        if notification.emailed_at:
            break
        time.sleep(0.2)
    assert notification.emailed_at is not None
