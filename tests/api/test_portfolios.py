from recobro.portfolio.models import Portfolio


def test_portfolios_lists_the_organizations_portfolios(cast, api_read):
    body = api_read.get("/api/v1/portfolios").json()
    assert [p["code"] for p in body["items"]] == ["credito-tienda", "prestamos"]
    first = body["items"][0]
    assert first == {
        "id": cast.retail.pk,
        "code": "credito-tienda",
        "name": "Crédito tienda",
        "creditor": "Comercial del Norte",
        "currency": "MXN",
        "jurisdiction": "MX",
        "allocation_order": "oldest_due",
        "is_active": True,
    }


def test_portfolios_filter_by_code(api_read):
    body = api_read.get("/api/v1/portfolios", {"code": "prestamos"}).json()
    assert [p["code"] for p in body["items"]] == ["prestamos"]


def test_another_organizations_key_sees_only_its_own_portfolios(api_co):
    body = api_co.get("/api/v1/portfolios").json()
    assert [p["code"] for p in body["items"]] == ["banco-andino", "telcosur"]


def test_listing_portfolios_takes_two_queries(cast, api_read, django_assert_max_num_queries):
    api_read.get("/api/v1/me")
    for n in range(20):
        Portfolio.objects.create(
            organization=cast.mx,
            code=f"p-{n}",
            name=f"P {n}",
            creditor="X",
            currency="MXN",
            jurisdiction="MX",
        )
    with django_assert_max_num_queries(2):
        assert len(api_read.get("/api/v1/portfolios").json()["items"]) == 22
