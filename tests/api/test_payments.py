import datetime as dt
from decimal import Decimal

from recobro.portfolio.models import Payment
from tests.conftest import AS_OF


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
