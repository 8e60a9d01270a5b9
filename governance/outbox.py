"""The transactional outbox: every Celery task a change needs goes through here.

``outbox_enqueue("app.tasks.name", *args)`` saves an ``OutboxMessage`` in the caller's
transaction, so the task exists exactly when the change does: a rolled-back change leaves
nothing to run. When the transaction commits the message is handed to the broker; if the
broker refuses (Redis down, a network blip), the request carries on as if it had gone and
the message waits. The beat's ``governance.tasks.dispatch_outbox`` hands over whatever
waits, each row with its own backoff, so everything runs once the broker is back.

Exactly once: a message keeps one Celery task id for life (``OutboxMessage.task_id``). The
worker (``governance.celery_task.OutboxTask``) skips a message already done and marks it done
when the task returns, so a redelivered or handed-over-twice message does not run again, and
every task is idempotent as well (a sent email, a ready letter, a built report is left alone),
which covers a worker killed between doing the work and recording it.

Handing over never holds a database transaction open while it talks to the broker: a row is
claimed by moving its ``next_attempt_at`` on with a conditional update, so the commit hook and
the beat never hand the same row over at the same time.
"""

from __future__ import annotations

import datetime as dt
import importlib
import logging
import random
import time
from collections.abc import Iterable

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.db.models import F, Min, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from .models import OutboxMessage, OutboxStatus

logger = logging.getLogger(__name__)

# Errors that mean "the broker did not take it": the message waits for the beat.
BROKER_ERRORS = (BrokerError, ConnectionError, OSError, TimeoutError)
# Publishing fails fast when the broker is down, so a person is not kept waiting.
PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}
# A row being handed over is left alone by everyone else for this long.
CLAIM_SECONDS = 60
# After a refusal, this process does not try the broker again from a request for a moment, so a
# change that needs several tasks is not slowed down once per task.
_REFUSAL_MEMORY_SECONDS = 5.0
_refused_at: float | None = None


def _task_name(task) -> str:
    return task if isinstance(task, str) else task.name


def outbox_enqueue(task, *args, **kwargs) -> OutboxMessage:
    """Record that ``task`` must run with these arguments once the current transaction commits.

    ``task`` is a task name (``"awards.tasks.generate_offer_letter"``) or a task; arguments are
    ids and plain values (JSON). Returns the message: ``outbox_is_waiting(message)`` says, after
    the commit, whether the broker refused it (the beat will hand it over later).
    """
    now = timezone.now()
    message = OutboxMessage.objects.create(
        task_name=_task_name(task), args=list(args), kwargs=kwargs, status=OutboxStatus.WAITING,
        created_at=now, next_attempt_at=now + dt.timedelta(seconds=CLAIM_SECONDS),
    )
    transaction.on_commit(lambda: _dispatch_after_commit(message))
    return message


def outbox_is_waiting(message: OutboxMessage | None) -> bool:
    """True when a message was not handed to the broker after its commit (it will be, later)."""
    return message is not None and message.status == OutboxStatus.WAITING


def _dispatch_after_commit(message: OutboxMessage) -> None:
    recently_refused = _refused_at is not None and time.monotonic() - _refused_at < _REFUSAL_MEMORY_SECONDS
    if recently_refused and not current_app.conf.task_always_eager:
        _note_refusal(message, "The broker refused a message a moment ago", timezone.now())
        return
    if _claim(message, timezone.now()):
        _hand_over(message)


def _claim(message: OutboxMessage, now: dt.datetime) -> bool:
    claimed = OutboxMessage.objects.filter(
        pk=message.pk, status=OutboxStatus.WAITING, next_attempt_at=message.next_attempt_at,
    ).update(next_attempt_at=now + dt.timedelta(seconds=CLAIM_SECONDS))
    if claimed:
        message.next_attempt_at = now + dt.timedelta(seconds=CLAIM_SECONDS)
    return bool(claimed)


def backoff(attempts: int) -> dt.timedelta:
    """How long a refused message waits before the beat offers it again: doubling, capped, jittered."""
    base = settings.OUTBOX_BACKOFF_SECONDS
    seconds = min(base * 2 ** max(attempts - 1, 0), settings.OUTBOX_BACKOFF_MAX_SECONDS)
    return dt.timedelta(seconds=seconds + random.uniform(0, base / 2))  # noqa: S311 - jitter, not security


def _task(app, name: str):
    """The registered task of this name, importing its module first if this process has not
    (a web process loads a task module only when something imports it)."""
    if name not in app.tasks:
        importlib.import_module(name.rsplit(".", 1)[0])
    return app.tasks[name]


def _hand_over(message: OutboxMessage) -> bool:
    """Offer one claimed message to the broker (run it in-process when Celery is eager)."""
    global _refused_at
    app = current_app  # the project's Celery app (fundportal/celery.py), loaded with Django

    eager = app.conf.task_always_eager
    try:
        task = _task(app, message.task_name)
        task.apply_async(args=message.args, kwargs=message.kwargs, task_id=str(message.task_id),
                         retry=True, retry_policy=PUBLISH_RETRY_POLICY)
    except BROKER_ERRORS as exc:
        _refused_at = time.monotonic()
        _note_refusal(message, f"{type(exc).__name__}: {exc}", timezone.now())
        return False
    except Exception as exc:
        if eager:
            raise  # run in-process: the task's own error is the caller's, as it always was
        logger.exception("Outbox message %s (%s) could not be handed over", message.pk, message.task_name)
        _note_refusal(message, f"{type(exc).__name__}: {exc}", timezone.now())
        return False
    _refused_at = None
    now = timezone.now()
    OutboxMessage.objects.filter(pk=message.pk, status=OutboxStatus.WAITING).update(
        status=OutboxStatus.DISPATCHED, dispatched_at=now, attempts=F("attempts") + 1, last_error="")
    message.refresh_from_db(fields=["status", "dispatched_at", "attempts", "last_error", "done_at"])
    return True


def _note_refusal(message: OutboxMessage, error: str, now: dt.datetime) -> None:
    attempts = message.attempts + 1
    message.attempts = attempts
    message.next_attempt_at = now + backoff(attempts)
    message.last_error = error[:2000]
    OutboxMessage.objects.filter(pk=message.pk, status=OutboxStatus.WAITING).update(
        attempts=attempts, next_attempt_at=message.next_attempt_at, last_error=message.last_error)
    logger.warning("Outbox message %s (%s) waits for the broker: %s", message.pk, message.task_name, error)


def outbox_dispatch_due(*, now: dt.datetime | None = None, limit: int = 500) -> list[int]:
    """Hand over every waiting message whose time has come (the beat, every few seconds).

    Also hands over again a message handed over long ago and never done
    (``OUTBOX_REDISPATCH_AFTER_SECONDS``): the broker lost it (Redis restarted without its data).
    Stops at the first refusal: the broker is down, the others keep their turn. Returns the ids
    handed over.
    """
    now = now or timezone.now()
    stale = now - dt.timedelta(seconds=settings.OUTBOX_REDISPATCH_AFTER_SECONDS)
    OutboxMessage.objects.filter(status=OutboxStatus.DISPATCHED, dispatched_at__lt=stale).update(
        status=OutboxStatus.WAITING, next_attempt_at=now, last_error="Handed over again: never done")
    due = (OutboxMessage.objects.filter(status=OutboxStatus.WAITING, next_attempt_at__lte=now)
           .order_by("next_attempt_at", "pk")[:limit])
    handed = []
    for message in due:
        if not _claim(message, now):
            continue
        if not _hand_over(message):
            # The rest were not offered: leave them due, without counting an attempt.
            break
        handed.append(message.pk)
    if handed:
        logger.info("Handed %d waiting side effects to the workers", len(handed))
    return handed


# The worker's side (called by governance.celery_task.OutboxTask) -------------------------------


def outbox_is_done(*, task_id: str | None) -> bool:
    if not task_id:
        return False
    return OutboxMessage.objects.filter(task_id=task_id, status=OutboxStatus.DONE).exists()


def outbox_mark_done(*, task_id: str | None) -> int:
    if not task_id:
        return 0
    now = timezone.now()
    return OutboxMessage.objects.filter(task_id=task_id).exclude(status=OutboxStatus.DONE).update(
        status=OutboxStatus.DONE, done_at=now, dispatched_at=Coalesce("dispatched_at", Value(now)), last_error="")


def outbox_mark_failed(*, task_id: str | None, error: str, wait: bool = False) -> int:
    """The task ended with an error: failed for good, or (``wait``, a temporary error that
    outlasted the task's own retries) waiting again for the beat, with backoff."""
    if not task_id:
        return 0
    rows = OutboxMessage.objects.filter(task_id=task_id).exclude(status=OutboxStatus.DONE)
    if wait:
        message = rows.first()
        if message is None:
            return 0
        if timezone.now() - message.created_at > dt.timedelta(seconds=settings.OUTBOX_GIVE_UP_AFTER_SECONDS):
            # Still failing days later (a mail server refusing an address for good): stop.
            return rows.update(status=OutboxStatus.FAILED, last_error=f"Given up: {error}"[:2000],
                               done_at=timezone.now())
        return rows.update(status=OutboxStatus.WAITING, next_attempt_at=timezone.now() + backoff(message.attempts),
                           last_error=error[:2000])
    return rows.update(status=OutboxStatus.FAILED, last_error=error[:2000], done_at=timezone.now())


# Reading -------------------------------------------------------------------------------------


def outbox_oldest_waiting_age(*, now: dt.datetime | None = None) -> float | None:
    """Seconds since the oldest side effect still waiting for the broker was recorded (None if none)."""
    oldest = OutboxMessage.objects.filter(status=OutboxStatus.WAITING).aggregate(oldest=Min("created_at"))["oldest"]
    if oldest is None:
        return None
    return max(0.0, ((now or timezone.now()) - oldest).total_seconds())


def outbox_messages_for(*, task_name: str, args: Iterable) -> list[OutboxMessage]:
    """The messages of one task with these arguments, oldest first (for pages and tests)."""
    return list(OutboxMessage.objects.filter(Q(task_name=task_name) & Q(args=list(args))).order_by("pk"))
