"""The aging report page: a table and a chart per portfolio, with XLSX and CSV downloads."""

import csv
import io

from django.urls import reverse
from openpyxl import load_workbook

from tests.backoffice.conftest import client_for


def test_the_aging_page_shows_buckets_counts_balances_and_shares(ana, cast, ledger):
    response = ana.get(reverse("portfolio-aging"), {"portfolio": cast.retail.pk, "as_of": "2026-03-31"})
    assert response.status_code == 200
    [retail] = response.context["portfolios"]
    rows = {r["label"]: r for r in retail["rows"]}
    assert rows["1-30"]["balance"] == "$2,500.50" and rows["1-30"]["documents"] == 1
    assert rows["31-60"]["balance"] == "$700.00"
    assert str(rows["1-30"]["share"]) == "78.13"
    assert retail["total"]["balance"] == "$3,200.50"
    page = response.content.decode()
    assert 'class="chart"' in page and "78.13 %" in page


def test_the_page_defaults_to_all_portfolios_at_the_business_date(ana, cast, ledger):
    response = ana.get(reverse("portfolio-aging"))
    names = [p["name"] for p in response.context["portfolios"]]
    assert names == ["Crédito tienda", "Préstamos personales"]
    assert response.context["as_of"] == "31/03/2026"


def test_a_collector_gets_only_his_portfolio(cast, ledger):
    response = client_for(cast.diana).get(reverse("portfolio-aging"))
    assert [p["name"] for p in response.context["portfolios"]] == ["Préstamos personales"]
    refused = client_for(cast.diana).get(reverse("portfolio-aging"), {"portfolio": cast.retail.pk})
    assert refused.context["portfolios"] == []
    assert "portfolio" in refused.context["form"].errors


def test_another_organizations_portfolio_is_not_a_choice(ana, cast, ledger):
    response = ana.get(reverse("portfolio-aging"), {"portfolio": cast.bank_co.pk})
    assert "portfolio" in response.context["form"].errors


def test_the_report_downloads_as_csv(ana, cast, ledger):
    url = reverse("portfolio-aging-export", args=["csv"])
    response = ana.get(url, {"portfolio": cast.retail.pk, "as_of": "2026-03-31"})
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="aging-2026-03-31.csv"' in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert any("2500.50" in row for row in rows)
    assert not any("150000.00" in row for row in rows)


def test_the_report_downloads_as_xlsx(ana, cast, ledger):
    response = ana.get(reverse("portfolio-aging-export", args=["xlsx"]), {"as_of": "2026-03-31"})
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = [cell.value for row in sheet.iter_rows() for cell in row]
    assert "Crédito tienda" in values and "Préstamos personales" in values
    assert "Banco Andino — tarjetas" not in values


def test_an_unknown_export_format_is_not_a_page(ana, ledger):
    assert ana.get("/reports/aging/export/pdf/").status_code == 404
