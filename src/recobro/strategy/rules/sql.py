"""Compiling a rule to a SQL boolean expression for the cycle (SQLite and PostgreSQL).

Every literal becomes a bound ``%s`` parameter: no user text is ever pasted into SQL. The
fact columns come from the caller (the cycle engine owns its facts table). SQL's own
three-valued logic then gives exactly the evaluator's answers:

- comparisons, ``BETWEEN`` and ``IN`` with a null fact are null (unknown), ``NOT`` keeps
  unknown unknown, ``AND``/``OR`` are Kleene's;
- numbers: on PostgreSQL decimals are bound as ``Decimal`` (exact ``numeric``); SQLite
  stores and compares decimals as doubles, so they are bound as ``float`` — exact here
  because literals keep at most 15 significant digits (see ``parser.MAX_DIGITS``);
- true/false facts are booleans on PostgreSQL and 0/1 on SQLite: both compare with a bound
  Python bool (sqlite3 binds it as 0/1);
- ``attr.<name>``: only a JSON string is a value, anything else (absent, JSON null, numbers,
  booleans, lists, objects) is null, because the two databases disagree on how to print
  non-strings as text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from decimal import Decimal

from .facts import Fact
from .nodes import And, Between, Compare, FactRef, InList, IsNull, Literal, Node, Not, Or, Truth

VENDORS = ("postgresql", "sqlite")
_SQL_OPERATORS = {"==": "=", "!=": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
_SIMPLE_COLUMN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")


def columns_from(mapping: Mapping[str, str]) -> Callable[[str], str]:
    """A ``columns`` callable for ``to_sql`` from a dict fact name → SQL expression
    (``"attr"`` → the JSON column of custom attributes); a fact it lacks is a clear KeyError."""

    def columns(name: str) -> str:
        try:
            return mapping[name]
        except KeyError:
            raise KeyError(f"no SQL column for the fact {name!r} in the engine's facts table") from None

    return columns


class _Compiler:
    def __init__(self, columns: Callable[[str], str], vendor: str):
        if vendor not in VENDORS:
            raise ValueError(f"rules compile to SQL for {', '.join(VENDORS)}, not {vendor!r}")
        self.columns = columns
        self.vendor = vendor
        self.params: list = []

    def column(self, ref: FactRef) -> str:
        fact: Fact = ref.fact
        expression = self.columns(fact.column_key)
        if not _SIMPLE_COLUMN.fullmatch(expression):
            expression = f"({expression})"
        if fact.attribute is None:
            return expression
        if self.vendor == "postgresql":
            # CAST AS jsonb is free on a jsonb column and makes a json column work too; the key is
            # cast to text so that ->/->> never take it for an array index, however it is bound.
            self.params += [fact.attribute, fact.attribute]
            return (
                f"(CASE WHEN jsonb_typeof(CAST({expression} AS jsonb) -> CAST(%s AS text)) = 'string' "
                f"THEN CAST({expression} AS jsonb) ->> CAST(%s AS text) END)"
            )
        path = f'$."{fact.attribute}"'
        self.params += [path, path]
        return f"(CASE WHEN json_type({expression}, %s) = 'text' THEN json_extract({expression}, %s) END)"

    def literal(self, literal: Literal) -> str:
        value = literal.value
        if isinstance(value, Decimal) and self.vendor == "sqlite":
            value = float(value)
        self.params.append(value)
        return "%s"

    def compile(self, node: Node) -> str:
        if isinstance(node, And):
            return " AND ".join(f"({self.compile(o)})" for o in node.operands)
        if isinstance(node, Or):
            return " OR ".join(f"({self.compile(o)})" for o in node.operands)
        if isinstance(node, Not):
            return f"NOT ({self.compile(node.operand)})"
        column = self.column(node.fact)
        if isinstance(node, Compare):
            return f"{column} {_SQL_OPERATORS[node.op]} {self.literal(node.value)}"
        if isinstance(node, Between):
            keyword = "NOT BETWEEN" if node.negated else "BETWEEN"
            return f"{column} {keyword} {self.literal(node.low)} AND {self.literal(node.high)}"
        if isinstance(node, InList):
            keyword = "NOT IN" if node.negated else "IN"
            return f"{column} {keyword} ({', '.join(self.literal(v) for v in node.values)})"
        if isinstance(node, IsNull):
            return f"{column} IS NOT NULL" if node.negated else f"{column} IS NULL"
        if isinstance(node, Truth):
            self.params.append(True)
            return f"{column} = %s"
        raise TypeError(f"not a rule node: {node!r}")


def compile_node(node: Node, columns: Callable[[str], str], vendor: str) -> tuple[str, list]:
    compiler = _Compiler(columns, vendor)
    sql = compiler.compile(node)
    return f"({sql})", compiler.params
