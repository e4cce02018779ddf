import datetime as dt

from recobro.core.models import AuditEntry
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


# --- PUT /debtors/{external_id} ----------------------------------------------


def test_put_creates_a_debtor_with_201_and_audits_it_as_the_key(cast, keys, api):
    response = api.put(
        "/api/v1/debtors/C-2000",
        {"name": "Juan Pérez Gómez", "kind": "person", "tax_id": "PEGJ800101AB1", "risk_score": 0.75},
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["external_id"], body["name"], body["risk_score"]) == ("C-2000", "Juan Pérez Gómez", "0.7500")
    assert body["payment_reference"]
    debtor = Debtor.objects.get(organization=cast.mx, external_id="C-2000")
    entry = AuditEntry.objects.get(object_type="portfolio.debtor", object_id=str(debtor.pk))
    assert (entry.action, entry.source, entry.api_key, entry.user) == ("create", "api", keys.mx_write, None)
    assert entry.organization == cast.mx


def test_put_the_same_debtor_again_is_200_and_changes_nothing(cast, api):
    row = {"name": "Juan Pérez Gómez", "kind": "company"}
    assert api.put("/api/v1/debtors/C-2000", row).status_code == 201
    before = Debtor.objects.get(external_id="C-2000")
    entries = AuditEntry.objects.count()
    response = api.put("/api/v1/debtors/C-2000", row)
    assert response.status_code == 200
    assert Debtor.objects.get(external_id="C-2000").updated_at == before.updated_at
    assert AuditEntry.objects.count() == entries


def test_put_updates_what_differs_and_keeps_what_is_left_out(cast, api):
    api.put("/api/v1/debtors/C-1001", {"name": "Eva Martínez López", "is_disputed": True})
    response = api.put("/api/v1/debtors/C-1001", {"name": "Eva Martínez de Ruiz"})
    assert response.status_code == 200
    eva = Debtor.objects.get(pk=cast.eva.pk)
    assert (eva.name, eva.is_disputed, eva.tax_id) == ("Eva Martínez de Ruiz", True, "MALE800101AB1")
    update = AuditEntry.objects.filter(object_id=str(eva.pk), action="update").latest("id")
    assert update.before["name"] == "Eva Martínez López"
    assert update.after["name"] == "Eva Martínez de Ruiz"


def test_put_rejects_an_invalid_tax_id_naming_the_field_and_writes_nothing(cast, api):
    response = api.put(
        "/api/v1/debtors/C-2000", {"name": "Juan", "tax_id": "NOT-AN-RFC", "tax_id_type": "rfc"}
    )
    assert response.status_code == 422
    error = error_of(response)
    assert (error["code"], error["field"], error["row"]) == ("invalid_input", "tax_id", None)
    assert error["details"][0]["value"] == "NOT-AN-RFC"
    assert not Debtor.objects.filter(external_id="C-2000").exists()


def test_put_with_wrong_types_names_every_field(api):
    response = api.put(
        "/api/v1/debtors/C-2000", {"name": 5, "kind": "alien", "risk_score": "1,5", "colour": "red"}
    )
    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "invalid_input"
    assert {d["field"] for d in error["details"]} == {"name", "kind", "risk_score", "colour"}


def test_another_organizations_key_upserts_its_own_debtor_and_never_touches_ours(cast, api_co):
    response = api_co.put("/api/v1/debtors/C-1001", {"name": "Carlos Andrés Gómez"})
    assert response.status_code == 201
    assert Debtor.objects.get(pk=cast.eva.pk).name == "Eva Martínez López"
    assert Debtor.objects.get(organization=cast.co, external_id="C-1001").name == "Carlos Andrés Gómez"
