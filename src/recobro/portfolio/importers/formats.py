"""Numbers and dates as ERPs write them, read by the format fixed in the mapping profile.

Nothing here guesses: "1.234,56" is read only under the comma-decimal format and
"1,234.56" only under the dot-decimal one; a value that fits the other format is an error
that names both, so a person fixes the profile instead of importing amounts 100× off.
"""

import datetime as dt
import re
import unicodedata
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

from recobro.portfolio.models import DateFormat, NumberFormat


class ValueProblem(Exception):
    """A cell that cannot be read as its field's type. ``code`` is stable, ``message`` human."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


# --- Formulas ------------------------------------------------------------------

# After a leading sign, only what a signed amount or a phone number holds: digits, spaces,
# separators, parentheses, dashes, a currency mark or a trailing currency code. Anything
# else ("-2+3+cmd|…", "+A1", "-HYPERLINK(…)") is what a spreadsheet would run.
_SIGNED_VALUE = re.compile(r"[+-]\s*(?:[$€£]|[A-Z]{1,3}\$)?[\d\s.,()$-]*(?:\s*[A-Z]{3})?")


def is_formula(text: str) -> bool:
    """A cell a spreadsheet would execute: "=…", "@…", or a "+"/"-" that is not a signed
    number or phone ("-1.234,56" and "+52 55 1234 5678" are fine)."""
    if not text:
        return False
    first = text[0]
    if first in "=@":
        return True
    return first in "+-" and _SIGNED_VALUE.fullmatch(text) is None


# --- Numbers ---------------------------------------------------------------------

FORMAT_LABELS = {NumberFormat.DOT_DECIMAL: "1,234.56", NumberFormat.COMMA_DECIMAL: "1.234,56"}

# Currency marks ERPs print around amounts: "$", "US$", "MX$", "COL$", "R$", "S/", "€", "£", or a code.
_CURRENCY = r"(?:[A-Z]{1,3}\$|\$|R\$|S/\.?|€|£|[A-Z]{3})"
_AMOUNT = re.compile(
    rf"""^
    (?P<open>\()?\s*
    (?P<sign1>[-+])?\s*
    (?:{_CURRENCY}\s*)?
    (?P<sign2>[-+])?\s*
    (?P<body>\d[\d.,' ]*?)
    \s*(?:{_CURRENCY})?\s*
    (?P<sign3>-)?\s*
    (?P<close>\))?
    $""",
    re.VERBOSE,
)
_BODY = {
    NumberFormat.DOT_DECIMAL: re.compile(r"(?:\d{1,3}(?P<g>[, '])\d{3}(?:(?P=g)\d{3})*|\d+)(?:\.\d+)?"),
    NumberFormat.COMMA_DECIMAL: re.compile(r"(?:\d{1,3}(?P<g>[. ])\d{3}(?:(?P=g)\d{3})*|\d+)(?:,\d+)?"),
}
_SIMPLE_DOT = re.compile(r"-?\d+(?:\.\d+)?")
_SPACES = str.maketrans({"\u00a0": " ", "\u202f": " ", "\u2009": " "})


def parse_amount(text: str, number_format: str = NumberFormat.DOT_DECIMAL) -> Decimal:
    """Read an amount written in ``number_format``; raise ``ValueProblem`` otherwise.

    Accepts group separators, a currency mark before or after, a leading or trailing minus
    and accounting parentheses for negatives: "$ 12,345.67", "(1,234.00)", "1.234,56-".
    """
    if number_format == NumberFormat.DOT_DECIMAL and _SIMPLE_DOT.fullmatch(text):
        return Decimal(text)
    match = _AMOUNT.match(text.translate(_SPACES).strip())
    signs = [s for s in (match.group("sign1", "sign2", "sign3") if match else ()) if s]
    if (
        match is None
        or bool(match.group("open")) != bool(match.group("close"))
        or len(signs) > 1
        or (signs and match.group("open"))
    ):
        raise ValueProblem("not_a_number", _("“%(value)s” is not a number.") % {"value": text})
    body = match.group("body").strip()
    if not _BODY[number_format].fullmatch(body):
        other = (
            NumberFormat.COMMA_DECIMAL
            if number_format == NumberFormat.DOT_DECIMAL
            else NumberFormat.DOT_DECIMAL
        )
        hint = ""
        if _BODY[other].fullmatch(body):
            hint = " " + _(
                "It is written in the %(other)s format: if the whole file uses it, set the number "
                "format of the import profile to %(other)s."
            ) % {"other": FORMAT_LABELS[other]}
        raise ValueProblem(
            "number_format",
            _("“%(value)s” is not a number in the %(format)s format of this import.")
            % {"value": text, "format": FORMAT_LABELS[number_format]}
            + hint,
        )
    if number_format == NumberFormat.DOT_DECIMAL:
        plain = re.sub(r"[, ']", "", body)
    else:
        plain = re.sub(r"[. ]", "", body).replace(",", ".")
    try:
        value = Decimal(plain)
    except InvalidOperation as exc:  # pragma: no cover - the regexes only let digits through
        raise ValueProblem("not_a_number", _("“%(value)s” is not a number.") % {"value": text}) from exc
    negative = bool(match.group("open")) or signs == ["-"]
    return -value if negative else value


def looks_like_amount(text: str) -> bool:
    """True when the cell reads as a number in either format (for spotting totals rows)."""
    for number_format in (NumberFormat.DOT_DECIMAL, NumberFormat.COMMA_DECIMAL):
        try:
            parse_amount(text, number_format)
        except ValueProblem:
            continue
        return True
    return False


def number_from_cell(value: float | int) -> Decimal:
    """An Excel number as a Decimal: Excel keeps 15 significant digits, so round there."""
    if isinstance(value, int):
        return Decimal(value)
    return Decimal(format(value, ".15g"))


# --- Dates -----------------------------------------------------------------------

DATE_LABELS = {DateFormat.ISO: "YYYY-MM-DD", DateFormat.DMY: "DD/MM/YYYY", DateFormat.MDY: "MM/DD/YYYY"}
MIN_YEAR, MAX_YEAR = 1900, 2200

_TIME = r"(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
_ISO = re.compile(rf"(\d{{4}})[-/](\d{{1,2}})[-/](\d{{1,2}}){_TIME}")
_DAY_FIRST = re.compile(rf"(\d{{1,2}})[/.-](\d{{1,2}})[/.-](\d{{4}}){_TIME}")
_SHORT_YEAR = re.compile(r"\d{1,2}[/.-]\d{1,2}[/.-]\d{2}")


def parse_date(text: str, date_format: str = DateFormat.ISO) -> dt.date:
    """Read a date in ``date_format``; ISO (YYYY-MM-DD) is always accepted as well."""
    if len(text) == 10 and text[4] == "-" and text[7] == "-":
        try:
            value = dt.date.fromisoformat(text)
        except ValueError:
            pass
        else:
            if MIN_YEAR <= value.year <= MAX_YEAR:
                return value
    match = _ISO.fullmatch(text)
    if match:
        year, month, day = match.groups()
    else:
        match = _DAY_FIRST.fullmatch(text) if date_format != DateFormat.ISO else None
        if match is None:
            if _SHORT_YEAR.fullmatch(text):
                raise ValueProblem(
                    "date_format",
                    _("“%(value)s” has a two-digit year; write the year with four digits.") % {"value": text},
                )
            raise ValueProblem(
                "date_format",
                _("“%(value)s” is not a date in the %(format)s format of this import.")
                % {"value": text, "format": DATE_LABELS.get(date_format, date_format)},
            )
        first, second, year = match.groups()
        day, month = (first, second) if date_format == DateFormat.DMY else (second, first)
    try:
        value = dt.date(int(year), int(month), int(day))
    except ValueError as exc:
        message = _("“%(value)s” is not a real calendar date.") % {"value": text}
        if date_format in (DateFormat.DMY, DateFormat.MDY) and not _ISO.fullmatch(text):
            other = DateFormat.MDY if date_format == DateFormat.DMY else DateFormat.DMY
            try:
                dt.date(int(year), int(day), int(month))
            except ValueError:
                pass
            else:
                message += " " + _(
                    "It would be a date in the %(other)s format: check the date format of the "
                    "import profile (now %(format)s)."
                ) % {"other": DATE_LABELS[other], "format": DATE_LABELS[date_format]}
        raise ValueProblem("bad_date", message) from exc
    return _check_year(value, text)


def _check_year(value: dt.date, text: str) -> dt.date:
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ValueProblem(
            "bad_date",
            _("“%(value)s” is out of range: the year must be between %(min)s and %(max)s.")
            % {"value": text, "min": MIN_YEAR, "max": MAX_YEAR},
        )
    return value


def date_from_cell(value: dt.date | dt.datetime) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


# --- Words -----------------------------------------------------------------------


def fold(text: str) -> str:
    """Case-, accent- and punctuation-insensitive form used to match headers and choices."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if ch.isalnum())


_TRUE = {"1", "true", "t", "yes", "y", "si", "s", "x", "verdadero", "v"}
_FALSE = {"", "0", "false", "f", "no", "n", "falso"}


def parse_boolean(text: str) -> bool:
    key = fold(text)
    if key in _TRUE:
        return True
    if key in _FALSE:
        return False
    raise ValueProblem(
        "not_a_boolean",
        _("“%(value)s” is not yes/no (use yes, no, sí, true, false, 1 or 0).") % {"value": text},
    )
