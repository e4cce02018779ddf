"""The simulated debtors' behaviour model (strategy/simulation/model.py): pure functions."""

from dataclasses import replace
from decimal import Decimal

import pytest

from recobro.strategy.simulation import model
from recobro.strategy.simulation.model import CaseView

TYPICAL = Decimal("5000.00")
LATE = CaseView(
    key="tarjeta/C-1",
    dpd=15,
    days_to_due=-15,
    balance=Decimal("5000.00"),
    overdue_balance=Decimal("3000.00"),
    typical_balance=TYPICAL,
)


def test_draws_depend_only_on_the_seed_and_the_key():
    assert model.draw(7, "2026-03-31", "pay", "tarjeta/C-1") == model.draw(
        7, "2026-03-31", "pay", "tarjeta/C-1"
    )
    assert model.draw(7, "a") != model.draw(8, "a") != model.draw(7, "b")
    values = [model.draw(1, i) for i in range(20_000)]
    assert all(0 <= v < 1 for v in values)
    assert abs(sum(values) / len(values) - 0.5) < 0.01
    assert abs(sum(v < 0.1 for v in values) / len(values) - 0.1) < 0.01


@pytest.mark.parametrize(
    ("dpd", "low", "high"),
    [(1, 0.12, 0.14), (15, 0.018, 0.020), (45, 0.0063, 0.0067), (120, 0.0024, 0.0026), (400, 0.0007, 0.0008)],
)
def test_the_documented_daily_chance_to_pay_by_days_past_due(dpd, low, high):
    assert low < model.payment_probability(replace(LATE, dpd=dpd)) < high


def test_the_chance_to_pay_falls_with_days_past_due_and_balance():
    chances = [model.payment_probability(replace(LATE, dpd=d)) for d in (1, 10, 30, 60, 120, 365)]
    assert chances == sorted(chances, reverse=True)
    big = replace(LATE, balance=TYPICAL * 4)
    assert model.payment_probability(big) < model.payment_probability(LATE)
    # Four times the typical balance: the odds fall by a third (exp(-0.25 × ln 4) = 0.707).
    odds = lambda p: p / (1 - p)  # noqa: E731
    ratio = odds(model.payment_probability(big)) / odds(model.payment_probability(LATE))
    assert ratio == pytest.approx(4**-0.25)


def test_current_accounts_pay_mostly_in_the_days_before_they_fall_due():
    current = replace(LATE, dpd=0, overdue_balance=Decimal(0))
    near = model.payment_probability(replace(current, days_to_due=2))
    soon = model.payment_probability(replace(current, days_to_due=8))
    far = model.payment_probability(replace(current, days_to_due=25))
    assert near > 0.1 > soon > far
    # Four days of 12 %: about 40 % pay in the window, more after a reminder.
    assert 0.35 < 1 - (1 - near) ** 4 < 0.45
    reminded = model.payment_probability(replace(current, days_to_due=2, contacts={"whatsapp": 1}))
    assert 1 - (1 - reminded) ** 4 > 0.55


def test_contacts_lift_the_chance_by_channel_and_fade_with_age():
    by_channel = {
        channel: model.payment_probability(replace(LATE, contacts={channel: 0}))
        for channel in ("email", "sms", "whatsapp", "call")
    }
    assert by_channel["email"] < by_channel["sms"] < by_channel["whatsapp"] < by_channel["call"]
    assert min(by_channel.values()) > model.payment_probability(LATE)
    ages = [model.payment_probability(replace(LATE, contacts={"whatsapp": age})) for age in (0, 2, 5, 7)]
    assert ages == sorted(ages, reverse=True)
    stale = replace(LATE, contacts={"whatsapp": model.CONTACT_WINDOW_DAYS + 1})
    assert model.payment_probability(stale) == model.payment_probability(LATE)


def test_a_pending_promise_raises_the_chance_most_on_its_date():
    before = model.payment_probability(replace(LATE, promise=(Decimal("3000.00"), 3)))
    on_the_day = model.payment_probability(replace(LATE, promise=(Decimal("3000.00"), 0)))
    assert model.payment_probability(LATE) < before < on_the_day
    # A promise whose date has passed (the cycle has not resolved it yet) changes nothing.
    passed = replace(LATE, promise=(Decimal("3000.00"), -1))
    assert model.payment_probability(passed) == model.payment_probability(LATE)


def test_score_and_flags_move_the_chance():
    good, bad = replace(LATE, score=Decimal("0.9")), replace(LATE, score=Decimal("0.1"))
    assert model.payment_probability(bad) < model.payment_probability(LATE) < model.payment_probability(good)
    for flag in ("deceased", "bankrupt", "disputed"):
        assert model.payment_probability(replace(LATE, **{flag: True})) < model.payment_probability(LATE)


def test_amounts_full_overdue_or_a_round_part_never_above_the_balance():
    assert model.payment_amount(LATE, 0.1) == Decimal("5000.00")  # full (u < 0.40)
    assert model.payment_amount(LATE, 0.5) == Decimal("3000.00")  # the overdue part
    low, high = model.payment_amount(LATE, 0.7501), model.payment_amount(LATE, 0.9999)
    assert low == Decimal("600")  # 20 % of 3,000, in tens
    assert high == Decimal("1800")  # 60 %
    for u in (0.76, 0.8, 0.85, 0.9, 0.95):
        amount = model.payment_amount(LATE, u)
        assert low <= amount <= high and amount % 10 == 0
    assert model.payment_amount(replace(LATE, promise=(Decimal("9999.00"), 1)), 0.9) == Decimal("5000.00")
    assert model.payment_amount(replace(LATE, promise=(Decimal("1200.00"), 0)), 0.9) == Decimal("1200.00")
    current = replace(LATE, dpd=0, days_to_due=2, overdue_balance=Decimal(0))
    assert model.payment_amount(current, 0.99) == Decimal("5000.00")
    assert model.payment_amount(replace(LATE, balance=Decimal(0)), 0.1) == 0
    for amount in (model.payment_amount(LATE, i / 100) for i in range(100)):
        assert isinstance(amount, Decimal) and 0 < amount <= LATE.balance


def test_big_balances_are_paid_in_full_less_often():
    big = replace(LATE, balance=TYPICAL * 10, overdue_balance=TYPICAL * 2)
    assert model.payment_amount(big, 0.2) == big.overdue_balance  # 0.2 ≥ 15 %: not in full
    assert model.payment_amount(big, 0.1) == big.balance


def test_round_units_follow_the_size_of_the_organizations_amounts():
    assert model.round_unit(Decimal("5000")) == 10
    assert model.round_unit(Decimal("1200000")) == 10_000
    assert model.round_unit(Decimal("80")) == 1
    assert model.round_unit(Decimal(0)) == 1


def test_calls_reach_promise_refuse_or_miss():
    assert model.call_outcome(LATE, 0.01, 0.0, 0.0).result == "wrong_number"
    assert model.call_outcome(LATE, 0.99, 0.0, 0.0).result == "no_answer"
    promised = model.call_outcome(LATE, 0.1, 0.1, 0.5)
    assert promised.result == "promise" and promised.reached
    assert promised.promise_amount == Decimal("3000.00") and 1 <= promised.promise_days <= 7
    assert model.call_outcome(LATE, 0.1, 0.5, 0.0).result == "refused"
    assert model.call_outcome(LATE, 0.1, 0.9, 0.0).result == "right_party"
    # Owing more than twice the typical balance: the promise is for half of it, in round units.
    big = replace(LATE, balance=Decimal("30000.00"), overdue_balance=Decimal("25005.00"))
    assert model.call_outcome(big, 0.1, 0.1, 0.0).promise_amount == Decimal("12500")


def test_late_debtors_answer_less():
    reached = lambda dpd: sum(  # noqa: E731
        model.call_outcome(replace(LATE, dpd=dpd), model.draw(3, i), 0.9, 0).reached for i in range(5000)
    )
    assert reached(10) / 5000 == pytest.approx(0.60, abs=0.02)
    assert reached(200) / 5000 == pytest.approx(0.30, abs=0.02)


def test_delivery_outcomes_by_channel():
    outcomes = [model.delivery_outcome("whatsapp", model.draw(5, i)) for i in range(10_000)]
    assert outcomes.count("failed") / 10_000 == pytest.approx(0.03, abs=0.01)
    assert outcomes.count("read") / 10_000 == pytest.approx(0.6 * 0.97, abs=0.02)
    letters = {model.delivery_outcome("letter", model.draw(5, i)) for i in range(1000)}
    assert "read" not in letters
