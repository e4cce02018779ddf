import datetime as dt
from decimal import Decimal

from recobro.core.models import AuditEntry
from recobro.portfolio.models import Document, Payment
from tests.api.conftest import error_of
from tests.conftest import AS_OF, make_document


def add_payment(cast, external_id, amount: str, paid_on=AS_OF, portfolio=None) -> Payment:
    return Payment.objects.create(
        organization=cast.mx,
        portfolio=portfolio or cast.retail,
        debtor=cast.eva,
        external_id=external_id,
        amount=Decimal(amount),
        unallocated_amount=Decimal(amount),
        currency="MXN",
        paid_on=paid_on,
        source="import",
    )


def test_get_a_payment_by_portfolio_and_external_id(cast, api_read):
    add_payment(cast, "DEP-9", "500.25")
    body = api_read.get("/api/v1/portfolios/credito-tienda/payments/DEP-9").json()
    assert (body["amount"], body["unallocated_amount"], body["paid_on"]) == ("500.25", "500.25", "2026-03-31")
    assert body["debtor_external_id"] == "C-1001"


def test_list_payments_filters_by_dates_and_portfolio(cast, api_read):
    early = add_payment(cast, "P-1", "10.00", paid_on=dt.date(2026, 1, 15))
    late = add_payment(cast, "P-2", "10.00", paid_on=dt.date(2026, 3, 15))
    other = add_payment(cast, "P-3", "10.00", paid_on=dt.date(2026, 3, 20), portfolio=cast.loans)

    def ids(params):
        return [p["id"] for p in api_read.get("/api/v1/payments", params).json()["items"]]

    assert ids({"paid_from": "2026-03-01"}) == [late.pk, other.pk]
    assert ids({"paid_to": "2026-01-31"}) == [early.pk]
    assert ids({"portfolio": "prestamos"}) == [other.pk]
    assert ids({"external_id": "P-2"}) == [late.pk]


def test_listing_payments_does_not_query_per_row(cast, api_read, django_assert_max_num_queries):
    api_read.get("/api/v1/me")
    for n in range(30):
        add_payment(cast, f"P-{n}", "1.00")
    with django_assert_max_num_queries(2):
        assert len(api_read.get("/api/v1/payments", {"limit": 500}).json()["items"]) == 30


# --- PUT /portfolios/{portfolio}/payments/{external_id} and bulk -------------


def test_put_records_a_payment_that_settles_the_oldest_document(cast, keys, api):
    make_document(cast.retail, cast.eva, "F-1", "300.00", dt.date(2026, 1, 31))
    make_document(cast.retail, cast.eva, "F-2", "300.00", dt.date(2026, 2, 28))
    response = api.put(
        "/api/v1/portfolios/credito-tienda/payments/DEP-1",
        {"debtor_external_id": "C-1001", "amount": 450, "paid_on": "2026-03-15", "reference": "SPEI 123"},
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["amount"], body["unallocated_amount"], body["source"]) == ("450.00", "0.00", "api")
    balances = dict(Document.objects.values_list("external_id", "balance"))
    assert {k: str(v) for k, v in balances.items()} == {"F-1": "0.00", "F-2": "150.00"}
    entry = AuditEntry.objects.get(
        object_type="portfolio.payment", object_id=str(body["id"]), action="create"
    )
    assert entry.api_key == keys.mx_write


def test_put_the_same_payment_again_records_nothing_new(cast, api):
    row = {"debtor_external_id": "C-1001", "amount": "450.00", "paid_on": "2026-03-15"}
    assert api.put("/api/v1/portfolios/credito-tienda/payments/DEP-1", row).status_code == 201
    assert api.put("/api/v1/portfolios/credito-tienda/payments/DEP-1", row).status_code == 200
    assert Payment.objects.count() == 1


def test_a_recorded_payment_cannot_change_its_amount(cast, api):
    api.put(
        "/api/v1/portfolios/credito-tienda/payments/DEP-1",
        {"debtor_external_id": "C-1001", "amount": "450.00", "paid_on": "2026-03-15"},
    )
    response = api.put(
        "/api/v1/portfolios/credito-tienda/payments/DEP-1",
        {"debtor_external_id": "C-1001", "amount": "500.00", "paid_on": "2026-03-15"},
    )
    assert response.status_code == 422
    assert error_of(response)["details"][0]["code"] == "payment_changed"
    assert str(Payment.objects.get().amount) == "450.00"


def test_bulk_payments_with_skip_invalid(cast, api):
    rows = [
        {"external_id": "P-1", "debtor_external_id": "C-1001", "amount": "10.00", "paid_on": "2026-03-01"},
        {"external_id": "P-2", "debtor_external_id": "C-1001", "amount": "-5", "paid_on": "2026-03-01"},
    ]
    response = api.post(
        "/api/v1/bulk/payments?skip_invalid=true", {"portfolio": "credito-tienda", "rows": rows}
    )
    body = response.json()
    assert (body["created"], body["invalid"]) == (1, 1)
    assert [(e["row"], e["field"]) for e in body["errors"]] == [(1, "amount")]
    assert list(Payment.objects.values_list("external_id", flat=True)) == ["P-1"]
