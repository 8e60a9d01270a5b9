"""NHS financial years (1 April to 31 March), written ``2026/27``, and NHS quarters.

A financial year is identified everywhere by the calendar year it starts in (an ``int``):
2026 means 1 April 2026 to 31 March 2027.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass

FY_LABEL_RE = re.compile(r"^(?P<start>\d{4})/(?P<end>\d{2})$")
MIN_YEAR = 2000
MAX_YEAR = 2099


@dataclass(frozen=True, order=True)
class FinancialYear:
    start_year: int

    @classmethod
    def of(cls, day: dt.date) -> FinancialYear:
        return cls(day.year if day.month >= 4 else day.year - 1)

    @classmethod
    def parse(cls, label: str) -> FinancialYear:
        """Read ``2026/27`` (or ``2026``); raise ValueError for anything else."""
        label = (label or "").strip()
        if label.isdigit() and len(label) == 4:
            year = int(label)
        else:
            match = FY_LABEL_RE.match(label)
            if not match:
                raise ValueError(f"{label!r} is not a financial year like 2026/27")
            year = int(match["start"])
            if int(match["end"]) != (year + 1) % 100:
                raise ValueError(f"{label!r} is not a financial year like 2026/27")
        if not MIN_YEAR <= year <= MAX_YEAR:
            raise ValueError(f"{label!r} is outside the years the portal handles")
        return cls(year)

    @property
    def label(self) -> str:
        return f"{self.start_year}/{(self.start_year + 1) % 100:02d}"

    @property
    def start(self) -> dt.date:
        return dt.date(self.start_year, 4, 1)

    @property
    def end(self) -> dt.date:
        return dt.date(self.start_year + 1, 3, 31)

    def quarter(self, number: int) -> tuple[dt.date, dt.date]:
        """NHS quarter ``number`` (1 = April to June) as (first day, last day)."""
        if number not in (1, 2, 3, 4):
            raise ValueError("a quarter is 1, 2, 3 or 4")
        first_month = 4 + 3 * (number - 1)
        year = self.start_year + (first_month - 1) // 12
        month = (first_month - 1) % 12 + 1
        first = dt.date(year, month, 1)
        next_month = month + 3
        next_first = dt.date(year + (next_month - 1) // 12, (next_month - 1) % 12 + 1, 1)
        return first, next_first - dt.timedelta(days=1)

    def __str__(self) -> str:
        return self.label


def label(start_year: int) -> str:
    return FinancialYear(start_year).label


def years_between(first: int, last: int) -> list[int]:
    return list(range(first, last + 1))


def years_spanning(start: dt.date, end: dt.date) -> list[int]:
    """Every financial year that a period from ``start`` to ``end`` touches."""
    return years_between(FinancialYear.of(start).start_year, FinancialYear.of(end).start_year)


def quarter_of(day: dt.date) -> tuple[int, int]:
    """(financial year, NHS quarter 1-4) of a date."""
    fy = FinancialYear.of(day)
    months_in = (day.month - 4) % 12
    return fy.start_year, months_in // 3 + 1


def quarters_between(start: dt.date, end: dt.date) -> Iterator[tuple[int, int, dt.date, dt.date]]:
    """Each NHS quarter overlapping ``start``..``end`` as (year, quarter, first day, last day)."""
    year, quarter = quarter_of(start)
    while True:
        first, last = FinancialYear(year).quarter(quarter)
        if first > end:
            return
        yield year, quarter, first, last
        quarter += 1
        if quarter == 5:
            year, quarter = year + 1, 1


def year_choices(first: int, last: int) -> list[tuple[int, str]]:
    return [(year, label(year)) for year in years_between(first, last)]


# Yearly declarations (of interests, by assessors) run with the tax year: they lapse on 6 April.
DECLARATION_LAPSE_MONTH, DECLARATION_LAPSE_DAY = 4, 6


def declaration_lapses_on(day: dt.date) -> dt.date:
    """The first 6 April after ``day``: when a yearly declaration made on ``day`` lapses."""
    this_year = dt.date(day.year, DECLARATION_LAPSE_MONTH, DECLARATION_LAPSE_DAY)
    return this_year if day < this_year else dt.date(day.year + 1, DECLARATION_LAPSE_MONTH, DECLARATION_LAPSE_DAY)
