"""Email through GOV.UK Notify when GOVUK_NOTIFY_API_KEY is set: checked against a local HTTP
server standing in for Notify's API at its documented endpoint, POST /v2/notifications/email."""

from __future__ import annotations

import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, HTTPServer

import jwt
import pytest

from governance import notifications
from governance.models import Notification, User
from governance.services import notification_email_send
from tests.factories.governance import UserFactory

SERVICE_ID = str(uuid.uuid4())
SECRET = str(uuid.uuid4())
API_KEY = f"fundportal_test-{SERVICE_ID}-{SECRET}"  # Notify's format: key name, service id, secret
TEMPLATE_ID = str(uuid.uuid4())


class FakeNotify(BaseHTTPRequestHandler):
    requests: list = []
    status = 201

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append({"path": self.path, "auth": self.headers.get("Authorization", ""), "body": body})
        status = type(self).status
        payload = ({"id": str(uuid.uuid4()), "reference": body.get("reference"), "content": {}, "template": {}}
                   if status == 201 else {"status_code": status, "errors": [{"error": "Error", "message": "No"}]})
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def fake_notify(settings):
    FakeNotify.requests = []
    FakeNotify.status = 201
    server = HTTPServer(("127.0.0.1", 0), FakeNotify)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.GOVUK_NOTIFY_API_KEY = API_KEY
    settings.GOVUK_NOTIFY_TEMPLATE_ID = TEMPLATE_ID
    settings.GOVUK_NOTIFY_BASE_URL = f"http://127.0.0.1:{server.server_port}"
    yield FakeNotify
    server.shutdown()
    server.server_close()


@pytest.mark.django_db
def test_a_notification_goes_through_notify_with_template_address_and_personalisation(fake_notify, mailoutbox):
    user = UserFactory(email="grantee@example.nhs.uk")
    notification = notifications.send("call_closed", to=user, about="call.1", values={"call_title": "Frailty call"},
                                      link="/manage/calls/frailty/")
    assert notification_email_send(notification_id=notification.pk) is True
    assert mailoutbox == []  # not SMTP
    (request,) = fake_notify.requests
    assert request["path"] == "/v2/notifications/email"
    body = request["body"]
    assert body["template_id"] == TEMPLATE_ID
    assert body["email_address"] == "grantee@example.nhs.uk"
    assert body["personalisation"]["subject"] == "Call closed: Frailty call"
    assert "Frailty call closed" in body["personalisation"]["body"]
    assert "/manage/calls/frailty/" in body["personalisation"]["body"]
    assert body["reference"] == f"notification-{notification.pk}"
    token = request["auth"].removeprefix("Bearer ")
    claims = jwt.decode(token, SECRET, algorithms=["HS256"])
    assert claims["iss"] == SERVICE_ID
    assert notification_email_send(notification_id=notification.pk) is False  # once
    assert len(fake_notify.requests) == 1


@pytest.mark.django_db
def test_a_public_alert_through_notify_carries_one_click_unsubscribe(fake_notify):
    notification = notifications.send("call_published", email="public@example.com", about="call.3",
                                      values={"call_title": "New call"}, link="/calls/new/",
                                      unsubscribe_link="/calls/alerts/unsubscribe/abc/")
    notification_email_send(notification_id=notification.pk)
    body = fake_notify.requests[0]["body"]
    assert body["email_address"] == "public@example.com"
    assert body["one_click_unsubscribe_url"].endswith("/calls/alerts/unsubscribe/abc/")


@pytest.mark.django_db
def test_a_notify_outage_is_temporary_and_a_refusal_is_final(fake_notify):
    from governance.email import EmailRefused

    user = UserFactory()
    notification = notifications.send("call_closed", to=user, about="call.4", values={"call_title": "C"})
    fake_notify.status = 500
    with pytest.raises(ConnectionError):  # the delivery task retries, then the outbox waits
        notification_email_send(notification_id=notification.pk)
    assert Notification.objects.get(pk=notification.pk).emailed_at is None
    fake_notify.status = 400
    with pytest.raises(EmailRefused):
        notification_email_send(notification_id=notification.pk)


@pytest.mark.django_db
def test_without_a_notify_key_email_goes_through_smtp_with_list_unsubscribe(mailoutbox, settings):
    settings.GOVUK_NOTIFY_API_KEY = ""
    notification = notifications.send("call_published", email="public@example.com", about="call.5",
                                      values={"call_title": "New call"}, link="/calls/new/",
                                      unsubscribe_link="/calls/alerts/unsubscribe/xyz/")
    notification_email_send(notification_id=notification.pk)
    (mail,) = mailoutbox
    assert mail.extra_headers["List-Unsubscribe"].endswith("/calls/alerts/unsubscribe/xyz/>")
    assert mail.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert User.objects.count() == 0
