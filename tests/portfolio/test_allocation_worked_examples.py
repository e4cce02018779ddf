"""Payments and allocations as worked stories, to the cent.

Eva Martínez buys on credit at Comercial del Norte (retail portfolio: oldest due first) and
has a personal loan (loans portfolio: waterfall of fees, then interest, then principal).
"""

import datetime as dt
import itertools
from decimal import Decimal

import pytest
from django.utils import translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from recobro.portfolio.engine import refresh_cases
from recobro.portfolio.models import Allocation, Case, Debtor, Document, Payment, Portfolio
from recobro.portfolio.services import LedgerError
from recobro.portfolio.services.payments import allocate_payments, record_payment, reverse_payment
from tests.conftest import AS_OF, make_document

JAN_31, FEB_28, MAR_5 = dt.date(2026, 1, 31), dt.date(2026, 2, 28), dt.date(2026, 3, 5)


@pytest.fixture(autouse=True)
def in_english():
    """Messages are asserted in their English source text (Spanish is the default language)."""
    with translation.override("en"):
        yield


def pay(cast, amount: str, *, portfolio=None, debtor=None, paid_on=MAR_5, **kwargs) -> Payment:
    return record_payment(
        organization=(portfolio or cast.retail).organization,
        portfolio=portfolio or cast.retail,
        debtor=debtor or cast.eva,
        amount=Decimal(amount),
        paid_on=paid_on,
        actor=cast.actor(),
        **kwargs,
    )


def state(document: Document) -> tuple[str, str]:
    document.refresh_from_db()
    return str(document.balance), document.status


def applied(payment: Payment) -> dict[str, str]:
    return {str(a.document): str(a.amount) for a in payment.allocations.select_related("document")}


@pytest.fixture(autouse=True)
def frozen_clock(cast):
    cast.mx.business_date_override = AS_OF
    cast.mx.save()


def test_partial_payments_settle_the_oldest_invoice_first_and_then_the_next(cast):
    # Eva owes two invoices: 1,000.00 due January 31 and 500.00 due February 28.
    f1 = make_document(cast.retail, cast.eva, "F-1", "1000.00", JAN_31)
    f2 = make_document(cast.retail, cast.eva, "F-2", "500.00", FEB_28)

    # On March 5 she pays 300.00: it goes to the oldest invoice, which stays open.
    first = pay(cast, "300.00")
    assert applied(first) == {"F-1": "300.00"}
    assert state(f1) == ("700.00", "open")
    assert state(f2) == ("500.00", "open")
    assert first.unallocated_amount == Decimal("0.00")
    case = Case.objects.get(portfolio=cast.retail, debtor=cast.eva)
    assert (case.balance, case.oldest_due_date, case.dpd, case.bucket) == (
        Decimal("1200.00"),
        JAN_31,
        59,
        "31-60",
    )
    assert case.last_payment_on == MAR_5

    # On March 20 she pays 900.00: 700.00 settle F-1, the other 200.00 go to F-2.
    second = pay(cast, "900.00", paid_on=dt.date(2026, 3, 20))
    assert applied(second) == {"F-1": "700.00", "F-2": "200.00"}
    assert state(f1) == ("0.00", "paid")
    assert state(f2) == ("300.00", "open")
    case.refresh_from_db()
    assert (case.balance, case.oldest_due_date, case.dpd, case.bucket) == (
        Decimal("300.00"),
        FEB_28,
        31,
        "31-60",
    )
    assert case.last_payment_on == dt.date(2026, 3, 20)


def test_an_overpayment_settles_everything_and_stays_on_account(cast):
    f1 = make_document(cast.retail, cast.eva, "F-1", "250.50", JAN_31)
    refresh_cases(organization=cast.mx)  # the daily cycle opened her case

    payment = pay(cast, "300.00")

    assert state(f1) == ("0.00", "paid")
    assert payment.unallocated_amount == Decimal("49.50")
    payment.refresh_from_db()
    assert (payment.amount, payment.unallocated_amount) == (Decimal("300.00"), Decimal("49.50"))
    case = Case.objects.get(portfolio=cast.retail, debtor=cast.eva)
    assert (case.status, case.balance) == ("closed", Decimal("0.00"))


def test_a_payment_with_nothing_to_settle_is_all_credit_on_account(cast):
    payment = pay(cast, "120.00")
    assert payment.unallocated_amount == Decimal("120.00")
    assert not payment.allocations.exists()


def test_oldest_due_first_ignores_the_order_documents_were_entered_and_breaks_ties_by_id(cast):
    late = make_document(cast.retail, cast.eva, "F-late", "100.00", FEB_28)
    tie_a = make_document(cast.retail, cast.eva, "F-tie-a", "100.00", JAN_31)
    tie_b = make_document(cast.retail, cast.eva, "F-tie-b", "100.00", JAN_31)

    payment = pay(cast, "150.00")

    assert applied(payment) == {"F-tie-a": "100.00", "F-tie-b": "50.00"}
    assert state(late) == ("100.00", "open")
    assert state(tie_a) == ("0.00", "paid")
    assert state(tie_b) == ("50.00", "open")


def test_the_waterfall_pays_fees_then_interest_then_principal(cast):
    # The loan: an installment of 1,000.00 due January 10 (the oldest), its interest of
    # 80.00 due February 10 and a collection fee of 35.00 due March 10.
    installment = make_document(
        cast.loans, cast.eva, "P-1", "1000.00", dt.date(2026, 1, 10), kind="installment"
    )
    interest = make_document(cast.loans, cast.eva, "I-1", "80.00", dt.date(2026, 2, 10), kind="interest")
    fee = make_document(cast.loans, cast.eva, "G-1", "35.00", dt.date(2026, 3, 10), kind="fee")

    # She pays 150.00: the fee first, then the interest, and only the rest to principal.
    payment = pay(cast, "150.00", portfolio=cast.loans)

    assert applied(payment) == {"G-1": "35.00", "I-1": "80.00", "P-1": "35.00"}
    assert state(fee) == ("0.00", "paid")
    assert state(interest) == ("0.00", "paid")
    assert state(installment) == ("965.00", "open")
    case = Case.objects.get(portfolio=cast.loans, debtor=cast.eva)
    assert (case.balance, case.open_documents) == (Decimal("965.00"), 1)


def test_the_waterfall_takes_older_fees_before_newer_ones(cast):
    make_document(cast.loans, cast.eva, "G-2", "20.00", dt.date(2026, 3, 1), kind="fee")
    make_document(cast.loans, cast.eva, "G-1", "20.00", dt.date(2026, 2, 1), kind="fee")
    make_document(cast.loans, cast.eva, "P-1", "500.00", dt.date(2026, 1, 1), kind="invoice")
    assert applied(pay(cast, "30.00", portfolio=cast.loans)) == {"G-1": "20.00", "G-2": "10.00"}


def test_explicit_allocations_are_applied_exactly_and_the_rest_stays_on_account(cast):
    f1 = make_document(cast.retail, cast.eva, "F-1", "1000.00", JAN_31)
    f2 = make_document(cast.retail, cast.eva, "F-2", "500.00", FEB_28)

    payment = pay(cast, "500.00", allocations=[(f2, Decimal("200.00")), (f1, Decimal("100.00"))])

    assert applied(payment) == {"F-1": "100.00", "F-2": "200.00"}
    assert state(f1) == ("900.00", "open")
    assert state(f2) == ("300.00", "open")
    assert payment.unallocated_amount == Decimal("200.00")


def test_a_currency_without_decimals_refuses_cents(cast):
    # Chilean pesos have no minor unit.
    clp = Portfolio.objects.create(
        organization=cast.mx, code="cl", name="Crédito Chile", creditor="x", currency="CLP", jurisdiction="CL"
    )
    boleta = make_document(clp, cast.eva, "B-1", "25000", JAN_31)

    with pytest.raises(LedgerError, match=r"1500\.5 has more decimals than CLP allows \(0\)"):
        pay(cast, "1500.5", portfolio=clp)
    assert not Payment.objects.exists()

    payment = pay(cast, "15000", portfolio=clp)
    assert state(boleta) == ("10000.00", "open")
    assert Case.objects.get(portfolio=clp, debtor=cast.eva).balance == Decimal("10000")

    with pytest.raises(LedgerError, match=r"allocation to document B-1 .*has more decimals than CLP"):
        pay(cast, "100", portfolio=clp, allocations=[(boleta, Decimal("99.5"))])
    assert Payment.objects.get() == payment


def test_a_reversal_gives_back_exactly_what_the_payment_settled(cast):
    f1 = make_document(cast.retail, cast.eva, "F-1", "1000.00", JAN_31)
    f2 = make_document(cast.retail, cast.eva, "F-2", "500.00", FEB_28)
    pay(cast, "300.00")
    bounced = pay(cast, "900.00", paid_on=dt.date(2026, 3, 20))  # F-1 paid, F-2 down to 300.00

    reversed_ = reverse_payment(payment=bounced, actor=cast.actor(), reason="Cheque devuelto")

    assert reversed_.status == "reversed"
    assert reversed_.unallocated_amount == Decimal("900.00")
    assert "Cheque devuelto" in reversed_.notes
    assert not reversed_.allocations.exists()
    assert state(f1) == ("700.00", "open")  # the first payment still holds
    assert state(f2) == ("500.00", "open")
    case = Case.objects.get(portfolio=cast.retail, debtor=cast.eva)
    assert (case.balance, case.last_payment_on) == (Decimal("1200.00"), MAR_5)


# --- allocate_payments is record_payment, set-based ---------------------------------------------

KINDS = ["invoice", "installment", "fee", "interest", "credit_note"]
_serial = itertools.count()

documents_st = st.lists(
    st.tuples(
        st.sampled_from(KINDS),
        st.integers(1, 50_000),  # original, in cents
        st.integers(0, 100),  # percentage still open
        st.integers(-60, 30),  # due date offset (ties are likely)
        st.sampled_from(["open", "open", "open", "disputed"]),
    ),
    max_size=7,
)
payments_st = st.lists(st.tuples(st.integers(1, 60_000), st.integers(0, 4)), min_size=1, max_size=5)
scenario_st = st.tuples(st.sampled_from(["retail", "loans"]), documents_st, payments_st)


def build(cast, portfolio, documents) -> tuple[Debtor, list[Document]]:
    n = next(_serial)
    person = Debtor.objects.create(organization=cast.mx, external_id=f"H-{n}", name=f"H {n}")
    rows = []
    for i, (kind, cents, open_pct, offset, status) in enumerate(documents):
        sign = -1 if kind == "credit_note" else 1
        original = Decimal(sign * cents) / 100
        balance = (original * open_pct / 100).quantize(Decimal("0.01"))
        rows.append(
            Document(
                organization=cast.mx,
                portfolio=portfolio,
                debtor=person,
                external_id=f"H-{n}-{i}",
                kind=kind,
                due_date=JAN_31 + dt.timedelta(days=offset),
                original_amount=original,
                balance=balance,
                currency=portfolio.currency,
                status="paid" if balance == 0 else status,
            )
        )
    documents = Document.objects.bulk_create(rows)
    refresh_cases(organization=cast.mx, debtor_ids=[person.pk])  # her case as the daily cycle left it
    return person, documents


def outcome(person, documents, payments) -> tuple:
    docs = {d.pk: i for i, d in enumerate(documents)}
    pays = {p.pk: i for i, p in enumerate(payments)}
    return (
        [(str(d.balance), d.status) for d in Document.objects.filter(debtor=person).order_by("pk")],
        [str(p.unallocated_amount) for p in Payment.objects.filter(debtor=person).order_by("pk")],
        sorted(
            (pays[a.payment_id], docs[a.document_id], str(a.amount))
            for a in Allocation.objects.filter(payment__debtor=person)
        ),
        list(Case.objects.filter(debtor=person).values_list("status", "balance", "dpd", "bucket")),
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(scenarios=st.lists(scenario_st, min_size=1, max_size=3))
def test_allocate_payments_gives_the_same_result_as_record_payment_one_by_one(cast, scenarios):
    batch, expected, stored = [], [], []
    for portfolio_code, documents, payments in scenarios:
        portfolio = getattr(cast, portfolio_code)
        ordered = sorted(enumerate(payments), key=lambda item: (item[1][1], item[0]))
        # One by one, in payment date order, through record_payment.
        person, docs = build(cast, portfolio, documents)
        made = [
            pay(
                cast,
                str(Decimal(cents) / 100),
                portfolio=portfolio,
                debtor=person,
                paid_on=MAR_5 + dt.timedelta(d),
            )
            for _i, (cents, d) in ordered
        ]
        expected.append(outcome(person, docs, made))
        # The same payments stored as an import stores them, then allocated all at once.
        twin, twin_docs = build(cast, portfolio, documents)
        rows = Payment.objects.bulk_create(
            [
                Payment(
                    organization=cast.mx,
                    portfolio=portfolio,
                    debtor=twin,
                    amount=Decimal(cents) / 100,
                    unallocated_amount=Decimal(cents) / 100,
                    currency=portfolio.currency,
                    paid_on=MAR_5 + dt.timedelta(d),
                    source="import",
                )
                for _i, (cents, d) in ordered
            ]
        )
        batch += [p.pk for p in rows]
        stored.append((twin, twin_docs, rows))

    allocate_payments(organization=cast.mx, payment_ids=batch, actor=cast.actor())

    assert [outcome(twin, docs, rows) for twin, docs, rows in stored] == expected
