"""Promises settle from payments (recobro.negotiation.engine.resolve_promises), to the cent."""

from decimal import Decimal

import pytest

from recobro.negotiation.engine import resolve_promises
from recobro.negotiation.models import PromiseToPay
from recobro.portfolio.models import Case, Debtor, Payment
from tests.conftest import AS_OF
from tests.strategy.conftest import days


@pytest.fixture
def case(cast) -> Case:
    return Case.objects.create(organization=cast.mx, portfolio=cast.retail, debtor=cast.eva, currency="MXN")


def promise(case, amount: str, promised_on, made_on=None) -> PromiseToPay:
    return PromiseToPay.objects.create(
        organization=case.organization,
        case=case,
        amount=Decimal(amount),
        currency="MXN",
        promised_on=promised_on,
        made_on=made_on or days(-10),
        origin="collector",
    )


def pay(case, amount: str, paid_on, *, status="posted", portfolio=None) -> Payment:
    return Payment.objects.create(
        organization=case.organization,
        portfolio=portfolio or case.portfolio,
        debtor=case.debtor,
        amount=Decimal(amount),
        unallocated_amount=Decimal(amount),
        currency="MXN",
        paid_on=paid_on,
        source="manual",
        status=status,
    )


def resolve(cast, day=AS_OF) -> dict:
    return resolve_promises(organization=cast.mx, as_of=day)


def test_a_promise_paid_in_full_by_its_date_is_kept(cast, case):
    kept = promise(case, "500.00", days(-1))
    pay(case, "200.10", days(-8))
    pay(case, "299.90", days(-1))

    counts = resolve(cast)

    kept.refresh_from_db()
    assert (kept.status, kept.paid_amount, kept.resolved_on) == ("kept", Decimal("500.00"), AS_OF)
    assert counts == {"kept": 1, "partly_kept": 0, "broken": 0, "updated": 0}


def test_a_promise_partly_paid_when_its_date_has_passed_is_partly_kept(cast, case):
    partly = promise(case, "500.00", days(-1))
    pay(case, "0.10", days(-3))
    pay(case, "0.20", days(-2))
    counts = resolve(cast)
    partly.refresh_from_db()
    assert (partly.status, partly.paid_amount, partly.resolved_on) == ("partly_kept", Decimal("0.30"), AS_OF)
    assert counts["partly_kept"] == 1


def test_a_promise_unpaid_when_its_date_has_passed_is_broken(cast, case):
    broken = promise(case, "500.00", days(-1))
    pay(case, "500.00", days(-11))  # before the promise was made: does not count
    pay(case, "500.00", AS_OF)  # after the promised date: does not count either
    counts = resolve(cast)
    broken.refresh_from_db()
    assert (broken.status, broken.paid_amount, broken.resolved_on) == ("broken", Decimal("0.00"), AS_OF)
    assert counts["broken"] == 1


def test_a_promise_is_still_running_on_its_promised_date(cast, case):
    running = promise(case, "500.00", AS_OF)
    pay(case, "100.00", days(-2))
    counts = resolve(cast)
    running.refresh_from_db()
    assert (running.status, running.paid_amount, running.resolved_on) == ("pending", Decimal("100.00"), None)
    assert counts == {"kept": 0, "partly_kept": 0, "broken": 0, "updated": 1}


def test_a_promise_paid_in_full_before_its_date_is_kept_at_once(cast, case):
    early = promise(case, "500.00", days(10))
    pay(case, "600.00", days(-2))
    resolve(cast)
    early.refresh_from_db()
    assert (early.status, early.paid_amount, early.resolved_on) == ("kept", Decimal("600.00"), AS_OF)


def test_reversed_payments_and_other_portfolios_do_not_count(cast, case):
    broken = promise(case, "500.00", days(-1))
    pay(case, "500.00", days(-3), status="reversed")
    pay(case, "500.00", days(-3), portfolio=cast.loans)
    other = Debtor.objects.create(organization=cast.mx, external_id="X", name="X")
    Payment.objects.create(
        organization=cast.mx,
        portfolio=cast.retail,
        debtor=other,
        amount=Decimal("500.00"),
        unallocated_amount=Decimal("500.00"),
        currency="MXN",
        paid_on=days(-3),
        source="manual",
    )
    resolve(cast)
    broken.refresh_from_db()
    assert broken.status == "broken"


def test_resolving_twice_changes_nothing_the_second_time(cast, case):
    promise(case, "500.00", days(-1))
    promise(case, "100.00", days(-2))
    promise(case, "200.00", days(5))
    pay(case, "150.00", days(-3))
    first = resolve(cast)
    states = sorted(PromiseToPay.objects.values_list("id", "status", "paid_amount", "resolved_on"))
    second = resolve(cast)
    assert first == {"kept": 1, "partly_kept": 1, "broken": 0, "updated": 1}  # 200 due later: 150 so far
    assert second == {"kept": 0, "partly_kept": 0, "broken": 0, "updated": 0}
    assert sorted(PromiseToPay.objects.values_list("id", "status", "paid_amount", "resolved_on")) == states
    # A later day resolves it no differently: resolved promises are left as they were.
    resolve(cast, days(3))
    after = sorted(PromiseToPay.objects.values_list("id", "status", "paid_amount", "resolved_on"))
    assert after[:2] == states[:2]


def test_only_the_organizations_own_promises_are_resolved(cast, case):
    other_case = Case.objects.create(
        organization=cast.co,
        portfolio=cast.bank_co,
        debtor=Debtor.objects.create(organization=cast.co, external_id="Y", name="Y"),
        currency="COP",
    )
    theirs = promise(other_case, "500.00", days(-1))
    resolve(cast)
    theirs.refresh_from_db()
    assert theirs.status == "pending"
