"""The rule language: what parses, what is refused, and where the error points."""

import pickle
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from recobro.strategy.rules import MAX_DEPTH, MAX_LENGTH, RuleError, parse, rule_validator, validate
from recobro.strategy.rules.nodes import And, Between, Compare, InList, IsNull, Not, Or, Truth


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def error_of(text: str) -> RuleError:
    with pytest.raises(RuleError) as info:
        parse(text)
    return info.value


def test_the_three_rules_of_the_issue_parse():
    first = parse("dpd between 1 and 30 and balance >= 5000")
    assert isinstance(first.node, And)
    between, compare = first.node.operands
    assert isinstance(between, Between)
    assert (between.fact.name, between.low.value, between.high.value) == ("dpd", 1, 30)
    assert (compare.fact.name, compare.op, compare.value.value) == ("balance", ">=", 5000)
    assert first.facts == {"dpd", "balance"}
    assert first.attributes == set()

    second = parse('product in ("tarjeta", "prestamo") and broken_promises_90d >= 2')
    in_list = second.node.operands[0]
    assert isinstance(in_list, InList)
    assert [v.value for v in in_list.values] == ["tarjeta", "prestamo"]
    assert second.facts == {"product", "broken_promises_90d"}

    third = parse('attr.region == "Norte" or score < 0.3')
    assert isinstance(third.node, Or)
    assert third.node.operands[1].value.value == Decimal("0.3")
    assert third.facts == {"attr.region", "score"}
    assert third.attributes == {"region"}


def test_and_binds_tighter_than_or_and_not_tighter_than_and():
    rule = parse("disputed or not active_plan and dpd > 5")
    assert isinstance(rule.node, Or)
    left, right = rule.node.operands
    assert isinstance(left, Truth)
    assert isinstance(right, And)
    assert isinstance(right.operands[0], Not)
    assert isinstance(right.operands[0].operand, Truth)


def test_keywords_are_case_insensitive_and_equals_has_two_spellings():
    assert parse("dpd BETWEEN 1 AnD 30 OR NOT disputed") == parse("dpd between 1 and 30 or not disputed")
    assert parse("bucket = '1-30'") == parse('bucket == "1-30"')
    assert parse("bucket <> '1-30'") == parse('bucket != "1-30"')
    assert parse("score IS NOT NULL") == parse("score is not null")
    assert parse("active_plan == TRUE") == parse("active_plan == true")


def test_every_form_of_condition_parses():
    rule = parse(
        "dpd not between 1 and 30 and region not in ('Norte') and days_to_due >= -5 "
        "and days_since_last_contact is null and score is not null and not promise_pending "
        "and payment_in_transit != false and original_amount < 1234.56"
    )
    kinds = [type(o) for o in rule.node.operands]
    assert kinds == [Between, InList, Compare, IsNull, IsNull, Not, Compare, Compare]
    assert rule.node.operands[0].negated and rule.node.operands[1].negated
    assert rule.node.operands[2].value.value == -5
    assert rule.node.operands[7].value.value == Decimal("1234.56")


def test_strings_take_both_quotes_and_backslash_escapes():
    rule = parse(r"""region in ("say \"hi\"", 'it\'s', "back\\slash", "tab\there", "Bogotá")""")
    assert [v.value for v in rule.node.values] == ['say "hi"', "it's", "back\\slash", "tab\there", "Bogotá"]


def test_the_normalised_form_parses_back_to_the_same_rule():
    texts = [
        "dpd between 1 and 30 AND balance >= 5000",
        "(dpd > 1 or dpd < -1) and not (active_plan and disputed)",
        "not not disputed",
        "dpd > 1 and (balance > 2 and score < 0.5)",
        r"""region == 'it\'s "x"' or attr.zone in ("a", 'b')""",
        "((dpd > 1))",
        "score > 0.0000001 and balance < -0.50",
    ]
    for text in texts:
        rule = parse(text)
        again = parse(str(rule))
        assert again == rule, text
        assert str(again) == str(rule)
    assert str(parse("dpd   BETWEEN 1 AND 30")) == "dpd between 1 and 30"
    assert str(parse("(dpd > 1 or dpd < -1) and not (active_plan and disputed)")) == (
        "(dpd > 1 or dpd < -1) and not (active_plan and disputed)"
    )
    assert str(parse("((dpd > 1))")) == "dpd > 1"
    assert str(parse("score > 0.0000001")) == "score > 0.0000001"
    assert str(parse("region == 'it\\'s'")) == 'region == "it\'s"'


@pytest.mark.parametrize(
    ("text", "position", "message"),
    [
        ("dpdd > 1", 0, "Unknown fact 'dpdd' at line 1, column 1. Did you mean 'dpd'?"),
        ("dpd > 1 and DPD < 5", 12, "Unknown fact 'DPD' at line 1, column 13. Did you mean 'dpd'?"),
        ("foo > 1", 0, "Unknown fact 'foo' at line 1, column 1."),
        ("balance >= ", 11, "Expected a value after '>=' at line 1, column 12, found the end of the rule."),
        ("balance >= and", 11, "Expected a value after '>=' at line 1, column 12, found 'and'."),
        ('region == "Norte', 10, "Unclosed string starting at line 1, column 11."),
        ("dpd and balance > 1", 4, "Unexpected 'and' at line 1, column 5"),
        ("and dpd > 1", 0, "Unexpected 'and' at line 1, column 1: expected a condition."),
        ("(dpd > 1 and balance > 5", 0, "Unclosed parenthesis opened at line 1, column 1."),
        ("dpd > 1)", 7, "Unexpected ')' at line 1, column 8"),
        ("dpd > 1 balance > 5", 8, "Unexpected 'balance' at line 1, column 9"),
        ("dpd == '5'", 7, "Expected a number at line 1, column 8: dpd is a whole number"),
        ("region == 5", 10, "Expected a quoted value at line 1, column 11: region is text"),
        ("active_plan > true", 12, "'>' does not apply to active_plan at line 1, column 13"),
        ("active_plan == 1", 15, "Expected true or false at line 1, column 16"),
        ("attr.x > 5", 7, "attr.x is text; compare it with ==, != or in"),
        ("attr.x == 5", 10, "Expected a quoted value at line 1, column 11: attr.x is text"),
        ("bucket between 'a' and 'b'", 7, "'between' does not apply to bucket"),
        ("dpd between 1 or 5", 14, "Expected 'and' in 'dpd between … and …' at line 1, column 15"),
        ("dpd in 1, 2", 7, "Expected '(' after 'in' at line 1, column 8"),
        ("dpd in (1, 2", 7, "Unclosed parenthesis opened at line 1, column 8."),
        ("dpd in (1, )", 11, "Expected a value after ',' at line 1, column 12, found ')'."),
        ("dpd in ()", 8, "Expected a value after '(' at line 1, column 9"),
        ("dpd not 5", 4, "Expected 'between' or 'in' after 'not' at line 1, column 5"),
        ("score is 5", 9, "Expected 'null' after 'is' at line 1, column 10"),
        ("score == null", 9, "Use 'is null' or 'is not null'"),
        ("dpd", 3, "Expected a comparison at line 1, column 4: dpd is a whole number, e.g. dpd > 30."),
        ("5000 <= balance", 0, "Expected a fact name at line 1, column 1, found '5000'"),
        ("", 0, "The rule is empty."),
        ("   ", 3, "The rule is empty."),
        ("dpd > 1.", 6, "Invalid number '1.'"),
        ("dpd > 1_000", 6, "Invalid number '1_000' at line 1, column 7"),
        ("dpd > 1234567890123456", 6, "more than 15 significant digits"),
        ("dpd > 1 && balance > 2", 8, "Unexpected character '&' at line 1, column 9: write 'and'."),
        ("dpd > 1 || disputed", 8, "write 'or'"),
        ("!disputed", 0, "write 'not'"),
        ("dpd > 1 @", 8, "Unexpected character '@' at line 1, column 9."),
        ("region == 'a\\qb'", 12, "Unknown escape '\\q'"),
        ("attr.Region == 'x'", 0, "Invalid custom attribute 'attr.Region'"),
        ("attr == 'x'", 0, "Invalid custom attribute 'attr'"),
        ("attr." + "a" * 41 + " == 'x'", 0, "Invalid custom attribute"),
        (
            "dpd > 1 and\n  balanse > 2",
            14,
            "Unknown fact 'balanse' at line 2, column 3. Did you mean 'balance'?",
        ),
        ("región == 'Norte'", 0, "Unknown fact 'región' at line 1, column 1. Did you mean 'region'?"),
        ("dpd > ٣", 6, "Unexpected character '٣' at line 1, column 7."),
        ("dpd > 1 \x00", 8, "Unexpected character 'U+0000' at line 1, column 9."),
        ("region == 'a\x00'", 12, "A string cannot contain a NUL character at line 1, column 13."),
    ],
)
def test_a_bad_rule_is_refused_with_its_position_and_reason(text, position, message):
    error = error_of(text)
    assert error.position == position
    assert message in str(error)
    assert isinstance(error, ValueError)


def test_line_and_column_are_one_based_and_count_lines():
    error = error_of("dpd > 1\nand\n   nope > 2")
    assert (error.position, error.line, error.column) == (15, 3, 4)


def test_too_long_a_rule_is_refused_at_the_limit():
    text = "dpd > 1 and " * 200
    assert len(text) > MAX_LENGTH
    error = error_of(text)
    assert error.position == MAX_LENGTH
    assert f"at most {MAX_LENGTH} characters, this one has {len(text)}" in str(error)
    # Just under the limit is fine, however many conditions it holds.
    fits = " and ".join(["dpd > 1"] * 166)
    assert len(fits) <= MAX_LENGTH
    assert len(parse(fits).node.operands) == 166


def test_too_deep_a_rule_is_refused_with_a_clear_error_not_a_recursion_error():
    ok = "(" * MAX_DEPTH + "dpd > 1" + ")" * MAX_DEPTH
    assert str(parse(ok)) == "dpd > 1"
    error = error_of("(" * (MAX_DEPTH + 1) + "dpd > 1" + ")" * (MAX_DEPTH + 1))
    assert error.position == MAX_DEPTH
    assert "nested too deeply" in str(error)
    error = error_of("not " * 400 + "disputed")
    assert error.position == 4 * MAX_DEPTH
    error = error_of("(not " * 300 + "disputed" + ")" * 300)
    assert "nested too deeply" in str(error)


def test_sql_injection_attempts_are_refused_or_stay_literals():
    error = error_of("dpd == 1; DROP TABLE x")
    assert error.position == 8
    assert "Unexpected character ';'" in str(error)
    assert "Unexpected character '-'" in str(error_of("dpd == 1 -- comment"))
    rule = parse("""region == "' OR 1=1 --" """)
    assert rule.node.value.value == "' OR 1=1 --"
    assert "Unknown fact 'DROP'" in str(error_of("dpd == 1 or DROP TABLE x"))
    assert "Unexpected 'OR1' at line 1, column 10" in str(error_of("dpd == 1 OR1=1"))


def test_no_python_is_evaluated():
    for text in ["__import__('os').system('true')", "dpd.__class__ > 1", "lambda: 1", "dpd > (1)"]:
        with pytest.raises(RuleError):
            parse(text)


def test_validate_and_the_django_validator():
    validate("dpd > 1")
    with pytest.raises(RuleError):
        validate("dpd >")
    rule_validator("dpd > 1")
    with pytest.raises(ValidationError) as info:
        rule_validator("dpdd > 1")
    assert info.value.code == "invalid_rule"
    assert info.value.messages == ["Unknown fact 'dpdd' at line 1, column 1. Did you mean 'dpd'?"]


def test_a_rule_error_survives_pickling():
    error = pickle.loads(pickle.dumps(error_of("dpd > 1 and\n nope > 2")))
    assert isinstance(error, RuleError)
    assert (error.position, error.line, error.column) == (13, 2, 2)
    assert str(error) == "Unknown fact 'nope' at line 2, column 2."
