import datetime as dt
from decimal import Decimal

import pytest

from recobro.portfolio.importers.formats import (
    ValueProblem,
    is_formula,
    parse_amount,
    parse_boolean,
    parse_date,
)

DOT, COMMA = "dot", "comma"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1,234.56", "1234.56"),
        ("1234.5", "1234.5"),
        ("$ 12,345.67", "12345.67"),
        ("(1,234.00)", "-1234.00"),
        ("-1,234.56", "-1234.56"),
        ("-$1,234.56", "-1234.56"),
        ("US$ 1,000", "1000"),
        ("1,234.56 MXN", "1234.56"),
        ("1 234 567.89", "1234567.89"),
    ],
)
def test_dot_decimal_amounts_accept_groups_currency_marks_and_parentheses(text, expected):
    assert parse_amount(text, DOT) == Decimal(expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.234,56", "1234.56"),
        ("-1.234,56", "-1234.56"),
        ("1.234,56-", "-1234.56"),
        ("(1.234,00)", "-1234.00"),
        ("$ 12.345,67", "12345.67"),
        ("12 345,50", "12345.50"),
        ("1234", "1234"),
    ],
)
def test_comma_decimal_amounts_accept_dot_groups_and_a_trailing_minus(text, expected):
    assert parse_amount(text, COMMA) == Decimal(expected)


def test_an_amount_written_in_the_other_format_is_an_error_naming_both_formats():
    with pytest.raises(ValueProblem) as caught:
        parse_amount("1,234.56", COMMA)
    assert caught.value.code == "number_format"
    assert "1.234,56" in caught.value.message and "1,234.56" in caught.value.message


def test_a_comma_decimal_amount_is_not_guessed_under_the_default_dot_format():
    with pytest.raises(ValueProblem, match=r"1,234\.56 format"):
        parse_amount("1.234,56", DOT)


@pytest.mark.parametrize("text", ["abc", "12abc", "--1", "(-1)", "1,2,3.4.5", "(12"])
def test_text_that_is_not_a_number_is_an_error(text):
    with pytest.raises(ValueProblem):
        parse_amount(text, DOT)


@pytest.mark.parametrize("date_format", ["iso", "dmy", "mdy"])
def test_iso_dates_are_accepted_whatever_the_profile_says(date_format):
    assert parse_date("2026-03-31", date_format) == dt.date(2026, 3, 31)
    assert parse_date("2026-03-31 00:00:00", date_format) == dt.date(2026, 3, 31)


def test_day_first_and_month_first_dates_follow_the_profile():
    assert parse_date("3/4/2026", "dmy") == dt.date(2026, 4, 3)
    assert parse_date("03.04.2026", "dmy") == dt.date(2026, 4, 3)
    assert parse_date("3/4/2026", "mdy") == dt.date(2026, 3, 4)


def test_a_day_first_date_under_the_iso_profile_is_an_error_naming_the_format():
    with pytest.raises(ValueProblem, match="YYYY-MM-DD"):
        parse_date("31/03/2026", "iso")


def test_an_impossible_date_is_an_error_with_a_hint_when_day_and_month_are_swapped():
    with pytest.raises(ValueProblem) as caught:
        parse_date("31/03/2026", "mdy")
    assert caught.value.code == "bad_date"
    assert "DD/MM/YYYY" in caught.value.message
    with pytest.raises(ValueProblem, match="not a real calendar date"):
        parse_date("2026-02-30", "iso")


def test_a_two_digit_year_is_refused():
    with pytest.raises(ValueProblem, match="four digits"):
        parse_date("31/03/26", "dmy")


def test_a_year_out_of_range_is_refused():
    with pytest.raises(ValueProblem, match="out of range"):
        parse_date("0026-03-31", "iso")


@pytest.mark.parametrize(
    ("text", "formula"),
    [
        ("=SUM(A1:A3)", True),
        ("=1+2", True),
        ("@SUM(A1)", True),
        ("+cmd|' /C calc'!A0", True),
        ('-HYPERLINK("x")', True),
        ("-2+3+cmd|' /C calc'!A0", True),
        ("-1.234,56", False),
        ("-$1,234.56", False),
        ("(1,234.00)", False),
        ("-1.234,56 MXN", False),
        ("+52 (55) 1234-5678", False),
        ("-1234", False),
        ("+52 55 1234 5678", False),
        ("Calle 5 #10-20", False),
        ("", False),
    ],
)
def test_formulas_are_recognised_but_signed_numbers_and_phones_are_not(text, formula):
    assert is_formula(text) is formula


def test_yes_and_no_in_spanish_and_english_are_booleans():
    assert [parse_boolean(t) for t in ("sí", "Si", "X", "true", "1")] == [True] * 5
    assert [parse_boolean(t) for t in ("no", "", "0", "false", "N")] == [False] * 5
    with pytest.raises(ValueProblem):
        parse_boolean("quizás")
