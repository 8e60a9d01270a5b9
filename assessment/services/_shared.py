"""Helpers the topic modules share: the call's row lock, the in-assessment checks, links to
assessment pages and the whole-number reading of a score."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.urls import reverse

from applications.models import Bid, BidStatus
from governance.models import Call, CallStatus

from ..messages import BID_DECIDED, BID_NOT_IN_ASSESSMENT, NOT_IN_ASSESSMENT
from ..models import PanelDecision


def _lock_call(call: Call) -> Call:
    return Call.objects.select_for_update().select_related("fund").get(pk=call.pk)


def _require_in_assessment(call: Call, message: str = NOT_IN_ASSESSMENT) -> None:
    if call.status != CallStatus.ASSESSMENT:
        raise ValidationError(message, code="not_in_assessment")


def _require_assessable(call: Call, bid: Bid) -> None:
    _require_in_assessment(call)
    if bid.status != BidStatus.IN_ASSESSMENT:
        raise ValidationError(BID_NOT_IN_ASSESSMENT, code="bid_not_in_assessment")
    if PanelDecision.objects.filter(bid=bid).exists():
        raise ValidationError(BID_DECIDED, code="decided")


def _link(name: str, *args: Any) -> str:
    return reverse(f"assessment:{name}", args=args)


def _whole(value: Any) -> int | None:
    """The score as an int if it is a whole number (``3``, ``Decimal("3")``), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value():
        return int(value)
    return None
