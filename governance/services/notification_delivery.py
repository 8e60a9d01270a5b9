"""Notifications: recording one (``notify``), emailing it once through the outbox or in the
person's daily digest, the person's choice between the two, and marking notifications read."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from ..audit import audit_record
from ..email import email_send
from ..models import Notification, User
from ..outbox import outbox_enqueue
from ..siteurl import absolute_url


def notify(
    *,
    user: User | None,
    subject: str,
    body: str,
    link: str = "",
    email: str = "",
    kind: str = "",
    idempotency_key: str | None = None,
    unsubscribe_link: str = "",
) -> Notification | None:
    """Tell someone something: listed on their notifications page and emailed.

    The email is a side effect in the outbox: recorded with the notification, sent by a worker
    once the surrounding transaction commits, so a rolled-back change never sends mail, a slow
    mail server never slows a page and a broker outage only delays it. A person who chose the
    daily digest gets it in their next digest instead. ``email`` writes to an address with no
    account (a public subscriber). With an ``idempotency_key`` (the catalogue's, see
    ``governance.notifications``) a message already recorded is not recorded again: None.
    """
    if (
        idempotency_key is not None
        and Notification.objects.filter(idempotency_key=idempotency_key).exists()
    ):
        return None
    in_digest = user is not None and user.notification_delivery == User.DELIVERY_DIGEST
    try:
        with transaction.atomic():
            notification = Notification.objects.create(
                user=user,
                email="" if user is not None else email,
                subject=subject[:200],
                body=body,
                link=link,
                kind=kind,
                idempotency_key=idempotency_key,
                unsubscribe_link=unsubscribe_link,
                in_digest=in_digest,
            )
    except IntegrityError:
        if idempotency_key is None:
            raise
        return None  # recorded a moment ago by a concurrent run
    if not in_digest:
        outbox_enqueue("governance.tasks.deliver_notification", notification.pk)
    return notification


def _absolute(link: str) -> str:
    return absolute_url(link) if link else link


def notification_email_send(*, notification_id: int) -> bool:
    """Email one notification, once. Returns False if it was already sent, is gone or waits for
    the person's digest."""
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update(of=("self",))
            .select_related("user")
            .filter(pk=notification_id)
            .first()
        )
        if notification is None or notification.emailed_at is not None or notification.in_digest:
            return False
        url = _absolute(notification.link)
        # The catalogue's wording usually has the link in it already ({link}).
        text = (
            f"{notification.body}\n\n{url}"
            if url and url not in notification.body
            else notification.body
        )
        unsubscribe = _absolute(notification.unsubscribe_link)
        if unsubscribe:
            text = f"{text}\n\nTo stop these emails: {unsubscribe}"
        email_send(
            to=notification.recipient_email,
            subject=notification.subject,
            body=text,
            reference=f"notification-{notification.pk}",
            unsubscribe_url=unsubscribe,
        )
        notification.emailed_at = timezone.now()
        notification.save(update_fields=["emailed_at"])
    return True


def notification_digest_send(*, user_id: int) -> int:
    """Email one person's digest: every notification waiting for it, in one email, each in one
    digest only (the rows are locked and marked in the same transaction). Returns how many."""
    with transaction.atomic():
        waiting = list(
            Notification.objects.select_for_update()
            .filter(user_id=user_id, in_digest=True, emailed_at__isnull=True)
            .order_by("created_at", "pk")
        )
        if not waiting:
            return 0
        user = waiting[0].user
        if user is None:  # never: the rows were chosen by user_id
            return 0
        parts = []
        for notification in waiting:
            url = _absolute(notification.link)
            parts.append(
                f"{notification.subject}\n\n{notification.body}"
                + (f"\n\n{url}" if url and url not in notification.body else "")
            )
        count = len(waiting)
        subject = f"Fund Portal: {count} notification{'s' if count != 1 else ''} today"
        text = "\n\n---\n\n".join(parts) + (
            f"\n\n---\n\nYou get one email a day because you chose a daily digest. Change this on your "
            f"account page: {absolute_url('/accounts/')}"
        )
        email_send(
            to=user.email,
            subject=subject,
            body=text,
            reference=f"digest-{user_id}-{waiting[-1].pk}",
        )
        Notification.objects.filter(pk__in=[n.pk for n in waiting]).update(
            emailed_at=timezone.now()
        )
    return count


def notification_digests_due() -> list[int]:
    """The people with notifications waiting for their digest."""
    return list(
        Notification.objects.filter(in_digest=True, emailed_at__isnull=True, user__isnull=False)
        .order_by("user_id")
        .values_list("user_id", flat=True)
        .distinct()
    )


def notification_delivery_set(*, actor: User, delivery: str) -> User:
    """A person chooses immediate emails or a daily digest."""
    if delivery not in (User.DELIVERY_IMMEDIATE, User.DELIVERY_DIGEST):
        raise ValidationError(
            {"delivery": ValidationError("Choose how you get emails", code="invalid")}
        )
    before = {"notification_delivery": actor.notification_delivery}
    actor.notification_delivery = delivery
    actor.save(update_fields=["notification_delivery"])
    audit_record(
        actor=actor,
        action="user.notification_delivery_changed",
        target=actor,
        before=before,
        after={"notification_delivery": delivery},
    )
    return actor


def notification_mark_read(*, user: User, notification_ids: list[int] | None = None) -> int:
    qs = Notification.objects.filter(user=user, read_at__isnull=True)
    if notification_ids is not None:
        qs = qs.filter(pk__in=notification_ids)
    return qs.update(read_at=timezone.now())
