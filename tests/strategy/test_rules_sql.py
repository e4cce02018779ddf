"""Rules compiled to SQL select exactly the cases the Python evaluator accepts.

A scratch TEMP table holds one column per fact plus a JSON column of custom attributes,
typed as the cycle engine's facts table will be (integers, decimal money, text, booleans
that are 0/1 on SQLite). It is created inside the test's transaction, so it disappears
with the rollback on both SQLite and PostgreSQL.
"""

import json
from collections import Counter
from decimal import Decimal

import pytest
from django.db import connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from recobro.strategy.rules import CATALOGUE, FactType, columns_from, evaluate, get_fact, parse, to_sql
from recobro.strategy.rules.nodes import (
    And,
    Between,
    Compare,
    FactRef,
    InList,
    IsNull,
    Literal,
    Not,
    Or,
    Truth,
)

TABLE = "rules_scratch"
FACT_NAMES = [fact.name for fact in CATALOGUE]
COLUMNS = columns_from({**{name: f"f.{name}" for name in FACT_NAMES}, "attr": "f.attributes"})


def sql_type(fact) -> str:
    postgres = connection.vendor == "postgresql"
    if fact.type is FactType.INT:
        return "integer"
    if fact.type is FactType.DECIMAL:
        return "numeric(18, 2)" if fact.places == 2 else "numeric(5, 4)"
    if fact.type is FactType.TEXT:
        return "varchar(200)"
    return "boolean" if postgres else "bool"


def create_scratch_table() -> None:
    json_type = "jsonb" if connection.vendor == "postgresql" else "text"
    columns = ", ".join(f"{fact.name} {sql_type(fact)}" for fact in CATALOGUE)
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMP TABLE {TABLE} (id integer PRIMARY KEY, {columns}, attributes {json_type})"
        )


def load_rows(rows: list[dict]) -> None:
    names = ", ".join(FACT_NAMES)
    placeholders = ", ".join(["%s"] * len(FACT_NAMES))
    json_param = "CAST(%s AS jsonb)" if connection.vendor == "postgresql" else "%s"
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {TABLE}")
        cursor.executemany(
            f"INSERT INTO {TABLE} (id, {names}, attributes) VALUES (%s, {placeholders}, {json_param})",
            [
                [
                    number,
                    *(row[name] for name in FACT_NAMES),
                    None if row["attr"] is None else json.dumps(row["attr"]),
                ]
                for number, row in enumerate(rows, start=1)
            ],
        )


def select_ids(rule) -> list[int]:
    sql, params = to_sql(rule, COLUMNS, vendor=connection.vendor)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id FROM {TABLE} AS f WHERE {sql} ORDER BY id", params)
        return [row[0] for row in cursor.fetchall()]


def python_ids(rule, rows: list[dict]) -> list[int]:
    return [number for number, row in enumerate(rows, start=1) if evaluate(rule, row)]


def blank_row(**facts) -> dict:
    row = dict.fromkeys(FACT_NAMES)
    row["attr"] = None
    row.update(facts)
    return row


HAND_ROWS = [
    blank_row(
        dpd=1, balance=Decimal("5000.00"), product="tarjeta", broken_promises_90d=2, attr={"region": "Norte"}
    ),
    blank_row(
        dpd=30, balance=Decimal("4999.99"), product="prestamo", broken_promises_90d=1, score=Decimal("0.2999")
    ),
    blank_row(
        dpd=31, balance=Decimal("9000.50"), product="Tarjeta", broken_promises_90d=5, attr={"region": "norte"}
    ),
    blank_row(
        dpd=0, balance=Decimal("5000.01"), product="hipoteca", score=Decimal("0.3"), attr={"region": 7}
    ),
    blank_row(dpd=15, balance=Decimal("12000"), product="prestamo", broken_promises_90d=2, attr={}),
    blank_row(),
]


@pytest.fixture
def scratch(db):
    create_scratch_table()
    load_rows(HAND_ROWS)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("dpd between 1 and 30 and balance >= 5000", [1, 5]),
        ('product in ("tarjeta", "prestamo") and broken_promises_90d >= 2', [1, 5]),
        ('attr.region == "Norte" or score < 0.3', [1, 2]),
        ("not dpd between 1 and 30", [3, 4]),
        ("balance > 5000", [3, 4, 5]),
        ("balance == 5000", [1]),
        ("score is null", [1, 3, 5, 6]),
        ("attr.region is null", [2, 4, 5, 6]),
        ("attr.region != 'Norte'", [3]),
        ("product not in ('prestamo')", [1, 3, 4]),
        ("not product in ('prestamo')", [1, 3, 4]),
    ],
)
def test_hand_cases_select_the_same_rows_in_sql_and_python(scratch, text, expected):
    rule = parse(text)
    assert python_ids(rule, HAND_ROWS) == expected
    assert select_ids(rule) == expected


def test_the_expression_works_inside_case_when(scratch):
    sql, params = to_sql("dpd between 1 and 30 and balance >= 5000", COLUMNS, vendor=connection.vendor)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, CASE WHEN {sql} THEN 1 ELSE 0 END FROM {TABLE} AS f ORDER BY id", params)
        assert cursor.fetchall() == [(1, 1), (2, 0), (3, 0), (4, 0), (5, 1), (6, 0)]


def test_every_literal_is_a_bound_parameter(scratch):
    hostile = "x'); DROP TABLE rules_scratch; --"
    sql, params = to_sql(
        f'region == "{hostile}" or attr.zone in ("%s", "100%")', COLUMNS, vendor=connection.vendor
    )
    assert hostile not in sql
    assert "100%" not in sql
    assert hostile in params
    assert "100%" in params
    load_rows([blank_row(region=hostile), blank_row(attr={"zone": "100%"}), blank_row(attr={"zone": "%s"})])
    assert select_ids(parse(f'region == "{hostile}" or attr.zone in ("%s", "100%")')) == [1, 2, 3]
    assert select_ids(parse("""region == "' OR 1=1 --" """)) == []
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {TABLE}")
        assert cursor.fetchone()[0] == 3


def test_column_expressions_are_parenthesised_and_missing_columns_are_named():
    sql, params = to_sql("dpd > 1", lambda name: "a.dpd + 0", vendor="postgresql")
    assert sql == "((a.dpd + 0) > %s)"
    assert params == [1]
    with pytest.raises(KeyError, match="no SQL column for the fact 'score'"):
        to_sql("score > 0.1", columns_from({"dpd": "f.dpd"}), vendor="sqlite")
    with pytest.raises(ValueError, match="not 'mysql'"):
        to_sql("dpd > 1", COLUMNS, vendor="mysql")


def test_decimals_are_exact_on_postgresql_and_doubles_on_sqlite():
    _sql, params = to_sql("score < 0.3 and dpd > 2", COLUMNS, vendor="postgresql")
    assert params == [Decimal("0.3"), 2]
    assert isinstance(params[0], Decimal)
    _sql, params = to_sql("score < 0.3 and dpd > 2", COLUMNS, vendor="sqlite")
    assert params == [0.3, 2]
    assert isinstance(params[0], float)


# --- the property: SQL and Python agree on random rules over random cases ---------------------

TEXTS = [
    "Norte",
    "Sur",
    "Bogotá",
    "it's",
    'say "hi"',
    "back\\slash",
    "",
    "1-30",
    "tarjeta",
    "100%",
    "🎉",
    "ÅNGSTRÖM",
]
ATTRIBUTE_NAMES = ["region", "tier", "zone"]

texts = st.sampled_from(TEXTS) | st.text(alphabet="aAáb'\"\\% ñ", max_size=4)
ints = st.integers(-40, 120)
money = st.integers(-200_000, 2_000_000).map(lambda cents: Decimal(cents).scaleb(-2))
scores = st.integers(0, 10_000).map(lambda n: Decimal(n).scaleb(-4))
attribute_values = (
    texts
    | st.integers(-5, 5)
    | st.booleans()
    | st.none()
    | st.just(1.5)
    | st.just(["a"])
    | st.just({"a": "b"})
)


def value_strategy(fact):
    if fact.type is FactType.INT:
        return ints
    if fact.type is FactType.DECIMAL:
        return money if fact.places == 2 else scores
    if fact.type is FactType.TEXT:
        return texts
    return st.booleans()


def row_strategy():
    # A fact is null about one time in four.
    fields = {
        fact.name: st.none() | value_strategy(fact) | value_strategy(fact) | value_strategy(fact)
        for fact in CATALOGUE
    }
    fields["attr"] = st.none() | st.dictionaries(
        st.sampled_from(ATTRIBUTE_NAMES), attribute_values, max_size=3
    )
    return st.fixed_dictionaries(fields)


def literal_strategy(fact):
    if fact.type is FactType.INT:
        return ints | st.integers(-400, 1200).map(lambda n: Decimal(n).scaleb(-1))
    if fact.type is FactType.DECIMAL:
        if fact.places == 2:
            return money | st.integers(-200_000, 2_000_000).map(lambda n: Decimal(n).scaleb(-3)) | ints
        return scores | st.sampled_from([Decimal("0.3"), Decimal("0.5"), 0, 1])
    if fact.type is FactType.TEXT:
        return texts
    return st.booleans()


@st.composite
def conditions(draw):
    name = draw(st.sampled_from([*FACT_NAMES, *(f"attr.{a}" for a in ATTRIBUTE_NAMES)]))
    fact = get_fact(name)
    ref = FactRef(fact, name)
    literal = literal_strategy(fact).map(Literal)
    kinds = ["compare", "in", "is_null"]
    if fact.type.is_numeric:
        kinds.append("between")
    if fact.type is FactType.BOOL:
        kinds.append("truth")
    kind = draw(st.sampled_from(kinds))
    if kind == "compare":
        operators = (
            ["==", "!="]
            if fact.type in (FactType.TEXT, FactType.BOOL)
            else ["==", "!=", "<", "<=", ">", ">="]
        )
        return Compare(ref, draw(st.sampled_from(operators)), draw(literal))
    if kind == "between":
        return Between(ref, draw(literal), draw(literal), draw(st.booleans()))
    if kind == "in":
        return InList(ref, tuple(draw(st.lists(literal, min_size=1, max_size=4))), draw(st.booleans()))
    if kind == "is_null":
        return IsNull(ref, draw(st.booleans()))
    return Truth(ref)


rules = st.recursive(
    conditions(),
    lambda children: (
        children.map(Not)
        | st.lists(children, min_size=2, max_size=4).map(lambda xs: And(tuple(xs)))
        | st.lists(children, min_size=2, max_size=4).map(lambda xs: Or(tuple(xs)))
    ),
    max_leaves=10,
)


def test_sql_and_python_agree_on_random_rules_and_cases(db):
    create_scratch_table()
    outcomes = Counter()

    @settings(
        max_examples=200,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        database=None,
    )
    @given(
        rows=st.lists(row_strategy(), min_size=5, max_size=30), nodes=st.lists(rules, min_size=1, max_size=5)
    )
    def sql_agrees_with_python(rows, nodes):
        with transaction.atomic():
            load_rows(rows)
            for node in nodes:
                rule = parse(str(node))
                assert rule.node == node, str(node)
                expected = python_ids(rule, rows)
                assert select_ids(rule) == expected, str(rule)
                outcomes["none" if not expected else "all" if len(expected) == len(rows) else "some"] += 1

    sql_agrees_with_python()
    print(outcomes)
