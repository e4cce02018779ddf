from decimal import Decimal

from recobro.portfolio.models import Case, Debtor
from tests.conftest import AS_OF


def add_case(cast, debtor, portfolio, *, dpd: int, bucket: str, balance: str, status="open") -> Case:
    return Case.objects.create(
        organization=cast.mx,
        portfolio=portfolio,
        debtor=debtor,
        currency="MXN",
        status=status,
        dpd=dpd,
        bucket=bucket,
        balance=Decimal(balance),
        overdue_balance=Decimal(balance),
        as_of=AS_OF,
    )


def test_get_a_case(cast, api_read):
    case = add_case(cast, cast.eva, cast.retail, dpd=45, bucket="31-60", balance="1500.00")
    body = api_read.get(f"/api/v1/cases/{case.pk}").json()
    assert body["portfolio"] == "credito-tienda"
    assert (body["debtor_external_id"], body["debtor_name"]) == ("C-1001", "Eva Martínez López")
    assert (body["dpd"], body["bucket"], body["balance"]) == (45, "31-60", "1500.00")
    assert body["as_of"] == "2026-03-31"


def test_list_cases_filters_by_portfolio_status_bucket_and_min_dpd(cast, api_read):
    other = Debtor.objects.create(organization=cast.mx, external_id="C-1002", name="Óscar Ruiz")
    a = add_case(cast, cast.eva, cast.retail, dpd=45, bucket="31-60", balance="1500.00")
    b = add_case(cast, cast.eva, cast.loans, dpd=120, bucket="91-180", balance="800.00")
    c = add_case(cast, other, cast.retail, dpd=0, bucket="current", balance="0.00", status="closed")

    def ids(params):
        return [x["id"] for x in api_read.get("/api/v1/cases", params).json()["items"]]

    assert ids({"portfolio": "credito-tienda"}) == [a.pk, c.pk]
    assert ids({"status": "open"}) == [a.pk, b.pk]
    assert ids({"bucket": "91-180"}) == [b.pk]
    assert ids({"min_dpd": 45}) == [a.pk, b.pk]
    assert ids({"min_dpd": 46}) == [b.pk]
    assert ids({"portfolio": "credito-tienda", "status": "closed"}) == [c.pk]


def test_listing_cases_does_not_query_per_row(cast, api_read, django_assert_max_num_queries):
    api_read.get("/api/v1/me")
    debtors = Debtor.objects.bulk_create(
        Debtor(organization=cast.mx, external_id=f"Q-{n}", name=f"Deudor {n}") for n in range(50)
    )
    for debtor in debtors:
        add_case(cast, debtor, cast.retail, dpd=10, bucket="1-30", balance="10.00")
    with django_assert_max_num_queries(2):
        body = api_read.get("/api/v1/cases", {"limit": 500}).json()
    assert len(body["items"]) == 50
