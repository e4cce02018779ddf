"""The facts rules read in the cycle (docs/strategy.md §2), through segments that test them."""

import datetime as dt
from decimal import Decimal

import pytest

from recobro.channels.models import Message
from recobro.portfolio.models import Case, Document, Payment
from recobro.strategy.models import CaseState, Hold, Segment, Task
from tests.strategy.conftest import AS_OF, cycle, days, new_debtor, owes

UTC = dt.UTC


@pytest.fixture
def probe(cast, config):
    """A segment "probe" tried first, whose rule the test sets."""

    def set_rule(rule: str) -> None:
        Segment.objects.update_or_create(
            organization=cast.mx, code="probe", defaults={"name": "Probe", "rule": rule, "priority": 1}
        )

    return set_rule


def in_probe(debtor) -> bool:
    segment = CaseState.objects.get(case__debtor=debtor).segment
    return segment is not None and segment.code == "probe"


def test_product_is_that_of_the_oldest_open_document_that_names_one(cast, probe):
    probe('product == "tarjeta"')
    card = new_debtor(cast, "CARD")
    Document.objects.filter(pk=owes(cast, card, "100.00", days(-40), external_id="C1").pk).update(
        product="tarjeta"
    )
    Document.objects.filter(pk=owes(cast, card, "100.00", days(-10), external_id="C2").pk).update(
        product="hogar"
    )
    owes(cast, card, "100.00", days(-60), external_id="C0")  # oldest, but names no product
    loan = new_debtor(cast, "LOAN")
    Document.objects.filter(pk=owes(cast, loan, "100.00", days(-40), external_id="L1").pk).update(
        product="hogar"
    )
    Document.objects.filter(pk=owes(cast, loan, "100.00", days(-10), external_id="L2").pk).update(
        product="tarjeta"
    )
    cycle(cast, AS_OF)
    assert in_probe(card) and not in_probe(loan)


def test_a_held_document_leaves_the_product_and_the_dispute_to_the_others(cast, probe):
    probe('product == "hogar" and not disputed')
    debtor = new_debtor(cast, "D")
    held = owes(cast, debtor, "100.00", days(-40), external_id="H1")
    Document.objects.filter(pk=held.pk).update(product="tarjeta", status="disputed")
    Document.objects.filter(pk=owes(cast, debtor, "100.00", days(-10), external_id="H2").pk).update(
        product="hogar"
    )
    cycle(cast, days(-1))
    assert not in_probe(debtor)
    Hold.objects.create(
        organization=cast.mx,
        scope="document",
        debtor=debtor,
        document=held,
        reason="dispute",
        starts_on=AS_OF,
    )
    cycle(cast, AS_OF)
    assert in_probe(debtor)


def test_region_and_custom_attributes_read_text_only(cast, probe):
    probe('region == "Norte" or attr.zona == "7"')
    north = new_debtor(cast, "NORTH", attributes={"region": "Norte"})
    seven = new_debtor(cast, "SEVEN", attributes={"zona": 7})  # a number is not text: no match
    for debtor in (north, seven):
        owes(cast, debtor, "100.00", days(-5))
    cycle(cast, AS_OF)
    assert in_probe(north) and not in_probe(seven)


def _payment(cast, debtor, paid_on, amount):
    Payment.objects.create(
        organization=cast.mx,
        portfolio=cast.retail,
        debtor=debtor,
        amount=Decimal(amount),
        unallocated_amount=Decimal(amount),
        currency="MXN",
        paid_on=paid_on,
        source="manual",
    )


def test_payment_history_facts(cast, probe):
    probe("payments_30d == 2 and paid_amount_30d == 30.30 and days_since_last_payment == 3")
    recent = new_debtor(cast, "RECENT")
    owes(cast, recent, "100.00", days(-40))
    _payment(cast, recent, days(-3), "10.10")
    _payment(cast, recent, days(-29), "20.20")
    _payment(cast, recent, days(-30), "99.00")  # outside the 30-day window
    cycle(cast, AS_OF)
    assert in_probe(recent)


@pytest.mark.parametrize(
    "sent_at, expected",
    [
        # Mexico City is UTC-6: 05:59 UTC on the 31st is still the 30th there.
        (dt.datetime(2026, 3, 31, 5, 59, tzinfo=UTC), 1),
        (dt.datetime(2026, 3, 31, 6, 0, tzinfo=UTC), 0),
        (dt.datetime(2026, 3, 28, 12, 0, tzinfo=UTC), 3),
    ],
)
def test_days_since_last_contact_counts_local_days(cast, probe, sent_at, expected):
    probe(f"days_since_last_contact == {expected}")
    debtor = new_debtor(cast, "D")
    owes(cast, debtor, "100.00", days(-5))
    cycle(cast, days(-10))
    case = Case.objects.get(debtor=debtor)
    Message.objects.create(
        organization=cast.mx,
        case=case,
        debtor=debtor,
        channel="sms",
        template=cast_template(cast),
        business_date=days(-10),
        status="delivered",
        sent_at=sent_at,
        idempotency_key=f"test:{expected}",
    )
    cycle(cast, AS_OF)
    assert in_probe(debtor)


def test_a_call_done_counts_as_contact_and_the_nearest_contact_wins(cast, probe):
    probe("days_since_last_contact == 2")
    debtor = new_debtor(cast, "D")
    owes(cast, debtor, "100.00", days(-5))
    cycle(cast, days(-10))
    case = Case.objects.get(debtor=debtor)
    Task.objects.create(
        organization=cast.mx,
        case=case,
        kind="call",
        title="Llamar",
        status="done",
        due_on=days(-2),
        completed_at=dt.datetime(2026, 3, 29, 18, 0, tzinfo=UTC),
    )
    Task.objects.create(  # a review is no contact
        organization=cast.mx,
        case=case,
        kind="review",
        title="Revisar",
        status="done",
        due_on=AS_OF,
        completed_at=dt.datetime(2026, 3, 31, 18, 0, tzinfo=UTC),
    )
    Message.objects.create(
        organization=cast.mx,
        case=case,
        debtor=debtor,
        channel="sms",
        template=cast_template(cast),
        business_date=days(-10),
        status="delivered",
        sent_at=dt.datetime(2026, 3, 20, 18, 0, tzinfo=UTC),
        idempotency_key="test:old",
    )
    cycle(cast, AS_OF)
    assert in_probe(debtor)


def cast_template(cast):
    from recobro.channels.models import Template

    return Template.objects.get(organization=cast.mx, code="recordatorio-sms")
