import datetime as dt

from recobro.core.models import AuditEntry
from recobro.portfolio.models import Debtor, Document
from tests.api.conftest import error_of
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


# --- PUT /portfolios/{portfolio}/documents/{external_id} and bulk ------------


def test_put_creates_a_document_with_amounts_as_numbers_or_strings(cast, keys, api):
    response = api.put(
        "/api/v1/portfolios/credito-tienda/documents/F-100",
        {
            "debtor_external_id": "C-1001",
            "due_date": "2026-02-28",
            "original_amount": 1500.5,
            "balance": "1200.25",
        },
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["original_amount"], body["balance"], body["kind"], body["status"]) == (
        "1500.50",
        "1200.25",
        "invoice",
        "open",
    )
    entry = AuditEntry.objects.get(object_type="portfolio.document", object_id=str(body["id"]))
    assert (entry.action, entry.api_key) == ("create", keys.mx_write)


def test_put_the_same_document_again_is_200_and_unchanged(cast, api):
    row = {"debtor_external_id": "C-1001", "due_date": "2026-02-28", "original_amount": "1500.50"}
    assert api.put("/api/v1/portfolios/credito-tienda/documents/F-100", row).status_code == 201
    stamp = Document.objects.get(external_id="F-100").updated_at
    assert api.put("/api/v1/portfolios/credito-tienda/documents/F-100", row).status_code == 200
    assert Document.objects.get(external_id="F-100").updated_at == stamp


def test_put_a_document_refreshes_its_case(cast, api):
    cast.mx.business_date_override = dt.date(2026, 3, 31)
    cast.mx.save()
    api.put(
        "/api/v1/portfolios/credito-tienda/documents/F-100",
        {"debtor_external_id": "C-1001", "due_date": "2026-02-28", "original_amount": "1500.50"},
    )
    cases = api.get("/api/v1/cases", {"debtor_external_id": "C-1001"}).json()["items"]
    assert [(c["portfolio"], c["balance"], c["dpd"], c["bucket"]) for c in cases] == [
        ("credito-tienda", "1500.50", 31, "31-60")
    ]


def test_put_rejects_a_currency_other_than_the_portfolios(api):
    response = api.put(
        "/api/v1/portfolios/credito-tienda/documents/F-100",
        {
            "debtor_external_id": "C-1001",
            "due_date": "2026-02-28",
            "original_amount": "10.00",
            "currency": "USD",
        },
    )
    assert response.status_code == 422
    error = error_of(response)
    assert (error["field"], error["details"][0]["code"]) == ("currency", "currency_mismatch")
    assert not Document.objects.exists()


def test_put_with_a_bad_date_or_amount_names_the_field(api):
    response = api.put(
        "/api/v1/portfolios/credito-tienda/documents/F-100",
        {"debtor_external_id": "C-1001", "due_date": "2026-02-30", "original_amount": "1.234,50"},
    )
    assert response.status_code == 422
    assert {d["field"] for d in error_of(response)["details"]} == {"due_date", "original_amount"}


def test_put_into_another_organizations_portfolio_is_404(cast, api_co):
    response = api_co.put(
        "/api/v1/portfolios/credito-tienda/documents/F-100",
        {"debtor_external_id": "C-1001", "due_date": "2026-02-28", "original_amount": "10.00"},
    )
    assert response.status_code == 404
    assert not Document.objects.exists()


def test_bulk_documents(cast, api):
    rows = [
        {
            "external_id": f"F-{n}",
            "debtor_external_id": "C-1001",
            "due_date": "2026-01-31",
            "original_amount": "100.00",
        }
        for n in range(5)
    ]
    response = api.post("/api/v1/bulk/documents", {"portfolio": "prestamos", "rows": rows})
    assert response.json() == {"created": 5, "updated": 0, "unchanged": 0, "invalid": 0, "errors": []}
    assert set(Document.objects.values_list("portfolio__code", flat=True)) == {"prestamos"}
