"""The cycle's stage phase (docs/strategy.md §3): entry, forward moves, cures, closed cases."""

from decimal import Decimal

from recobro.portfolio.models import Document
from recobro.strategy.models import CaseState, StageTransition
from tests.strategy.conftest import AS_OF, cycle, days, new_debtor, owes


def state_of(debtor) -> CaseState:
    return CaseState.objects.select_related("stage").get(case__debtor=debtor)


def pay_off(document: Document) -> None:
    Document.objects.filter(pk=document.pk).update(balance=Decimal("0.00"), status="paid")


def test_a_case_enters_the_last_stage_whose_entry_offset_it_has_reached(cast, config):
    soon = new_debtor(cast, "SOON")
    owes(cast, soon, "100.00", days(3))  # 3 days before due: preventive starts 5 days before
    later = new_debtor(cast, "LATER")
    owes(cast, later, "100.00", days(10))  # too early for any stage
    early = new_debtor(cast, "EARLY")
    owes(cast, early, "100.00", days(-1))
    late = new_debtor(cast, "LATE")
    owes(cast, late, "100.00", days(-70))
    legal = new_debtor(cast, "LEGAL")
    owes(cast, legal, "100.00", days(-200))

    counts = cycle(cast, AS_OF)

    assert state_of(soon).stage == config.preventive
    assert state_of(later).stage is None
    assert state_of(early).stage == config.administrative
    assert state_of(late).stage == config.extrajudicial
    assert state_of(legal).stage == config.judicial
    assert counts["stage_moves"] == 4
    first = StageTransition.objects.get(case__debtor=late)
    assert (first.from_stage, first.to_stage, first.reason, first.business_date) == (
        None,
        config.extrajudicial,
        "rule",
        AS_OF,
    )
    # The first cycle ever cannot know when cases entered: they enter today.
    assert state_of(late).stage_entered_on == AS_OF


def test_a_case_moves_forward_on_the_day_it_would_have_entered_even_after_missed_days(cast, config):
    debtor = new_debtor(cast, "D")
    owes(cast, debtor, "100.00", days(-59))
    cycle(cast, AS_OF)
    assert state_of(debtor).stage == config.administrative

    cycle(cast, days(5))  # days 1 to 4 were missed; the case reached day 61 on days(2)

    state = state_of(debtor)
    assert state.stage == config.extrajudicial
    assert state.stage_entered_on == days(2)
    move = StageTransition.objects.filter(case__debtor=debtor).latest("id")
    assert (move.from_stage, move.to_stage, move.reason, move.business_date) == (
        config.administrative,
        config.extrajudicial,
        "rule",
        days(5),
    )


def test_entry_is_never_before_the_day_after_the_previous_cycle(cast, config):
    debtor = new_debtor(cast, "D")
    cycle(cast, AS_OF)
    owes(cast, debtor, "100.00", days(-90))  # a document loaded after that cycle, already late

    cycle(cast, days(3))

    assert (state_of(debtor).stage, state_of(debtor).stage_entered_on) == (config.extrajudicial, days(1))


def test_an_entry_rule_must_hold_as_well_as_the_offset(cast, config):
    config.extrajudicial.entry_rule = "balance >= 1000"
    config.extrajudicial.save()
    small = new_debtor(cast, "SMALL")
    owes(cast, small, "999.99", days(-70))
    big = new_debtor(cast, "BIG")
    owes(cast, big, "1000.00", days(-70))

    cycle(cast, AS_OF)

    assert state_of(small).stage == config.administrative
    assert state_of(big).stage == config.extrajudicial


def test_a_cured_case_goes_back_to_the_stage_its_next_due_date_puts_it_in(cast, config):
    debtor = new_debtor(cast, "D")
    overdue = owes(cast, debtor, "300.00", days(-20))
    owes(cast, debtor, "100.00", days(3))
    cycle(cast, AS_OF)
    assert state_of(debtor).stage == config.administrative

    pay_off(overdue)
    cycle(cast, days(1))

    state = state_of(debtor)
    assert state.stage == config.preventive
    move = StageTransition.objects.filter(case__debtor=debtor).latest("id")
    assert (move.from_stage, move.to_stage, move.reason) == (
        config.administrative,
        config.preventive,
        "cured",
    )


def test_a_partial_payment_that_lowers_days_past_due_does_not_move_a_case_back(cast, config):
    debtor = new_debtor(cast, "D")
    oldest = owes(cast, debtor, "300.00", days(-70))
    owes(cast, debtor, "100.00", days(-20))
    cycle(cast, AS_OF)
    assert state_of(debtor).stage == config.extrajudicial

    pay_off(oldest)  # now 21 days past due: the administrative stage's range
    cycle(cast, days(1))

    assert state_of(debtor).stage == config.extrajudicial
    assert StageTransition.objects.filter(case__debtor=debtor).count() == 1


def test_a_stage_that_keeps_cured_cases_keeps_them(cast, config):
    debtor = new_debtor(cast, "D")
    oldest = owes(cast, debtor, "300.00", days(-130))
    owes(cast, debtor, "100.00", days(20))
    cycle(cast, AS_OF)
    assert state_of(debtor).stage == config.judicial

    pay_off(oldest)
    cycle(cast, days(1))

    assert state_of(debtor).stage == config.judicial


def test_a_closed_case_leaves_its_stage_and_strategy(cast, config):
    debtor = new_debtor(cast, "D")
    document = owes(cast, debtor, "300.00", days(-10))
    cycle(cast, AS_OF)
    assert state_of(debtor).variant is not None

    pay_off(document)
    counts = cycle(cast, days(1))

    state = state_of(debtor)
    assert (state.stage, state.segment, state.strategy, state.variant) == (None, None, None, None)
    assert state.priority == Decimal("0.00")
    move = StageTransition.objects.filter(case__debtor=debtor).latest("id")
    assert (move.from_stage, move.to_stage, move.reason) == (config.administrative, None, "closed")
    assert counts["stage_moves"] == 1
    # Closed and out of every stage: the next cycles leave it alone.
    assert cycle(cast, days(2))["cases"] == 0


def test_an_inactive_stage_takes_no_new_cases(cast, config):
    config.extrajudicial.is_active = False
    config.extrajudicial.save()
    debtor = new_debtor(cast, "D")
    owes(cast, debtor, "300.00", days(-70))
    cycle(cast, AS_OF)
    assert state_of(debtor).stage == config.administrative


def test_a_stage_a_person_chose_is_kept_until_its_pin_ends_but_a_closed_case_leaves(cast, config):
    debtor = new_debtor(cast, "D")
    owes(cast, debtor, "300.00", days(-55))
    paid = new_debtor(cast, "PAID")
    document = owes(cast, paid, "300.00", days(-55))
    cycle(cast, AS_OF)
    CaseState.objects.update(stage_pinned_until=days(10))  # as a manual move does

    cycle(cast, days(8))  # 63 days past due: extrajudicial by the rules, but pinned
    assert state_of(debtor).stage == config.administrative

    pay_off(document)
    cycle(cast, days(10))  # the last pinned day
    assert state_of(debtor).stage == config.administrative
    assert state_of(paid).stage is None  # closed: leaves even when pinned

    cycle(cast, days(11))
    state = state_of(debtor)
    assert (state.stage, state.stage_entered_on) == (config.extrajudicial, days(11))
