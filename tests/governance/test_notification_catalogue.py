"""The notification catalogue: wording checked and previewed, each message once, in the person's
chosen way (immediate or daily digest), in the fund's wording; digests; email preference."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from governance import notifications
from governance.models import AuditEvent, Notification, NotificationWording, User
from governance.services import (
    notification_delivery_set,
    notification_digest_send,
    notification_email_send,
    notification_wording_save,
)
from governance.tasks import send_notification_digests
from tests.factories.governance import UserFactory
from tests.notification_checks import assert_sent_once, reword


@pytest.mark.django_db
@pytest.mark.parametrize("key", sorted(notifications.CATALOGUE))
@pytest.mark.parametrize("digest", [False, True])
def test_every_catalogue_entry_goes_once_in_the_chosen_way_with_the_funds_wording(world, key, digest):
    message = notifications.CATALOGUE[key]
    user = UserFactory(notification_delivery=User.DELIVERY_DIGEST if digest else User.DELIVERY_IMMEDIATE)
    if message.fund_wording:
        reword(world.fund, key)
    values = {name: notifications.SAMPLE_VALUES[name] for name in message.placeholders if name != "link"}
    for _ in range(3):  # a change or a beat task run again sends nothing more
        notifications.send(key, to=user, about=world.call, fund=world.fund, values=values, link="/calls/x/",
                           occasion="14")
    notification = assert_sent_once(key, user, digest=digest, marker="FUND WORDING" if message.fund_wording else None)
    for name in message.required:
        if name != "link":
            assert values[name] in notification.subject + notification.body
    # Another occasion (the 3-day reminder) is another message.
    notifications.send(key, to=user, about=world.call, fund=world.fund, values=values, occasion="3")
    assert Notification.objects.filter(kind=key, user=user).count() == 2


def test_unknown_and_missing_placeholders_are_errors_next_to_the_field():
    errors = notifications.wording_errors("bid_submitted", subject="Bid {bid_ref}", body="Thanks for {call_title}")
    assert errors["subject"] == [notifications.UNKNOWN_PLACEHOLDER.format(name="bid_ref")]
    assert notifications.MISSING_PLACEHOLDER.format(name="bid_reference") in errors["body"]
    assert notifications.wording_errors("bid_submitted", subject="Bid {bid_reference}", body="Body") == {}
    assert "body" in notifications.wording_errors("bid_submitted", subject="{bid_reference}", body="Half {open")
    assert notifications.wording_errors("bid_submitted", subject="", body="")["subject"] == [notifications.EMPTY_WORDING]


@pytest.mark.django_db
def test_a_fund_manager_saves_wording_audited_and_only_for_their_fund(world):
    wording = notification_wording_save(actor=world.people.manager, fund=world.fund, kind="call_closed",
                                        subject="Closed: {call_title}", body="{call_title} has closed.\r\n{link}")
    assert wording.body == "{call_title} has closed.\n{link}"
    assert AuditEvent.objects.filter(action="notification_wording.changed", fund=world.fund).exists()
    with pytest.raises(ValidationError) as refused:
        notification_wording_save(actor=world.people.manager, fund=world.fund, kind="call_closed",
                                  subject="Closed", body="{nope}")
    assert set(refused.value.message_dict) == {"body"}
    assert NotificationWording.objects.get().subject == "Closed: {call_title}"  # nothing changed
    from django.core.exceptions import PermissionDenied
    with pytest.raises(PermissionDenied):
        notification_wording_save(actor=world.people.other_manager, fund=world.fund, kind="call_closed",
                                  subject="{call_title}", body="x")


@pytest.mark.django_db
def test_the_wording_page_previews_escapes_and_saves(client, world):
    client.force_login(world.people.manager)
    url = reverse("governance:notification_wording_edit", args=[world.fund.slug, "call_closed"])
    page = client.post(url, {"subject": "Closed <b>{call_title}</b>", "body": "<script>x</script> {call_title}",
                             "action": "preview"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "Closed &lt;b&gt;Digital diagnostics challenge 2026&lt;/b&gt;" in html
    assert "<script>x</script>" not in html
    assert not NotificationWording.objects.exists()
    page = client.post(url, {"subject": "Closed", "body": "{bid_reference}", "action": "save"})
    assert page.status_code == 200
    assert page.content.decode().count("is not a placeholder this message can use") >= 1
    assert "Error:" in page.content.decode()
    assert not NotificationWording.objects.exists()
    page = client.post(url, {"subject": "Closed: {call_title}", "body": "{call_title} closed", "action": "save"})
    assert page.status_code == 302
    assert NotificationWording.objects.get(fund=world.fund, kind="call_closed").body == "{call_title} closed"
    assert client.get(reverse("governance:notification_wordings", args=[world.fund.slug])).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize(("who", "status"), [
    ("manager", 200), ("partner_manager", 403), ("other_manager", 403), ("auditor", 403), ("applicant", 403),
    ("admin", 200),
])
def test_who_may_change_a_funds_wording(client, world, who, status):
    client.force_login(getattr(world.people, who))
    assert client.get(reverse("governance:notification_wordings", args=[world.fund.slug])).status_code == status
    url = reverse("governance:notification_wording_edit", args=[world.fund.slug, "bid_submitted"])
    assert client.get(url).status_code == status


@pytest.mark.django_db
def test_digest_collects_each_notification_into_one_email_once(mailoutbox, django_capture_on_commit_callbacks):
    user = UserFactory(email="digest@example.com", notification_delivery=User.DELIVERY_DIGEST)
    other = UserFactory(email="now@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        notifications.send("call_closed", to=user, about="call.1", values={"call_title": "Call A"})
        notifications.send("call_closed", to=user, about="call.2", values={"call_title": "Call B"})
        notifications.send("call_closed", to=other, about="call.1", values={"call_title": "Call A"})
    assert [m.to for m in mailoutbox] == [["now@example.com"]]
    assert send_notification_digests() == 2
    assert send_notification_digests() == 0  # each notification in one digest only
    digest = mailoutbox[1]
    assert digest.to == ["digest@example.com"]
    assert "2 notifications" in digest.subject
    assert "Call A" in digest.body
    assert "Call B" in digest.body
    assert not Notification.objects.filter(user=user, emailed_at__isnull=True).exists()
    # The worker never emails a digest notification on its own.
    assert notification_email_send(notification_id=Notification.objects.filter(user=user).first().pk) is False
    assert notification_digest_send(user_id=user.pk) == 0


@pytest.mark.django_db
def test_people_choose_immediate_or_digest_on_their_account(client):
    user = UserFactory()
    client.force_login(user)
    assert "Change how you get emails" in client.get(reverse("governance:account")).content.decode()
    url = reverse("governance:email_preference")
    assert client.get(url).status_code == 200
    page = client.post(url, {"delivery": "weekly"})
    assert page.status_code == 200
    assert "Error:" in page.content.decode()
    assert client.post(url, {"delivery": "digest"}).status_code == 302
    user.refresh_from_db()
    assert user.notification_delivery == User.DELIVERY_DIGEST
    assert AuditEvent.objects.filter(action="user.notification_delivery_changed").exists()
    with pytest.raises(ValidationError):
        notification_delivery_set(actor=user, delivery="never")


@pytest.mark.django_db
def test_digest_beat_is_calendar_based_on_the_pinned_clock(time_machine):
    user = UserFactory(notification_delivery=User.DELIVERY_DIGEST)
    notifications.send("call_closed", to=user, about="call.9", values={"call_title": "Call"})
    time_machine.move_to(timezone.now() + dt.timedelta(days=1))
    assert send_notification_digests() == 1
    assert send_notification_digests() == 0
