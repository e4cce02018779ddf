"""Evaluating a rule in Python, for previews and the "explain" panel.

The evaluator follows SQL's three-valued (Kleene) logic exactly, so that it agrees with
``to_sql`` on every case: a comparison with a null fact is unknown (None), ``not unknown`` is
unknown, ``false and unknown`` is false, ``true or unknown`` is true, and a rule matches a
case only when its value is true.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from .facts import ATTRIBUTES_KEY, FactType
from .nodes import (
    And,
    Between,
    Compare,
    FactRef,
    InList,
    IsNull,
    Literal,
    Node,
    Not,
    Or,
    Truth,
    Value,
    format_value,
)

Tri = bool | None


def fact_value(ref: FactRef, facts: Mapping[str, Any]) -> Value | None:
    """The case's value of the fact ``ref``, normalised: numbers as Decimal, true/false as bool.

    Raises KeyError when ``facts`` lacks the fact (or the "attr" dict for an attribute) and
    TypeError when the value has the wrong type: a preview must pass every fact the rule uses.
    """
    fact = ref.fact
    if fact.attribute is not None:
        if ATTRIBUTES_KEY not in facts:
            raise KeyError(f"the facts have no {ATTRIBUTES_KEY!r} dict for {ref.name}")
        attributes = facts[ATTRIBUTES_KEY]
        if not isinstance(attributes, Mapping):
            return None
        value = attributes.get(fact.attribute)
        # Only JSON strings are attribute values: numbers, booleans, lists read as null, as in SQL.
        return value if isinstance(value, str) else None
    if ref.name not in facts:
        raise KeyError(f"the facts have no {ref.name!r}")
    value = facts[ref.name]
    if value is None:
        return None
    if fact.type.is_numeric:
        if isinstance(value, bool):
            raise TypeError(f"{ref.name} is a number, got {value!r}")
        if isinstance(value, int | Decimal):
            return Decimal(value)
        if isinstance(value, float):
            # A number read back from SQLite: its shortest repr is the decimal that was stored.
            return Decimal(repr(value))
        raise TypeError(f"{ref.name} is a number, got {type(value).__name__} {value!r}")
    if fact.type is FactType.TEXT:
        if not isinstance(value, str):
            raise TypeError(f"{ref.name} is text, got {type(value).__name__} {value!r}")
        return value
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):  # SQLite's booleans
        return bool(value)
    raise TypeError(f"{ref.name} is true or false, got {value!r}")


def _literal(literal: Literal) -> Value:
    value = literal.value
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    return value


def _compare(op: str, left, right) -> bool:
    if op == "==":
        return left == right
    if op == "!=":
        return left != right
    if op == "<":
        return left < right
    if op == "<=":
        return left <= right
    if op == ">":
        return left > right
    return left >= right


def _negate(value: Tri) -> Tri:
    return None if value is None else not value


def condition_value(node, value: Value | None) -> Tri:
    """The truth of one leaf condition for the fact's value ``value`` (already normalised)."""
    if isinstance(node, IsNull):
        return (value is not None) if node.negated else (value is None)
    if value is None:
        return None
    if isinstance(node, Compare):
        return _compare(node.op, value, _literal(node.value))
    if isinstance(node, Between):
        inside = _literal(node.low) <= value <= _literal(node.high)
        return not inside if node.negated else inside
    if isinstance(node, InList):
        found = any(value == _literal(v) for v in node.values)
        return not found if node.negated else found
    if isinstance(node, Truth):
        return value is True
    raise TypeError(f"not a condition: {node!r}")


def value_of(node: Node, facts: Mapping[str, Any]) -> Tri:
    """True, False or None (unknown) for ``node`` on the case ``facts``."""
    if isinstance(node, And):
        result: Tri = True
        for operand in node.operands:
            value = value_of(operand, facts)
            if value is False:
                return False
            if value is None:
                result = None
        return result
    if isinstance(node, Or):
        result = False
        for operand in node.operands:
            value = value_of(operand, facts)
            if value is True:
                return True
            if value is None:
                result = None
        return result
    if isinstance(node, Not):
        return _negate(value_of(node.operand, facts))
    return condition_value(node, fact_value(node.fact, facts))


def format_case_value(value: Value | None) -> str:
    if value is None:
        return _("empty")
    return format_value(value)


def format_result(result: Tri) -> str:
    if result is None:
        return _("unknown")
    return _("yes") if result else _("no")


@dataclass(frozen=True)
class TraceItem:
    """One leaf condition of a rule as evaluated on one case."""

    condition: str  # normalised text, e.g. "dpd between 1 and 30"
    fact: str
    operator: str  # "==", "!=", "<", "<=", ">", ">=", "between", "not between", "in", "not in", "is null", …
    literals: tuple[Value, ...]
    value: Value | None  # the case's value (None when empty)
    result: Tri  # True, False or None (unknown)
    position: int  # where the condition starts in the rule text

    def __str__(self) -> str:
        return _("%(condition)s: %(fact)s is %(value)s → %(result)s") % {
            "condition": self.condition,
            "fact": self.fact,
            "value": format_case_value(self.value),
            "result": format_result(self.result),
        }


def _operator(node) -> tuple[str, tuple[Value, ...]]:
    if isinstance(node, Compare):
        return node.op, (node.value.value,)
    if isinstance(node, Between):
        return ("not between" if node.negated else "between"), (node.low.value, node.high.value)
    if isinstance(node, InList):
        return ("not in" if node.negated else "in"), tuple(v.value for v in node.values)
    if isinstance(node, IsNull):
        return ("is not null" if node.negated else "is null"), ()
    return "is true", ()


def trace_items(leaves, facts: Mapping[str, Any]) -> list[TraceItem]:
    items = []
    for node in leaves:
        value = fact_value(node.fact, facts)
        operator, literals = _operator(node)
        items.append(
            TraceItem(
                condition=str(node),
                fact=node.fact.name,
                operator=operator,
                literals=literals,
                value=value,
                result=condition_value(node, value),
                position=node.fact.position,
            )
        )
    return items
