"""Talking with the public and bidders about calls: a fund's own wording of the catalogue's
notifications, questions asked on an open call and their published answers, and public alerts of
new calls (double opt-in, signed links, rate limit)."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from ..access import require_actor
from ..audit import audit_record
from ..messages import (
    ALERT_LINK_EXPIRED,
    ALERT_LINK_INVALID,
    ALERT_RATE_LIMITED,
    ANSWER_EMPTY,
    NOT_A_CHOICE,
    QUESTION_ALREADY_PUBLISHED,
    QUESTION_EMPTY,
    QUESTION_NOT_ANSWERED,
    QUESTION_TOO_LONG,
    QUESTIONS_CLOSED,
    QUESTIONS_NOT_TAKEN,
)
from ..models import (
    Call,
    CallAlertSubscription,
    CallPurpose,
    CallQuestion,
    CallStatus,
    Fund,
    NotificationWording,
    Organisation,
    Region,
    User,
)
from ..selectors import call_alert_subscribers_for, call_bid_holders, call_managers
from ._shared import _add, _lock_call, _validate

# Notification wording, per fund -------------------------------------------------------------------


@transaction.atomic
def notification_wording_save(
    *, actor: User, fund: Fund, kind: str, subject: str, body: str
) -> NotificationWording:
    """A fund manager rewords a catalogue message for their fund (placeholders checked)."""
    from .. import notifications

    require_actor(actor, "governance.manage_fund", fund)
    message = notifications.CATALOGUE.get(kind)
    if message is None or not message.fund_wording:
        raise ValidationError({"kind": ValidationError(NOT_A_CHOICE, code="invalid")})
    subject, body = (subject or "").strip(), (body or "").replace("\r\n", "\n").strip()
    errors = notifications.wording_errors(kind, subject=subject, body=body)
    if errors:
        raise ValidationError(errors)
    wording = NotificationWording.objects.select_for_update().filter(fund=fund, kind=kind).first()
    before = (
        {"subject": wording.subject, "body": wording.body}
        if wording
        else {"subject": message.subject, "body": message.body}
    )
    if wording is None:
        wording = NotificationWording(fund=fund, kind=kind)
    wording.subject, wording.body, wording.updated_by, wording.updated_at = (
        subject,
        body,
        actor,
        timezone.now(),
    )
    wording.full_clean()
    wording.save()
    audit_record(
        actor=actor,
        action="notification_wording.changed",
        target=wording,
        before=before,
        after={"subject": subject, "body": body},
        message=f"Wording of \u201c{message.label}\u201d changed",
    )
    return wording


@transaction.atomic
def notification_wording_reset(*, actor: User, fund: Fund, kind: str) -> None:
    """Back to the portal's default wording."""
    require_actor(actor, "governance.manage_fund", fund)
    wording = NotificationWording.objects.select_for_update().filter(fund=fund, kind=kind).first()
    if wording is None:
        return
    audit_record(
        actor=actor,
        action="notification_wording.reset",
        target=wording,
        before={"subject": wording.subject, "body": wording.body},
        message="Back to the default wording",
    )
    wording.delete()


# Questions on an open call ------------------------------------------------------------------------


def call_takes_questions(call: Call, now: dt.datetime | None = None) -> bool:
    now = now or timezone.now()
    return call.phase(now) == CallStatus.OPEN and (
        call.questions_close_at is None or now < call.questions_close_at
    )


@transaction.atomic
def call_question_ask(
    *, actor: User, call: Call, question: str, now: dt.datetime | None = None
) -> CallQuestion:
    """A signed-in bidder asks a question on an open call, before the deadline for questions."""
    from .. import notifications

    require_actor(actor, "governance.ask_call_question", call)
    now = now or timezone.now()
    locked = _lock_call(call)
    question = (question or "").strip()
    if not call_takes_questions(locked, now):
        closed = locked.phase(now) == CallStatus.OPEN
        raise ValidationError({"question": QUESTIONS_CLOSED if closed else QUESTIONS_NOT_TAKEN})
    if not question:
        raise ValidationError({"question": QUESTION_EMPTY})
    if len(question) > 2000:
        raise ValidationError({"question": QUESTION_TOO_LONG})
    asked = CallQuestion.objects.create(
        call=locked, asked_by=actor, question=question, asked_at=now
    )
    audit_record(
        actor=actor,
        action="call_question.asked",
        target=asked,
        after={"question": question},
        message=f"Question asked on {locked.title}",
    )
    notifications.send_to_each(
        "call_question_asked",
        call_managers(locked),
        about=asked,
        fund=locked.fund,
        values={"call_title": locked.title, "question": question},
        link=reverse("governance:call_questions", kwargs={"slug": locked.slug}),
    )
    return asked


@transaction.atomic
def call_question_answer(
    *, actor: User, question: CallQuestion, answer: str, now: dt.datetime | None = None
) -> CallQuestion:
    """The fund manager writes (or, before publishing, changes) the answer."""
    require_actor(actor, "governance.answer_call_question", question.call)
    now = now or timezone.now()
    locked = (
        CallQuestion.objects.select_for_update().select_related("call__fund").get(pk=question.pk)
    )
    answer = (answer or "").strip()
    if locked.published_at is not None:
        raise ValidationError({"answer": QUESTION_ALREADY_PUBLISHED})
    if not answer:
        raise ValidationError({"answer": ANSWER_EMPTY})
    before = {"answer": locked.answer}
    locked.answer, locked.answered_by, locked.answered_at = answer, actor, now
    locked.save(update_fields=["answer", "answered_by", "answered_at"])
    audit_record(
        actor=actor,
        action="call_question.answered",
        target=locked,
        before=before,
        after={"answer": answer},
    )
    return locked


@transaction.atomic
def call_question_publish(
    *, actor: User, question: CallQuestion, now: dt.datetime | None = None
) -> CallQuestion:
    """Publish an answered question on the public call page, without the asker's name, and tell
    everyone with a bid or an alert on the call (once each)."""
    from .. import notifications

    require_actor(actor, "governance.answer_call_question", question.call)
    now = now or timezone.now()
    locked = (
        CallQuestion.objects.select_for_update().select_related("call__fund").get(pk=question.pk)
    )
    if locked.published_at is not None:
        raise ValidationError(QUESTION_ALREADY_PUBLISHED)
    if not locked.answer:
        raise ValidationError(QUESTION_NOT_ANSWERED)
    locked.published_at = now
    locked.save(update_fields=["published_at"])
    audit_record(
        actor=actor,
        action="call_question.published",
        target=locked,
        after={"published_at": now.isoformat()},
        message="Answer published on the call page",
    )
    call = locked.call
    values = {"call_title": call.title, "question": locked.question, "answer": locked.answer}
    link = f"{call.get_absolute_url()}#questions"
    notifications.send_to_each(
        "call_question_answered",
        call_bid_holders(call),
        about=locked,
        values=values,
        fund=call.fund,
        link=link,
    )
    for subscription in call_alert_subscribers_for(call):
        notifications.send(
            "call_question_answered",
            email=subscription.email,
            about=locked,
            values=values,
            fund=call.fund,
            link=link,
            unsubscribe_link=call_alert_unsubscribe_link(subscription),
        )
    return locked


# Alerts for the public ----------------------------------------------------------------------------

ALERT_SALT_CONFIRM = "governance.call_alert.confirm"
ALERT_SALT_UNSUBSCRIBE = "governance.call_alert.unsubscribe"


def _rate_limited(name: str) -> bool:
    """Count one request for ``name`` this hour; True when over the limit."""
    from django.core.cache import cache

    key = f"call-alert-rate:{hashlib.sha256(name.encode()).hexdigest()}:{timezone.now():%Y%m%d%H}"
    cache.add(key, 0, timeout=3600)
    try:
        count = cache.incr(key)
    except ValueError:
        cache.set(key, 1, timeout=3600)
        count = 1
    limit: int = settings.CALL_ALERT_REQUESTS_PER_HOUR
    return count > limit


def call_alert_confirm_link(subscription: CallAlertSubscription) -> str:
    token = signing.dumps(subscription.pk, salt=ALERT_SALT_CONFIRM)
    return reverse("governance:call_alert_confirm", kwargs={"token": token})


def call_alert_unsubscribe_link(subscription: CallAlertSubscription) -> str:
    token = signing.dumps(subscription.pk, salt=ALERT_SALT_UNSUBSCRIBE)
    return reverse("governance:call_alert_unsubscribe", kwargs={"token": token})


@transaction.atomic
def call_alert_subscribe(
    *,
    email: str,
    networks: Iterable[Organisation] = (),
    purposes: Iterable[str] = (),
    regions: Iterable[str] = (),
    client: str = "",
) -> CallAlertSubscription:
    """Anyone asks for emails about new calls; nothing is sent until they confirm the address
    (double opt-in). Limited per address and per visitor (``client``, the IP address)."""
    from .. import notifications

    email = User.objects.normalize_email((email or "").strip()).lower()
    subscription = CallAlertSubscription(
        email=email, purposes=sorted(set(purposes)), regions=sorted(set(regions))
    )
    errors: dict[str, list[str]] = {}
    if any(value not in CallPurpose.values for value in subscription.purposes):
        _add(errors, "purposes", NOT_A_CHOICE)
    if any(value not in Region.values for value in subscription.regions):
        _add(errors, "regions", NOT_A_CHOICE)
    _validate(subscription, errors)
    if (client and _rate_limited(f"ip:{client}")) or _rate_limited(f"email:{email}"):
        raise ValidationError({"email": ALERT_RATE_LIMITED})
    subscription.save()
    subscription.networks.set(list(networks))
    audit_record(
        actor=None,
        action="call_alert.requested",
        target=subscription,
        after={
            "purposes": subscription.purposes,
            "regions": subscription.regions,
            "networks": sorted(n.pk for n in networks),
        },
    )
    notifications.send(
        "call_alert_confirm",
        email=email,
        about=subscription,
        values={},
        link=call_alert_confirm_link(subscription),
    )
    return subscription


def _subscription_from(token: str, salt: str, max_age: int | None) -> CallAlertSubscription:
    try:
        pk = signing.loads(token, salt=salt, max_age=max_age)
    except signing.SignatureExpired as exc:
        raise ValidationError(ALERT_LINK_EXPIRED, code="expired") from exc
    except signing.BadSignature as exc:
        raise ValidationError(ALERT_LINK_INVALID, code="invalid") from exc
    subscription = CallAlertSubscription.objects.select_for_update().filter(pk=pk).first()
    if subscription is None:
        raise ValidationError(ALERT_LINK_INVALID, code="invalid")
    return subscription


@transaction.atomic
def call_alert_confirm(*, token: str, now: dt.datetime | None = None) -> CallAlertSubscription:
    """The confirmation link was opened in time: alerts start (idempotent)."""
    subscription = _subscription_from(
        token, ALERT_SALT_CONFIRM, settings.CALL_ALERT_CONFIRM_MAX_AGE
    )
    if subscription.confirmed_at is None and subscription.unsubscribed_at is None:
        subscription.confirmed_at = now or timezone.now()
        subscription.save(update_fields=["confirmed_at"])
        audit_record(actor=None, action="call_alert.confirmed", target=subscription)
    return subscription


@transaction.atomic
def call_alert_unsubscribe(*, token: str, now: dt.datetime | None = None) -> CallAlertSubscription:
    """One click: no more alerts to this subscription (idempotent)."""
    subscription = _subscription_from(token, ALERT_SALT_UNSUBSCRIBE, None)
    if subscription.unsubscribed_at is None:
        subscription.unsubscribed_at = now or timezone.now()
        subscription.save(update_fields=["unsubscribed_at"])
        audit_record(actor=None, action="call_alert.unsubscribed", target=subscription)
    return subscription


def call_alerts_send(*, call: Call) -> int:
    """Tell each confirmed subscriber whose filters match a call that has just opened (once each)."""
    from .. import notifications

    sent = 0
    for subscription in call_alert_subscribers_for(call):
        notification = notifications.send(
            "call_published",
            email=subscription.email,
            about=call,
            fund=call.fund,
            values={
                "call_title": call.title,
                "summary": call.summary,
                "deadline": notifications.uk_datetime(call.closes_at),
                "fund_name": call.fund.name,
            },
            link=call.get_absolute_url(),
            unsubscribe_link=call_alert_unsubscribe_link(subscription),
        )
        sent += notification is not None
    return sent
