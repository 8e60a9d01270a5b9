"""Helpers for the notification catalogue's tests: each entry is sent once, in the person's
chosen way (an email now, or in the daily digest), with the fund's wording when it has one."""

from __future__ import annotations

from governance.models import Notification, NotificationWording, OutboxMessage


def reword(fund, kind: str, marker: str = "FUND WORDING") -> NotificationWording:
    """Give ``fund`` its own wording of ``kind`` that keeps every required placeholder."""
    from governance.notifications import CATALOGUE

    message = CATALOGUE[kind]
    body = f"{marker}: " + " ".join("{" + name + "}" for name in message.placeholders)
    return NotificationWording.objects.create(fund=fund, kind=kind, subject=f"{marker} {message.subject}", body=body)


def sent(kind: str, user=None, email: str = "") -> list[Notification]:
    qs = Notification.objects.filter(kind=kind)
    qs = qs.filter(user=user) if user is not None else qs.filter(email=email)
    return list(qs)


def assert_sent_once(kind: str, user=None, *, email: str = "", digest: bool = False, marker: str | None = None):
    """Exactly one ``kind`` notification for the person, delivered their way, in the fund's wording."""
    found = sent(kind, user, email)
    assert len(found) == 1, f"{kind}: {len(found)} notifications, expected 1"
    notification = found[0]
    assert notification.in_digest is digest
    queued = OutboxMessage.objects.filter(task_name="governance.tasks.deliver_notification", args=[notification.pk])
    assert queued.exists() is (not digest)
    if marker is not None:
        assert notification.subject.startswith(marker)
        assert notification.body.startswith(marker)
    return notification
