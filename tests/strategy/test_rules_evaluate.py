"""Evaluating rules in Python: SQL's three-valued logic, and the trace for the explain panel."""

from decimal import Decimal

import pytest
from django.utils import translation

from recobro.strategy.rules import evaluate, parse, trace
from recobro.strategy.rules import truth as truth_of


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def case(**facts):
    base = {
        "dpd": 10,
        "balance": Decimal("6000.00"),
        "product": "tarjeta",
        "broken_promises_90d": 0,
        "score": Decimal("0.5"),
        "active_plan": False,
        "disputed": False,
        "promise_pending": False,
        "region": "Norte",
        "attr": {},
    }
    base.update(facts)
    return base


def test_first_rule_of_the_issue_on_hand_cases():
    rule = parse("dpd between 1 and 30 and balance >= 5000")
    assert evaluate(rule, case(dpd=1, balance=Decimal("5000.00")))
    assert evaluate(rule, case(dpd=30, balance=Decimal("5000.01")))
    assert not evaluate(rule, case(dpd=0, balance=Decimal("9000")))
    assert not evaluate(rule, case(dpd=31, balance=Decimal("9000")))
    assert not evaluate(rule, case(dpd=15, balance=Decimal("4999.99")))
    assert not evaluate(rule, case(dpd=None, balance=Decimal("9000")))


def test_second_rule_of_the_issue_on_hand_cases():
    rule = parse('product in ("tarjeta", "prestamo") and broken_promises_90d >= 2')
    assert evaluate(rule, case(product="prestamo", broken_promises_90d=2))
    assert not evaluate(rule, case(product="Tarjeta", broken_promises_90d=3))  # text is exact
    assert not evaluate(rule, case(product="tarjeta", broken_promises_90d=1))
    assert not evaluate(rule, case(product=None, broken_promises_90d=5))


def test_third_rule_of_the_issue_on_hand_cases():
    rule = parse('attr.region == "Norte" or score < 0.3')
    assert evaluate(rule, case(attr={"region": "Norte"}, score=None))
    assert evaluate(rule, case(attr={}, score=Decimal("0.2999")))
    assert not evaluate(rule, case(attr={"region": "Sur"}, score=Decimal("0.3")))
    assert not evaluate(rule, case(attr=None, score=None))
    # Attributes are text: a number stored in the JSON is not the string "Norte" nor any text.
    assert not evaluate(parse('attr.region == "5"'), case(attr={"region": 5}))
    assert evaluate(parse("attr.region is null"), case(attr={"region": 5}))


def test_null_follows_sql_three_valued_logic():
    nothing = case(score=None, dpd=None, product=None, active_plan=None)
    assert truth_of("score < 0.3", nothing) is None
    assert truth_of("not score < 0.3", nothing) is None
    assert truth_of("score != 0.3", nothing) is None
    assert truth_of("product not in ('a')", nothing) is None
    assert truth_of("not product in ('a')", nothing) is None
    assert truth_of("dpd not between 1 and 5", nothing) is None
    assert truth_of("active_plan", nothing) is None
    assert truth_of("not active_plan", nothing) is None
    assert truth_of("score < 0.3 and dpd > 99999", case(score=None)) is False
    assert truth_of("score < 0.3 and dpd > 1", case(score=None)) is None
    assert truth_of("score < 0.3 or dpd > 1", case(score=None)) is True
    assert truth_of("score < 0.3 or dpd > 99999", case(score=None)) is None
    assert truth_of("score is null", nothing) is True
    assert truth_of("not score is not null", nothing) is True
    assert not evaluate("not score < 0.3", nothing)


def test_numbers_compare_as_decimals_whatever_their_python_type():
    assert evaluate("balance == 5000.10", case(balance=Decimal("5000.1")))
    assert evaluate("balance == 5000.10", case(balance=5000.1))  # a float read back from SQLite
    assert evaluate("dpd == 5.0", case(dpd=5))
    assert not evaluate("dpd > 4.5", case(dpd=4))
    assert evaluate("days_to_due between -10 and -1", case(days_to_due=-3))
    assert evaluate("active_plan and not disputed", case(active_plan=1, disputed=0))  # SQLite booleans


def test_a_preview_must_pass_every_fact_the_rule_reads():
    with pytest.raises(KeyError, match="overdue_balance"):
        evaluate("overdue_balance > 1", case())
    with pytest.raises(KeyError, match="attr"):
        evaluate("attr.zone == 'a'", {"dpd": 1})
    with pytest.raises(TypeError, match="dpd is a number"):
        evaluate("dpd > 1", case(dpd="12"))
    with pytest.raises(TypeError, match="region is text"):
        evaluate("region == 'a'", case(region=5))


def test_trace_explains_every_condition_in_text_order():
    rule = parse("dpd between 1 and 30 and (attr.zone in ('a', 'b') or score is null) and not disputed")
    items = trace(rule, case(dpd=45, attr={"zone": "b"}, score=Decimal("0.7"), disputed=True))
    assert [str(item) for item in items] == [
        "dpd between 1 and 30: dpd is 45 → no",
        'attr.zone in ("a", "b"): attr.zone is "b" → yes',
        "score is null: score is 0.7 → no",
        "disputed: disputed is true → yes",
    ]
    first = items[0]
    assert (first.fact, first.operator, first.literals, first.value, first.result) == (
        "dpd",
        "between",
        (1, 30),
        Decimal(45),
        False,
    )
    assert first.position == 0
    assert items[1].position == rule.text.index("attr.zone")
    unknown = trace("balance > 1", case(balance=None))
    assert str(unknown[0]) == "balance > 1: balance is empty → unknown"
    assert unknown[0].result is None
