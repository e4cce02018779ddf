"""A key of Cobranzas Andinas never sees or touches Comercial del Norte's rows: lists are
empty and ids answer 404 (not 403), so the existence of another tenant's rows never leaks."""

import pytest

from recobro.portfolio.models import Case, ContactPoint, Payment
from tests.api.conftest import error_of
from tests.conftest import AS_OF, make_document


@pytest.fixture
def mx_rows(cast):
    make_document(cast.retail, cast.eva, "F-1", "100.00", AS_OF)
    contact = ContactPoint.objects.create(
        organization=cast.mx,
        debtor=cast.eva,
        kind="email",
        value="eva@example.com",
        normalized="eva@example.com",
    )
    Payment.objects.create(
        organization=cast.mx,
        portfolio=cast.retail,
        debtor=cast.eva,
        external_id="P-1",
        amount="10.00",
        unallocated_amount="10.00",
        currency="MXN",
        paid_on=AS_OF,
        source="import",
    )
    case = Case.objects.create(organization=cast.mx, portfolio=cast.retail, debtor=cast.eva, currency="MXN")
    return {"contact": contact, "case": case}


@pytest.mark.parametrize(
    "path",
    ["/api/v1/debtors", "/api/v1/contact-points", "/api/v1/documents", "/api/v1/payments", "/api/v1/cases"],
)
def test_lists_of_another_organization_are_empty(mx_rows, api_co, api_read, path):
    assert api_read.get(path).json()["items"], "the owner sees the row"
    assert api_co.get(path).json() == {"items": [], "next_cursor": None}


def test_rows_of_another_organization_answer_404(mx_rows, api_co, api_read):
    paths = [
        "/api/v1/debtors/C-1001",
        f"/api/v1/contact-points/{mx_rows['contact'].pk}",
        "/api/v1/portfolios/credito-tienda/documents/F-1",
        "/api/v1/portfolios/credito-tienda/payments/P-1",
        f"/api/v1/cases/{mx_rows['case'].pk}",
    ]
    for path in paths:
        assert api_read.get(path).status_code == 200, path
        response = api_co.get(path)
        assert response.status_code == 404, path
        assert error_of(response)["code"] == "not_found"


def test_a_missing_row_and_another_organizations_row_answer_alike(mx_rows, api_co):
    theirs = api_co.get("/api/v1/debtors/C-1001")
    missing = api_co.get("/api/v1/debtors/NO-SUCH")
    assert (theirs.status_code, theirs.json()) == (missing.status_code, missing.json())
