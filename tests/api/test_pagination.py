from recobro.core.api import encode_cursor
from recobro.portfolio.models import Debtor
from tests.api.conftest import error_of


def make_debtors(cast, start: int, count: int) -> None:
    Debtor.objects.bulk_create(
        Debtor(organization=cast.mx, external_id=f"P-{n:04d}", name=f"Deudor {n}")
        for n in range(start, start + count)
    )


def test_walking_every_page_gives_every_row_once_even_while_rows_are_inserted(cast, api_read):
    make_debtors(cast, 1, 24)  # plus Eva: 25 debtors
    seen = []
    cursor = None
    pages = 0
    while True:
        params = {"limit": 10} | ({"cursor": cursor} if cursor else {})
        body = api_read.get("/api/v1/debtors", params).json()
        seen.extend(item["id"] for item in body["items"])
        pages += 1
        if pages == 1:
            make_debtors(cast, 100, 3)  # arrive while the client is between pages
        cursor = body["next_cursor"]
        if cursor is None:
            break
    expected = list(Debtor.objects.filter(organization=cast.mx).order_by("pk").values_list("pk", flat=True))
    assert len(expected) == 28
    assert seen == expected
    assert pages == 3


def test_the_last_page_has_no_next_cursor(cast, api_read):
    make_debtors(cast, 1, 9)  # 10 with Eva
    body = api_read.get("/api/v1/debtors", {"limit": 10}).json()
    assert len(body["items"]) == 10
    assert body["next_cursor"] is None


def test_a_cursor_is_opaque_and_a_forged_one_is_rejected(cast, api_read):
    make_debtors(cast, 1, 3)
    body = api_read.get("/api/v1/debtors", {"limit": 2}).json()
    assert body["next_cursor"] == encode_cursor(body["items"][-1]["id"])
    assert str(body["items"][-1]["id"]) not in body["next_cursor"]
    for bad in ["!!!", "aWQ6eA", "Zm9vOjE"]:  # not base64; "id:x"; "foo:1"
        response = api_read.get("/api/v1/debtors", {"cursor": bad})
        assert response.status_code == 422
        error = error_of(response)
        assert (error["code"], error["field"]) == ("invalid_cursor", "cursor")


def test_limit_is_at_most_500(api_read):
    response = api_read.get("/api/v1/debtors", {"limit": 501})
    assert response.status_code == 422
    error = error_of(response)
    assert (error["code"], error["field"]) == ("invalid_input", "limit")
    assert api_read.get("/api/v1/debtors", {"limit": 500}).status_code == 200
