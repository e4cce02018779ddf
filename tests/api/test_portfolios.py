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
