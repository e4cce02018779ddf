"""The rule's syntax tree: small frozen dataclasses.

Positions (0-based character offsets into the rule text) are kept for messages and traces
but take no part in equality, so a rule and its normalised text parse to equal trees.
``str(node)`` prints the normalised form: lower-case keywords, double-quoted strings and
only the parentheses the precedence (``not`` > ``and`` > ``or``) needs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from .facts import Fact

Value = int | Decimal | str | bool

COMPARISON_OPERATORS = ("==", "!=", "<", "<=", ">", ">=")
ORDERING_OPERATORS = ("<", "<=", ">", ">=")

_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r"}


def format_value(value: Value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + "".join(_ESCAPES.get(char, char) for char in value) + '"'
    if isinstance(value, Decimal):
        return format(value, "f")  # never exponent notation: 0.0000001, not 1E-7
    return str(value)


@dataclass(frozen=True)
class Literal:
    value: Value
    position: int = field(default=0, compare=False)

    def __str__(self) -> str:
        return format_value(self.value)


@dataclass(frozen=True)
class FactRef:
    fact: Fact = field(compare=False)
    name: str
    position: int = field(default=0, compare=False)

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class Compare:
    """``fact <op> value`` with op one of ``COMPARISON_OPERATORS``."""

    fact: FactRef
    op: str
    value: Literal

    def __str__(self) -> str:
        return f"{self.fact} {self.op} {self.value}"


@dataclass(frozen=True)
class Between:
    """``fact [not] between low and high`` (inclusive)."""

    fact: FactRef
    low: Literal
    high: Literal
    negated: bool = False

    def __str__(self) -> str:
        keyword = "not between" if self.negated else "between"
        return f"{self.fact} {keyword} {self.low} and {self.high}"


@dataclass(frozen=True)
class InList:
    """``fact [not] in (v1, v2, …)``."""

    fact: FactRef
    values: tuple[Literal, ...]
    negated: bool = False

    def __str__(self) -> str:
        keyword = "not in" if self.negated else "in"
        return f"{self.fact} {keyword} ({', '.join(str(v) for v in self.values)})"


@dataclass(frozen=True)
class IsNull:
    """``fact is [not] null``."""

    fact: FactRef
    negated: bool = False

    def __str__(self) -> str:
        return f"{self.fact} is not null" if self.negated else f"{self.fact} is null"


@dataclass(frozen=True)
class Truth:
    """A true/false fact standing alone as a condition: ``active_plan``."""

    fact: FactRef

    def __str__(self) -> str:
        return str(self.fact)


@dataclass(frozen=True)
class Not:
    operand: Node
    position: int = field(default=0, compare=False)

    def __str__(self) -> str:
        operand = self.operand
        inner = f"({operand})" if isinstance(operand, And | Or) else str(operand)
        return f"not {inner}"


@dataclass(frozen=True)
class And:
    operands: tuple[Node, ...]

    def __str__(self) -> str:
        return " and ".join(f"({o})" if isinstance(o, And | Or) else str(o) for o in self.operands)


@dataclass(frozen=True)
class Or:
    operands: tuple[Node, ...]

    def __str__(self) -> str:
        return " or ".join(f"({o})" if isinstance(o, Or) else str(o) for o in self.operands)


Condition = Compare | Between | InList | IsNull | Truth
Node = Condition | Not | And | Or
CONDITIONS = (Compare, Between, InList, IsNull, Truth)


def conditions(node: Node):
    """The leaf conditions of ``node``, in the order they appear in the text."""
    if isinstance(node, Not):
        yield from conditions(node.operand)
    elif isinstance(node, And | Or):
        for operand in node.operands:
            yield from conditions(operand)
    else:
        yield node
