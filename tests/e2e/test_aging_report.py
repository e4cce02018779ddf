"""The aging report (antigüedad de saldos) as Ana reads it: buckets with counts and balances
per portfolio, a chart, and an XLSX download that opens as a real workbook."""

import re

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from recobro.portfolio.engine import refresh_cases
from recobro.portfolio.importers import upsert_rows
from tests.e2e.conftest import login, screenshot

pytestmark = pytest.mark.django_db(transaction=True)
expect.set_options(timeout=15_000)

AS_OF = "2026-03-31"


def document(external_id: str, debtor: str, due: str, amount: str) -> dict:
    return {
        "external_id": external_id,
        "debtor_external_id": debtor,
        "due_date": due,
        "original_amount": amount,
    }


@pytest.fixture
def ledger(cast):
    """Carlos' portfolio spread over four buckets as of 31/03/2026; Diana's has one old debt."""
    actor = cast.actor()
    result = upsert_rows(
        organization=cast.mx,
        kind="debtors",
        rows=[{"external_id": "C-1002", "name": "Refacciones Ortiz", "kind": "company"}],
        actor=actor,
    )
    assert result.errors == []
    result = upsert_rows(
        organization=cast.mx,
        kind="documents",
        portfolio=cast.retail,
        rows=[
            document("R-1", "C-1001", "2026-04-15", "1000.00"),  # not yet due
            document("R-2", "C-1001", "2026-03-16", "2000.00"),  # 15 days
            document("R-3", "C-1002", "2026-02-10", "3000.00"),  # 49 days
            document("R-4", "C-1002", "2025-12-01", "4000.00"),  # 120 days
        ],
        actor=actor,
    )
    assert result.errors == []
    result = upsert_rows(
        organization=cast.mx,
        kind="documents",
        portfolio=cast.loans,
        rows=[document("L-1", "C-1001", "2025-01-15", "500.00")],  # 440 days
        actor=actor,
    )
    assert result.errors == []
    refresh_cases(organization=cast.mx)
    return cast


def bucket_row(section, label: str):
    return section.locator("tbody tr").filter(has=section.page.get_by_role("cell", name=label, exact=True))


def test_the_aging_report_shows_buckets_a_chart_and_downloads_as_xlsx(ledger, page, tmp_path):
    login(page, "ana")
    page.get_by_role("link", name=re.compile(r"Antigüedad de saldos$")).click()
    expect(page.get_by_role("heading", name="Antigüedad de saldos").first).to_be_visible()

    page.get_by_label("Fecha de corte").fill(AS_OF)
    page.get_by_role("button", name="Mostrar").click()
    expect(page.get_by_text("Saldos pendientes por días de mora al 31/03/2026.")).to_be_visible()

    sections = page.locator("section.aging-portfolio")
    expect(sections).to_have_count(2)
    retail = sections.filter(has_text="Crédito tienda")
    loans = sections.filter(has_text="Préstamos personales")

    expected = {
        "1-30": ("1", "1", "$2,000.00"),
        "31-60": ("1", "1", "$3,000.00"),
        "61-90": ("0", "0", "$0.00"),
        "91-180": ("1", "1", "$4,000.00"),
        "181-360": ("0", "0", "$0.00"),
    }
    for label, (documents, debtors, balance) in expected.items():
        cells = bucket_row(retail, label).locator("td")
        expect(cells).to_have_count(5)
        expect(cells.nth(1)).to_have_text(documents)
        expect(cells.nth(2)).to_have_text(debtors)
        expect(cells.nth(3)).to_have_text(balance)
    expect(bucket_row(retail, "31-60").locator("td").nth(4)).to_have_text(re.compile(r"^30(\.0+)? %$"))
    total = retail.locator("tfoot tr td")
    expect(total.nth(0)).to_have_text("Total")
    expect(total.nth(1)).to_have_text("4")
    expect(total.nth(2)).to_have_text("2")
    expect(total.nth(3)).to_have_text("$10,000.00")
    expect(total.nth(4)).to_have_text(re.compile(r"^100(\.0+)? %$"))
    expect(loans.locator("tfoot tr td").nth(3)).to_have_text("$500.00")

    # One chart per portfolio, drawn by Chart.js.
    charts = page.locator("section.aging-portfolio canvas.chart")
    expect(charts).to_have_count(2)
    expect(charts.first).to_be_visible()
    page.wait_for_function(
        "() => window.Chart && [...document.querySelectorAll('section.aging-portfolio canvas.chart')]"
        ".every(c => window.Chart.getChart(c) && c.width > 0 && c.height > 0)"
    )
    screenshot(page, "aging-report")

    with page.expect_download() as download_info:
        page.get_by_role("link", name=re.compile(r"XLSX$")).click()
    download = download_info.value
    assert download.suggested_filename == f"aging-{AS_OF}.xlsx"
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    assert path.read_bytes()[:2] == b"PK"  # a zip container, as every .xlsx is

    workbook = load_workbook(path)
    sheet = workbook.active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0].startswith("Antigüedad de saldos")
    assert rows[1][0] == "Comercial del Norte"
    assert rows[2][1].date().isoformat() == AS_OF
    header = rows.index(next(r for r in rows if r[0] == "Cartera"))
    columns = rows[header]
    assert columns[:3] == ("Cartera", "Moneda", "Tramo") and "Documentos" in columns
    lines = {(r[0], r[2]): r for r in rows[header + 1 :] if r[0]}
    assert lines[("Crédito tienda", "1-30")][4:7] == (1, 1, 2000)
    assert lines[("Crédito tienda", "91-180")][4:7] == (1, 1, 4000)
    assert lines[("Crédito tienda", None)][3:7] == ("Total", 4, 2, 10000)
    assert lines[("Préstamos personales", "360+")][4:7] == (1, 1, 500)
