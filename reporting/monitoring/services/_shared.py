"""Helpers the topic modules of the monitoring services share: how dates, money, periods and
statuses are written in messages, locking a return, the grantee check and the spend-variance error."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.exceptions import ValidationError

from awards.models import Award
from awards.selectors import is_recipient_member
from governance.models import User
from governance.money import format_money

from ...models import MonitoringReturn, ReturnStatus
from ..messages import NOT_GRANTEE, VARIANCE_UNEXPLAINED
from ..selectors import spend_variance


def _money(amount: Decimal) -> str:
    return format_money(amount, pence=True)


def _date(day: dt.date) -> str:
    return day.strftime("%-d %B %Y")


def _status_label(status: str) -> str:
    return ReturnStatus(status).label.lower()


def _period(ret: MonitoringReturn) -> str:
    return f"{ret.period_start:%-d %b %Y} to {ret.period_end:%-d %b %Y}"


def _require_grantee(actor: User, award: Award) -> None:
    if actor is None or not is_recipient_member(actor, award):
        raise ValidationError(
            NOT_GRANTEE, code="not_grantee", params={"organisation": award.recipient.name}
        )


def _lock_return(ret: MonitoringReturn) -> MonitoringReturn:
    locked = MonitoringReturn.objects.select_for_update().get(pk=ret.pk)
    locked.award = Award.objects.select_related("bid", "recipient").get(pk=locked.award_id)
    return locked


def _variance_error(total: Decimal, profile: Decimal) -> ValidationError:
    variance = spend_variance(total, profile)
    if variance is None:
        text = f"{_money(total)} against a zero profile, which is more than"
    else:
        text = f"{abs(variance) * 100:.1f}% {'over' if variance > 0 else 'under'}"
    return ValidationError(
        VARIANCE_UNEXPLAINED,
        code="variance_unexplained",
        params={"variance": text, "profile": _money(profile)},
    )
