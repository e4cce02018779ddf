"""Importing payments (allocated on import) and contact points (normalised)."""

import datetime as dt
from decimal import Decimal

import pytest

from recobro.portfolio.models import Allocation, Case, ContactPoint, Document, ImportStatus, Payment
from tests.conftest import AS_OF, make_document
from tests.portfolio.importers.support import issues, messages

PAYMENTS = "external_id,debtor_external_id,amount,paid_on,method,reference\n"
CONTACTS = "debtor_external_id,kind,value,label\n"


@pytest.fixture(autouse=True)
def frozen_clock(cast):
    cast.mx.business_date_override = AS_OF
    cast.mx.save()


def test_imported_payments_are_allocated_oldest_due_first_and_cases_follow(cast, run, debtors):
    older = make_document(cast.retail, cast.eva, "F-1", "300.00", dt.date(2026, 1, 10))
    newer = make_document(cast.retail, cast.eva, "F-2", "500.00", dt.date(2026, 2, 10))
    job = run("payments", PAYMENTS + "P-1,C-1001,400.00,2026-03-15,efectivo,REC-9\n", portfolio=cast.retail)
    assert (job.status, job.created_count) == ("succeeded", 1)
    payment = Payment.objects.get(external_id="P-1")
    assert (payment.method, payment.reference, payment.source) == ("cash", "REC-9", "import")
    assert payment.unallocated_amount == Decimal("0.00")
    older.refresh_from_db()
    newer.refresh_from_db()
    assert (older.balance, older.status, newer.balance) == (Decimal("0.00"), "paid", Decimal("400.00"))
    case = Case.objects.get(debtor=cast.eva, portfolio=cast.retail)
    assert (case.balance, case.last_payment_on) == (Decimal("400.00"), dt.date(2026, 3, 15))


def test_the_same_payment_file_twice_allocates_once(cast, run, debtors):
    make_document(cast.retail, cast.eva, "F-1", "300.00", dt.date(2026, 1, 10))
    content = PAYMENTS + "P-1,C-1001,100.00,2026-03-15,,\n"
    run("payments", content, portfolio=cast.retail)
    job = run("payments", content, portfolio=cast.retail)
    assert (job.created_count, job.unchanged_count) == (0, 1)
    assert Allocation.objects.count() == 1
    assert Document.objects.get(external_id="F-1").balance == Decimal("200.00")


def test_a_payment_reference_can_be_corrected_by_a_new_import(cast, run, debtors):
    run("payments", PAYMENTS + "P-1,C-1001,100.00,2026-03-15,,REC-1\n", portfolio=cast.retail)
    job = run("payments", PAYMENTS + "P-1,C-1001,100.00,2026-03-15,,REC-2\n", portfolio=cast.retail)
    assert job.updated_count == 1
    assert Payment.objects.get(external_id="P-1").reference == "REC-2"


def test_a_payment_imported_again_with_another_amount_is_a_conflict(cast, run, debtors):
    run("payments", PAYMENTS + "P-1,C-1001,100.00,2026-03-15,,\n", portfolio=cast.retail)
    job = run("payments", PAYMENTS + "P-1,C-1001,150.00,2026-03-15,,\n", portfolio=cast.retail)
    assert job.status == ImportStatus.REJECTED
    assert issues(job) == [(2, "external_id", "payment_changed")]
    assert "100.00 MXN on 2026-03-15" in messages(job)
    assert Payment.objects.get(external_id="P-1").amount == Decimal("100.00")


def test_a_payment_dated_after_today_is_invalid(cast, run, debtors):
    job = run("payments", PAYMENTS + "P-1,C-1001,100,2026-04-01,,\n", portfolio=cast.retail)
    assert issues(job) == [(2, "paid_on", "future_date")]


def test_a_zero_payment_and_an_unknown_method_are_invalid(cast, run, debtors):
    job = run(
        "payments",
        PAYMENTS + "P-1,C-1001,0,2026-03-01,,\nP-2,C-1001,5,2026-03-01,bitcoin,\n",
        portfolio=cast.retail,
    )
    assert issues(job) == [(2, "amount", "amount_not_positive"), (3, "method", "unknown_choice")]


def test_phones_are_stored_in_e164_read_in_the_organization_country(cast, run, debtors):
    job = run(
        "contact_points",
        CONTACTS + "C-1001,celular,55 1234 5678,personal\nC-1001,email,Eva@Example.COM,\n"
        'C-1002,whatsapp,+57 300 123 4567,\nC-1002,dirección,"Av.  Juárez 10,  CDMX",\n',
    )
    assert (job.status, job.created_count) == ("succeeded", 4)
    found = set(ContactPoint.objects.values_list("kind", "normalized"))
    assert found == {
        ("mobile", "+525512345678"),
        ("email", "eva@example.com"),
        ("whatsapp", "+573001234567"),
        ("address", "Av. Juárez 10, CDMX"),
    }
    assert ContactPoint.objects.get(kind="mobile").value == "55 1234 5678"


def test_a_colombian_organization_reads_national_numbers_as_colombian(cast, run):
    from recobro.portfolio.models import Debtor

    Debtor.objects.create(organization=cast.co, external_id="K-1", name="Oscar")
    run("contact_points", CONTACTS + "K-1,mobile,300 123 4567,\n", organization=cast.co)
    assert ContactPoint.objects.get().normalized == "+573001234567"


def test_an_invalid_phone_or_email_is_reported_with_line_and_column(cast, run, debtors):
    job = run(
        "contact_points", CONTACTS + "C-1001,mobile,12345,\nC-1001,email,eva@,\nC-9,email,x@example.com,\n"
    )
    assert issues(job) == [
        (2, "value", "invalid_phone"),
        (3, "value", "invalid_email"),
        (4, "debtor_external_id", "unknown_debtor"),
    ]


def test_the_same_phone_written_differently_is_one_contact_point(cast, run, debtors):
    run("contact_points", CONTACTS + "C-1001,mobile,55 1234 5678,\n")
    job = run("contact_points", CONTACTS + "C-1001,mobile,+52 (55) 1234-5678,trabajo\n")
    assert (job.created_count, job.updated_count) == (0, 1)
    point = ContactPoint.objects.get()
    assert (point.value, point.label) == ("+52 (55) 1234-5678", "trabajo")


def test_the_same_phone_twice_in_one_file_is_a_duplicate(cast, run, debtors):
    job = run("contact_points", CONTACTS + "C-1001,mobile,55 1234 5678,\nC-1001,mobile,+525512345678,\n")
    assert issues(job) == [(2, "value", "duplicate"), (3, "value", "duplicate")]
