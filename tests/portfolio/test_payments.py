import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import translation

from recobro.core import events
from recobro.core.audit import Actor
from recobro.core.models import AuditEntry
from recobro.portfolio.engine import refresh_cases
from recobro.portfolio.models import Allocation, Case, Debtor, Document, Payment
from recobro.portfolio.services import LedgerError
from recobro.portfolio.services.payments import allocate_payments, record_payment, reverse_payment
from tests.conftest import AS_OF, make_document

JAN_31, FEB_28, MAR_5 = dt.date(2026, 1, 31), dt.date(2026, 2, 28), dt.date(2026, 3, 5)


@pytest.fixture(autouse=True)
def in_english():
    """Messages are asserted in their English source text (Spanish is the default language)."""
    with translation.override("en"):
        yield


@pytest.fixture
def eva(cast):
    """Eva owes F-1 (1,000.00, January 31) and F-2 (500.00, February 28) in the retail portfolio."""
    cast.mx.business_date_override = AS_OF
    cast.mx.save()
    cast.f1 = make_document(cast.retail, cast.eva, "F-1", "1000.00", JAN_31)
    cast.f2 = make_document(cast.retail, cast.eva, "F-2", "500.00", FEB_28)
    refresh_cases(organization=cast.mx)
    return cast


def pay(cast, amount, **kwargs) -> Payment:
    options = {
        "organization": cast.mx,
        "portfolio": cast.retail,
        "debtor": cast.eva,
        "amount": amount,
        "paid_on": MAR_5,
        "actor": cast.actor(),
    }
    options.update(kwargs)
    return record_payment(**options)


def ledger_state():
    return (
        list(Document.objects.order_by("pk").values_list("balance", "status")),
        Payment.objects.count(),
        Allocation.objects.count(),
        list(Case.objects.order_by("pk").values_list("balance", "updated_at")),
        AuditEntry.objects.count(),
    )


# --- refused payments change nothing ---------------------------------------------------------


def refusals(cast):
    other = Debtor.objects.create(organization=cast.mx, external_id="C-2", name="Bob")
    bobs = make_document(cast.retail, other, "B-1", "50.00", JAN_31)
    loan = make_document(cast.loans, cast.eva, "P-1", "50.00", JAN_31)
    credit = make_document(cast.retail, cast.eva, "NC-1", "-20.00", JAN_31, kind="credit_note")
    paid = make_document(cast.retail, cast.eva, "F-0", "20.00", JAN_31, balance="0")
    Document.objects.filter(pk=paid.pk).update(status="paid")
    stranger = Debtor.objects.create(organization=cast.co, external_id="CO-1", name="Andrés")
    return [
        ({"amount": Decimal("0")}, "must be positive, not 0"),
        ({"amount": Decimal("-5.00")}, "must be positive"),
        ({"amount": 10.5}, "must be a Decimal, not a float"),
        ({"amount": "diez"}, "'diez' is not a number"),
        ({"amount": Decimal("NaN")}, "finite"),
        ({"amount": Decimal("1E+17")}, "too large"),
        ({"amount": Decimal("10.005")}, "10.005 has more decimals than MXN allows \\(2\\)"),
        ({"currency": "USD", "amount": Decimal("10")}, "in USD but portfolio Crédito tienda is in MXN"),
        ({"amount": Decimal("10"), "paid_on": "2026-03-05"}, "must be a date"),
        ({"amount": Decimal("10"), "method": "bitcoin"}, "Unknown payment method 'bitcoin'"),
        ({"amount": Decimal("10"), "portfolio": cast.bank_co}, "belongs to another organization"),
        ({"amount": Decimal("10"), "debtor": stranger}, "Debtor Andrés belongs to another organization"),
        (
            {"amount": Decimal("100"), "allocations": [(bobs, Decimal("10"))]},
            "Document B-1 is not a document of debtor Eva",
        ),
        (
            {"amount": Decimal("100"), "allocations": [(loan, Decimal("10"))]},
            "Document P-1 belongs to another portfolio",
        ),
        (
            {"amount": Decimal("100"), "allocations": [(credit, Decimal("10"))]},
            "Document NC-1 is a credit note",
        ),
        ({"amount": Decimal("100"), "allocations": [(paid, Decimal("10"))]}, "Document F-0 is Paid"),
        (
            {"amount": Decimal("2000"), "allocations": [(cast.f1, Decimal("1000.01"))]},
            "allocation of 1000.01 to document F-1 exceeds its open balance of 1000.00",
        ),
        (
            {"amount": Decimal("100"), "allocations": [(cast.f1, Decimal("60")), (cast.f2, Decimal("50"))]},
            "allocations add up to 110.00, more than the payment of 100.00",
        ),
        (
            {"amount": Decimal("100"), "allocations": [(cast.f1, Decimal("10")), (cast.f1, Decimal("10"))]},
            "Document F-1 is allocated twice",
        ),
        (
            {"amount": Decimal("100"), "allocations": [(cast.f1, Decimal("0"))]},
            "to document F-1 must be positive",
        ),
        ({"amount": Decimal("100"), "allocations": [cast.f1]}, "must be a \\(document, amount\\) pair"),
    ]


def test_every_refused_payment_says_why_and_changes_nothing(eva):
    cases = refusals(eva)
    before = ledger_state()
    for kwargs, message in cases:
        with pytest.raises(LedgerError, match=message):
            pay(eva, **kwargs)
        assert ledger_state() == before, message


def test_an_external_id_is_used_once_per_portfolio(eva):
    pay(eva, Decimal("10"), external_id="BANK-77")
    with pytest.raises(LedgerError, match="external id BANK-77 already exists in portfolio Crédito tienda"):
        pay(eva, Decimal("10"), external_id="BANK-77")
    assert Payment.objects.count() == 1


def test_a_failing_event_handler_undoes_the_whole_payment(eva):
    before = ledger_state()

    def refuse(**payload):
        raise RuntimeError("promise engine down")

    events.subscribe(events.PAYMENT_RECORDED, refuse)
    try:
        with pytest.raises(RuntimeError):
            pay(eva, Decimal("300.00"))
    finally:
        events.unsubscribe(events.PAYMENT_RECORDED, refuse)
    assert ledger_state() == before


def test_payment_recorded_is_published_inside_the_transaction_after_the_ledger_changed(eva):
    seen = []

    def handler(*, organization, payment):
        seen.append(
            (
                organization,
                Allocation.objects.filter(payment=payment).count(),
                Case.objects.get(debtor=payment.debtor).balance,
                connection.in_atomic_block,
            )
        )

    events.subscribe(events.PAYMENT_RECORDED, handler)
    try:
        pay(eva, Decimal("1200.00"))
    finally:
        events.unsubscribe(events.PAYMENT_RECORDED, handler)
    assert seen == [(eva.mx, 2, Decimal("300.00"), True)]


# --- automatic order --------------------------------------------------------------------------


def test_disputed_documents_are_skipped_unless_allocated_explicitly(eva):
    Document.objects.filter(pk=eva.f1.pk).update(status="disputed")
    payment = pay(eva, Decimal("600.00"))
    assert list(payment.allocations.values_list("document__number", "amount")) == [("F-2", Decimal("500.00"))]
    assert payment.unallocated_amount == Decimal("100.00")

    explicit = pay(eva, Decimal("1000.00"), allocations=[(eva.f1, Decimal("1000.00"))])
    eva.f1.refresh_from_db()
    assert (eva.f1.balance, eva.f1.status) == (Decimal("0.00"), "paid")
    assert explicit.unallocated_amount == Decimal("0.00")


def test_an_empty_allocation_list_puts_the_whole_payment_on_account(eva):
    payment = pay(eva, Decimal("100.00"), allocations=[])
    assert payment.unallocated_amount == Decimal("100.00")
    assert not payment.allocations.exists()


def test_a_stale_document_object_is_checked_against_the_stored_balance(eva):
    stale = Document.objects.get(pk=eva.f1.pk)
    pay(eva, Decimal("900.00"))  # F-1 now owes 100.00
    with pytest.raises(LedgerError, match=r"exceeds its open balance of 100\.00"):
        pay(eva, Decimal("200.00"), allocations=[(stale, Decimal("200.00"))])


# --- audit ------------------------------------------------------------------------------------


def test_the_payment_its_allocations_and_the_documents_it_changed_are_audited(eva):
    payment = pay(eva, Decimal("1200.00"), reference="OP-1")

    entries = AuditEntry.objects.filter(organization=eva.mx).order_by("pk")
    summary = [(e.action, e.object_type, e.actor_label) for e in entries]
    assert summary == [
        ("create", "portfolio.payment", "ana"),
        ("update", "portfolio.document", "ana"),
        ("update", "portfolio.document", "ana"),
        ("create", "portfolio.allocation", "ana"),
        ("create", "portfolio.allocation", "ana"),
    ]
    assert entries[0].after["amount"] == "1200.00"
    assert entries[0].after["reference"] == "OP-1"
    f1 = entries.get(object_type="portfolio.document", object_id=str(eva.f1.pk))
    assert (f1.before, f1.after) == (
        {"balance": "1000.00", "status": "open"},
        {"balance": "0.00", "status": "paid"},
    )
    allocation = entries.filter(object_type="portfolio.allocation").first()
    assert allocation.after == {
        "id": int(allocation.object_id),
        "organization_id": eva.mx.pk,
        "payment_id": payment.pk,
        "document_id": eva.f1.pk,
        "amount": "1000.00",
    }


def stored_payment(cast, amount: str, paid_on=MAR_5, debtor=None, portfolio=None, **kwargs) -> Payment:
    """A payment as an import writes it: stored, not yet allocated."""
    portfolio = portfolio or cast.retail
    return Payment.objects.create(
        organization=portfolio.organization,
        portfolio=portfolio,
        debtor=debtor or cast.eva,
        amount=Decimal(amount),
        unallocated_amount=Decimal(amount),
        currency=portfolio.currency,
        paid_on=paid_on,
        source="import",
        **kwargs,
    )


def audit_of(kind: str):
    def order(e):
        return e.after["document_id"] if kind == "allocation" else int(e.object_id)

    entries = sorted(AuditEntry.objects.filter(object_type=f"portfolio.{kind}"), key=order)
    if kind == "allocation":
        drop = {"id", "payment_id"}
        return [
            (e.action, e.object_repr, {k: v for k, v in e.after.items() if k not in drop}) for e in entries
        ]
    return [(e.action, e.object_id, e.object_repr, e.before, e.after) for e in entries]


def test_allocate_payments_audits_what_record_payment_audits(eva):
    recorded = pay(eva, Decimal("1200"))
    one_by_one = audit_of("document"), audit_of("allocation")
    reverse_payment(payment=recorded, actor=eva.actor(), reason="to replay it as an import")
    AuditEntry.objects.all().delete()

    stored = stored_payment(eva, "1200.00")
    allocate_payments(organization=eva.mx, payment_ids=[stored.pk], actor=eva.actor())

    assert (audit_of("document"), audit_of("allocation")) == one_by_one
    first = {"organization_id": eva.mx.pk, "document_id": eva.f1.pk, "amount": "1000.00"}
    assert one_by_one[1][0] == ("create", "1000.00 → F-1", first)
    payment_entry = AuditEntry.objects.get(object_type="portfolio.payment")
    assert (payment_entry.before, payment_entry.after) == (
        {"unallocated_amount": "1200.00"},
        {"unallocated_amount": "0.00"},
    )
    assert set(AuditEntry.objects.values_list("actor_label", "source")) == {("ana", "backoffice")}
    assert {e.context["operation"] for e in AuditEntry.objects.all()} == {"allocate_payments"}


# --- allocate_payments ------------------------------------------------------------------------


def test_allocate_payments_settles_in_payment_date_order_and_leaves_the_excess_on_account(eva):
    late = stored_payment(eva, "1000.00", paid_on=dt.date(2026, 3, 20))
    early = stored_payment(eva, "700.00", paid_on=MAR_5)

    written = allocate_payments(organization=eva.mx, payment_ids=[late.pk, early.pk], actor=eva.actor())

    assert written == 3
    assert sorted(Allocation.objects.values_list("payment_id", "document__number", "amount")) == sorted(
        [
            (early.pk, "F-1", Decimal("700.00")),
            (late.pk, "F-1", Decimal("300.00")),
            (late.pk, "F-2", Decimal("500.00")),
        ]
    )
    late.refresh_from_db()
    early.refresh_from_db()
    assert (early.unallocated_amount, late.unallocated_amount) == (Decimal("0.00"), Decimal("200.00"))
    case = Case.objects.get(debtor=eva.eva)
    assert (case.status, case.balance, case.last_payment_on) == (
        "closed",
        Decimal("0.00"),
        dt.date(2026, 3, 20),
    )


def test_allocate_payments_twice_allocates_nothing_the_second_time(eva):
    stored = stored_payment(eva, "300.00")
    assert allocate_payments(organization=eva.mx, payment_ids=[stored.pk], actor=eva.actor()) == 1
    before = ledger_state()
    assert allocate_payments(organization=eva.mx, payment_ids=[stored.pk], actor=eva.actor()) == 0
    assert ledger_state() == before


def test_allocate_payments_ignores_reversed_payments_and_other_organizations(eva):
    reversed_ = stored_payment(eva, "300.00", status="reversed")
    andres = Debtor.objects.create(organization=eva.co, external_id="CO-1", name="Andrés")
    make_document(eva.bank_co, andres, "T-1", "150000", JAN_31)
    foreign = stored_payment(eva, "5000", debtor=andres, portfolio=eva.bank_co)

    assert (
        allocate_payments(organization=eva.mx, payment_ids=[reversed_.pk, foreign.pk], actor=eva.actor()) == 0
    )
    assert not Allocation.objects.exists()
    assert allocate_payments(organization=eva.mx, payment_ids=[], actor=eva.actor()) == 0


def test_allocate_payments_continues_a_payment_already_partly_allocated_to_a_document(eva):
    payment = pay(eva, Decimal("600.00"), allocations=[(eva.f1, Decimal("100.00"))])
    assert payment.unallocated_amount == Decimal("500.00")

    assert allocate_payments(organization=eva.mx, payment_ids=[payment.pk], actor=eva.actor()) == 1

    assert list(payment.allocations.values_list("document__number", "amount")) == [("F-1", Decimal("600.00"))]
    payment.refresh_from_db()
    assert payment.unallocated_amount == Decimal("0.00")
    eva.f1.refresh_from_db()
    assert eva.f1.balance == Decimal("400.00")
    merged = AuditEntry.objects.filter(object_type="portfolio.allocation").latest("pk")
    assert (merged.action, merged.before, merged.after["amount"]) == (
        "update",
        {"amount": "100.00"},
        "600.00",
    )


def test_allocate_payments_by_api_key_is_audited_with_the_key(eva):
    from recobro.core.models import ApiKey

    prefix, _secret = ApiKey.generate()
    key = ApiKey.objects.create(organization=eva.mx, name="ERP", prefix=prefix, key_hash="x", scope="write")
    stored = stored_payment(eva, "10.00")
    allocate_payments(organization=eva.mx, payment_ids=[stored.pk], actor=Actor.for_api_key(key))
    assert set(AuditEntry.objects.values_list("source", "api_key_id", "user_id")) == {("api", key.pk, None)}


def test_payments_allocated_is_published_with_the_ids(eva):
    stored = stored_payment(eva, "10.00")
    seen = []

    def handler(**payload):
        seen.append(payload)

    events.subscribe(events.PAYMENTS_ALLOCATED, handler)
    try:
        allocate_payments(organization=eva.mx, payment_ids=[stored.pk], actor=eva.actor())
    finally:
        events.unsubscribe(events.PAYMENTS_ALLOCATED, handler)
    assert seen == [{"organization": eva.mx, "payment_ids": [stored.pk]}]


def many_payments(cast, n: int) -> list[int]:
    people = Debtor.objects.bulk_create(
        [Debtor(organization=cast.mx, external_id=f"Q-{i}", name=f"Q {i}") for i in range(n)]
    )
    Document.objects.bulk_create(
        [
            Document(
                organization=cast.mx,
                portfolio=cast.retail,
                debtor=person,
                external_id=f"Q-{i}-{k}",
                due_date=JAN_31 + dt.timedelta(days=k),
                original_amount=Decimal("100.00"),
                balance=Decimal("100.00"),
                currency="MXN",
            )
            for i, person in enumerate(people)
            for k in range(2)
        ]
    )
    payments = Payment.objects.bulk_create(
        [
            Payment(
                organization=cast.mx,
                portfolio=cast.retail,
                debtor=person,
                amount=Decimal("150.00"),
                unallocated_amount=Decimal("150.00"),
                currency="MXN",
                paid_on=MAR_5,
                source="import",
            )
            for person in people
        ]
    )
    return [p.pk for p in payments]


@pytest.mark.parametrize("n", [2, 30])
def test_allocate_payments_takes_the_same_number_of_queries_for_any_number_of_payments(
    cast, n, django_assert_max_num_queries
):
    ids = many_payments(cast, n)
    with django_assert_max_num_queries(30):  # 28 on SQLite; PostgreSQL adds 2 lock queries
        assert allocate_payments(organization=cast.mx, payment_ids=ids, actor=cast.actor()) == 2 * n
    assert Case.objects.filter(balance=Decimal("50.00")).count() == n


# --- reverse_payment --------------------------------------------------------------------------


def test_a_reversal_needs_a_reason_and_happens_once(eva):
    payment = pay(eva, Decimal("100.00"))
    with pytest.raises(LedgerError, match="Say why"):
        reverse_payment(payment=payment, actor=eva.actor(), reason="  ")
    reverse_payment(payment=payment, actor=eva.actor(), reason="Duplicated")
    with pytest.raises(LedgerError, match="already reversed"):
        reverse_payment(payment=payment, actor=eva.actor(), reason="Again")


def test_a_reversal_is_audited_and_published(eva):
    payment = pay(eva, Decimal("1200.00"))
    AuditEntry.objects.all().delete()
    seen = []

    def handler(**payload):
        seen.append(payload["payment"].status)

    events.subscribe(events.PAYMENT_REVERSED, handler)
    try:
        reverse_payment(payment=payment, actor=eva.actor(), reason="Chargeback")
    finally:
        events.unsubscribe(events.PAYMENT_REVERSED, handler)
    assert seen == ["reversed"]
    summary = sorted((e.action, e.object_type) for e in AuditEntry.objects.all())
    assert summary == [
        ("delete", "portfolio.allocation"),
        ("delete", "portfolio.allocation"),
        ("update", "portfolio.document"),
        ("update", "portfolio.document"),
        ("update", "portfolio.payment"),
    ]
    assert {e.context["reason"] for e in AuditEntry.objects.all()} == {"Chargeback"}
    assert Case.objects.get(debtor=eva.eva).balance == Decimal("1500.00")


def test_a_reversal_that_would_overfill_a_document_is_refused_and_changes_nothing(eva):
    payment = pay(eva, Decimal("100.00"))
    Document.objects.filter(pk=eva.f1.pk).update(original_amount=Decimal("900.00"), balance=Decimal("900.00"))
    before = ledger_state()
    with pytest.raises(
        LedgerError, match=r"give document F-1 a balance of 1000\.00, above its original amount"
    ):
        reverse_payment(payment=payment, actor=eva.actor(), reason="Bounced")
    assert ledger_state() == before


# --- the database holds the ledger's invariants -----------------------------------------------


def violates(make) -> bool:
    try:
        with transaction.atomic():
            make()
    except IntegrityError:
        return True
    return False


def test_the_database_refuses_impossible_ledger_rows(eva):
    payment = pay(eva, Decimal("100.00"))
    allocation = payment.allocations.get()
    assert violates(lambda: Allocation.objects.filter(pk=allocation.pk).update(amount=0))
    assert violates(
        lambda: Allocation.objects.create(
            organization=eva.mx, payment=payment, document=eva.f1, amount=Decimal("1.00")
        )
    )
    assert violates(
        lambda: Payment.objects.filter(pk=payment.pk).update(unallocated_amount=Decimal("100.01"))
    )
    assert violates(lambda: Payment.objects.filter(pk=payment.pk).update(unallocated_amount=Decimal("-0.01")))
    assert violates(lambda: Document.objects.filter(pk=eva.f1.pk).update(balance=Decimal("1000.01")))
    assert violates(lambda: Document.objects.filter(pk=eva.f1.pk).update(balance=Decimal("-0.01")))
    assert violates(lambda: Payment.objects.filter(pk=payment.pk).update(status="reversed"))
    assert violates(lambda: Case.objects.filter(debtor=eva.eva).update(status="closed"))


def test_a_payment_dated_after_the_business_date_is_refused_and_nothing_changes(cast):
    import datetime as dt
    from decimal import Decimal

    import pytest

    from recobro.portfolio.models import Payment
    from recobro.portfolio.services import LedgerError
    from recobro.portfolio.services.payments import record_payment
    from tests.conftest import make_document

    cast.mx.business_date_override = dt.date(2026, 3, 31)
    cast.mx.save()
    make_document(cast.retail, cast.eva, "F-FUT", "100.00", dt.date(2026, 3, 1))
    with pytest.raises(LedgerError, match="after today's business date"):
        record_payment(
            organization=cast.mx,
            portfolio=cast.retail,
            debtor=cast.eva,
            amount=Decimal("50.00"),
            paid_on=dt.date(2026, 4, 1),
            actor=cast.actor(),
        )
    assert not Payment.objects.exists()
