"""A hand-written tokenizer and recursive-descent parser for segment rules.

Grammar (keywords case-insensitive, fact names lower case)::

    rule       := or_expr
    or_expr    := and_expr ("or" and_expr)*
    and_expr   := not_expr ("and" not_expr)*
    not_expr   := "not" not_expr | "(" or_expr ")" | condition
    condition  := fact ("==" | "=" | "!=" | "<>" | "<" | "<=" | ">" | ">=") value
                | fact ["not"] "between" value "and" value
                | fact ["not"] "in" "(" value ("," value)* ")"
                | fact "is" ["not"] "null"
                | bool_fact
    value      := number | string | "true" | "false"
    number     := ["-"] digits ["." digits]          (at most 15 significant digits)
    string     := '"' … '"' | "'" … "'"              (escapes: \\ \" \' \n \t \r)

Nothing here evaluates or executes user text: the parser only builds a tree of dataclasses.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext as _

from .errors import RuleError
from .facts import ATTRIBUTE_PREFIX, ATTRIBUTES_KEY, FACTS, TYPE_LABELS, Fact, FactType, get_fact
from .nodes import (
    ORDERING_OPERATORS,
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
)

MAX_LENGTH = 2000
MAX_DEPTH = 50
#: Numbers keep at most 15 significant digits: every such decimal converts to a distinct
#: double, so SQLite (which compares numbers as doubles) orders them exactly as Decimal does.
MAX_DIGITS = 15

KEYWORDS = frozenset({"and", "or", "not", "between", "in", "is", "null", "true", "false"})
OPERATORS = {"==": "==", "=": "==", "!=": "!=", "<>": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
ESCAPES = {"\\": "\\", '"': '"', "'": "'", "n": "\n", "t": "\t", "r": "\r"}
HINTS = {"&": "and", "|": "or", "!": "not"}


@dataclass(frozen=True)
class Token:
    kind: str  # "name", "keyword", "number", "string", "op", "(", ")", ",", "end"
    text: str  # the source text of the token
    position: int
    value: object = None  # keyword: lower-case word; number: int | Decimal; string: str; op: canonical


def _shown(text: str) -> str:
    return text if len(text) <= 30 else text[:29] + "…"


DIGITS = frozenset("0123456789")


def _is_name_start(char: str) -> bool:
    # Any letter, so that "región" is read whole and answered "Did you mean 'region'?".
    return char.isalpha() or char == "_"


def _is_name_char(char: str) -> bool:
    return char.isalnum() or char in "_."


def _shown_char(char: str) -> str:
    return char if char.isprintable() else f"U+{ord(char):04X}"


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char.isspace():
            i += 1
            continue
        start = i
        if _is_name_start(char):
            while i < n and _is_name_char(text[i]):
                i += 1
            word = text[start:i]
            if word.lower() in KEYWORDS:
                tokens.append(Token("keyword", word, start, word.lower()))
            else:
                tokens.append(Token("name", word, start, word))
            continue
        if char in DIGITS or (char == "-" and i + 1 < n and text[i + 1] in DIGITS):
            tokens.append(_number(text, start))
            i = start + len(tokens[-1].text)
            continue
        if char in "\"'":
            token = _string(text, start)
            tokens.append(token)
            i = start + len(token.text)
            continue
        if char in "(),":
            tokens.append(Token(char, char, start))
            i += 1
            continue
        two = text[i : i + 2]
        if two in OPERATORS:
            tokens.append(Token("op", two, start, OPERATORS[two]))
            i += 2
            continue
        if char in OPERATORS:
            tokens.append(Token("op", char, start, OPERATORS[char]))
            i += 1
            continue
        if char in HINTS:
            raise RuleError(
                _("Unexpected character '%(char)s' %(where)s: write '%(keyword)s'."),
                text=text,
                position=start,
                char=char,
                keyword=HINTS[char],
            )
        raise RuleError(
            _("Unexpected character '%(char)s' %(where)s."), text=text, position=start, char=_shown_char(char)
        )
    tokens.append(Token("end", "", n))
    return tokens


def _number(text: str, start: int) -> Token:
    i, n = start, len(text)
    if text[i] == "-":
        i += 1
    while i < n and text[i] in DIGITS:
        i += 1
    is_decimal = False
    if i < n and text[i] == "." and i + 1 < n and text[i + 1] in DIGITS:
        is_decimal = True
        i += 1
        while i < n and text[i] in DIGITS:
            i += 1
    end = i
    while i < n and _is_name_char(text[i]):
        i += 1
    if i > end:
        raise RuleError(
            _(
                "Invalid number '%(number)s' %(where)s: write digits with an optional decimal point, "
                "e.g. 5000 or 0.3."
            ),
            text=text,
            position=start,
            number=_shown(text[start:i]),
        )
    source = text[start:end]
    digits = source.lstrip("-").replace(".", "").lstrip("0")
    if len(digits) > MAX_DIGITS:
        raise RuleError(
            _("The number %(number)s %(where)s has more than %(max)d significant digits."),
            text=text,
            position=start,
            number=_shown(source),
            max=MAX_DIGITS,
        )
    value = Decimal(source) if is_decimal else int(source)
    return Token("number", source, start, value)


def _string(text: str, start: int) -> Token:
    quote = text[start]
    chars: list[str] = []
    i, n = start + 1, len(text)
    while i < n:
        char = text[i]
        if char == quote:
            return Token("string", text[start : i + 1], start, "".join(chars))
        if char == "\\":
            if i + 1 >= n:
                break
            escaped = text[i + 1]
            if escaped not in ESCAPES:
                raise RuleError(
                    _("Unknown escape '\\%(char)s' in a string %(where)s."),
                    text=text,
                    position=i,
                    char=escaped,
                )
            chars.append(ESCAPES[escaped])
            i += 2
            continue
        if char == "\x00":
            raise RuleError(_("A string cannot contain a NUL character %(where)s."), text=text, position=i)
        chars.append(char)
        i += 1
    raise RuleError(_("Unclosed string starting %(where)s."), text=text, position=start)


def _describe(token: Token) -> str:
    """How a message names a token: 'and' or "the end of the rule"."""
    return _("the end of the rule") if token.kind == "end" else f"'{_shown(token.text)}'"


class Parser:
    def __init__(self, text: str):
        self.text = text
        self.tokens = tokenize(text)
        self.index = 0

    # -- helpers -------------------------------------------------------------------------
    @property
    def token(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        if token.kind != "end":
            self.index += 1
        return token

    def at_keyword(self, *words: str) -> bool:
        return self.token.kind == "keyword" and self.token.value in words

    def error(self, template: str, token: Token | None = None, **params) -> RuleError:
        token = token or self.token
        return RuleError(template, text=self.text, position=token.position, found=_describe(token), **params)

    # -- grammar -------------------------------------------------------------------------
    def parse(self) -> Node:
        if self.token.kind == "end":
            raise self.error(_("The rule is empty."))
        node = self.or_expr(0)
        if self.token.kind != "end":
            if self.token.kind == ")":
                raise self.error(_("Unexpected ')' %(where)s: there is no '(' to close."))
            raise self.error(
                _("Unexpected %(found)s %(where)s: expected 'and', 'or' or the end of the rule.")
            )
        return node

    def or_expr(self, depth: int) -> Node:
        operands = [self.and_expr(depth)]
        while self.at_keyword("or"):
            self.advance()
            operands.append(self.and_expr(depth))
        return operands[0] if len(operands) == 1 else Or(tuple(operands))

    def and_expr(self, depth: int) -> Node:
        operands = [self.not_expr(depth)]
        while self.at_keyword("and"):
            self.advance()
            operands.append(self.not_expr(depth))
        return operands[0] if len(operands) == 1 else And(tuple(operands))

    def not_expr(self, depth: int) -> Node:
        token = self.token
        if (token.kind == "keyword" and token.value == "not") or token.kind == "(":
            if depth >= MAX_DEPTH:
                raise self.error(
                    _(
                        "The rule is nested too deeply %(where)s: at most %(max)d levels of parentheses "
                        "and 'not'."
                    ),
                    max=MAX_DEPTH,
                )
            self.advance()
            if token.kind == "(":
                node = self.or_expr(depth + 1)
                if self.token.kind != ")":
                    if self.token.kind == "end":
                        raise self.error(_("Unclosed parenthesis opened %(where)s."), token)
                    raise self.error(_("Unexpected %(found)s %(where)s: expected 'and', 'or' or ')'."))
                self.advance()
                return node
            return Not(self.not_expr(depth + 1), position=token.position)
        return self.condition()

    def fact(self) -> FactRef:
        token = self.token
        if token.kind == "end":
            raise self.error(_("Expected a condition %(where)s, found the end of the rule."))
        if token.kind != "name":
            if token.kind in ("number", "string") or (
                token.kind == "keyword" and token.value in ("true", "false", "null")
            ):
                raise self.error(
                    _("Expected a fact name %(where)s, found %(found)s: write the fact first, e.g. dpd > 30.")
                )
            raise self.error(_("Unexpected %(found)s %(where)s: expected a condition."))
        name = token.text
        fact = get_fact(name)
        if fact is None:
            raise self._unknown_fact(token)
        self.advance()
        return FactRef(fact, name, token.position)

    def _unknown_fact(self, token: Token) -> RuleError:
        name = token.text
        if name == ATTRIBUTES_KEY or name.lower().startswith(ATTRIBUTE_PREFIX):
            return self.error(
                _(
                    "Invalid custom attribute '%(name)s' %(where)s: write attr.<name> with a lower-case "
                    "letter first, then lower-case letters, digits or '_' (at most 40)."
                ),
                token,
                name=_shown(name),
            )
        candidates = list(FACTS)
        suggestion = name.lower() if name.lower() in FACTS else None
        if suggestion is None:
            close = difflib.get_close_matches(name.lower(), candidates, n=1, cutoff=0.6)
            suggestion = close[0] if close else None
        if suggestion:
            return self.error(
                _("Unknown fact '%(name)s' %(where)s. Did you mean '%(suggestion)s'?"),
                token,
                name=_shown(name),
                suggestion=suggestion,
            )
        return self.error(_("Unknown fact '%(name)s' %(where)s."), token, name=_shown(name))

    def condition(self) -> Node:
        ref = self.fact()
        fact = ref.fact
        token = self.token
        if token.kind == "op":
            self.advance()
            op = token.value
            if op in ORDERING_OPERATORS and not fact.type.is_numeric:
                raise self.error(
                    _(
                        "'%(op)s' does not apply to %(fact)s %(where)s: %(fact)s is %(type)s; "
                        "compare it with ==, != or in, e.g. %(example)s."
                    ),
                    token,
                    op=token.text,
                    fact=ref.name,
                    type=_type_label(fact),
                    example=_example(ref),
                )
            return Compare(ref, op, self.value(ref, after=token))
        if self.at_keyword("not"):
            not_token = self.advance()
            if self.at_keyword("between"):
                return self.between(ref, negated=True)
            if self.at_keyword("in"):
                return self.in_list(ref, negated=True)
            raise self.error(
                _("Expected 'between' or 'in' after 'not' %(where)s, found %(found)s."), not_token
            )
        if self.at_keyword("between"):
            return self.between(ref, negated=False)
        if self.at_keyword("in"):
            return self.in_list(ref, negated=False)
        if self.at_keyword("is"):
            self.advance()
            negated = False
            if self.at_keyword("not"):
                self.advance()
                negated = True
            if not self.at_keyword("null"):
                raise self.error(_("Expected 'null' after 'is' %(where)s, found %(found)s."))
            self.advance()
            return IsNull(ref, negated)
        if fact.type is FactType.BOOL:
            return Truth(ref)
        if token.kind == "end":
            raise self.error(
                _("Expected a comparison %(where)s: %(fact)s is %(type)s, e.g. %(example)s."),
                fact=ref.name,
                type=_type_label(fact),
                example=_example(ref),
            )
        raise self.error(
            _(
                "Unexpected %(found)s %(where)s: %(fact)s is %(type)s; compare it with a value, e.g. "
                "%(example)s."
            ),
            fact=ref.name,
            type=_type_label(fact),
            example=_example(ref),
        )

    def between(self, ref: FactRef, *, negated: bool) -> Between:
        keyword = self.advance()
        if not ref.fact.type.is_numeric:
            raise self.error(
                _("'between' does not apply to %(fact)s %(where)s: %(fact)s is %(type)s; use ==, != or in."),
                keyword,
                fact=ref.name,
                type=_type_label(ref.fact),
            )
        low = self.value(ref, after=keyword)
        if not self.at_keyword("and"):
            raise self.error(
                _("Expected 'and' in '%(fact)s between … and …' %(where)s, found %(found)s."), fact=ref.name
            )
        and_token = self.advance()
        high = self.value(ref, after=and_token)
        return Between(ref, low, high, negated)

    def in_list(self, ref: FactRef, *, negated: bool) -> InList:
        self.advance()
        if self.token.kind != "(":
            raise self.error(
                _("Expected '(' after 'in' %(where)s, found %(found)s: write e.g. in (\"a\", \"b\").")
            )
        opening = self.advance()
        values = [self.value(ref, after=opening)]
        while self.token.kind == ",":
            comma = self.advance()
            values.append(self.value(ref, after=comma))
        if self.token.kind != ")":
            if self.token.kind == "end":
                raise self.error(_("Unclosed parenthesis opened %(where)s."), opening)
            raise self.error(_("Expected ',' or ')' %(where)s, found %(found)s."))
        self.advance()
        return InList(ref, tuple(values), negated)

    def value(self, ref: FactRef, *, after: Token) -> Literal:
        token = self.token
        fact = ref.fact
        if token.kind == "keyword" and token.value == "null":
            raise self.error(_("Use 'is null' or 'is not null' to test for an empty value %(where)s."))
        if token.kind in ("number", "string"):
            value = token.value
        elif token.kind == "keyword" and token.value in ("true", "false"):
            value = token.value == "true"
        else:
            raise self.error(
                _("Expected a value after '%(after)s' %(where)s, found %(found)s."), after=after.text
            )
        if fact.type.is_numeric and (isinstance(value, bool) or not isinstance(value, int | Decimal)):
            raise self.error(
                _("Expected a number %(where)s: %(fact)s is %(type)s, e.g. %(example)s."),
                fact=ref.name,
                type=_type_label(fact),
                example=_example(ref),
            )
        if fact.type is FactType.TEXT and not isinstance(value, str):
            raise self.error(
                _("Expected a quoted value %(where)s: %(fact)s is text, e.g. %(example)s."),
                fact=ref.name,
                example=_example(ref),
            )
        if fact.type is FactType.BOOL and not isinstance(value, bool):
            raise self.error(
                _("Expected true or false %(where)s: %(fact)s is true or false, e.g. %(example)s."),
                fact=ref.name,
                example=_example(ref),
            )
        self.advance()
        return Literal(value, token.position)


def _type_label(fact: Fact) -> str:
    return str(TYPE_LABELS[fact.type])


def _example(ref: FactRef) -> str:
    fact = ref.fact
    if fact.type is FactType.TEXT:
        return f'{ref.name} == "…"'
    if fact.type is FactType.BOOL:
        return f"{ref.name} == true"
    if fact.type is FactType.DECIMAL:
        return f"{ref.name} >= 5000" if fact.places else f"{ref.name} < 0.3"
    return f"{ref.name} > 30"


def parse_node(text: str) -> Node:
    if not isinstance(text, str):
        raise TypeError(f"a rule is text, not {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise RuleError(
            _("The rule is too long %(where)s: at most %(max)d characters, this one has %(length)d."),
            text=text,
            position=MAX_LENGTH,
            max=MAX_LENGTH,
            length=len(text),
        )
    return Parser(text).parse()
