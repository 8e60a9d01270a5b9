"""Reminders about monitoring returns, and the beat's periodic run.

- ``return_reminder_send``: each reminder goes once per due date (a ``ReminderSent`` row
  written in the same transaction as its notifications).
- ``monitoring_run``: what the periodic task does (schedules, opening, the reminders due).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.db import IntegrityError, InterfaceError, OperationalError, transaction
from django.utils import timezone

from awards.models import Award
from governance import notifications
from governance.models import Notification, User

from ...models import MonitoringReturn, ReminderKind, ReminderSent
from ...visibility import return_audience
from ..selectors import (
    SCHEDULED_AWARD_STATUSES,
    award_managers,
    grantee_contacts,
    reminder_already_sent,
    reminder_is_due,
)
from ._shared import _date, _period

logger = logging.getLogger(__name__)

# Reminders ------------------------------------------------------------------------------------------


REMINDER_MESSAGES: dict[str, str] = {
    ReminderKind.OPENED: "return_opened",
    ReminderKind.OVERDUE: "return_overdue",
}


def _reminder_send(
    ret: MonitoringReturn, kind: str, people: list[User], today: dt.date
) -> list[Notification]:
    """The reminder through the notification catalogue, in the fund's wording, once per person,
    return, kind and due date."""
    award = ret.award
    values = {
        "award_reference": award.reference,
        "period": _period(ret),
        "deadline": _date(ret.due_date),
        "days": notifications.days_label((ret.due_date - today).days),
    }
    return notifications.send_to_each(
        REMINDER_MESSAGES.get(kind, "return_due"),
        people,
        about=ret,
        fund=award.bid.call.fund,
        occasion=f"{kind}:{ret.due_date.isoformat()}",
        values=values,
        link=ret.get_absolute_url(),
    )


def return_reminder_send(*, return_id: int, kind: str, today: dt.date | None = None) -> bool:
    """Send one reminder: "opened" once per return, the others once per due date (a due date that
    moves earns a fresh reminder). Returns True if it went now.

    The ``ReminderSent`` row and the notifications are written in one transaction, so a crash
    either sends nothing (and the next run sends it) or records it (and nobody sends it again).
    The return row is locked without waiting: if another worker holds it, this raises and the
    task retries later. Emails go out after commit through governance's idempotent delivery task.
    """
    today = today or timezone.localdate()
    with transaction.atomic():
        ret = MonitoringReturn.objects.select_for_update(nowait=True).filter(pk=return_id).first()
        if ret is None:
            return False
        award = Award.objects.select_related("bid__call__fund", "issued_by").get(pk=ret.award_id)
        ret.award = award
        if not reminder_is_due(ret, award, kind, today):
            return False
        if reminder_already_sent(ret, kind):
            return False
        people = grantee_contacts(award)
        if kind == ReminderKind.OVERDUE:
            people += [user for user in award_managers(award) if user not in people]
        people = return_audience(ret, people)
        try:
            with transaction.atomic():
                reminder = ReminderSent.objects.create(
                    monitoring_return=ret,
                    kind=kind,
                    due_date=ret.due_date,
                    recipients=[u.email for u in people],
                )
        except IntegrityError:
            return False  # sent by a concurrent run a moment ago
        reminder.notifications.set(_reminder_send(ret, kind, people, today))
    return True


# The beat's work ---------------------------------------------------------------------------------------------


def monitoring_run(*, today: dt.date | None = None) -> dict[str, Any]:
    """What the periodic task does, each step idempotent and in its own transactions:

    1. make every active or suspended award's schedule follow its dates;
    2. open the returns whose period has ended;
    3. list the reminders due (the task sends each through ``return_reminder_send``).
    """
    # The package's names, looked up when called: patching ``services.return_schedule_sync``
    # (or ``services.returns_open_ended``) reaches this run as it did in one module.
    from .. import services
    from ..selectors import reminders_due

    today = today or timezone.localdate()
    synced = {"created": 0, "moved": 0, "removed": 0}
    failed = []
    for award in Award.objects.filter(status__in=SCHEDULED_AWARD_STATUSES).order_by("pk"):
        try:
            changes = services.return_schedule_sync(award=award, today=today)
        except (OperationalError, InterfaceError):
            raise  # the database itself is in trouble: the task retries later
        except Exception:
            # One award's odd dates must not stop every other award's returns and reminders.
            logger.exception("Monitoring schedule of award %s could not be updated", award.pk)
            failed.append(award.pk)
            continue
        for key, value in changes.items():
            synced[key] += value
    opened = services.returns_open_ended(today=today)
    return {
        "synced": synced,
        "failed": failed,
        "opened": opened,
        "reminders": reminders_due(today=today),
    }
