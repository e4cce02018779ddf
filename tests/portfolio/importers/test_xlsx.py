"""XLSX files: native dates and numbers, formulas, totals rows, errors by row number."""

import datetime as dt
from decimal import Decimal

import openpyxl
import pytest

from recobro.portfolio.models import Debtor, Document
from tests.conftest import AS_OF
from tests.portfolio.importers.support import issues, messages


@pytest.fixture
def workbook(tmp_path):
    def make(rows: list[list], name: str = "cartera.xlsx"):
        book = openpyxl.Workbook()
        sheet = book.active
        for row in rows:
            sheet.append(row)
        path = tmp_path / name
        book.save(path)
        return path

    return make


HEADER = ["external_id", "debtor_external_id", "due_date", "original_amount", "balance"]


@pytest.fixture(autouse=True)
def frozen_clock(cast):
    cast.mx.business_date_override = AS_OF
    cast.mx.save()


def test_an_xlsx_imports_with_native_dates_and_numbers(cast, run, debtors, workbook):
    path = workbook(
        [
            HEADER,
            ["F-1", "C-1001", dt.datetime(2026, 1, 31), 1234.56, 1000],
            [1002, "C-1002", "2026-02-28", 0.1 + 0.2, None],
        ]
    )
    job = run("documents", path, portfolio=cast.retail)
    assert (job.status, job.created_count) == ("succeeded", 2), messages(job)
    first, second = Document.objects.get(external_id="F-1"), Document.objects.get(external_id="1002")
    assert (first.due_date, first.original_amount, first.balance) == (
        dt.date(2026, 1, 31),
        Decimal("1234.56"),
        Decimal("1000.00"),
    )
    assert (second.original_amount, second.balance) == (Decimal("0.30"), Decimal("0.30"))


def test_an_xlsx_error_names_the_sheet_row_and_column(cast, run, debtors, workbook):
    path = workbook(
        [HEADER, ["F-1", "C-1001", "mañana", 100, None], ["F-2", "C-9", dt.date(2026, 1, 1), 5, None]]
    )
    job = run("documents", path, portfolio=cast.retail)
    assert issues(job) == [(2, "due_date", "date_format"), (3, "debtor_external_id", "unknown_debtor")]


def test_a_formula_cell_in_an_xlsx_is_rejected(cast, run, debtors, workbook):
    path = workbook([HEADER, ["F-1", "C-1001", dt.date(2026, 1, 1), "=100*2", None]])
    job = run("documents", path, portfolio=cast.retail)
    assert issues(job) == [(2, "original_amount", "formula")]


def test_a_title_row_a_totals_row_with_sum_formulas_and_blank_rows_are_skipped(cast, run, debtors, workbook):
    path = workbook(
        [
            ["Cartera al 31/03/2026"],
            HEADER,
            ["F-1", "C-1001", dt.date(2026, 1, 1), 100, None],
            [None] * 5,
            ["Total", None, None, "=SUM(D3:D3)", "=SUM(E3:E3)"],
        ]
    )
    job = run("documents", path, portfolio=cast.retail)
    assert (job.status, job.created_count, job.ignored_count) == ("succeeded", 1, 3)
    assert issues(job, warnings=True) == [(1, "", "title_row"), (4, "", "blank_line"), (5, "", "totals_row")]


def test_a_value_beyond_the_last_header_column_is_invalid(cast, run, workbook):
    path = workbook([["external_id", "name"], ["C-1", "Ana", "¿y esto?"]])
    job = run("debtors", path)
    assert issues(job) == [(2, "", "field_count")]


def test_an_xlsx_debtor_id_typed_as_a_number_is_text(cast, run, workbook):
    path = workbook([["external_id", "name"], [2001, "Ana"], [2002.0, "Bruno"]])
    run("debtors", path)
    assert set(Debtor.objects.filter(name__in=["Ana", "Bruno"]).values_list("external_id", flat=True)) == {
        "2001",
        "2002",
    }
