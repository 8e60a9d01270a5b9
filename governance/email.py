"""Sending one email: through GOV.UK Notify when ``GOVUK_NOTIFY_API_KEY`` is set, else through
Django's email backend (SMTP in production, from ``EMAIL_URL``).

Notify sends from templates: the portal uses one template whose subject is ``((subject))`` and
whose body is ``((body))`` (``GOVUK_NOTIFY_TEMPLATE_ID``), so the wording stays in the portal's
notification catalogue, where fund managers edit it. ``GOVUK_NOTIFY_BASE_URL`` points the client
elsewhere (the tests' stand-in server). Temporary failures (Notify's 5xx, a network error) are
raised as ``ConnectionError`` so the delivery task retries them; a refusal (4xx) is final.
"""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMessage


class EmailRefused(Exception):
    """Notify refused the message for good (a bad address, a bad key, a missing template)."""


def notify_client():
    from notifications_python_client.notifications import NotificationsAPIClient

    return NotificationsAPIClient(settings.GOVUK_NOTIFY_API_KEY, base_url=settings.GOVUK_NOTIFY_BASE_URL, timeout=20)


def email_send(*, to: str, subject: str, body: str, reference: str = "", unsubscribe_url: str = "") -> None:
    """Send one plain-text email. ``unsubscribe_url`` adds a one-click unsubscribe (RFC 8058)."""
    if settings.GOVUK_NOTIFY_API_KEY:
        _send_with_notify(to=to, subject=subject, body=body, reference=reference, unsubscribe_url=unsubscribe_url)
        return
    headers = {}
    if unsubscribe_url:
        headers = {"List-Unsubscribe": f"<{unsubscribe_url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
    EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [to], headers=headers).send()


def _send_with_notify(*, to: str, subject: str, body: str, reference: str, unsubscribe_url: str) -> None:
    from notifications_python_client.errors import HTTPError
    from requests import RequestException

    try:
        notify_client().send_email_notification(
            email_address=to, template_id=settings.GOVUK_NOTIFY_TEMPLATE_ID,
            personalisation={"subject": subject, "body": body},
            reference=reference or None, one_click_unsubscribe_url=unsubscribe_url or None,
        )
    except HTTPError as exc:
        if exc.status_code >= 500 or exc.status_code == 429:
            raise ConnectionError(f"GOV.UK Notify: {exc.status_code} {exc.message}") from exc
        raise EmailRefused(f"GOV.UK Notify refused the email: {exc.status_code} {exc.message}") from exc
    except RequestException as exc:
        raise ConnectionError(f"GOV.UK Notify could not be reached: {exc}") from exc
