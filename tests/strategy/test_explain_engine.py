"""Explain agrees with the cycle engine.

A small population of cases covers the cycle's decisions — every stage, both segments, the
champion/challenger draw, catch-up over missed days, a weekend, a debtor hold, a document
hold, a recent payment, a pending and a broken promise, a dispute, a do-not-contact debtor,
a debtor without a mobile, a case paid off, manual moves whose stage is kept (pinned) while
the entry tests say otherwise, a cure would move it back or the case is paid off, and after
the pin ends, a challenger variant retired mid-way (its cases drawn again). Day after day, explain runs for
every case before the cycle; then the cycle runs, and for every case the stage, segment,
strategy and variant (with their dates) and the priority that explain predicted are the
stored CaseState, and the steps explain says the cycle records today are exactly the
Actions it created (status and skip reason), messages going to the contact point explain
named. Explained again after the run, nothing is left to record.
"""

import datetime as dt
from decimal import Decimal

import pytest

from recobro.core.audit import Actor
from recobro.negotiation.models import PromiseToPay
from recobro.portfolio.models import Case, ContactPoint
from recobro.portfolio.services.payments import record_payment
from recobro.strategy.engine import run_cycle
from recobro.strategy.explain import StageMove, StepStatus, explain_case
from recobro.strategy.models import Action, CaseState, Hold, Step, Strategy, StrategySettings, Variant
from recobro.strategy.services.stages import move_case_stage
from tests.conftest import AS_OF, make_document
from tests.strategy.explain_setup import build_config, make_case

DAY = dt.timedelta(days=1)
D0 = AS_OF  # a Tuesday


def _add_strategies(org, config):
    """Strategies for the other stages, so every stage has steps."""

    def strategy(code, stage):
        s = Strategy.objects.create(organization=org, code=code, name=code.title(), stage=stage)
        return Variant.objects.create(
            strategy=s, code="v", name="Única", is_champion=True, share=100, position=1
        )

    preventive = strategy("preventiva", config.preventive)
    Step.objects.create(
        variant=preventive, position=1, name="SMS preventivo", anchor="due_date", offset_days=-3,
        action="message", channel="sms", template=config.sms,
    )  # fmt: skip
    extrajudicial = strategy("extrajudicial", config.extrajudicial)
    Step.objects.create(
        variant=extrajudicial, position=1, name="Visita", anchor="stage_entry", offset_days=0,
        action="task", task_kind="visit", condition="balance >= 1000 and days_in_stage <= 30",
    )  # fmt: skip
    Step.objects.create(
        variant=extrajudicial, position=2, name="Correo extrajudicial", anchor="due_date", offset_days=65,
        action="message", channel="email", template=config.email, stop_on=["payment", "dispute"],
    )  # fmt: skip
    judicial = strategy("judicial", config.judicial)
    Step.objects.create(
        variant=judicial, position=1, name="Revisión legal", anchor="stage_entry", offset_days=1,
        action="task", task_kind="review", stop_on=[],
    )  # fmt: skip


@pytest.fixture
def population(cast):
    org = cast.mx
    org.business_date_override = D0
    org.save(update_fields=["business_date_override"])
    config = build_config(org)
    _add_strategies(org, config)
    StrategySettings.objects.create(organization=org, manual_stage_days=10)
    actor = Actor.for_user(cast.ana)

    def case(name, amount, due, **kwargs):
        return make_case(cast.retail, name, amount, due, as_of=D0, **kwargs)

    cases = {
        "preventive": case("Ana P", "2000.00", D0 + 4 * DAY),
        "early": case("Beto", "3500.00", D0 - 3 * DAY),
        "high": case("Celia", "8000.00", D0 - 12 * DAY),
        "high-email": case("Dario", "9000.00", D0 - 45 * DAY),
        "extrajudicial": case("Elena", "1500.00", D0 - 70 * DAY),
        "judicial": case("Fausto", "2500.00", D0 - 130 * DAY),
        "do-not-contact": case("Gina", "4000.00", D0 - 20 * DAY),
        "on-hold": case("Hugo", "3000.00", D0 - 8 * DAY),
        "paid-lately": case("Irma", "3000.00", D0 - 25 * DAY),
        "promises": case("Julio", "3000.00", D0 - 15 * DAY),
        "disputed": case("Karla", "2000.00", D0 - 64 * DAY),
        "document-hold": case("Luis", "2000.00", D0 - 10 * DAY),
        "no-mobile": case("Mario", "3000.00", D0 - 5 * DAY, mobile=False),
        "small-extrajudicial": case("Nadia", "800.00", D0 - 75 * DAY),  # the visit's condition is false
        "catch-up-edge": case("Olga", "1200.00", D0 + 3 * DAY),  # SMS día 10 due exactly 7 days before D0+20
        "payment-edge": case("Pablo", "3000.00", D0 - 6 * DAY),  # paid 5 days before his SMS día 10
    }
    for n in range(8):  # more draws between champion and challenger
        cases[f"high-{n}"] = case(f"Alto {n}", f"{6000 + 500 * n}.00", D0 - (2 + 3 * n) * DAY)
    ContactPoint.objects.create(
        organization=org, debtor=cases["high-email"].debtor, kind="email", value="dario@example.com",
        normalized="dario@example.com",
    )  # fmt: skip
    debtor = cases["do-not-contact"].debtor
    debtor.do_not_contact = True
    debtor.save()
    Hold.objects.create(
        organization=org, scope="debtor", debtor=cases["on-hold"].debtor, reason="complaint",
        starts_on=D0 - DAY, ends_on=D0 + 4 * DAY,
    )  # fmt: skip
    record_payment(
        organization=org, portfolio=cast.retail, debtor=cases["paid-lately"].debtor, amount=Decimal("500.00"),
        paid_on=D0 - DAY, actor=actor,
    )  # fmt: skip
    record_payment(
        organization=org, portfolio=cast.retail, debtor=cases["payment-edge"].debtor,
        amount=Decimal("200.00"), paid_on=D0 - DAY, actor=actor,
    )  # fmt: skip
    julio = cases["promises"]
    PromiseToPay.objects.create(
        organization=org, case=julio, amount=Decimal("700.00"), currency="MXN", promised_on=D0 - 5 * DAY,
        made_on=D0 - 10 * DAY, origin="collector",
    )  # fmt: skip
    PromiseToPay.objects.create(
        organization=org, case=julio, amount=Decimal("900.00"), currency="MXN", promised_on=D0 + 3 * DAY,
        made_on=D0 - 2 * DAY, origin="portal",
    )  # fmt: skip
    karla = cases["disputed"].debtor
    karla.is_disputed = True
    karla.save()
    # Mario also owes an invoice due in a month: once he pays the overdue one he is cured.
    make_document(cast.retail, cases["no-mobile"].debtor, "M-NEXT", "1000.00", D0 + 30 * DAY)
    luis = cases["document-hold"]
    held = make_document(cast.retail, luis.debtor, "L-OLD", "5000.00", D0 - 80 * DAY)
    Hold.objects.create(
        organization=org, scope="document", debtor=luis.debtor, document=held, reason="dispute", starts_on=D0,
    )  # fmt: skip
    return cast, config, cases, actor


def _state_of(case: Case):
    state = CaseState.objects.filter(case=case).first()
    if state is None:
        return (None,) * 9
    return (
        state.stage_id,
        state.stage_entered_on,
        state.segment_id,
        state.strategy_id,
        state.variant_id,
        state.strategy_entered_on,
        state.probability,
        state.expected_recovery,
        state.priority,
    )


def _predicted(e):
    return (
        e.stage.stage.pk if e.stage.stage else None,
        e.stage.entered_on,
        e.segment.pk if e.segment else None,
        e.strategy.strategy.pk if e.strategy.strategy else None,
        e.variant.variant.pk if e.variant.variant else None,
        e.strategy.entered_on if e.strategy.strategy else None,
        e.priority.probability,
        e.priority.expected_recovery,
        e.priority.priority,
    )


def _day(org, day: dt.date) -> dict:
    """Explain every case, run the cycle, and compare. Returns the explanations by case id."""
    org.business_date_override = day
    org.save(update_fields=["business_date_override"])
    cases = list(Case.objects.filter(organization=org).order_by("pk"))
    explanations = {case.pk: explain_case(case=case, as_of=day) for case in cases}
    run_cycle(organization=org, as_of=day)
    for case in cases:
        e = explanations[case.pk]
        assert _state_of(case) == _predicted(e), f"{case} on {day}"
        created = {
            (a.step_id, a.due_on, a.status, a.skip_reason): a
            for a in Action.objects.filter(case=case, business_date=day).select_related("message")
        }
        predicted = {(o.step.pk, o.due_on, *o.recorded_today): o for o in e.recorded_today}
        assert set(created) == set(predicted), f"{case} on {day}: {[o.detail for o in e.steps]}"
        for key, action in created.items():
            if action.message is not None:
                assert action.message.contact_point_id == predicted[key].contact_point.pk
    # Explained again after the run, the decisions stand and nothing is left to record.
    for case in cases:
        again = explain_case(case=case, as_of=day)
        assert _predicted(again) == _state_of(case), f"{case} on {day}, after the run"
        assert again.recorded_today == [], f"{case} on {day}, after the run"
    return explanations


def test_explain_predicts_what_the_cycle_does_day_after_day(population):
    cast, config, cases, actor = population
    org = cast.mx
    seen: set[StepStatus] = set()

    def day(d):
        explanations = _day(org, d)
        for e in explanations.values():
            seen.update(o.status for o in e.steps)
        return explanations

    day(D0)  # the first cycle: every case enters today
    day(D0 + DAY)
    # Beto pays off; Fausto's case is moved back by hand, Mario's and Celia's forward (each
    # kept there for manual_stage_days = 10, until D0 + 11); two days are missed (Thu, Fri).
    record_payment(
        organization=org, portfolio=cast.retail, debtor=cases["early"].debtor, amount=Decimal("3500.00"),
        paid_on=D0 + DAY, actor=actor,
    )  # fmt: skip
    for name, stage in (("judicial", config.extrajudicial), ("no-mobile", config.extrajudicial),
                        ("high", config.judicial)):  # fmt: skip
        move_case_stage(case=cases[name], stage=stage, reason_note="Revisión", actor=actor, as_of=D0 + DAY)
    assert CaseState.objects.get(case=cases["judicial"]).stage_pinned_until == D0 + 11 * DAY
    # Mario pays his overdue invoice (cured: dpd 0), Celia pays everything (closed).
    record_payment(
        organization=org, portfolio=cast.retail, debtor=cases["no-mobile"].debtor, amount=Decimal("3000.00"),
        paid_on=D0 + DAY, actor=actor,
    )  # fmt: skip
    record_payment(
        organization=org, portfolio=cast.retail, debtor=cases["high"].debtor, amount=Decimal("8000.00"),
        paid_on=D0 + DAY, actor=actor,
    )  # fmt: skip
    saturday = day(D0 + 4 * DAY)  # Saturday: the call waits for a weekday, the rest catches up
    fausto, mario, celia = (saturday[cases[n].pk].stage for n in ("judicial", "no-mobile", "high"))
    assert fausto.move == StageMove.PINNED and fausto.target == config.judicial  # the rules say judicial
    assert fausto.stage == config.extrajudicial
    assert "by a manual move until 2026-04-11" in fausto.reason
    assert mario.move == StageMove.PINNED and mario.stage == config.extrajudicial  # cured, but kept
    assert celia.move == StageMove.CLOSED  # a closed case still leaves
    day(D0 + 6 * DAY)  # Monday
    # The challenger of "alto" is retired: its cases are drawn again among the active ones.
    on_challenger = set(
        CaseState.objects.filter(variant=config.challenger).values_list("case_id", "strategy_entered_on")
    )
    assert on_challenger
    Variant.objects.filter(pk=config.challenger.pk).update(is_active=False)
    Variant.objects.filter(pk=config.champion.pk).update(share=100)
    gap = day(D0 + 20 * DAY)  # a long gap: stale steps; the pins have ended
    fausto, mario = (gap[cases[n].pk].stage for n in ("judicial", "no-mobile"))
    assert (fausto.move, fausto.stage) == (StageMove.FORWARD, config.judicial)
    assert (mario.move, mario.stage) == (StageMove.BACK_CURED, None)
    redrawn = [(case_id, on) for case_id, on in on_challenger if not gap[case_id].strategy.changed]
    assert redrawn  # some stay in the administrative stage (others moved on to extrajudicial)
    for case_id, entered_on in redrawn:
        e = gap[case_id]
        assert e.variant.redrawn and e.variant.variant == config.champion
        assert "was retired" in e.variant.reason
        assert CaseState.objects.get(case_id=case_id).strategy_entered_on == entered_on
    assert not Action.objects.filter(variant=config.challenger, business_date=D0 + 20 * DAY).exists()

    # The population went through the cycle's cases (a test that checks nothing is no test).
    assert {
        StepStatus.FIRES,
        StepStatus.STOPPED,
        StepStatus.SUPERSEDED,
        StepStatus.STALE,
        StepStatus.SKIPPED,
        StepStatus.HELD,
        StepStatus.WAITS_WEEKDAY,
        StepStatus.CONDITION_FALSE,
        StepStatus.ALREADY_DONE,
        StepStatus.NOT_YET_DUE,
        StepStatus.BEFORE_STRATEGY,
    } <= seen
    assert Action.objects.filter(variant=config.challenger).exists()  # before it was retired
    variants = set(CaseState.objects.filter(strategy=config.admin_alto).values_list("variant_id", flat=True))
    assert variants == {config.champion.pk}
    assert Action.objects.filter(status="done").exists() and Action.objects.filter(status="skipped").exists()
