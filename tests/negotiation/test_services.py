"""Promises and payment plans: recorded, cancelled and approved through services, audited."""

import datetime as dt
from decimal import Decimal

import pytest

from recobro.core.models import AuditEntry
from recobro.negotiation.models import PaymentPlan, PromiseToPay
from recobro.negotiation.services import (
    NegotiationError,
    approve_plan,
    cancel_plan,
    cancel_promise,
    record_plan,
    record_promise,
)
from tests.conftest import AS_OF
from tests.strategy.config_sample import make_case


@pytest.fixture
def case(cast):
    return make_case(cast, amount="1000.00")[0]


def promise(cast, case, user=None, **kwargs):
    values = {
        "case": case,
        "amount": Decimal("400.00"),
        "promised_on": AS_OF + dt.timedelta(days=7),
        "origin": "collector",
        "actor": cast.actor(user or cast.carlos),
        "as_of": AS_OF,
    }
    values.update(kwargs)
    return record_promise(**values)


def test_a_collector_records_a_promise_made_today(cast, case):
    made = promise(cast, case, notes="Paga el viernes")
    assert (made.amount, made.currency, made.made_on, made.status) == (
        Decimal("400.00"),
        "MXN",
        AS_OF,
        "pending",
    )
    assert made.created_by == cast.carlos and made.notes == "Paga el viernes"
    entry = AuditEntry.objects.get(object_type="negotiation.promisetopay")
    assert entry.action == "create" and entry.after["amount"] == "400.00"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"amount": Decimal("0")}, "more than zero"),
        ({"amount": Decimal("10.005")}, "more decimals than MXN"),
        ({"amount": 10.5}, "must be a Decimal"),
        ({"promised_on": AS_OF - dt.timedelta(days=1)}, "on or after 2026-03-31"),
        ({"as_of": AS_OF + dt.timedelta(days=1)}, "after the business date"),
        ({"origin": "phone"}, "Unknown promise origin 'phone'"),
    ],
)
def test_bad_promises_are_refused_and_nothing_is_written(cast, case, kwargs, message):
    with pytest.raises(NegotiationError, match=message):
        promise(cast, case, **kwargs)
    assert not PromiseToPay.objects.exists()


def test_one_pending_promise_at_a_time_and_cancelling_frees_the_case(cast, case):
    first = promise(cast, case)
    with pytest.raises(NegotiationError, match="already has a pending promise"):
        promise(cast, case)
    cancelled = cancel_promise(promise=first, actor=cast.actor(cast.carlos), as_of=AS_OF, note="Se retractó")
    assert cancelled.status == "cancelled" and cancelled.resolved_on == AS_OF
    assert cancelled.notes.endswith("Se retractó")
    with pytest.raises(NegotiationError, match="Only a pending promise"):
        cancel_promise(promise=cancelled, actor=cast.actor(cast.carlos), as_of=AS_OF)
    assert promise(cast, case).status == "pending"


def test_people_outside_the_portfolio_and_auditors_cannot_promise(cast, case):
    with pytest.raises(NegotiationError, match="not in your portfolios"):
        promise(cast, case, user=cast.diana)
    with pytest.raises(NegotiationError, match="read-only"):
        promise(cast, case, user=cast.auditor)
    assert not PromiseToPay.objects.exists()


def plan(cast, case, user=None, **kwargs):
    values = {
        "case": case,
        "total_amount": Decimal("900.00"),
        "down_payment": Decimal("100.00"),
        "installments": 4,
        "first_due_on": AS_OF + dt.timedelta(days=30),
        "actor": cast.actor(user or cast.carlos),
        "as_of": AS_OF,
    }
    values.update(kwargs)
    return record_plan(**values)


def test_a_plan_is_proposed_then_approved_by_a_supervisor(cast, case):
    proposed = plan(cast, case, notes="4 pagos")
    assert proposed.status == "proposed" and proposed.starts_on == AS_OF
    with pytest.raises(NegotiationError, match="administrator or a supervisor"):
        approve_plan(plan=proposed, actor=cast.actor(cast.carlos), as_of=AS_OF)
    active = approve_plan(plan=proposed, actor=cast.actor(cast.ana), as_of=AS_OF)
    assert active.status == "active" and active.approved_by == cast.ana
    second = plan(cast, case)
    with pytest.raises(NegotiationError, match="already has an active plan"):
        approve_plan(plan=second, actor=cast.actor(cast.ana), as_of=AS_OF)
    with pytest.raises(NegotiationError, match="Only a proposed plan"):
        approve_plan(plan=active, actor=cast.actor(cast.ana), as_of=AS_OF)
    actions = list(
        AuditEntry.objects.filter(object_type="negotiation.paymentplan")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["create", "update", "create"]


def test_cancelling_an_active_plan_needs_a_supervisor_a_proposed_one_does_not(cast, case):
    proposed = plan(cast, case)
    assert cancel_plan(plan=proposed, actor=cast.actor(cast.carlos), as_of=AS_OF).status == "cancelled"
    active = approve_plan(plan=plan(cast, case), actor=cast.actor(cast.ana), as_of=AS_OF)
    with pytest.raises(NegotiationError, match="cancel an active payment plan"):
        cancel_plan(plan=active, actor=cast.actor(cast.carlos), as_of=AS_OF)
    ended = cancel_plan(plan=active, actor=cast.actor(cast.ana), as_of=AS_OF, note="Incumplió")
    assert ended.status == "cancelled" and ended.ends_on == AS_OF
    with pytest.raises(NegotiationError, match="Only a proposed or active plan"):
        cancel_plan(plan=ended, actor=cast.actor(cast.ana), as_of=AS_OF)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"down_payment": Decimal("950.00")}, "more than the plan's total"),
        ({"installments": 0}, "from 1 to 360 installments"),
        ({"first_due_on": AS_OF - dt.timedelta(days=1)}, "on or after"),
        ({"total_amount": Decimal("-5")}, "more than zero"),
        ({"down_payment": Decimal("-1")}, "cannot be negative"),
    ],
)
def test_bad_plans_are_refused(cast, case, kwargs, message):
    with pytest.raises(NegotiationError, match=message):
        plan(cast, case, **kwargs)
    assert not PaymentPlan.objects.exists()
