import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import translation

from recobro.core import events
from recobro.portfolio import engine
from recobro.portfolio.engine import refresh_cases
from recobro.portfolio.models import Case, Debtor, Document, Payment
from tests.conftest import AS_OF, make_document


@pytest.fixture(autouse=True)
def in_english():
    """Messages are asserted in their English source text (Spanish is the default language)."""
    with translation.override("en"):
        yield


def days(n: int) -> dt.date:
    return AS_OF + dt.timedelta(days=n)


def debtor(cast, external_id: str, org=None) -> Debtor:
    return Debtor.objects.create(organization=org or cast.mx, external_id=external_id, name=external_id)


def case_of(portfolio, debtor) -> Case:
    return Case.objects.get(portfolio=portfolio, debtor=debtor)


def test_a_debtor_with_open_documents_gets_an_open_case_with_its_facts(cast):
    make_document(cast.retail, cast.eva, "F-1", "1000.00", days(-45))
    make_document(cast.retail, cast.eva, "F-2", "500.50", days(10))
    make_document(cast.retail, cast.eva, "NC-1", "-200.25", days(-100), kind="credit_note")
    paid = make_document(cast.retail, cast.eva, "F-0", "80.00", days(-300), balance="0.00")
    Document.objects.filter(pk=paid.pk).update(status="paid")

    counts = refresh_cases(organization=cast.mx, as_of=AS_OF)

    assert counts["created"] == 1
    case = case_of(cast.retail, cast.eva)
    assert case.status == "open"
    assert case.currency == "MXN"
    assert case.balance == Decimal("1300.25")
    assert case.overdue_balance == Decimal("1000.00")
    assert case.original_amount == Decimal("1300.25")
    assert case.open_documents == 3
    assert case.oldest_due_date == days(-45)  # the credit note's older date does not count
    assert case.dpd == 45
    assert case.bucket == "31-60"
    assert case.as_of == AS_OF
    assert case.last_payment_on is None


def test_a_case_not_yet_due_has_dpd_zero_and_keeps_its_due_date_for_days_to_due(cast):
    make_document(cast.retail, cast.eva, "F-1", "250.00", days(12))
    refresh_cases(organization=cast.mx, as_of=AS_OF)
    case = case_of(cast.retail, cast.eva)
    assert (case.dpd, case.bucket, case.overdue_balance) == (0, "current", Decimal("0.00"))
    assert (case.oldest_due_date - case.as_of).days == 12


def test_a_document_due_today_is_not_yet_past_due(cast):
    make_document(cast.retail, cast.eva, "F-1", "250.00", AS_OF)
    refresh_cases(organization=cast.mx, as_of=AS_OF)
    case = case_of(cast.retail, cast.eva)
    assert (case.dpd, case.bucket, case.overdue_balance) == (0, "current", Decimal("0.00"))
    refresh_cases(organization=cast.mx, as_of=days(1))
    case.refresh_from_db()
    assert (case.dpd, case.bucket, case.overdue_balance) == (1, "1-30", Decimal("250.00"))


def test_sums_are_exact_to_the_cent_even_where_the_database_adds_floats(cast):
    for i in range(10):
        make_document(cast.retail, cast.eva, f"F-{i}", "0.10", days(-5))
    make_document(cast.retail, cast.eva, "F-x", "0.20", days(-5))
    make_document(cast.retail, cast.eva, "F-y", "1234567890.07", days(-5))
    refresh_cases(organization=cast.mx, as_of=AS_OF)
    case = case_of(cast.retail, cast.eva)
    assert case.balance == Decimal("1234567891.27")
    assert case.overdue_balance == Decimal("1234567891.27")
    assert refresh_cases(organization=cast.mx, as_of=AS_OF)["updated"] == 0


def test_a_credit_note_reduces_what_is_overdue(cast):
    make_document(cast.retail, cast.eva, "F-1", "100.00", days(-40))
    make_document(cast.retail, cast.eva, "NC-1", "-30.00", days(-10), kind="credit_note")
    refresh_cases(organization=cast.mx, as_of=AS_OF)
    case = case_of(cast.retail, cast.eva)
    assert (case.balance, case.overdue_balance) == (Decimal("70.00"), Decimal("70.00"))


def test_a_case_with_only_a_credit_note_owes_nothing_overdue_and_is_current(cast):
    make_document(cast.retail, cast.eva, "NC-1", "-30.00", days(-10), kind="credit_note")
    refresh_cases(organization=cast.mx, as_of=AS_OF)
    case = case_of(cast.retail, cast.eva)
    assert case.balance == Decimal("-30.00")
    assert case.overdue_balance == Decimal("0.00")
    assert (case.oldest_due_date, case.dpd, case.bucket) == (None, 0, "current")


def test_disputed_documents_count_in_the_case(cast):
    doc = make_document(cast.retail, cast.eva, "F-1", "100.00", days(-40))
    Document.objects.filter(pk=doc.pk).update(status="disputed")
    refresh_cases(organization=cast.mx, as_of=AS_OF)
    assert case_of(cast.retail, cast.eva).balance == Decimal("100.00")


def test_a_case_without_open_documents_is_closed_and_kept_then_reopened(cast):
    doc = make_document(cast.retail, cast.eva, "F-1", "100.00", days(-40))
    refresh_cases(organization=cast.mx, as_of=AS_OF)
    Document.objects.filter(pk=doc.pk).update(balance=0, status="paid")

    counts = refresh_cases(organization=cast.mx, as_of=AS_OF)

    assert (counts["closed"], counts["updated"], counts["created"]) == (1, 0, 0)
    case = case_of(cast.retail, cast.eva)
    assert case.status == "closed"
    assert (case.balance, case.overdue_balance, case.open_documents, case.dpd, case.bucket) == (
        Decimal("0.00"),
        Decimal("0.00"),
        0,
        0,
        "",
    )
    assert refresh_cases(organization=cast.mx, as_of=AS_OF)["closed"] == 0

    make_document(cast.retail, cast.eva, "F-2", "40.00", days(-3))
    counts = refresh_cases(organization=cast.mx, as_of=AS_OF)
    assert (counts["created"], counts["updated"]) == (0, 1)
    case.refresh_from_db()
    assert (case.status, case.balance, case.dpd) == ("open", Decimal("40.00"), 3)


def test_running_twice_changes_nothing_the_second_time(cast):
    bob = debtor(cast, "C-2")
    make_document(cast.retail, cast.eva, "F-1", "100.00", days(-40))
    make_document(cast.loans, bob, "P-1", "900.00", days(-400))
    first = refresh_cases(organization=cast.mx, as_of=AS_OF)
    stamps = dict(Case.objects.values_list("pk", "updated_at"))

    second = refresh_cases(organization=cast.mx, as_of=AS_OF)

    assert (first["created"], first["updated"]) == (2, 0)
    assert (second["created"], second["updated"], second["closed"]) == (0, 0, 0)
    assert dict(Case.objects.values_list("pk", "updated_at")) == stamps


def test_a_later_date_ages_the_cases(cast):
    make_document(cast.retail, cast.eva, "F-1", "100.00", days(-29))
    refresh_cases(organization=cast.mx, as_of=AS_OF)
    assert case_of(cast.retail, cast.eva).bucket == "1-30"
    counts = refresh_cases(organization=cast.mx, as_of=days(400))
    case = case_of(cast.retail, cast.eva)
    assert counts["updated"] == 1
    assert (case.dpd, case.bucket, case.as_of) == (429, "360+", days(400))


def test_as_of_defaults_to_the_organizations_business_date(cast):
    cast.mx.business_date_override = days(5)
    cast.mx.save()
    make_document(cast.retail, cast.eva, "F-1", "100.00", days(-10))
    refresh_cases(organization=cast.mx)
    assert case_of(cast.retail, cast.eva).dpd == 15


def test_the_buckets_are_the_organizations_own(cast):
    cast.mx.aging_buckets = [
        {"key": "al-dia", "label": "Al día", "min": None, "max": 0},
        {"key": "temprana", "label": "Temprana", "min": 1, "max": 15},
        {"key": "tardia", "label": "Tardía", "min": 16, "max": None},
    ]
    cast.mx.save()
    make_document(cast.retail, cast.eva, "F-1", "100.00", days(-16))
    refresh_cases(organization=cast.mx, as_of=AS_OF)
    assert case_of(cast.retail, cast.eva).bucket == "tardia"


def test_a_broken_bucket_configuration_is_refused_before_anything_changes(cast):
    cast.mx.aging_buckets = [{"key": "a", "label": "A", "min": None, "max": 10}]
    cast.mx.save()
    make_document(cast.retail, cast.eva, "F-1", "100.00", days(-16))
    with pytest.raises(ValidationError, match="open-ended"):
        refresh_cases(organization=cast.mx, as_of=AS_OF)
    assert not Case.objects.exists()


def test_a_scoped_refresh_touches_only_those_debtors_and_portfolios(cast):
    bob = debtor(cast, "C-2")
    make_document(cast.retail, cast.eva, "F-1", "100.00", days(-40))
    make_document(cast.loans, cast.eva, "P-1", "300.00", days(-40))
    make_document(cast.retail, bob, "F-2", "200.00", days(-40))
    refresh_cases(organization=cast.mx, as_of=AS_OF)
    Document.objects.update(balance=10)

    counts = refresh_cases(
        organization=cast.mx, as_of=AS_OF, debtor_ids=[cast.eva.pk], portfolio_ids=[cast.loans.pk]
    )

    assert counts["updated"] == 1
    assert case_of(cast.loans, cast.eva).balance == Decimal("10.00")
    assert case_of(cast.retail, cast.eva).balance == Decimal("100.00")
    assert case_of(cast.retail, bob).balance == Decimal("200.00")

    refresh_cases(organization=cast.mx, as_of=AS_OF, debtor_ids=[bob.pk])
    assert case_of(cast.retail, bob).balance == Decimal("10.00")
    assert case_of(cast.retail, cast.eva).balance == Decimal("100.00")

    refresh_cases(organization=cast.mx, as_of=AS_OF, portfolio_ids=[cast.retail.pk])
    assert case_of(cast.retail, cast.eva).balance == Decimal("10.00")


def test_an_empty_scope_does_nothing(cast):
    make_document(cast.retail, cast.eva, "F-1", "100.00", days(-40))
    assert refresh_cases(organization=cast.mx, as_of=AS_OF, debtor_ids=[])["chunks"] == 0
    assert not Case.objects.exists()


def test_another_organization_is_never_touched(cast):
    andres = debtor(cast, "CO-1", org=cast.co)
    make_document(cast.bank_co, andres, "T-1", "150000.00", days(-70))
    make_document(cast.retail, cast.eva, "F-1", "100.00", days(-40))
    refresh_cases(organization=cast.mx, as_of=AS_OF)
    assert not Case.objects.filter(organization=cast.co).exists()
    refresh_cases(organization=cast.co, as_of=AS_OF, portfolio_ids=[cast.retail.pk])
    assert not Case.objects.filter(organization=cast.co).exists()
    refresh_cases(organization=cast.co, as_of=AS_OF)
    assert case_of(cast.bank_co, andres).bucket == "61-90"


def test_last_payment_date_comes_from_posted_payments(cast):
    make_document(cast.retail, cast.eva, "F-1", "100.00", days(-40))
    for paid_on, status in [(days(-20), "posted"), (days(-5), "reversed")]:
        Payment.objects.create(
            organization=cast.mx,
            portfolio=cast.retail,
            debtor=cast.eva,
            amount=Decimal("10.00"),
            unallocated_amount=Decimal("10.00"),
            currency="MXN",
            paid_on=paid_on,
            source="manual",
            status=status,
        )
    refresh_cases(organization=cast.mx, as_of=AS_OF)
    assert case_of(cast.retail, cast.eva).last_payment_on == days(-20)


def many_debtors(cast, n: int, portfolio=None) -> list[Debtor]:
    portfolio = portfolio or cast.retail
    people = Debtor.objects.bulk_create(
        [Debtor(organization=cast.mx, external_id=f"B-{i}", name=f"B {i}") for i in range(n)]
    )
    Document.objects.bulk_create(
        [
            Document(
                organization=cast.mx,
                portfolio=portfolio,
                debtor=person,
                external_id=f"D-{person.external_id}-{k}",
                kind="invoice",
                due_date=days(-17 * i - k),
                original_amount=Decimal("10.01") * (k + 1),
                balance=Decimal("10.01") * (k + 1),
                currency=portfolio.currency,
            )
            for i, person in enumerate(people)
            for k in range(3)
        ]
    )
    return people


def test_chunks_give_the_same_cases_as_one_pass(cast, monkeypatch):
    many_debtors(cast, 7)
    refresh_cases(organization=cast.mx, as_of=AS_OF)
    one_pass = list(Case.objects.order_by("debtor_id").values_list("debtor_id", "balance", "dpd", "bucket"))
    Case.objects.all().delete()

    monkeypatch.setattr(engine, "CHUNK_SIZE", 2)
    counts = refresh_cases(organization=cast.mx, as_of=AS_OF)

    assert counts["chunks"] == 4 and counts["created"] == 7
    assert (
        list(Case.objects.order_by("debtor_id").values_list("debtor_id", "balance", "dpd", "bucket"))
        == one_pass
    )
    scoped = refresh_cases(organization=cast.mx, as_of=AS_OF, debtor_ids=[p for p, *_ in one_pass])
    assert (scoped["chunks"], scoped["updated"]) == (4, 0)


def test_an_interrupted_run_keeps_its_finished_chunks_and_a_rerun_completes_it(cast, monkeypatch):
    people = many_debtors(cast, 6)
    monkeypatch.setattr(engine, "CHUNK_SIZE", 2)
    real_chunk = engine._Refresh.chunk
    calls = []

    def failing_chunk(self, low, high, ids):
        calls.append(low)
        if len(calls) == 2:
            raise RuntimeError("worker killed")
        return real_chunk(self, low, high, ids)

    monkeypatch.setattr(engine._Refresh, "chunk", failing_chunk)
    with pytest.raises(RuntimeError):
        refresh_cases(organization=cast.mx, as_of=AS_OF)
    assert set(Case.objects.values_list("debtor_id", flat=True)) == {people[0].pk, people[1].pk}

    monkeypatch.setattr(engine._Refresh, "chunk", real_chunk)
    counts = refresh_cases(organization=cast.mx, as_of=AS_OF)
    assert (counts["created"], counts["updated"]) == (4, 0)
    assert Case.objects.count() == 6


@pytest.mark.parametrize("n", [3, 40])
def test_the_number_of_queries_does_not_grow_with_rows(cast, n, django_assert_max_num_queries):
    many_debtors(cast, n)
    with django_assert_max_num_queries(13):  # 10 on SQLite; PostgreSQL tunes and analyzes big chunks
        refresh_cases(organization=cast.mx, as_of=AS_OF)
    people = list(Debtor.objects.values_list("pk", flat=True))
    with django_assert_max_num_queries(10):
        refresh_cases(organization=cast.mx, as_of=AS_OF, debtor_ids=people)


def test_cases_refreshed_is_published_with_the_cases_in_scope(cast):
    make_document(cast.retail, cast.eva, "F-1", "100.00", days(-40))
    seen = []

    def handler(**payload):
        seen.append(payload)

    events.subscribe(events.CASES_REFRESHED, handler)
    try:
        refresh_cases(organization=cast.mx, as_of=AS_OF)
        refresh_cases(organization=cast.mx, as_of=AS_OF, debtor_ids=[cast.eva.pk])
    finally:
        events.unsubscribe(events.CASES_REFRESHED, handler)
    case = case_of(cast.retail, cast.eva)
    assert seen == [
        {"organization": cast.mx, "case_ids": None},
        {"organization": cast.mx, "case_ids": [case.pk]},
    ]


def test_as_of_must_be_a_date(cast):
    with pytest.raises(TypeError, match="as_of"):
        refresh_cases(organization=cast.mx, as_of=dt.datetime(2026, 3, 31, 12, 0))


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_postgresql_spreads_the_chunks_over_connections(cast, monkeypatch):
    many_debtors(cast, 7)
    monkeypatch.setattr(engine, "CHUNK_SIZE", 2)
    monkeypatch.setattr(engine, "WORKERS", 1)
    refresh_cases(organization=cast.mx, as_of=AS_OF)
    serial = list(Case.objects.order_by("debtor_id").values_list("debtor_id", "balance", "dpd", "bucket"))
    Case.objects.all().delete()

    threads = []
    real = engine._Refresh.chunk_on_own_connection

    def spy(self, window):
        threads.append(window)
        return real(self, window)

    monkeypatch.setattr(engine._Refresh, "chunk_on_own_connection", spy)
    monkeypatch.setattr(engine, "WORKERS", 2)
    counts = refresh_cases(organization=cast.mx, as_of=AS_OF)

    assert (counts["created"], counts["chunks"]) == (7, 4)
    assert (
        list(Case.objects.order_by("debtor_id").values_list("debtor_id", "balance", "dpd", "bucket"))
        == serial
    )
    assert len(threads) == (4 if connection.vendor == "postgresql" else 0)


def test_a_scope_of_300000_debtor_ids_goes_to_the_database_as_one_parameter(cast):
    make_document(cast.retail, cast.eva, "F-1", "100.00", days(-40))
    seen = []

    def handler(**payload):
        seen.append(payload["case_ids"])

    events.subscribe(events.CASES_REFRESHED, handler)
    try:
        counts = refresh_cases(organization=cast.mx, as_of=AS_OF, debtor_ids=range(1, 300_001))
    finally:
        events.unsubscribe(events.CASES_REFRESHED, handler)
    assert counts["created"] == 1
    assert seen == [[case_of(cast.retail, cast.eva).pk]]
