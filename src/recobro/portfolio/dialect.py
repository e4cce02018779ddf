"""The few SQL spellings that differ between SQLite and PostgreSQL, for the ledger engines.

Everything else the engines write is portable SQL (window functions, ``ON CONFLICT``,
``UPDATE … FROM``: SQLite ≥ 3.33 and PostgreSQL both have them). Money crosses SQL as
integer cents (``cents``) wherever it is summed, because SQLite sums decimals as floats.
"""

import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from django.db import connection


def is_postgresql() -> bool:
    return connection.vendor == "postgresql"


def id_in(column: str, ids: Iterable[int]) -> tuple[str, list]:
    """``column`` is one of ``ids``, with a single parameter however many ids there are."""
    ids = sorted({int(i) for i in ids})
    if is_postgresql():
        # Typed bigint[]: psycopg may type a list of small ints as smallint[], and a cross-type
        # ANY is searched element by element for every row instead of through a hash.
        return f"{column} = ANY(CAST(%s AS BIGINT[]))", [ids]
    return f"{column} IN (SELECT value FROM json_each(%s))", [json.dumps(ids)]


def days_between(later: str, earlier: str) -> str:
    """Whole days from the date expression ``earlier`` to ``later`` (negative if before)."""
    if is_postgresql():
        return f"({later} - {earlier})"
    return f"CAST(julianday({later}) - julianday({earlier}) AS INTEGER)"


def date_param() -> str:
    return "CAST(%s AS date)" if is_postgresql() else "%s"


def least(a: str, b: str) -> str:
    return f"LEAST({a}, {b})" if is_postgresql() else f"MIN({a}, {b})"


def greatest(a: str, b: str) -> str:
    return f"GREATEST({a}, {b})" if is_postgresql() else f"MAX({a}, {b})"


def is_distinct(a: str, b: str) -> str:
    """Null-safe inequality."""
    return f"{a} IS DISTINCT FROM {b}" if is_postgresql() else f"{a} IS NOT {b}"


def cents(expr: str) -> str:
    """A money expression as an exact integer number of cents."""
    return f"CAST(ROUND({expr} * 100) AS BIGINT)"


def money(cents_expr: str) -> str:
    """Integer cents back to a money value for a decimal(18, 2) column."""
    if is_postgresql():
        return f"CAST(({cents_expr}) / 100.0 AS NUMERIC(18, 2))"
    return f"(({cents_expr}) / 100.0)"


def money_text(expr: str) -> str:
    """A money value as text with two decimals, as the audit log stores Decimals ("12.30")."""
    if is_postgresql():
        return f"CAST(CAST({expr} AS NUMERIC(18, 2)) AS TEXT)"
    return f"printf('%%.2f', {expr})"


def text(expr: str) -> str:
    return f"CAST({expr} AS TEXT)"


def concat(*parts: str) -> str:
    return " || ".join(parts)


def json_object(pairs: dict[str, str]) -> str:
    """A JSON object from SQL expressions; keys are trusted identifiers from our code."""
    fn = "jsonb_build_object" if is_postgresql() else "json_object"
    inner = ", ".join(f"'{key}', {value}" for key, value in pairs.items())
    return f"{fn}({inner})"


def merge_patch(target: str, patch: str) -> str:
    """The JSON object ``target`` with the flat merge patch ``patch`` (RFC 7396) applied: the
    patch's keys with text are set, its keys with null removed, every other key kept."""
    if is_postgresql():
        base = f"(CASE WHEN jsonb_typeof({target}) = 'object' THEN {target} ELSE CAST('{{}}' AS jsonb) END)"
        removed = f"ARRAY(SELECT key FROM jsonb_each({patch}) WHERE value = 'null')"
        return f"(({base} - {removed}) || jsonb_strip_nulls({patch}))"
    return f"json_patch(COALESCE({target}, '{{}}'), {patch})"


def patch_changes(target: str, patch: str) -> str:
    """Whether applying the flat merge patch ``patch`` would change the JSON object ``target``.

    Compared key by key (SQLite keeps JSON as text, and the same object may be spelt two
    ways): a key the patch sets differs unless ``target`` holds that very text; a key the
    patch removes differs when ``target`` has it."""
    if is_postgresql():
        return f"{merge_patch(target, patch)} IS DISTINCT FROM {target}"
    path = "'$.\"' || p.key || '\"'"
    return (
        f"EXISTS (SELECT 1 FROM json_each({patch}) p WHERE CASE WHEN p.type = 'null'"
        f" THEN json_type({target}, {path}) IS NOT NULL"
        f" ELSE json_type({target}, {path}) IS NOT 'text'"
        f" OR json_extract({target}, {path}) IS NOT p.value END)"
    )


def json_value(expr: str) -> str:
    """A JSON column as a value inside ``json_object`` (SQLite stores JSON as text)."""
    return expr if is_postgresql() else f"json({expr})"


def temp_table(name: str, columns: str) -> list[str]:
    """Statements that (re)create a scratch table private to this connection and transaction."""
    if is_postgresql():
        return [f"DROP TABLE IF EXISTS {name}", f"CREATE TEMP TABLE {name} ({columns}) ON COMMIT DROP"]
    return [f"DROP TABLE IF EXISTS temp.{name}", f"CREATE TEMP TABLE {name} ({columns})"]


def create_temp_table_as(name: str) -> str:
    """The head of ``CREATE TEMP TABLE name AS <select>`` (dropped at commit on PostgreSQL)."""
    if is_postgresql():
        return f"CREATE TEMP TABLE {name} ON COMMIT DROP AS"
    return f"CREATE TEMP TABLE {name} AS"


def drop_temp_table(name: str) -> str:
    return f"DROP TABLE IF EXISTS {name}" if is_postgresql() else f"DROP TABLE IF EXISTS temp.{name}"


#: Settings for big set-based statements on PostgreSQL: JIT compilation costs ~1 s per
#: statement and buys nothing here; the default 4 MB work_mem makes aggregates spill to disk.
BULK_SETTINGS = {"jit": "off", "work_mem": "64MB"}


@contextmanager
def bulk_settings(cursor, enabled: bool = True) -> Iterator[None]:
    """On PostgreSQL, apply ``BULK_SETTINGS`` inside the current transaction for the block,
    then put the previous values back (so a caller's transaction is left as it was). On an
    error the transaction or savepoint is rolled back, and that undoes them anyway."""
    if not (enabled and is_postgresql()):
        yield
        return
    names = list(BULK_SETTINGS)
    reads = ", ".join("current_setting(%s)" for _ in names)
    sets = ", ".join("set_config(%s, %s, true)" for _ in names)
    # One statement: the target list is evaluated left to right, old values first.
    cursor.execute(f"SELECT {reads}, {sets}", [*names, *(x for n in names for x in (n, BULK_SETTINGS[n]))])
    previous = cursor.fetchone()[: len(names)]
    yield
    cursor.execute(f"SELECT {sets}", [x for pair in zip(names, previous, strict=True) for x in pair])
