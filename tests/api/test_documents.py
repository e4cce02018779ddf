import datetime as dt

from recobro.portfolio.models import Debtor, Document
from tests.conftest import AS_OF, make_document


def test_get_a_document_by_portfolio_and_external_id(cast, api_read):
    make_document(cast.retail, cast.eva, "F-2026/001", "1234.50", AS_OF, balance="1000.05")
    response = api_read.get("/api/v1/portfolios/credito-tienda/documents/F-2026/001")
    assert response.status_code == 200
    body = response.json()
    assert body["portfolio"] == "credito-tienda"
    assert body["debtor_external_id"] == "C-1001"
    assert (body["original_amount"], body["balance"], body["currency"]) == ("1234.50", "1000.05", "MXN")
    assert body["due_date"] == "2026-03-31"


def test_the_same_external_id_in_another_portfolio_is_another_document(cast, api_read):
    make_document(cast.retail, cast.eva, "F-1", "100.00", AS_OF)
    make_document(cast.loans, cast.eva, "F-1", "200.00", AS_OF)
    assert api_read.get("/api/v1/portfolios/prestamos/documents/F-1").json()["original_amount"] == "200.00"
    assert api_read.get("/api/v1/portfolios/telcosur/documents/F-1").status_code == 404


def test_list_documents_filters_by_portfolio_debtor_status_and_external_id(cast, api_read):
    other = Debtor.objects.create(organization=cast.mx, external_id="C-1002", name="Óscar Ruiz")
    a = make_document(cast.retail, cast.eva, "F-1", "100.00", AS_OF)
    b = make_document(cast.loans, cast.eva, "F-2", "100.00", AS_OF)
    c = make_document(cast.retail, other, "F-3", "100.00", AS_OF)
    Document.objects.filter(pk=c.pk).update(status="paid", balance=0)

    def ids(params):
        return [d["id"] for d in api_read.get("/api/v1/documents", params).json()["items"]]

    assert ids({"portfolio": "credito-tienda"}) == [a.pk, c.pk]
    assert ids({"debtor_external_id": "C-1001"}) == [a.pk, b.pk]
    assert ids({"status": "paid"}) == [c.pk]
    assert ids({"external_id": "F-2"}) == [b.pk]
    Document.objects.filter(pk=a.pk).update(updated_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    Document.objects.exclude(pk=a.pk).update(updated_at=dt.datetime(2026, 3, 1, tzinfo=dt.UTC))
    assert ids({"updated_since": "2026-02-01T00:00:00Z"}) == [b.pk, c.pk]


def test_listing_documents_does_not_query_per_row(cast, api_read, django_assert_max_num_queries):
    api_read.get("/api/v1/me")
    for n in range(40):
        make_document(cast.retail if n % 2 else cast.loans, cast.eva, f"F-{n}", "10.00", AS_OF)
    with django_assert_max_num_queries(2):
        body = api_read.get("/api/v1/documents", {"limit": 500}).json()
    assert len(body["items"]) == 40
    assert {d["portfolio"] for d in body["items"]} == {"credito-tienda", "prestamos"}
