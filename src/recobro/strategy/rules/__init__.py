"""The segment rule language: a small, safe expression language over case facts.

    dpd between 1 and 30 and balance >= 5000
    product in ("tarjeta", "prestamo") and broken_promises_90d >= 2
    attr.region == "Norte" or score < 0.3

``parse`` turns text into a ``Rule`` (or raises ``RuleError`` with the position and the
reason); ``to_sql`` compiles it to a SQL boolean expression with bound parameters for the
cycle; ``evaluate`` and ``trace`` run it in Python for previews and the "explain" panel.
Both sides follow SQL's three-valued logic and agree on every case (tests/strategy/
test_rules_property.py). Nothing evaluates, executes or pastes user text.

The facts a rule may name are in ``facts.CATALOGUE``; see ``parser`` for the grammar.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError

from .errors import RuleError
from .evaluator import TraceItem, trace_items, value_of
from .facts import ATTRIBUTES_KEY, CATALOGUE, FACTS, Fact, FactType, get_fact, help_entries
from .nodes import Node, conditions
from .parser import MAX_DEPTH, MAX_LENGTH, parse_node
from .sql import columns_from, compile_node

__all__ = [
    "ATTRIBUTES_KEY",
    "CATALOGUE",
    "FACTS",
    "MAX_DEPTH",
    "MAX_LENGTH",
    "Fact",
    "FactType",
    "Rule",
    "RuleError",
    "TraceItem",
    "columns_from",
    "evaluate",
    "get_fact",
    "help_entries",
    "parse",
    "rule_validator",
    "to_sql",
    "trace",
    "truth",
    "validate",
]


@dataclass(frozen=True)
class Rule:
    """A parsed rule: its text, its tree, and the facts it reads."""

    text: str = field(compare=False)
    node: Node
    #: Names of the facts the rule reads, custom attributes included ("attr.region").
    facts: frozenset[str] = field(compare=False)
    #: Names of the custom attributes the rule reads ("region").
    attributes: frozenset[str] = field(compare=False)

    def __str__(self) -> str:
        """The normalised form: lower-case keywords, double quotes, minimal parentheses."""
        return str(self.node)

    def describe(self) -> str:
        return str(self.node)


def parse(text: str) -> Rule:
    """Parse ``text`` into a Rule; raises RuleError saying what is wrong and where."""
    node = parse_node(text)
    leaves = list(conditions(node))
    return Rule(
        text=text,
        node=node,
        facts=frozenset(leaf.fact.name for leaf in leaves),
        attributes=frozenset(leaf.fact.fact.attribute for leaf in leaves if leaf.fact.fact.attribute),
    )


def _rule(rule: Rule | str) -> Rule:
    return rule if isinstance(rule, Rule) else parse(rule)


def validate(text: str) -> None:
    """Raise RuleError if ``text`` is not a valid rule."""
    parse(text)


def rule_validator(value: str) -> None:
    """A Django field validator: a ValidationError with the position and the reason."""
    try:
        parse(value)
    except RuleError as error:
        raise ValidationError(
            error.message,
            code="invalid_rule",
        ) from error


def to_sql(rule: Rule | str, columns: Callable[[str], str], *, vendor: str) -> tuple[str, list]:
    """The rule as a parenthesised SQL boolean expression and its parameters.

    ``columns(name)`` gives the SQL expression of a fact in the engine's facts table (e.g.
    "f.dpd"), and for custom attributes ``columns("attr")`` the JSON column. Placeholders are
    ``%s`` (Django cursors); the expression fits ``WHERE`` and ``CASE WHEN … THEN``, and is
    true exactly when ``evaluate`` is (null and false both mean "does not match").
    ``vendor`` is ``connection.vendor``: "postgresql" or "sqlite".
    """
    return compile_node(_rule(rule).node, columns, vendor)


def evaluate(rule: Rule | str, facts: Mapping[str, Any]) -> bool:
    """Whether the rule is true for a case. ``facts`` maps fact names to values (custom
    attributes as a dict under "attr"); an unknown result (a null fact) is False."""
    return value_of(_rule(rule).node, facts) is True


def truth(rule: Rule | str, facts: Mapping[str, Any]) -> bool | None:
    """The rule's three-valued result: True, False or None (unknown)."""
    return value_of(_rule(rule).node, facts)


def trace(rule: Rule | str, facts: Mapping[str, Any]) -> list[TraceItem]:
    """Each leaf condition with the case's value and its result, in text order, e.g.
    ``str(item)`` == "dpd between 1 and 30: dpd is 45 → no"."""
    return trace_items(conditions(_rule(rule).node), facts)
