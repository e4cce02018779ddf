"""explain_case says why a case is where it is and what the cycle will do, without writing."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from recobro.negotiation.models import PaymentPlan, PromiseToPay
from recobro.portfolio.engine import refresh_cases
from recobro.portfolio.models import ContactPoint
from recobro.portfolio.services.payments import record_payment
from recobro.strategy.explain import (
    StageMove,
    StepStatus,
    explain_case,
    explanation_lines,
    variant_bucket,
)
from recobro.strategy.models import Action, Hold, Step, StrategySettings, Variant
from tests.conftest import AS_OF, make_document
from tests.strategy.explain_setup import build_config, completed_cycle, make_case, set_state

DAY = dt.timedelta(days=1)


@pytest.fixture
def config(cast):
    return build_config(cast.mx)


def steps_by_name(explanation):
    return {outcome.step.name: outcome for outcome in explanation.steps}


# --- Facts ------------------------------------------------------------------------------


def test_facts_are_the_engine_catalogue_computed_for_the_business_date(cast, config):
    case = make_case(cast.retail, "Eva", "3500.00", AS_OF - 45 * DAY)
    case.debtor.attributes = {"region": "Norte", "segment": "oro"}
    case.debtor.risk_score = Decimal("0.4200")
    case.debtor.save()
    record_payment(
        organization=cast.mx,
        portfolio=cast.retail,
        debtor=case.debtor,
        amount=Decimal("500.00"),
        paid_on=AS_OF - 10 * DAY,
        actor=cast.actor(),
    )
    facts = explain_case(case=case, as_of=AS_OF).facts

    from recobro.strategy.rules import FACTS

    assert set(facts) == {*FACTS, "attr"}
    assert facts["dpd"] == 45
    assert facts["days_to_due"] == -45
    assert facts["balance"] == Decimal("3000.00")
    assert facts["overdue_balance"] == Decimal("3000.00")
    assert facts["original_amount"] == Decimal("3500.00")
    assert facts["open_documents"] == 1
    assert facts["payments_30d"] == 1
    assert facts["paid_amount_30d"] == Decimal("500.00")
    assert facts["days_since_last_payment"] == 10
    assert facts["days_since_last_contact"] is None
    assert facts["bucket"] == "31-60"
    assert facts["score"] == Decimal("0.4200")
    assert facts["region"] == "Norte"
    assert facts["attr"] == {"region": "Norte", "segment": "oro"}
    assert facts["debtor_type"] == "person"
    assert facts["portfolio"] == "credito-tienda"
    assert facts["currency"] == "MXN"
    assert facts["stage"] == "administrativa"  # after the stage phase
    assert facts["days_in_stage"] == 0
    assert facts["promise_pending"] is False
    assert facts["active_plan"] is False
    assert facts["disputed"] is False
    assert facts["payment_in_transit"] is False

    # Another business date moves the windows: 40 days later the payment is out of 30 days.
    later = explain_case(case=case, as_of=AS_OF + 40 * DAY).facts
    assert later["dpd"] == 85
    assert later["payments_30d"] == 0
    assert later["days_since_last_payment"] == 50


def test_a_promise_whose_date_passed_unpaid_counts_as_broken_as_the_cycle_would_resolve_it(cast, config):
    case = make_case(cast.retail, "Eva", "3500.00", AS_OF - 45 * DAY)
    PromiseToPay.objects.create(
        organization=cast.mx,
        case=case,
        amount=Decimal("1000.00"),
        currency="MXN",
        promised_on=AS_OF - 3 * DAY,
        made_on=AS_OF - 10 * DAY,
        origin="collector",
    )
    PromiseToPay.objects.create(
        organization=cast.mx,
        case=case,
        amount=Decimal("800.00"),
        currency="MXN",
        promised_on=AS_OF + 5 * DAY,
        made_on=AS_OF - 1 * DAY,
        origin="portal",
    )
    facts = explain_case(case=case, as_of=AS_OF).facts
    assert facts["broken_promises_90d"] == 1
    assert facts["promise_pending"] is True
    assert PromiseToPay.objects.filter(status="pending").count() == 2  # explain wrote nothing


def test_a_document_on_hold_is_left_out_of_the_facts(cast, config):
    case = make_case(cast.retail, "Eva", "1000.00", AS_OF - 90 * DAY)
    newer = make_document(cast.retail, case.debtor, "F-2", "400.00", AS_OF - 20 * DAY)
    refresh_cases(organization=cast.mx, as_of=AS_OF)
    oldest = case.portfolio.documents.get(external_id="F-Eva")
    Hold.objects.create(
        organization=cast.mx, scope="document", debtor=case.debtor, document=oldest, reason="dispute",
        starts_on=AS_OF - 5 * DAY,
    )  # fmt: skip
    explanation = explain_case(case=case, as_of=AS_OF)
    assert explanation.facts["dpd"] == 20
    assert explanation.facts["balance"] == newer.balance
    assert explanation.stage.stage == config.administrative  # not extrajudicial: the 90 days are on hold
    assert "1 document on hold is left out of the facts." in explanation.notes


# --- Stages -------------------------------------------------------------------------------


def test_a_new_case_enters_the_latest_stage_whose_entry_test_holds_with_each_test_shown(cast, config):
    case = make_case(cast.retail, "Eva", "3500.00", AS_OF - 45 * DAY)
    explanation = explain_case(case=case, as_of=AS_OF)
    stage = explanation.stage
    assert stage.move == StageMove.ENTER
    assert stage.stage == config.administrative
    assert stage.entered_on == AS_OF  # no completed cycle before: enters today
    assert [(t.stage.code, t.matched) for t in stage.tests] == [
        ("preventiva", True),
        ("administrativa", True),
        ("extrajudicial", False),
        ("judicial", False),
    ]
    assert stage.tests[2].due_offset == 45 and not stage.tests[2].offset_ok


def test_an_entry_rule_is_traced(cast, config):
    config.extrajudicial.entry_offset = 30
    config.extrajudicial.entry_rule = "balance >= 10000"
    config.extrajudicial.save()
    case = make_case(cast.retail, "Eva", "3500.00", AS_OF - 45 * DAY)
    test = explain_case(case=case, as_of=AS_OF).stage.tests[2]
    assert test.offset_ok and not test.matched
    assert test.rule.trace_lines == ["balance >= 10000: balance is 3500.00 → no"]


def test_missed_days_put_the_stage_entry_on_the_day_the_case_would_have_entered(cast, config):
    case = make_case(cast.retail, "Eva", "3500.00", AS_OF - 70 * DAY)
    set_state(case, config.administrative, AS_OF - 69 * DAY)
    completed_cycle(cast.mx, AS_OF - 20 * DAY)
    stage = explain_case(case=case, as_of=AS_OF).stage
    assert stage.move == StageMove.FORWARD
    assert stage.stage == config.extrajudicial
    assert stage.entered_on == AS_OF - 9 * DAY  # due date + 61, after the last cycle


def test_a_partial_payment_does_not_move_a_case_back(cast, config):
    case = make_case(cast.retail, "Eva", "3500.00", AS_OF - 20 * DAY)
    set_state(case, config.extrajudicial, AS_OF - 30 * DAY)
    stage = explain_case(case=case, as_of=AS_OF).stage
    assert stage.target == config.administrative
    assert stage.move == StageMove.HOLD_BACK
    assert stage.stage == config.extrajudicial
    assert stage.entered_on == AS_OF - 30 * DAY
    assert "still 20 days past due" in stage.reason


def test_a_cured_case_goes_back_unless_its_stage_keeps_it(cast, config):
    case = make_case(cast.retail, "Eva", "3500.00", AS_OF + 3 * DAY)  # not yet due: dpd 0
    set_state(case, config.administrative, AS_OF - 30 * DAY)
    stage = explain_case(case=case, as_of=AS_OF).stage
    assert stage.move == StageMove.BACK_CURED
    assert stage.stage == config.preventive

    set_state(case, config.judicial, AS_OF - 30 * DAY)
    stage = explain_case(case=case, as_of=AS_OF).stage
    assert stage.move == StageMove.HOLD_BACK
    assert stage.stage == config.judicial
    assert "Judicial does not let cases go back" in stage.reason


def test_a_closed_case_leaves_its_stage(cast, config):
    case = make_case(cast.retail, "Eva", "300.00", AS_OF - 20 * DAY)
    set_state(case, config.administrative, AS_OF - 19 * DAY)
    record_payment(
        organization=cast.mx, portfolio=cast.retail, debtor=case.debtor, amount=Decimal("300.00"),
        paid_on=AS_OF, actor=cast.actor(),
    )  # fmt: skip
    explanation = explain_case(case=case, as_of=AS_OF)
    assert explanation.stage.move == StageMove.CLOSED
    assert explanation.stage.stage is None
    assert explanation.segment is None and explanation.strategy.strategy is None
    assert explanation.steps == []


def test_a_manual_move_keeps_the_stage_until_its_pin_ends(cast, config):
    case = make_case(cast.retail, "Eva", "3500.00", AS_OF - 130 * DAY)  # the rules say judicial
    set_state(case, config.extrajudicial, AS_OF - 5 * DAY, stage_pinned_until=AS_OF)
    explanation = explain_case(case=case, as_of=AS_OF)
    stage = explanation.stage
    assert stage.target == config.judicial
    assert (stage.move, stage.stage, stage.entered_on) == (
        StageMove.PINNED,
        config.extrajudicial,
        AS_OF - 5 * DAY,
    )
    assert stage.pinned and stage.pinned_until == AS_OF
    assert stage.reason == "The case is kept in Extrajudicial by a manual move until 2026-03-31."
    assert "  → " + stage.reason in explanation_lines(explanation)
    # From the day after, the rules apply again.
    stage = explain_case(case=case, as_of=AS_OF + DAY).stage
    assert (stage.move, stage.stage, stage.pinned) == (StageMove.FORWARD, config.judicial, False)


def test_a_pinned_stage_is_not_left_by_a_cure_but_a_closed_case_leaves_it(cast, config):
    case = make_case(cast.retail, "Eva", "300.00", AS_OF + 3 * DAY)  # not yet due: cured
    set_state(case, config.administrative, AS_OF - 30 * DAY, stage_pinned_until=AS_OF + 5 * DAY)
    stage = explain_case(case=case, as_of=AS_OF).stage
    assert (stage.move, stage.stage) == (StageMove.PINNED, config.administrative)
    record_payment(
        organization=cast.mx, portfolio=cast.retail, debtor=case.debtor, amount=Decimal("300.00"),
        paid_on=AS_OF, actor=cast.actor(),
    )  # fmt: skip
    stage = explain_case(case=case, as_of=AS_OF).stage
    assert (stage.move, stage.stage) == (StageMove.CLOSED, None)


# --- Segments, strategies, variants ------------------------------------------------------------


def test_segments_are_tried_in_priority_order_until_one_matches(cast, config):
    case = make_case(cast.retail, "Eva", "3500.00", AS_OF - 45 * DAY)
    explanation = explain_case(case=case, as_of=AS_OF)
    assert [(t.segment.code, t.check.matched) for t in explanation.segments] == [
        ("alto", False),
        ("bajo", True),
    ]
    assert explanation.segments[0].check.trace_lines == ["balance >= 5000: balance is 3500.00 → no"]
    assert explanation.segment == config.bajo
    # No strategy of the administrative stage for "bajo": the stage's strategy without segment.
    assert explanation.strategy.strategy == config.admin_default
    assert explanation.strategy.via == "default"


def test_the_variant_comes_from_the_stable_hash_and_the_share_ranges(cast, config):
    case = make_case(cast.retail, "Eva", "8000.00", AS_OF - 45 * DAY)
    explanation = explain_case(case=case, as_of=AS_OF)
    assert explanation.segment == config.alto
    assert explanation.strategy.strategy == config.admin_alto
    bucket = ((case.pk * 2654435761 + config.admin_alto.pk * 40503) % 4294967296) % 100
    assert explanation.variant.bucket == variant_bucket(case.pk, config.admin_alto.pk) == bucket
    assert [(r.variant.code, r.low, r.high) for r in explanation.variant.ranges] == [
        ("a", 0, 50),
        ("b", 50, 100),
    ]
    assert explanation.variant.variant == (config.champion if bucket < 50 else config.challenger)
    assert not explanation.variant.kept


def test_a_case_keeps_its_variant_while_it_stays_in_the_strategy(cast, config):
    case = make_case(cast.retail, "Eva", "8000.00", AS_OF - 45 * DAY)
    drawn = config.champion if variant_bucket(case.pk, config.admin_alto.pk) < 50 else config.challenger
    other = config.challenger if drawn == config.champion else config.champion
    set_state(
        case, config.administrative, AS_OF - 44 * DAY, segment=config.alto, strategy=config.admin_alto,
        variant=other, strategy_entered_on=AS_OF - 44 * DAY,
    )  # fmt: skip
    variant = explain_case(case=case, as_of=AS_OF).variant
    assert variant.kept and variant.variant == other


def test_retired_variants_take_no_share_and_their_cases_are_drawn_again(cast, config):
    case = make_case(cast.retail, "Eva", "8000.00", AS_OF - 45 * DAY)
    bucket = variant_bucket(case.pk, config.admin_alto.pk)
    # The challenger is retired (it keeps its share value); the champion takes every case.
    Variant.objects.filter(pk=config.challenger.pk).update(is_active=False)
    Variant.objects.filter(pk=config.champion.pk).update(share=100)
    set_state(
        case, config.administrative, AS_OF - 44 * DAY, segment=config.alto, strategy=config.admin_alto,
        variant=config.challenger, strategy_entered_on=AS_OF - 40 * DAY,
    )  # fmt: skip
    explanation = explain_case(case=case, as_of=AS_OF)
    variant = explanation.variant
    assert [(r.variant.code, r.low, r.high) for r in variant.ranges] == [("a", 0, 100)]
    assert (variant.variant, variant.kept, variant.redrawn) == (config.champion, False, True)
    assert variant.reason == (
        "Its variant Retador was retired: it is drawn again among the active ones, still in the strategy"
        f" since 2026-02-19. Bucket {bucket} falls in [0, 100): Campeón."
    )
    # The case stays in the strategy: same entry date, and only the champion's steps are judged.
    assert not explanation.strategy.changed and explanation.strategy.entered_on == AS_OF - 40 * DAY
    assert {o.step.variant_id for o in explanation.steps} == {config.champion.pk}
    # A new case of the strategy is drawn among the active variants only.
    other = make_case(cast.retail, "Fer", "9000.00", AS_OF - 45 * DAY)
    assert explain_case(case=other, as_of=AS_OF).variant.variant == config.champion


# --- Steps --------------------------------------------------------------------------------------


def _in_default_strategy_since(case, config, since):
    return set_state(
        case, config.administrative, since, segment=config.bajo, strategy=config.admin_default,
        variant=config.default_variant, strategy_entered_on=since,
    )  # fmt: skip


def test_each_step_says_when_it_falls_due_and_why_it_fires_or_not(cast, config):
    due = AS_OF - 38 * DAY  # 2026-02-21
    case = make_case(cast.retail, "Eva", "3500.00", due)
    _in_default_strategy_since(case, config, due + DAY)
    completed_cycle(cast.mx, AS_OF - 1 * DAY)
    sms3 = Step.objects.get(variant=config.default_variant, position=1)
    Action.objects.create(
        organization=cast.mx, case=case, step=sms3, variant=config.default_variant, due_on=due + 3 * DAY,
        business_date=due + 3 * DAY, status="done",
    )  # fmt: skip
    ContactPoint.objects.create(
        organization=cast.mx, debtor=case.debtor, kind="email", value="eva@example.com",
        normalized="eva@example.com",
    )  # fmt: skip
    steps = steps_by_name(explain_case(case=case, as_of=AS_OF))

    assert steps["SMS día 3"].status == StepStatus.ALREADY_DONE
    assert steps["SMS día 3"].action.due_on == due + 3 * DAY
    assert steps["SMS día 3"].detail == "Already done on 2026-02-24."
    # SMS día 10 fell due on 2026-03-03, 28 days ago: past the 7-day catch-up window.
    assert steps["SMS día 10"].status == StepStatus.STALE
    assert steps["SMS día 10"].recorded_today == ("skipped", "stale")
    # The call (stage entry + 2 = 2026-02-24) is stale too; the email of day 40 is not due yet.
    assert steps["Llamada"].status == StepStatus.STALE
    assert steps["Correo día 40"].status == StepStatus.NOT_YET_DUE
    assert steps["Correo día 40"].due_on == due + 40 * DAY
    assert steps["Correo día 40"].detail == "Not yet due: falls due on 2026-04-02, in 2 days."

    # Two days later the email fires, to the debtor's email address.
    steps = steps_by_name(explain_case(case=case, as_of=AS_OF + 2 * DAY))
    assert steps["Correo día 40"].status == StepStatus.FIRES
    assert steps["Correo día 40"].contact_point.normalized == "eva@example.com"
    assert steps["Correo día 40"].recorded_today == ("done", "")


def test_an_earlier_step_of_the_same_channel_is_superseded_by_the_latest(cast, config):
    due = AS_OF - 10 * DAY
    case = make_case(cast.retail, "Eva", "3500.00", due)
    _in_default_strategy_since(case, config, due + DAY)
    completed_cycle(cast.mx, due)  # the cycle has not run since the due date
    steps = steps_by_name(explain_case(case=case, as_of=AS_OF))
    assert steps["SMS día 3"].status == StepStatus.SUPERSEDED
    assert steps["SMS día 3"].recorded_today == ("skipped", "superseded")
    assert steps["SMS día 10"].status == StepStatus.FIRES
    assert "caught up" not in steps["SMS día 10"].detail  # due today
    assert steps["Llamada"].status == StepStatus.FIRES  # due on day 3, within the catch-up window
    assert "caught up" in steps["Llamada"].detail


def test_steps_that_fell_due_before_the_case_entered_the_strategy_are_not_its_steps(cast, config):
    case = make_case(cast.retail, "Eva", "3500.00", AS_OF - 10 * DAY)
    steps = steps_by_name(explain_case(case=case, as_of=AS_OF))  # enters the strategy today
    assert steps["SMS día 3"].status == StepStatus.BEFORE_STRATEGY
    assert steps["SMS día 10"].status == StepStatus.FIRES


def test_a_recent_payment_stops_dunning_with_the_payment_named(cast, config):
    due = AS_OF - 10 * DAY
    case = make_case(cast.retail, "Eva", "3500.00", due)
    _in_default_strategy_since(case, config, due + DAY)
    completed_cycle(cast.mx, AS_OF - DAY)
    record_payment(
        organization=cast.mx, portfolio=cast.retail, debtor=case.debtor, amount=Decimal("1200.00"),
        paid_on=AS_OF - 2 * DAY, actor=cast.actor(),
    )  # fmt: skip
    sms10 = steps_by_name(explain_case(case=case, as_of=AS_OF))["SMS día 10"]
    assert sms10.status == StepStatus.STOPPED
    assert sms10.recorded_today == ("skipped", "payment")
    assert "payment of $1,200.00 on 2026-03-29" in sms10.detail


def test_a_pending_promise_or_an_active_plan_stops_dunning(cast, config):
    due = AS_OF - 10 * DAY
    case = make_case(cast.retail, "Eva", "3500.00", due)
    _in_default_strategy_since(case, config, due + DAY)
    completed_cycle(cast.mx, AS_OF - DAY)
    PaymentPlan.objects.create(
        organization=cast.mx, case=case, status="active", total_amount=Decimal("3500.00"), installments=3,
        first_due_on=AS_OF + 10 * DAY, starts_on=AS_OF - 4 * DAY,
    )  # fmt: skip
    sms10 = steps_by_name(explain_case(case=case, as_of=AS_OF))["SMS día 10"]
    assert sms10.recorded_today == ("skipped", "plan")
    PromiseToPay.objects.create(
        organization=cast.mx, case=case, amount=Decimal("500.00"), currency="MXN",
        promised_on=AS_OF + 2 * DAY, made_on=AS_OF - DAY, origin="collector",
    )  # fmt: skip
    sms10 = steps_by_name(explain_case(case=case, as_of=AS_OF))["SMS día 10"]
    assert sms10.recorded_today == ("skipped", "promise")  # promise comes before plan
    assert "promise of $500.00 for 2026-04-02" in sms10.detail


def test_a_debtor_hold_pauses_every_step_and_they_wait(cast, config):
    due = AS_OF - 10 * DAY
    case = make_case(cast.retail, "Eva", "3500.00", due)
    _in_default_strategy_since(case, config, due + DAY)
    completed_cycle(cast.mx, AS_OF - DAY)
    Hold.objects.create(
        organization=cast.mx, scope="debtor", debtor=case.debtor, reason="complaint",
        starts_on=AS_OF - 2 * DAY, ends_on=AS_OF + 5 * DAY,
    )  # fmt: skip
    explanation = explain_case(case=case, as_of=AS_OF)
    steps = steps_by_name(explanation)
    assert steps["SMS día 10"].status == StepStatus.HELD
    assert "Complaint" in steps["SMS día 10"].detail
    assert explanation.recorded_today == []
    # After the hold the steps are judged again.
    assert (
        steps_by_name(explain_case(case=case, as_of=AS_OF + 6 * DAY))["SMS día 10"].status != StepStatus.HELD
    )


def test_a_step_waits_for_an_allowed_weekday(cast, config):
    saturday = dt.date(2026, 4, 4)
    case = make_case(cast.retail, "Eva", "3500.00", saturday - 5 * DAY)
    _in_default_strategy_since(case, config, saturday - 4 * DAY)
    completed_cycle(cast.mx, saturday - DAY)
    call = steps_by_name(explain_case(case=case, as_of=saturday))["Llamada"]
    assert call.status == StepStatus.WAITS_WEEKDAY
    assert "Monday, Tuesday, Wednesday, Thursday, Friday" in call.detail
    monday = saturday + 2 * DAY
    assert steps_by_name(explain_case(case=case, as_of=monday))["Llamada"].status == StepStatus.FIRES


def test_a_false_condition_is_traced_and_the_step_waits(cast, config):
    due = AS_OF - 10 * DAY
    case = make_case(cast.retail, "Eva", "3500.00", due)
    _in_default_strategy_since(case, config, due + DAY)
    completed_cycle(cast.mx, AS_OF - DAY)
    Step.objects.filter(variant=config.default_variant, position=2).update(condition="balance >= 100000")
    sms10 = steps_by_name(explain_case(case=case, as_of=AS_OF))["SMS día 10"]
    assert sms10.status == StepStatus.CONDITION_FALSE
    assert sms10.condition.trace_lines == ["balance >= 100000: balance is 3500.00 → no"]


def test_a_message_without_a_usable_contact_point_or_to_a_do_not_contact_debtor_is_skipped(cast, config):
    due = AS_OF - 10 * DAY
    case = make_case(cast.retail, "Eva", "3500.00", due, mobile=False)
    _in_default_strategy_since(case, config, due + DAY)
    completed_cycle(cast.mx, AS_OF - DAY)
    ContactPoint.objects.create(
        organization=cast.mx, debtor=case.debtor, kind="mobile", value="1", normalized="+525500000001",
        wrong_number=True,
    )  # fmt: skip
    assert steps_by_name(explain_case(case=case, as_of=AS_OF))["SMS día 10"].recorded_today == (
        "skipped",
        "no_contact_point",
    )
    case.debtor.do_not_contact = True
    case.debtor.save()
    assert steps_by_name(explain_case(case=case, as_of=AS_OF))["SMS día 10"].recorded_today == (
        "skipped",
        "do_not_contact",
    )


def test_priority_is_expected_recovery_times_the_stage_weight(cast, config):
    StrategySettings.objects.create(organization=cast.mx)
    config.administrative.priority_weight = Decimal("1.50")
    config.administrative.save()
    case = make_case(cast.retail, "Eva", "3500.00", AS_OF - 45 * DAY)
    priority = explain_case(case=case, as_of=AS_OF).priority
    assert priority.source == "fallback"
    assert priority.probability == Decimal("0.5000")  # bucket 31-60
    assert priority.expected_recovery == Decimal("1750.00")
    assert priority.priority == Decimal("2625.00")


# --- Explain never writes, and reads a handful of queries -------------------------------------------


def test_explain_never_writes_and_its_queries_do_not_grow_with_the_portfolio(cast, config):
    case = make_case(cast.retail, "Eva", "3500.00", AS_OF - 10 * DAY)
    _in_default_strategy_since(case, config, AS_OF - 9 * DAY)
    completed_cycle(cast.mx, AS_OF - DAY)
    with CaptureQueriesContext(connection) as few:
        explain_case(case=case, as_of=AS_OF)
    for n in range(15):
        other = make_case(cast.retail, f"Otro {n}", "900.00", AS_OF - n * DAY)
        _in_default_strategy_since(other, config, AS_OF - 9 * DAY)
        make_document(cast.retail, case.debtor, f"E-{n}", "10.00", AS_OF - n * DAY)
    with CaptureQueriesContext(connection) as many:
        explain_case(case=case, as_of=AS_OF)
    assert len(many) == len(few) <= 20
    statements = [q["sql"].split()[0].upper() for q in many.captured_queries]
    assert set(statements) == {"SELECT"}


def test_the_text_explanation_names_every_phase(cast, config):
    case = make_case(cast.retail, "Eva", "3500.00", AS_OF - 10 * DAY)
    text = "\n".join(explanation_lines(explain_case(case=case, as_of=AS_OF)))
    for expected in (
        "as of 2026-03-31",
        "✓ Administrativa: days past due 10 >= 1 → yes",
        "· Saldo alto (priority 10): balance >= 5000",
        "balance >= 5000: balance is 3500.00 → no",
        "→ Saldo bajo",
        "→ Administrativa",
        "[0, 100) Única (100%)",
        "2. SMS día 10 [SMS] due 2026-03-31 = oldest due date 2026-03-21 + 10 days",
        "Fires: SMS message with “Recordatorio” to +5255",
    ):
        assert expected in text
