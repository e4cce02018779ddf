"""SQL spellings the cycle needs on both databases, beyond ``recobro.portfolio.dialect``.

Dates: PostgreSQL has a date type with ``date + integer``; SQLite keeps ISO text, so day
arithmetic goes through ``julianday``. Booleans: PostgreSQL booleans, SQLite 0/1 (the
keywords TRUE and FALSE are 1 and 0 there), so boolean facts are written as
``CASE WHEN … THEN TRUE ELSE FALSE END`` and compared with ``= TRUE``.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.db import connection


def is_postgresql() -> bool:
    return connection.vendor == "postgresql"


def date_param() -> str:
    return "CAST(%s AS date)" if is_postgresql() else "%s"


def add_days(date_sql: str, days_sql: str) -> str:
    """The date ``date_sql`` plus ``days_sql`` days (an integer expression)."""
    if is_postgresql():
        return f"({date_sql} + CAST({days_sql} AS INTEGER))"
    return f"date(julianday({date_sql}) + ({days_sql}))"


def days_between(later: str, earlier: str) -> str:
    """Whole days from ``earlier`` to ``later``; null when either is null."""
    if is_postgresql():
        return f"({later} - {earlier})"
    return f"CAST(julianday({later}) - julianday({earlier}) AS INTEGER)"


def greatest(a: str, b: str) -> str:
    """The later of two non-null values (SQLite's two-argument MAX is scalar)."""
    return f"GREATEST({a}, {b})" if is_postgresql() else f"MAX({a}, {b})"


def least(a: str, b: str) -> str:
    return f"LEAST({a}, {b})" if is_postgresql() else f"MIN({a}, {b})"


def boolean(condition: str) -> str:
    """A true/false column from a condition (never null)."""
    return f"(CASE WHEN {condition} THEN TRUE ELSE FALSE END)"


def is_distinct(a: str, b: str) -> str:
    return f"{a} IS DISTINCT FROM {b}" if is_postgresql() else f"{a} IS NOT {b}"


def cents(expr: str) -> str:
    return f"CAST(ROUND({expr} * 100) AS BIGINT)"


def money(cents_expr: str) -> str:
    if is_postgresql():
        return f"CAST(({cents_expr}) / 100.0 AS NUMERIC(18, 2))"
    return f"(({cents_expr}) / 100.0)"


def local_date(column: str, timezone: str, around: dt.date) -> tuple[str, list]:
    """The date, in ``timezone``, of the aware timestamp ``column`` (stored in UTC).

    PostgreSQL converts with its own time zone database. SQLite has none: the UTC offsets in
    force over the 30 years before ``around`` (and a year after) become a CASE on the
    instant, so daylight saving time is honoured; instants before that take the oldest offset.
    """
    if is_postgresql():
        return f"CAST(({column} AT TIME ZONE %s) AS date)", [timezone]
    zone = ZoneInfo(timezone)
    utc = dt.UTC
    start = dt.datetime(around.year - 30, 1, 1, tzinfo=utc)
    end = dt.datetime(around.year + 2, 1, 1, tzinfo=utc)
    changes: list[tuple[dt.datetime, int]] = []  # (from this instant, offset seconds)

    def offset(moment: dt.datetime) -> int:
        return int(moment.astimezone(zone).utcoffset().total_seconds())

    moment, current = start, offset(start)
    first = current
    step = dt.timedelta(days=7)
    while moment < end:
        following = moment + step
        if offset(following) != current:
            low, high = moment, following  # bisect to the minute
            while high - low > dt.timedelta(minutes=1):
                middle = low + (high - low) / 2
                if offset(middle) == current:
                    low = middle
                else:
                    high = middle
            current = offset(high)
            changes.append((high.replace(second=0, microsecond=0), current))
        moment = following
    params: list = []
    whens = []
    previous = first
    for instant, seconds in changes:
        whens.append(f"WHEN {column} < %s THEN %s")
        params += [instant.strftime("%Y-%m-%d %H:%M:%S"), f"{previous:+d} seconds"]
        previous = seconds
    params.append(f"{previous:+d} seconds")
    modifier = f"CASE {' '.join(whens)} ELSE %s END" if whens else "%s"
    return f"date({column}, {modifier})", params
