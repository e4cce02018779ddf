import datetime as dt

from recobro.portfolio.models import Debtor
from tests.api.conftest import error_of


def test_get_a_debtor_by_external_id(cast, api_read):
    response = api_read.get("/api/v1/debtors/C-1001")
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == cast.eva.pk
    assert body["name"] == "Eva Martínez López"
    assert (body["tax_id"], body["tax_id_type"]) == ("MALE800101AB1", "rfc")
    assert body["risk_score"] is None


def test_an_external_id_with_a_slash_is_found(cast, api_read):
    Debtor.objects.create(organization=cast.mx, external_id="SUC/07/15", name="Sucursal")
    assert api_read.get("/api/v1/debtors/SUC/07/15").json()["name"] == "Sucursal"


def test_an_unknown_debtor_is_404(api_read):
    response = api_read.get("/api/v1/debtors/NO-SUCH")
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_risk_score_is_a_decimal_string(cast, api_read):
    Debtor.objects.filter(pk=cast.eva.pk).update(risk_score="0.8125")
    assert api_read.get("/api/v1/debtors/C-1001").json()["risk_score"] == "0.8125"


def test_list_debtors_filters_by_external_id_tax_id_and_updated_since(cast, api_read):
    other = Debtor.objects.create(
        organization=cast.mx, external_id="C-1002", name="Óscar Ruiz", tax_id="RUCO7001013X2"
    )
    assert [d["id"] for d in api_read.get("/api/v1/debtors", {"external_id": "C-1002"}).json()["items"]] == [
        other.pk
    ]
    assert [
        d["id"] for d in api_read.get("/api/v1/debtors", {"tax_id": "MALE800101AB1"}).json()["items"]
    ] == [cast.eva.pk]
    Debtor.objects.filter(pk=cast.eva.pk).update(updated_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    Debtor.objects.filter(pk=other.pk).update(updated_at=dt.datetime(2026, 3, 1, tzinfo=dt.UTC))
    body = api_read.get("/api/v1/debtors", {"updated_since": "2026-02-01T00:00:00Z"}).json()
    assert [d["id"] for d in body["items"]] == [other.pk]


def test_listing_debtors_takes_the_same_queries_for_3_rows_or_300(
    cast, api_read, django_assert_max_num_queries
):
    api_read.get("/api/v1/me")  # last_used_at is written on the first request only
    Debtor.objects.bulk_create(
        Debtor(organization=cast.mx, external_id=f"Q-{n}", name=f"Deudor {n}") for n in range(2)
    )
    with django_assert_max_num_queries(2):  # the key, the page
        assert len(api_read.get("/api/v1/debtors").json()["items"]) == 3
    Debtor.objects.bulk_create(
        Debtor(organization=cast.mx, external_id=f"R-{n}", name=f"Deudor {n}") for n in range(297)
    )
    with django_assert_max_num_queries(2):
        assert len(api_read.get("/api/v1/debtors", {"limit": 500}).json()["items"]) == 300
