"""Dates, times and measures the way the NHS writes them, one format everywhere: pages, emails, PDFs.

The NHS digital service manual's style: "4 December 2026", "10:01pm", "9:40am", "5pm",
"midday", "midnight". Times are UK time (the project's TIME_ZONE); templates use the
``nhs_date``, ``nhs_time`` and ``nhs_datetime`` filters in governance/templatetags/portal.py,
Python code (emails, messages) calls the functions here.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.utils import timezone


def _local(moment: dt.datetime) -> dt.datetime:
    if timezone.is_aware(moment):
        return timezone.localtime(moment)
    return moment


def nhs_time(moment: dt.datetime | dt.time | None) -> str:
    """10:01pm, 9:40am, 5pm, midday, midnight."""
    if moment is None or moment == "":
        return ""
    if isinstance(moment, dt.datetime):
        moment = _local(moment)
    hour, minute = moment.hour, moment.minute
    if minute == 0 and hour == 0:
        return "midnight"
    if minute == 0 and hour == 12:
        return "midday"
    suffix = "am" if hour < 12 else "pm"
    twelve = hour % 12 or 12
    return f"{twelve}{suffix}" if minute == 0 else f"{twelve}:{minute:02d}{suffix}"


def nhs_date(day: dt.date | dt.datetime | None, *, short: bool = False) -> str:
    """4 December 2026 (or 4 Dec 2026 in tables)."""
    if day is None or day == "":
        return ""
    if isinstance(day, dt.datetime):
        day = _local(day)
    return f"{day.day} {day:%b %Y}" if short else f"{day.day} {day:%B %Y}"


def nhs_datetime(moment: dt.datetime | None, *, short: bool = False, weekday: bool = False) -> str:
    """4 December 2026 at 10:01pm (Friday 4 December 2026 at 10:01pm with the weekday)."""
    if moment is None or moment == "":
        return ""
    local = _local(moment)
    day = nhs_date(local, short=short)
    if weekday:
        day = f"{local:%A} {day}"
    return f"{day} at {nhs_time(local)}"


def format_decimal(value) -> str:
    """A measure as entered, never rounded: 8.1 → "8.1", 6.50 → "6.5", 1200.00 → "1,200",
    0.125 → "0.125". Accepts Decimal, int, float or a numeric string; "" for nothing."""
    if value is None or value == "":
        return ""
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        return str(value)
    if not number.is_finite():
        return str(number)
    if number == number.to_integral_value():
        return f"{number.to_integral_value():,}"
    text = f"{number:,f}"
    return text.rstrip("0").rstrip(".") if "." in text else text
