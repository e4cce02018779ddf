"""Segments, strategies and variants (docs/strategy.md §4–§6)."""

from collections import Counter

import pytest

from recobro.negotiation.models import PromiseToPay
from recobro.portfolio.models import Case, Debtor, Document
from recobro.strategy.engine import CycleError, variant_bucket
from recobro.strategy.models import CaseState, Segment, Variant
from tests.strategy.conftest import AS_OF, cycle, days, new_debtor, owes


def state_of(debtor) -> CaseState:
    return CaseState.objects.get(case__debtor=debtor)


def broken_promise(cast, debtor, resolved_on):
    case = Case.objects.get(debtor=debtor)
    return PromiseToPay.objects.create(
        organization=cast.mx,
        case=case,
        amount="100.00",
        currency="MXN",
        promised_on=resolved_on,
        made_on=resolved_on,
        status="broken",
        resolved_on=resolved_on,
        origin="collector",
    )


def test_a_case_gets_the_first_segment_by_priority_whose_rule_holds(cast, config):
    rich = new_debtor(cast, "RICH")
    owes(cast, rich, "9000.00", days(-10))
    relapsed = new_debtor(cast, "RELAPSED")
    owes(cast, relapsed, "1000.00", days(-10))
    rich_relapsed = new_debtor(cast, "RICH-RELAPSED")
    owes(cast, rich_relapsed, "9000.00", days(-10))
    small = new_debtor(cast, "SMALL")
    owes(cast, small, "1000.00", days(-10))
    cycle(cast, days(-1))
    broken_promise(cast, relapsed, days(-5))
    broken_promise(cast, rich_relapsed, days(-5))

    cycle(cast, AS_OF)

    assert state_of(rich).segment == config.alto
    assert state_of(relapsed).segment == config.reincidente
    assert state_of(rich_relapsed).segment == config.alto  # "alto" is tried first
    assert state_of(small).segment == config.bajo


def test_a_promise_broken_more_than_90_days_ago_no_longer_counts(cast, config):
    debtor = new_debtor(cast, "D")
    owes(cast, debtor, "1000.00", days(-10))
    cycle(cast, days(-1))
    broken_promise(cast, debtor, days(-90))
    cycle(cast, AS_OF)
    assert state_of(debtor).segment == config.bajo


def test_segment_rules_read_the_stage_decided_in_this_cycle_and_custom_attributes(cast, config):
    Segment.objects.create(
        organization=cast.mx,
        code="norte-extra",
        name="Norte extrajudicial",
        rule='stage == "extrajudicial" and attr.region == "Norte" and days_in_stage == 0',
        priority=5,
    )
    north = new_debtor(cast, "NORTH", attributes={"region": "Norte"})
    owes(cast, north, "1000.00", days(-70))
    south = new_debtor(cast, "SOUTH", attributes={"region": "Sur"})
    owes(cast, south, "1000.00", days(-70))
    north_early = new_debtor(cast, "NORTH-EARLY", attributes={"region": "Norte"})
    owes(cast, north_early, "1000.00", days(-10))

    cycle(cast, AS_OF)

    assert state_of(north).segment.code == "norte-extra"
    assert state_of(south).segment == config.bajo
    assert state_of(north_early).segment == config.bajo


def test_a_case_takes_the_strategy_of_its_stage_and_segment_else_of_its_stage(cast, config):
    rich = new_debtor(cast, "RICH")
    owes(cast, rich, "9000.00", days(-10))
    small = new_debtor(cast, "SMALL")
    owes(cast, small, "1000.00", days(-10))
    soon = new_debtor(cast, "SOON")
    owes(cast, soon, "9000.00", days(2))
    legal = new_debtor(cast, "LEGAL")
    owes(cast, legal, "9000.00", days(-200))

    cycle(cast, AS_OF)

    assert state_of(rich).strategy == config.admin_alto
    assert state_of(small).strategy == config.admin_default
    assert state_of(soon).strategy == config.preventive_default  # no strategy for (preventive, alto)
    legal_state = state_of(legal)
    assert (legal_state.strategy, legal_state.variant, legal_state.strategy_entered_on) == (None, None, None)
    assert state_of(rich).strategy_entered_on == AS_OF


def test_the_variant_is_the_stable_hash_of_case_and_strategy_split_by_shares(cast, config):
    debtors = Debtor.objects.bulk_create(
        Debtor(organization=cast.mx, external_id=f"V-{i:04d}", name=f"V {i}") for i in range(1000)
    )
    Document.objects.bulk_create(
        Document(
            organization=cast.mx,
            portfolio=cast.retail,
            debtor=debtor,
            external_id=f"F-{i:04d}",
            due_date=days(-10),
            original_amount="100.00",
            balance="100.00",
            currency="MXN",
        )
        for i, debtor in enumerate(debtors)
    )

    cycle(cast, AS_OF)

    states = list(CaseState.objects.filter(strategy=config.admin_default))
    assert len(states) == 1000
    for state in states:
        expected = (
            config.admin_a if variant_bucket(state.case_id, config.admin_default.pk) < 50 else config.admin_b
        )
        assert state.variant_id == expected.pk
    split = Counter(state.variant_id for state in states)
    assert 430 <= split[config.admin_a.pk] <= 570, split


def test_a_case_keeps_its_variant_when_shares_change_and_new_cases_follow_the_new_shares(cast, config):
    debtors = [new_debtor(cast, f"D{i}") for i in range(20)]
    for debtor in debtors:
        owes(cast, debtor, "100.00", days(-10))
    cycle(cast, AS_OF)
    before = dict(CaseState.objects.values_list("case_id", "variant_id"))
    assert set(before.values()) == {config.admin_a.pk, config.admin_b.pk}

    Variant.objects.filter(pk=config.admin_a.pk).update(share=100)
    Variant.objects.filter(pk=config.admin_b.pk).update(share=0)
    newcomer = new_debtor(cast, "NEW")
    owes(cast, newcomer, "100.00", days(-10))
    cycle(cast, days(1))

    after = dict(CaseState.objects.values_list("case_id", "variant_id"))
    assert all(after[case_id] == variant for case_id, variant in before.items())
    assert state_of(newcomer).variant == config.admin_a


def test_a_case_that_changes_strategy_enters_it_and_draws_its_variant_again(cast, config):
    debtor = new_debtor(cast, "D")
    document = owes(cast, debtor, "1000.00", days(-10))
    cycle(cast, AS_OF)
    assert state_of(debtor).strategy == config.admin_default

    Document.objects.filter(pk=document.pk).update(balance="9000.00", original_amount="9000.00")
    cycle(cast, days(3))

    state = state_of(debtor)
    assert state.segment == config.alto
    assert state.strategy == config.admin_alto
    assert state.variant.strategy_id == config.admin_alto.pk
    assert state.variant.pk in (config.alto_a.pk, config.alto_b.pk)
    assert state.strategy_entered_on == days(1)  # the day after the previous cycle


def test_the_cases_of_a_retired_variant_are_drawn_again_among_the_active_ones(cast, config):
    debtors = [new_debtor(cast, f"D{i}") for i in range(20)]
    for debtor in debtors:
        owes(cast, debtor, "100.00", days(-10))
    cycle(cast, AS_OF)
    assert CaseState.objects.filter(variant=config.admin_b).exists()

    Variant.objects.filter(pk=config.admin_b.pk).update(is_active=False)  # retired; "a" keeps 50%
    with pytest.raises(CycleError, match="active variants sum to 50%"):
        cycle(cast, days(1))
    Variant.objects.filter(pk=config.admin_a.pk).update(share=100)
    cycle(cast, days(1))

    states = CaseState.objects.filter(strategy=config.admin_default)
    assert states.count() == 20
    assert set(states.values_list("variant_id", flat=True)) == {config.admin_a.pk}
    assert set(states.values_list("strategy_entered_on", flat=True)) == {AS_OF}  # still in the strategy
