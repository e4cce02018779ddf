"""Custom attributes through the API: ``attributes`` of a debtor, merged like a file's
``attr.<name>`` columns."""

from recobro.core.models import AuditEntry
from recobro.portfolio.models import Debtor
from tests.api.conftest import error_of


def test_put_sets_attributes_and_get_returns_them(cast, api):
    response = api.put(
        "/api/v1/debtors/C-3001", {"name": "Ana", "attributes": {"region": "Norte", "segmento_erp": "A2"}}
    )
    assert response.status_code == 201
    assert response.json()["attributes"] == {"region": "Norte", "segmento_erp": "A2"}
    assert api.get("/api/v1/debtors/C-3001").json()["attributes"] == {"region": "Norte", "segmento_erp": "A2"}


def test_attributes_are_merged_null_removes_one_and_those_left_out_are_kept(cast, api):
    api.put(
        "/api/v1/debtors/C-3001", {"name": "Ana", "attributes": {"region": "Norte", "segmento_erp": "A2"}}
    )
    response = api.put(
        "/api/v1/debtors/C-3001", {"name": "Ana", "attributes": {"segmento_erp": None, "canal": "web"}}
    )
    assert response.status_code == 200
    assert response.json()["attributes"] == {"region": "Norte", "canal": "web"}
    response = api.put("/api/v1/debtors/C-3001", {"name": "Ana Gómez"})
    assert response.json()["attributes"] == {"region": "Norte", "canal": "web"}
    debtor = Debtor.objects.get(external_id="C-3001")
    entry = AuditEntry.objects.filter(action="update", object_id=str(debtor.pk)).order_by("id").first()
    assert entry.before["attributes"] == {"region": "Norte", "segmento_erp": "A2"}
    assert entry.after["attributes"] == {"region": "Norte", "canal": "web"}


def test_the_same_attributes_again_change_nothing(cast, api):
    body = {"name": "Ana", "attributes": {"region": "Región Sur"}}
    api.put("/api/v1/debtors/C-3001", body)
    entries = AuditEntry.objects.count()
    assert api.put("/api/v1/debtors/C-3001", body).status_code == 200
    assert AuditEntry.objects.count() == entries


def test_bulk_rows_carry_attributes(cast, api):
    rows = [
        {"external_id": "B-1", "name": "Uno", "attributes": {"region": "Norte"}},
        {"external_id": "B-2", "name": "Dos", "attributes": {"region": "Sur", "segment": "pyme"}},
        {"external_id": "B-3", "name": "Tres"},
    ]
    response = api.post("/api/v1/bulk/debtors", {"rows": rows})
    assert response.json()["created"] == 3
    stored = dict(
        Debtor.objects.filter(external_id__startswith="B-").values_list("external_id", "attributes")
    )
    assert stored == {"B-1": {"region": "Norte"}, "B-2": {"region": "Sur", "segment": "pyme"}, "B-3": {}}
    again = api.post("/api/v1/bulk/debtors", {"rows": rows})
    assert again.json()["unchanged"] == 3


def test_a_bulk_row_with_an_invalid_attribute_name_is_refused_naming_row_and_field(cast, api):
    rows = [
        {"external_id": "B-1", "name": "Uno", "attributes": {"region": "Norte"}},
        {"external_id": "B-2", "name": "Dos", "attributes": {"Región": "Sur"}},
    ]
    response = api.post("/api/v1/bulk/debtors", {"rows": rows})
    assert response.status_code == 422
    error = error_of(response)
    assert (error["code"], error["row"], error["field"]) == ("invalid_rows", 1, "attributes.Región")
    assert error["details"][0]["code"] == "invalid_attribute"
    assert not Debtor.objects.filter(external_id__startswith="B-").exists()


def test_a_bulk_attribute_value_must_be_text(cast, api):
    rows = [{"external_id": "B-1", "name": "Uno", "attributes": {"score": 5}}]
    error = error_of(api.post("/api/v1/bulk/debtors", {"rows": rows}))
    assert (error["field"], error["details"][0]["code"]) == ("attributes.score", "invalid_attribute_value")


def test_bulk_attributes_must_be_an_object(cast, api):
    rows = [{"external_id": "B-1", "name": "Uno", "attributes": ["Norte"]}]
    error = error_of(api.post("/api/v1/bulk/debtors", {"rows": rows}))
    assert (error["field"], error["details"][0]["code"]) == ("attributes", "invalid_attributes")


def test_a_too_long_attribute_is_a_row_error(cast, api):
    rows = [{"external_id": "B-1", "name": "Uno", "attributes": {"notes": "x" * 201}}]
    error = error_of(api.post("/api/v1/bulk/debtors", {"rows": rows}))
    assert (error["field"], error["details"][0]["code"]) == ("attributes.notes", "too_long")


def test_put_with_an_invalid_attribute_name_is_422(cast, api):
    response = api.put("/api/v1/debtors/C-3001", {"name": "Ana", "attributes": {"2nd": "x"}})
    assert response.status_code == 422
    error = error_of(response)
    assert (error["code"], error["field"]) == ("invalid_input", "attributes.2nd")


def test_attributes_of_other_kinds_of_rows_are_unknown_fields(cast, api):
    body = {"debtor_external_id": "C-1001", "kind": "email", "value": "eva@example.com", "attributes": {}}
    response = api.post("/api/v1/contact-points", body)
    assert response.status_code == 422
