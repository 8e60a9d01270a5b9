import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from governance import fy
from governance.money import (
    NEGATIVE,
    NOT_MONEY,
    TOO_LARGE,
    TOO_MANY_DECIMALS,
    format_money,
    parse_money,
)


@pytest.mark.parametrize(
    ("day", "year"),
    [(dt.date(2026, 4, 1), 2026), (dt.date(2027, 3, 31), 2026), (dt.date(2026, 3, 31), 2025), (dt.date(2026, 12, 25), 2026)],
)
def test_financial_years_start_on_1_april(day, year):
    assert fy.FinancialYear.of(day).start_year == year


def test_financial_year_labels_read_and_write_like_2026_27():
    assert fy.label(2026) == "2026/27"
    assert fy.label(2099) == "2099/00"
    assert fy.FinancialYear.parse("2026/27").start_year == 2026
    for bad in ("2026/28", "26/27", "twenty", "", "2026-27", "1999/00"):
        with pytest.raises(ValueError):
            fy.FinancialYear.parse(bad)


def test_nhs_quarters_run_april_to_june_first():
    year = fy.FinancialYear(2026)
    assert year.quarter(1) == (dt.date(2026, 4, 1), dt.date(2026, 6, 30))
    assert year.quarter(3) == (dt.date(2026, 10, 1), dt.date(2026, 12, 31))
    assert year.quarter(4) == (dt.date(2027, 1, 1), dt.date(2027, 3, 31))
    assert fy.quarter_of(dt.date(2027, 2, 14)) == (2026, 4)


def test_quarters_between_covers_every_overlapping_quarter():
    quarters = list(fy.quarters_between(dt.date(2026, 5, 1), dt.date(2027, 4, 30)))
    assert [(y, q) for y, q, _, _ in quarters] == [(2026, 1), (2026, 2), (2026, 3), (2026, 4), (2027, 1)]


def test_years_spanning_a_project():
    assert fy.years_spanning(dt.date(2026, 6, 1), dt.date(2028, 5, 31)) == [2026, 2027, 2028]


@pytest.mark.parametrize(
    ("text", "amount"),
    [("12500", "12500.00"), ("£12,500.50", "12500.50"), (" 0 ", "0.00"), ("999999999.99", "999999999.99")],
)
def test_money_is_read_as_decimal_pounds_and_pence(text, amount):
    assert parse_money(text) == Decimal(amount)


@pytest.mark.parametrize(
    ("text", "message"),
    [("12.345", TOO_MANY_DECIMALS), ("-1", NEGATIVE), ("1000000000", TOO_LARGE), ("ten pounds", NOT_MONEY),
     ("NaN", NOT_MONEY), ("Infinity", NOT_MONEY), ("", NOT_MONEY)],
)
def test_bad_money_gets_a_clear_message(text, message):
    with pytest.raises(ValidationError) as caught:
        parse_money(text)
    assert caught.value.messages == [message]


def test_money_is_shown_in_pounds_with_pence_only_when_there_are_any():
    assert format_money(Decimal("1500000")) == "£1,500,000"
    assert format_money(Decimal("12.5")) == "£12.50"
    assert format_money(Decimal("-20")) == "-£20"
