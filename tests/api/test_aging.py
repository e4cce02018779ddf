import datetime as dt

import pytest

from recobro.portfolio.models import Debtor
from tests.api.conftest import error_of
from tests.conftest import AS_OF, make_document


@pytest.fixture
def aged(cast):
    """Comercial del Norte on 2026-03-31: 1,000.00 current, 600.00 at 31-60 (two debtors), 400.00 at
    91-180."""
    cast.mx.business_date_override = AS_OF
    cast.mx.save()
    other = Debtor.objects.create(organization=cast.mx, external_id="C-1002", name="Óscar Ruiz")
    make_document(cast.retail, cast.eva, "F-1", "1000.00", AS_OF + dt.timedelta(days=10))
    make_document(cast.retail, cast.eva, "F-2", "250.00", AS_OF - dt.timedelta(days=40))
    make_document(cast.retail, other, "F-3", "350.00", AS_OF - dt.timedelta(days=45))
    make_document(cast.retail, other, "F-4", "400.00", AS_OF - dt.timedelta(days=100))
    make_document(cast.loans, cast.eva, "L-1", "99.99", AS_OF - dt.timedelta(days=5))


def test_the_aging_report_defaults_to_the_organizations_business_date(aged, api_read):
    response = api_read.get("/api/v1/aging")
    assert response.status_code == 200
    body = response.json()
    assert body["as_of"] == "2026-03-31"
    assert [b["key"] for b in body["buckets"]] == [
        "current",
        "1-30",
        "31-60",
        "61-90",
        "91-180",
        "181-360",
        "360+",
    ]
    retail = next(p for p in body["portfolios"] if p["portfolio"] == "credito-tienda")
    assert (retail["balance"], retail["documents"], retail["debtors"], retail["currency"]) == (
        "2000.00",
        4,
        2,
        "MXN",
    )
    cells = {c["bucket"]: (c["documents"], c["debtors"], c["balance"], c["share"]) for c in retail["buckets"]}
    assert cells["current"] == (1, 1, "1000.00", "50.00")
    assert cells["31-60"] == (2, 2, "600.00", "30.00")
    assert cells["91-180"] == (1, 1, "400.00", "20.00")
    assert cells["1-30"] == (0, 0, "0.00", "0.00")


def test_the_aging_report_of_one_portfolio_at_another_date(aged, api_read):
    body = api_read.get("/api/v1/aging", {"portfolio": "prestamos", "as_of": "2026-04-30"}).json()
    assert body["as_of"] == "2026-04-30"
    assert [p["portfolio"] for p in body["portfolios"]] == ["prestamos"]
    cells = {c["bucket"]: c["balance"] for c in body["portfolios"][0]["buckets"] if c["documents"]}
    assert cells == {"31-60": "99.99"}


def test_an_unknown_or_foreign_portfolio_is_404(aged, api_read, api_co):
    assert api_read.get("/api/v1/aging", {"portfolio": "no-such"}).status_code == 404
    response = api_co.get("/api/v1/aging", {"portfolio": "credito-tienda"})
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"
    assert api_co.get("/api/v1/aging").json()["portfolios"] == []


def test_a_bad_as_of_is_422_naming_it(api_read):
    response = api_read.get("/api/v1/aging", {"as_of": "31/03/2026"})
    assert response.status_code == 422
    assert error_of(response)["field"] == "as_of"
