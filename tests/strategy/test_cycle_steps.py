"""Due steps, waiting, stop conditions, holds, catch-up, messages and tasks (docs/strategy.md §7).

The tests pin each case to one variant by giving it the whole share.
"""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from recobro.channels.models import Message, Template
from recobro.negotiation.models import PaymentPlan, PromiseToPay
from recobro.portfolio.models import Case, ContactPoint, Document, Payment
from recobro.strategy.models import Action, CaseState, Hold, Step, Task, Variant
from tests.strategy.conftest import AS_OF, cycle, days, new_debtor, owes


def only(variant: Variant) -> None:
    """Give ``variant`` all of its strategy's cases."""
    Variant.objects.filter(strategy_id=variant.strategy_id).update(share=0)
    Variant.objects.filter(pk=variant.pk).update(share=100)


def actions_of(debtor) -> list[tuple]:
    return [
        (a.step.name, a.due_on, a.status, a.skip_reason)
        for a in Action.objects.filter(case__debtor=debtor)
        .select_related("step")
        .order_by("due_on", "step__position")
    ]


def case_of(debtor) -> Case:
    return Case.objects.get(debtor=debtor)


@pytest.fixture
def admin_a(config):
    only(config.admin_a)  # SMS on day 1, email on day 7 (from the due date)
    return config.admin_a


def test_a_step_due_today_sends_a_queued_message_to_the_primary_contact_point(cast, config, admin_a):
    debtor = new_debtor(cast, "D", email="d@example.com")
    owes(cast, debtor, "100.00", days(-1))

    counts = cycle(cast, AS_OF)

    action = Action.objects.get(case__debtor=debtor)
    assert (action.step.name, action.due_on, action.business_date, action.status, action.skip_reason) == (
        "sms day 1",
        AS_OF,
        AS_OF,
        "done",
        "",
    )
    assert action.variant == config.admin_a
    message = action.message
    assert message.idempotency_key == f"cycle:{action.pk}"
    assert (message.channel, message.status, message.business_date, message.template) == (
        "sms",
        "queued",
        AS_OF,
        config.sms,
    )
    assert message.contact_point.kind == "mobile"
    assert (message.case, message.debtor, message.language) == (case_of(debtor), debtor, "es")
    assert (counts["messages"], counts["actions"], counts["actions_done"]) == (1, 1, 1)


def test_steps_that_fell_due_before_the_case_entered_the_strategy_are_not_its_steps(cast, config, admin_a):
    debtor = new_debtor(cast, "D")
    owes(cast, debtor, "100.00", days(-3))  # the SMS of day 1 fell due 2 days ago
    cycle(cast, AS_OF)
    assert actions_of(debtor) == []


def test_a_step_counted_from_stage_entry_falls_due_from_the_entry_date(cast, config):
    debtor = new_debtor(cast, "D")
    owes(cast, debtor, "100.00", days(-61))
    cycle(cast, AS_OF)  # enters extrajudicial today: the call of day 0
    task = Task.objects.get(case__debtor=debtor)
    assert (task.kind, task.title, task.status, task.due_on) == ("call", "call day 0", "open", AS_OF)
    assert Action.objects.get(case__debtor=debtor).task == task

    cycle(cast, days(9))
    assert Task.objects.filter(case__debtor=debtor).count() == 1
    cycle(cast, days(10))
    visit = Task.objects.filter(case__debtor=debtor, kind="visit").get()
    assert visit.due_on == days(10)
    assert actions_of(debtor)[-1] == ("visit day 10", days(10), "done", "")


def test_a_step_waits_for_an_allowed_weekday_and_runs_then(cast, config, admin_a):
    Step.objects.filter(variant=admin_a, position=1).update(weekdays="1")  # Mondays only
    debtor = new_debtor(cast, "D", email="d@example.com")
    owes(cast, debtor, "100.00", days(-1))
    assert AS_OF.isoweekday() == 2

    cycle(cast, AS_OF)
    assert actions_of(debtor) == []
    cycle(cast, days(5))  # Sunday
    assert actions_of(debtor) == []
    cycle(cast, days(6))  # Monday: the email of day 7 (from the due date) falls due too
    assert actions_of(debtor) == [("sms day 1", AS_OF, "done", ""), ("email day 7", days(6), "done", "")]


def test_a_step_whose_condition_is_false_waits_and_runs_when_it_becomes_true(cast, config, admin_a):
    Step.objects.filter(variant=admin_a, position=1).update(condition="balance >= 500")
    debtor = new_debtor(cast, "D")
    document = owes(cast, debtor, "100.00", days(-1))
    cycle(cast, AS_OF)
    assert actions_of(debtor) == []

    Document.objects.filter(pk=document.pk).update(balance="600.00", original_amount="600.00")
    cycle(cast, days(1))
    assert actions_of(debtor) == [("sms day 1", AS_OF, "done", "")]


def _payment(cast, debtor, paid_on, amount="50.00"):
    return Payment.objects.create(
        organization=cast.mx,
        portfolio=cast.retail,
        debtor=debtor,
        amount=Decimal(amount),
        unallocated_amount=Decimal(amount),
        currency="MXN",
        paid_on=paid_on,
        source="manual",
    )


def test_a_recent_payment_stops_the_step_and_records_it_skipped(cast, config, admin_a):
    recent = new_debtor(cast, "RECENT")
    owes(cast, recent, "100.00", days(-1))
    _payment(cast, recent, days(-5))  # within payment_stop_days (5), counted inclusively
    older = new_debtor(cast, "OLDER")
    owes(cast, older, "100.00", days(-1))
    _payment(cast, older, days(-6))

    counts = cycle(cast, AS_OF)

    assert actions_of(recent) == [("sms day 1", AS_OF, "skipped", "payment")]
    assert actions_of(older) == [("sms day 1", AS_OF, "done", "")]
    assert counts["skipped"] == {"payment": 1}


def test_a_pending_promise_a_dispute_and_an_active_plan_stop_the_steps(cast, config, admin_a):
    promised = new_debtor(cast, "PROMISED")
    owes(cast, promised, "100.00", days(-1))
    flagged = new_debtor(cast, "FLAGGED", is_disputed=True)
    owes(cast, flagged, "100.00", days(-1))
    contested = new_debtor(cast, "CONTESTED")
    disputed = owes(cast, contested, "100.00", days(-1))
    Document.objects.filter(pk=disputed.pk).update(status="disputed")
    planned = new_debtor(cast, "PLANNED")
    owes(cast, planned, "100.00", days(-1))
    cycle(cast, days(-1))
    PromiseToPay.objects.create(
        organization=cast.mx,
        case=case_of(promised),
        amount="100.00",
        currency="MXN",
        promised_on=days(5),
        made_on=days(-1),
        origin="collector",
    )
    PaymentPlan.objects.create(
        organization=cast.mx,
        case=case_of(planned),
        status="active",
        total_amount="100.00",
        installments=2,
        first_due_on=days(10),
        starts_on=days(-1),
    )

    cycle(cast, AS_OF)

    assert actions_of(promised) == [("sms day 1", AS_OF, "skipped", "promise")]
    assert actions_of(flagged) == [("sms day 1", AS_OF, "skipped", "dispute")]
    assert actions_of(contested) == [("sms day 1", AS_OF, "skipped", "dispute")]
    assert actions_of(planned) == [("sms day 1", AS_OF, "skipped", "plan")]


def test_a_step_that_does_not_stop_on_a_condition_runs_despite_it(cast, config, admin_a):
    Step.objects.filter(variant=admin_a, position=1).update(stop_on=["payment"])
    debtor = new_debtor(cast, "D", is_disputed=True)
    owes(cast, debtor, "100.00", days(-1))
    cycle(cast, AS_OF)
    assert actions_of(debtor) == [("sms day 1", AS_OF, "done", "")]


def _hold(cast, debtor, starts_on, ends_on=None, document=None, needs_approval=False):
    return Hold.objects.create(
        organization=cast.mx,
        scope="document" if document else "debtor",
        debtor=debtor,
        document=document,
        reason="dispute",
        starts_on=starts_on,
        ends_on=ends_on,
        needs_approval=needs_approval,
    )


def test_a_debtor_hold_pauses_everything_and_the_steps_are_judged_when_it_ends(cast, config, admin_a):
    debtor = new_debtor(cast, "D")
    owes(cast, debtor, "100.00", days(-1))
    _hold(cast, debtor, starts_on=days(-3), ends_on=days(2))  # placed today, backdated

    cycle(cast, AS_OF)
    cycle(cast, days(2))
    assert actions_of(debtor) == []
    assert CaseState.objects.get(case__debtor=debtor).stage == config.administrative

    cycle(cast, days(3))
    assert actions_of(debtor) == [("sms day 1", AS_OF, "done", "")]


def test_a_hold_waiting_for_approval_or_released_does_not_pause(cast, config, admin_a):
    waiting = new_debtor(cast, "WAITING")
    owes(cast, waiting, "100.00", days(-1))
    _hold(cast, waiting, starts_on=days(-3), needs_approval=True)
    released = new_debtor(cast, "RELEASED")
    owes(cast, released, "100.00", days(-1))
    Hold.objects.filter(pk=_hold(cast, released, starts_on=days(-3)).pk).update(released_at=timezone.now())

    cycle(cast, AS_OF)

    assert actions_of(waiting) == [("sms day 1", AS_OF, "done", "")]
    assert actions_of(released) == [("sms day 1", AS_OF, "done", "")]


def test_a_document_hold_takes_the_document_out_of_the_facts(cast, config):
    debtor = new_debtor(cast, "D")
    held = owes(cast, debtor, "9000.00", days(-70))
    owes(cast, debtor, "100.00", days(3))
    _hold(cast, debtor, starts_on=days(-1), document=held)

    cycle(cast, AS_OF)

    state = CaseState.objects.get(case__debtor=debtor)
    assert state.stage == config.preventive  # as if only the document due in 3 days were owed
    assert state.segment == config.bajo
    assert state.expected_recovery == Decimal("90.00")  # 100 × 0.90 ("current" bucket)
    assert case_of(debtor).dpd == 70  # the ledger itself is unchanged


def test_a_case_whose_every_document_is_held_leaves_its_stage(cast, config):
    debtor = new_debtor(cast, "D")
    held = owes(cast, debtor, "500.00", days(-20))
    cycle(cast, AS_OF)
    _hold(cast, debtor, starts_on=days(1), document=held)
    cycle(cast, days(1))
    state = CaseState.objects.get(case__debtor=debtor)
    assert (state.stage, state.segment, state.strategy) == (None, None, None)


@pytest.fixture
def two_sms(config, admin_a):
    """admin "a" with a second SMS on day 4: SMS day 1, email day 7, SMS day 4."""
    Step.objects.create(
        variant=admin_a,
        position=3,
        name="sms day 4",
        anchor="due_date",
        offset_days=4,
        action="message",
        channel="sms",
        template=config.sms,
    )
    return admin_a


def test_after_missed_days_the_latest_due_step_of_a_kind_runs_and_earlier_ones_are_superseded(
    cast, config, two_sms
):
    debtor = new_debtor(cast, "D")
    owes(cast, debtor, "100.00", AS_OF)
    cycle(cast, AS_OF)  # due today: preventive, no step of its own due yet

    cycle(cast, days(6))  # entered administrative on days(1); days 1 to 5 were missed

    assert actions_of(debtor) == [
        ("sms day 1", days(1), "skipped", "superseded"),
        ("sms day 4", days(4), "done", ""),
    ]
    assert Message.objects.filter(case__debtor=debtor).count() == 1


def test_a_step_missed_for_longer_than_the_catch_up_window_is_recorded_stale(cast, config, two_sms):
    debtor = new_debtor(cast, "D")
    owes(cast, debtor, "100.00", AS_OF)
    cycle(cast, AS_OF)

    cycle(cast, days(20))  # catch-up window: 7 days

    assert actions_of(debtor) == [
        ("sms day 1", days(1), "skipped", "superseded"),
        ("sms day 4", days(4), "skipped", "stale"),
        ("email day 7", days(7), "skipped", "stale"),
    ]
    assert not Message.objects.exists()


def test_message_skips_do_not_contact_no_contact_point_and_inactive_template(cast, config, admin_a):
    blocked = new_debtor(cast, "BLOCKED", do_not_contact=True)
    owes(cast, blocked, "100.00", days(-1))
    deceased = new_debtor(cast, "DECEASED", is_deceased=True)
    owes(cast, deceased, "100.00", days(-1))
    unreachable = new_debtor(cast, "UNREACHABLE", phone=None, email="u@example.com")
    owes(cast, unreachable, "100.00", days(-1))

    cycle(cast, AS_OF)

    assert actions_of(blocked) == [("sms day 1", AS_OF, "skipped", "do_not_contact")]
    assert actions_of(deceased) == [("sms day 1", AS_OF, "skipped", "do_not_contact")]
    assert actions_of(unreachable) == [("sms day 1", AS_OF, "skipped", "no_contact_point")]

    Template.objects.filter(pk=config.sms.pk).update(is_active=False)
    other = new_debtor(cast, "OTHER")
    owes(cast, other, "100.00", days(0))
    cycle(cast, days(1))
    assert actions_of(other) == [("sms day 1", days(1), "skipped", "no_template")]
    assert not Message.objects.exists()


def test_the_contact_point_is_the_primary_usable_one_then_the_newest(cast, config, admin_a):
    debtor = new_debtor(cast, "D", phone=None)

    def mobile(number, **kw):
        return ContactPoint.objects.create(
            organization=cast.mx, debtor=debtor, kind="mobile", value=number, normalized=number, **kw
        )

    old = mobile("+528110000001")
    primary = mobile("+528110000002", is_primary=True)
    newest = mobile("+528110000003")
    ContactPoint.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=30))
    mobile("+528110000004", is_primary=True, wrong_number=True)
    mobile("+528110000005", is_primary=True, opted_out_at=timezone.now())
    ContactPoint.objects.create(
        organization=cast.mx,
        debtor=debtor,
        kind="email",
        value="d@example.com",
        normalized="d@example.com",
        is_primary=True,
    )
    owes(cast, debtor, "100.00", days(-1))

    cycle(cast, AS_OF)
    assert Message.objects.get().contact_point == primary

    ContactPoint.objects.filter(pk=primary.pk).update(is_primary=False)
    other = new_debtor(cast, "OTHER", phone=None)
    ContactPoint.objects.filter(debtor=debtor).update(debtor=other)
    owes(cast, other, "100.00", days(0))
    cycle(cast, days(1))
    assert Message.objects.get(case__debtor=other).contact_point == newest


def test_whatsapp_goes_to_a_mobile_when_there_is_no_whatsapp_contact(cast, config):
    only(config.alto_b)  # WhatsApp on day 1, a call on day 2
    debtor = new_debtor(cast, "D")
    owes(cast, debtor, "9000.00", days(-1))
    cycle(cast, AS_OF)
    message = Message.objects.get()
    assert (message.channel, message.contact_point.kind, message.template) == (
        "whatsapp",
        "mobile",
        config.whatsapp,
    )


def test_a_task_takes_the_case_priority_and_open_tasks_follow_it(cast, config):
    only(config.alto_b)
    debtor = new_debtor(cast, "D")
    document = owes(cast, debtor, "9000.00", days(-2))
    Step.objects.filter(variant=config.alto_b, position=1).delete()
    cycle(cast, days(-1))  # enters administrative: the call of day 2 falls due tomorrow
    cycle(cast, AS_OF)

    task = Task.objects.get(case__debtor=debtor)
    state = CaseState.objects.get(case__debtor=debtor)
    assert (task.kind, task.title, task.due_on, task.priority) == (
        "call",
        "call day 2",
        AS_OF,
        state.priority,
    )
    assert task.priority == Decimal("6300.00")  # 9000 × 0.70

    Document.objects.filter(pk=document.pk).update(balance="5000.00")
    counts = cycle(cast, days(1))
    task.refresh_from_db()
    assert task.priority == Decimal("3500.00")
    assert counts["tasks_reprioritised"] == 1
