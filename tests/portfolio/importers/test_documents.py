"""Importing documents: amounts, dates, currencies, kinds, totals rows, all-or-nothing."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import OperationalError

from recobro.core import events
from recobro.core.models import AuditEntry
from recobro.portfolio.models import Case, Document, ImportStatus
from tests.conftest import AS_OF, make_document
from tests.portfolio.importers.support import issues, messages

HEADER = "external_id,debtor_external_id,kind,due_date,original_amount,balance\n"


@pytest.fixture(autouse=True)
def frozen_clock(cast):
    cast.mx.business_date_override = AS_OF
    cast.mx.save()


def doc(external_id):
    return Document.objects.get(external_id=external_id)


def test_documents_are_created_and_the_cases_of_their_debtors_refreshed(cast, run, debtors):
    job = run(
        "documents",
        HEADER + "F-1,C-1001,invoice,2026-03-01,1000.00,800.00\nF-2,C-1002,invoice,2026-04-15,250.50,\n",
        portfolio=cast.retail,
    )
    assert (job.status, job.created_count) == ("succeeded", 2)
    assert (doc("F-1").balance, doc("F-2").balance) == (Decimal("800.00"), Decimal("250.50"))
    assert doc("F-1").portfolio == cast.retail and doc("F-1").currency == "MXN"
    eva = Case.objects.get(portfolio=cast.retail, debtor=cast.eva)
    assert (eva.balance, eva.dpd, eva.bucket) == (Decimal("800.00"), 30, "1-30")
    assert Case.objects.get(portfolio=cast.retail, debtor=debtors[1]).dpd == 0


def test_the_same_file_twice_changes_nothing_the_second_time(cast, run, debtors):
    content = HEADER + "F-1,C-1001,invoice,2026-03-01,1000.00,800.00\n"
    run("documents", content, portfolio=cast.retail)
    stamp, audit = doc("F-1").updated_at, AuditEntry.objects.count()
    job = run("documents", content, portfolio=cast.retail)
    assert (job.created_count, job.updated_count, job.unchanged_count) == (0, 0, 1)
    assert doc("F-1").updated_at == stamp and AuditEntry.objects.count() == audit


def test_a_corrected_balance_updates_the_document_and_its_case_with_before_and_after(cast, run, debtors):
    run("documents", HEADER + "F-1,C-1001,invoice,2026-03-01,1000.00,800.00\n", portfolio=cast.retail)
    job = run("documents", HEADER + "F-1,C-1001,invoice,2026-03-01,1000.00,300.00\n", portfolio=cast.retail)
    assert job.updated_count == 1
    assert Case.objects.get(debtor=cast.eva, portfolio=cast.retail).balance == Decimal("300.00")
    entry = AuditEntry.objects.get(object_type="portfolio.document", action="update")
    assert (entry.before["balance"], entry.after["balance"]) == ("800.00", "300.00")
    assert entry.after["original_amount"] == "1000.00" and entry.source == "import"


def test_a_document_moved_to_another_debtor_refreshes_both_cases(cast, run, debtors):
    run("documents", HEADER + "F-1,C-1001,invoice,2026-03-01,1000.00,\n", portfolio=cast.retail)
    run("documents", HEADER + "F-1,C-1002,invoice,2026-03-01,1000.00,\n", portfolio=cast.retail)
    assert Case.objects.get(debtor=cast.eva, portfolio=cast.retail).status == "closed"
    assert Case.objects.get(debtor=debtors[1], portfolio=cast.retail).balance == Decimal("1000.00")


def test_the_same_external_id_in_two_portfolios_is_two_documents(cast, run, debtors):
    run("documents", HEADER + "F-1,C-1001,invoice,2026-03-01,100,\n", portfolio=cast.retail)
    job = run("documents", HEADER + "F-1,C-1001,invoice,2026-03-01,200,\n", portfolio=cast.loans)
    assert job.created_count == 1
    assert Document.objects.filter(external_id="F-1").count() == 2


def test_a_document_of_an_unknown_debtor_is_invalid(cast, run, debtors):
    job = run("documents", HEADER + "F-1,C-9999,invoice,2026-03-01,100,\n", portfolio=cast.retail)
    assert issues(job) == [(2, "debtor_external_id", "unknown_debtor")]
    assert "C-9999" in messages(job)


def test_a_debtor_of_another_organization_is_unknown(cast, run, debtors):
    job = run(
        "documents",
        HEADER + "F-1,C-1001,invoice,2026-03-01,100,\n",
        portfolio=cast.bank_co,
        organization=cast.co,
    )
    assert issues(job) == [(2, "debtor_external_id", "unknown_debtor")]


def test_a_currency_other_than_the_portfolio_is_invalid(cast, run, debtors):
    job = run(
        "documents",
        "external_id,debtor_external_id,due_date,original_amount,currency\nF-1,C-1001,2026-03-01,100,USD\n"
        "F-2,C-1001,2026-03-01,100,mxn\n",
        portfolio=cast.retail,
    )
    assert issues(job) == [(2, "currency", "currency_mismatch")]
    assert "USD does not match the portfolio's currency, MXN" in messages(job)


@pytest.mark.parametrize(
    ("amount", "code"),
    [
        ("abc", "not_a_number"),
        ("0", "amount_not_positive"),
        ("-50", "amount_not_positive"),
        ("100.555", "too_many_decimals"),
        ("12345678901234567", "amount_too_large"),
        ("1,00", "number_format"),
    ],
)
def test_an_impossible_amount_is_invalid_with_its_reason(cast, run, debtors, amount, code):
    job = run("documents", HEADER + f'F-1,C-1001,invoice,2026-03-01,"{amount}",\n', portfolio=cast.retail)
    assert issues(job) == [(2, "original_amount", code)]


def test_a_balance_above_the_amount_is_invalid(cast, run, debtors):
    job = run("documents", HEADER + "F-1,C-1001,invoice,2026-03-01,100,150\n", portfolio=cast.retail)
    assert issues(job) == [(2, "balance", "balance_out_of_range")]


def test_credit_notes_are_negative_and_reduce_the_case_balance(cast, run, debtors):
    job = run(
        "documents",
        HEADER + "F-1,C-1001,invoice,2026-03-01,1000,\nNC-1,C-1001,nota de crédito,2026-03-01,(200.00),\n"
        "NC-2,C-1001,credit_note,2026-03-01,200,\n",
        portfolio=cast.retail,
        skip_invalid=True,
    )
    assert issues(job) == [(4, "original_amount", "credit_note_sign")]
    assert doc("NC-1").balance == Decimal("-200.00")
    assert Case.objects.get(debtor=cast.eva, portfolio=cast.retail).balance == Decimal("800.00")


def test_a_colombian_peso_amount_with_cents_is_accepted_but_not_a_third_decimal(cast, run):
    from recobro.portfolio.models import Debtor

    Debtor.objects.create(organization=cast.co, external_id="K-1", name="Oscar")
    job = run(
        "documents",
        HEADER + "D-1,K-1,invoice,2026-03-01,150000.50,\nD-2,K-1,invoice,2026-03-01,1.005,\n",
        portfolio=cast.bank_co,
        organization=cast.co,
    )
    assert issues(job) == [(3, "original_amount", "too_many_decimals")]


def test_an_unknown_document_kind_or_status_is_invalid_listing_the_known_ones(cast, run, debtors):
    job = run(
        "documents",
        "external_id,debtor_external_id,kind,status,due_date,original_amount\n"
        "F-1,C-1001,pagaré,open,2026-03-01,100\nF-2,C-1001,invoice,perdido,2026-03-01,100\n",
        portfolio=cast.retail,
    )
    assert issues(job) == [(2, "kind", "unknown_choice"), (3, "status", "unknown_choice")]
    assert "invoice, installment, fee, interest, credit_note" in messages(job)


def test_spanish_kind_and_status_words_are_understood(cast, run, debtors):
    run(
        "documents",
        "external_id,debtor_external_id,tipo,estado,due_date,original_amount\n"
        "F-1,C-1001,Factura,Pagada,2026-03-01,100\nF-2,C-1001,Cuota,En disputa,2026-03-01,100\n",
        portfolio=cast.retail,
    )
    assert (doc("F-1").kind, doc("F-1").status) == ("invoice", "paid")
    assert (doc("F-2").kind, doc("F-2").status) == ("installment", "disputed")


def test_a_bad_date_is_invalid_with_line_and_column(cast, run, debtors):
    job = run(
        "documents",
        HEADER + "F-1,C-1001,invoice,2026-02-30,100,\nF-2,C-1001,invoice,mañana,100,\n",
        portfolio=cast.retail,
    )
    assert issues(job) == [(2, "due_date", "bad_date"), (3, "due_date", "date_format")]


@pytest.mark.parametrize("cell", ['=HYPERLINK("http://x")', "@SUM(A1)", "+cmd|' /C calc'!A0", "-2+3+cmd"])
def test_a_formula_in_a_cell_is_rejected_as_unsafe(cast, run, debtors, cell):
    escaped = cell.replace('"', '""')
    job = run(
        "documents",
        "external_id,debtor_external_id,number,due_date,original_amount\n"
        f'F-1,C-1001,"{escaped}",2026-03-01,100\n',
        portfolio=cast.retail,
    )
    assert issues(job) == [(2, "number", "formula")]
    assert "formula" in messages(job)


def test_a_negative_number_is_not_a_formula(cast, run, debtors):
    job = run("documents", HEADER + "NC-1,C-1001,credit_note,2026-03-01,-1234.50,\n", portfolio=cast.retail)
    assert job.status == ImportStatus.SUCCEEDED


def test_totals_rows_and_blank_lines_are_ignored_and_reported_as_warnings(cast, run, debtors):
    job = run(
        "documents",
        HEADER + "F-1,C-1001,invoice,2026-03-01,1000,\n\n\nF-2,C-1002,invoice,2026-03-01,500,\n"
        'Total,,,,1500,1500\n,,,,1500.00,\nTOTAL GENERAL,,,,"1,500.00",\n\n',
        portfolio=cast.retail,
    )
    assert (job.status, job.created_count, job.ignored_count, job.invalid_count) == ("succeeded", 2, 6, 0)
    assert issues(job, warnings=True) == [
        (3, "", "blank_line"),
        (6, "", "totals_row"),
        (7, "", "totals_row"),
        (8, "", "totals_row"),
        (9, "", "blank_line"),
    ]
    assert "Lines 3 to 4 are blank" in messages(job)


def test_a_debtor_named_like_a_total_with_its_ids_is_imported(cast, run):
    job = run("debtors", "external_id,name\nTOTAL-1,Total Play SA\n")
    assert (job.created_count, job.ignored_count) == (1, 0)


def test_documents_need_a_portfolio(cast, write):
    from recobro.core.audit import Actor
    from recobro.portfolio.importers import ImportSetupError, create_job

    path = write("d.csv", HEADER)
    with pytest.raises(ImportSetupError, match="needs a portfolio"):
        create_job(
            organization=cast.mx,
            kind="documents",
            file=path,
            file_name="d.csv",
            actor=Actor.for_user(cast.ana),
        )


def test_a_rejected_file_leaves_the_database_untouched(cast, run, debtors):
    existing = make_document(cast.retail, cast.eva, "F-OLD", "900.00", dt.date(2026, 1, 10))
    before = list(Document.objects.values_list("id", "balance", "updated_at"))
    audit, cases = AuditEntry.objects.count(), Case.objects.count()
    job = run(
        "documents",
        HEADER + "F-OLD,C-1001,invoice,2026-01-10,900.00,100.00\nF-NEW,C-1001,invoice,2026-03-01,500,\n"
        "F-BAD,C-1001,invoice,2026-03-01,-5,\n",
        portfolio=cast.retail,
    )
    assert (job.status, job.created_count, job.updated_count, job.invalid_count) == ("rejected", 0, 0, 1)
    assert "nothing was written" in job.message
    assert list(Document.objects.values_list("id", "balance", "updated_at")) == before
    assert (AuditEntry.objects.count(), Case.objects.count()) == (audit, cases)
    assert existing.balance == Decimal("900.00")


def test_skip_invalid_writes_the_valid_rows_and_reports_the_rest(cast, run, debtors):
    job = run(
        "documents",
        HEADER
        + "F-1,C-1001,invoice,2026-03-01,100,\nF-2,C-9999,invoice,2026-03-01,100,\n"
        + "F-3,C-1002,invoice,2026-03-01,x,\n",
        portfolio=cast.retail,
        skip_invalid=True,
    )
    assert (job.status, job.created_count, job.invalid_count) == ("partial", 1, 2)
    assert list(Document.objects.values_list("external_id", flat=True)) == ["F-1"]
    assert issues(job) == [
        (3, "debtor_external_id", "unknown_debtor"),
        (4, "original_amount", "not_a_number"),
    ]


def test_lowering_the_amount_below_the_stored_balance_without_a_balance_column_is_a_conflict(
    cast, run, debtors
):
    make_document(cast.retail, cast.eva, "F-1", "900.00", dt.date(2026, 1, 10))
    job = run(
        "documents",
        "external_id,debtor_external_id,due_date,original_amount\nF-1,C-1001,2026-01-10,500\n",
        portfolio=cast.retail,
    )
    assert issues(job) == [(2, "original_amount", "balance_out_of_range")]
    assert "stored balance 900.00" in messages(job)
    assert doc("F-1").original_amount == Decimal("900.00")


def test_without_a_balance_column_the_stored_balance_is_kept(cast, run, debtors):
    make_document(cast.retail, cast.eva, "F-1", "900.00", dt.date(2026, 1, 10), balance="400.00")
    run(
        "documents",
        "external_id,debtor_external_id,due_date,original_amount\nF-1,C-1001,2026-01-15,900\n",
        portfolio=cast.retail,
    )
    assert (doc("F-1").balance, doc("F-1").due_date) == (Decimal("400.00"), dt.date(2026, 1, 15))


def test_the_comma_decimal_profile_reads_erp_numbers_and_day_first_dates(cast, run, profile, debtors):
    erp = profile("documents", delimiter=";", number_format="comma", date_format="dmy")
    job = run(
        "documents",
        "external_id;debtor_external_id;due_date;original_amount;balance\r\n"
        "F-1;C-1001;31/01/2026;$ 1.234,56;1.000,00\r\nF-2;C-1001;2026-02-28;1.234,56-;\r\n",
        portfolio=cast.retail,
        profile=erp,
    )
    assert issues(job) == [(3, "original_amount", "amount_not_positive")]
    job = run(
        "documents",
        "external_id;debtor_external_id;due_date;original_amount;balance\r\n"
        "F-1;C-1001;31/01/2026;$ 1.234,56;1.000,00\r\n",
        portfolio=cast.retail,
        profile=erp,
    )
    assert (doc("F-1").original_amount, doc("F-1").due_date) == (Decimal("1234.56"), dt.date(2026, 1, 31))


def test_a_dot_decimal_amount_under_a_comma_profile_is_an_error_naming_the_format(
    cast, run, profile, debtors
):
    erp = profile("documents", delimiter=";", number_format="comma")
    job = run(
        "documents",
        "external_id;debtor_external_id;due_date;original_amount\nF-1;C-1001;2026-01-31;1,234.56\n",
        portfolio=cast.retail,
        profile=erp,
    )
    assert issues(job) == [(2, "original_amount", "number_format")]
    assert "1.234,56 format" in messages(job)


def test_import_finished_is_published_with_the_job(cast, run, debtors):
    seen = []

    def handler(**payload):
        seen.append(payload)

    events.subscribe(events.IMPORT_FINISHED, handler)
    try:
        job = run("documents", HEADER + "F-1,C-1001,invoice,2026-03-01,100,\n", portfolio=cast.retail)
    finally:
        events.unsubscribe(events.IMPORT_FINISHED, handler)
    assert seen == [{"organization": cast.mx, "job": job}]


def test_a_failure_while_writing_leaves_nothing_half_changed(cast, run, debtors, monkeypatch):
    from recobro.portfolio.models import Payment
    from recobro.portfolio.services import payments

    existing = make_document(cast.retail, cast.eva, "F-OLD", "900.00", dt.date(2026, 1, 10))
    audit = AuditEntry.objects.count()

    def broken(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(payments, "allocate_payments", broken)
    job = run(
        "payments",
        "external_id,debtor_external_id,amount,paid_on\nP-1,C-1001,100,2026-03-01\nP-2,C-1002,50,2026-03-02\n",
        portfolio=cast.retail,
    )
    assert job.status == ImportStatus.FAILED
    assert "unexpected error (RuntimeError)" in job.message
    assert not Payment.objects.exists()
    assert Document.objects.get().balance == existing.balance
    assert AuditEntry.objects.count() == audit


def test_a_failed_case_refresh_after_the_import_keeps_the_documents_and_warns(
    cast, run, debtors, monkeypatch
):
    from recobro.portfolio import engine

    def broken(**kwargs):
        raise OperationalError("lost connection")

    monkeypatch.setattr(engine, "refresh_cases", broken)
    job = run("documents", HEADER + "F-1,C-1001,invoice,2026-03-01,100,\n", portfolio=cast.retail)
    assert (job.status, job.created_count) == ("succeeded", 1)
    assert issues(job, warnings=True) == [(None, "", "cases_not_refreshed")]
    assert "could not be recomputed" in job.message
    assert Document.objects.filter(external_id="F-1").exists()


def test_a_bug_in_the_case_refresh_is_not_hidden_behind_a_warning(cast, run, debtors, monkeypatch):
    from recobro.portfolio import engine

    def broken(**kwargs):
        raise TypeError("refresh_cases() got an unexpected keyword argument")

    monkeypatch.setattr(engine, "refresh_cases", broken)
    job = run("documents", HEADER + "F-1,C-1001,invoice,2026-03-01,100,\n", portfolio=cast.retail)
    assert (job.status, job.created_count) == ("succeeded", 1)  # the rows are committed
    assert issues(job) == [(None, "", "internal_error")]
    assert issues(job, warnings=True) == []
    assert (
        "The rows were written, but what follows the import stopped on an unexpected error (TypeError)"
        in (job.message)
    )
    assert Document.objects.filter(external_id="F-1").exists()


def test_the_number_of_queries_of_a_file_import_does_not_grow_with_its_rows(
    cast, run, debtors, django_assert_max_num_queries
):
    def rows(n, start):
        return "".join(f"F-{i},C-1002,invoice,2026-03-01,{10 + i},\n" for i in range(start, start + n))

    run("documents", HEADER + rows(5, 0), portfolio=cast.retail)
    with django_assert_max_num_queries(80) as few:
        run("documents", HEADER + rows(5, 100), portfolio=cast.retail)
    with django_assert_max_num_queries(len(few.captured_queries)):
        run("documents", HEADER + rows(2_000, 1_000), portfolio=cast.retail)
