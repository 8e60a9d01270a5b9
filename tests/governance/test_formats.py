"""One time format (the NHS style) and measures shown as entered, in pages, emails and PDFs."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.template import Context, Template

from applications.checks import uk_datetime
from governance.timefmt import format_decimal, nhs_date, nhs_datetime, nhs_time

LONDON = ZoneInfo("Europe/London")


def test_times_the_nhs_way():
    assert nhs_time(dt.time(22, 1)) == "10:01pm"
    assert nhs_time(dt.time(9, 40)) == "9:40am"
    assert nhs_time(dt.time(17, 0)) == "5pm"
    assert nhs_time(dt.time(12, 0)) == "midday"
    assert nhs_time(dt.time(0, 0)) == "midnight"
    assert nhs_time(dt.time(0, 30)) == "12:30am"


def test_aware_datetimes_are_shown_in_uk_time():
    winter = dt.datetime(2026, 12, 4, 22, 1, tzinfo=dt.UTC)
    summer = dt.datetime(2027, 7, 1, 8, 40, tzinfo=dt.UTC)
    assert nhs_datetime(winter) == "4 December 2026 at 10:01pm"
    assert nhs_datetime(summer) == "1 July 2027 at 9:40am"
    assert nhs_datetime(winter, short=True) == "4 Dec 2026 at 10:01pm"
    assert nhs_datetime(winter, weekday=True) == "Friday 4 December 2026 at 10:01pm"
    assert nhs_date(dt.date(2026, 12, 4)) == "4 December 2026"
    assert uk_datetime(winter) == "4 December 2026 at 10:01pm (UK time)"


def test_template_filters_give_the_same_format():
    moment = dt.datetime(2026, 12, 4, 12, 0, tzinfo=LONDON)
    html = Template('{{ m|nhs_datetime }}|{{ m|nhs_time }}|{{ m|nhs_date:"short" }}|{{ m|nhs_datetime:"weekday" }}').render(
        Context({"m": moment}))
    assert html == "4 December 2026 at midday|midday|4 Dec 2026|Friday 4 December 2026 at midday"


def test_no_template_formats_times_its_own_way():
    """Times go through nhs_time/nhs_datetime: no |time filter, no H:i or g:i a date formats.
    (The audit trail keeps its to-the-second timestamps: a record, not a reading text.)"""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "templates"
    offenders = []
    for path in root.rglob("*.html"):
        if path.name == "audit.html":
            continue
        text = path.read_text()
        for bad in ("|time:", "|time }}", "H:i", "g:i"):
            if bad in text:
                offenders.append(f"{path.relative_to(root)}: {bad}")
    assert offenders == []


def test_measures_keep_their_decimals():
    assert format_decimal(Decimal("8.10")) == "8.1"
    assert format_decimal(Decimal("6.50")) == "6.5"
    assert format_decimal(Decimal("1200.00")) == "1,200"
    assert format_decimal(Decimal("0.125")) == "0.125"
    assert format_decimal(None) == ""
    assert Template("{{ v|decimal }}").render(Context({"v": Decimal("8.10")})) == "8.1"
