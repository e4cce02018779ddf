"""Bulk upserts: POST /api/v1/bulk/{debtors,contact-points,documents,payments}."""

import json

from recobro.core.models import AuditEntry
from recobro.portfolio.models import Debtor, Document
from tests.api.conftest import error_of


def debtor_rows(count: int, start: int = 0) -> list[dict]:
    return [
        {"external_id": f"B-{n:05d}", "name": f"Deudor {n}", "kind": "person"}
        for n in range(start, start + count)
    ]


def test_bulk_debtors_creates_every_row_and_audits_each_as_the_key(cast, keys, api):
    response = api.post("/api/v1/bulk/debtors", {"rows": debtor_rows(3)})
    assert response.status_code == 200
    assert response.json() == {"created": 3, "updated": 0, "unchanged": 0, "invalid": 0, "errors": []}
    created = Debtor.objects.filter(organization=cast.mx, external_id__startswith="B-")
    assert created.count() == 3
    entries = AuditEntry.objects.filter(
        object_type="portfolio.debtor", action="create", api_key=keys.mx_write
    )
    assert set(entries.values_list("object_id", flat=True)) == {
        str(pk) for pk in created.values_list("pk", flat=True)
    }
    assert set(entries.values_list("source", flat=True)) == {"api"}


def test_sending_the_same_rows_again_changes_nothing(cast, api):
    api.post("/api/v1/bulk/debtors", {"rows": debtor_rows(3)})
    entries = AuditEntry.objects.count()
    response = api.post("/api/v1/bulk/debtors", {"rows": debtor_rows(3)})
    assert response.json() == {"created": 0, "updated": 0, "unchanged": 3, "invalid": 0, "errors": []}
    assert AuditEntry.objects.count() == entries


def test_a_corrected_row_updates_only_that_row(api):
    api.post("/api/v1/bulk/debtors", {"rows": debtor_rows(3)})
    rows = debtor_rows(3)
    rows[1]["name"] = "Deudor uno corregido"
    response = api.post("/api/v1/bulk/debtors", {"rows": rows})
    assert response.json() | {"errors": []} == {
        "created": 0,
        "updated": 1,
        "unchanged": 2,
        "invalid": 0,
        "errors": [],
    }
    assert Debtor.objects.get(external_id="B-00001").name == "Deudor uno corregido"


def test_10001_rows_are_refused_with_413_too_many_rows_and_nothing_is_written(api):
    response = api.post("/api/v1/bulk/debtors", {"rows": debtor_rows(10_001)})
    assert response.status_code == 413
    error = error_of(response)
    assert (error["code"], error["field"]) == ("too_many_rows", "rows")
    assert not Debtor.objects.filter(external_id__startswith="B-").exists()


def test_10000_rows_are_accepted(api):
    response = api.post("/api/v1/bulk/debtors", {"rows": debtor_rows(10_000)})
    assert response.status_code == 200
    assert response.json()["created"] == 10_000


def test_a_body_over_the_upload_limit_is_refused_with_413(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2_000
    response = api.post("/api/v1/bulk/debtors", {"rows": debtor_rows(100)})
    assert response.status_code == 413
    assert error_of(response)["code"] == "payload_too_large"
    assert not Debtor.objects.filter(external_id__startswith="B-").exists()


def test_invalid_rows_reject_the_whole_call_with_every_row_error_and_nothing_written(cast, api):
    rows = debtor_rows(4)
    rows[1]["tax_id"], rows[1]["tax_id_type"] = "NOT-AN-RFC", "rfc"
    rows[3]["name"] = ""
    rows[3]["shoe_size"] = 42
    response = api.post("/api/v1/bulk/debtors", {"rows": rows})
    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "invalid_rows"
    assert (error["row"], error["field"]) == (1, "tax_id")
    found = {(d["row"], d["field"], d["code"]) for d in error["details"]}
    assert {(row, field) for row, field, _code in found} == {(1, "tax_id"), (3, "name"), (3, "shoe_size")}
    assert (3, "name", "required") in found
    assert (3, "shoe_size", "unknown_field") in found
    assert not Debtor.objects.filter(external_id__startswith="B-").exists()


def test_skip_invalid_writes_the_valid_rows_and_lists_the_others(cast, api):
    rows = debtor_rows(4)
    rows[2]["kind"] = "alien"
    response = api.post("/api/v1/bulk/debtors?skip_invalid=true", {"rows": rows})
    assert response.status_code == 200
    body = response.json()
    assert (body["created"], body["invalid"]) == (3, 1)
    assert [(e["row"], e["field"], e["code"]) for e in body["errors"]] == [(2, "kind", "unknown_choice")]
    assert body["errors"][0]["value"] == "alien"
    assert set(Debtor.objects.filter(external_id__startswith="B-").values_list("external_id", flat=True)) == {
        "B-00000",
        "B-00001",
        "B-00003",
    }


def test_a_row_that_is_not_an_object_is_a_row_error(api):
    response = api.post("/api/v1/bulk/debtors?skip_invalid=true", {"rows": [debtor_rows(1)[0], "B-1"]})
    body = response.json()
    assert (body["created"], body["invalid"]) == (1, 1)
    assert [(e["row"], e["code"]) for e in body["errors"]] == [(1, "not_an_object")]


def test_a_duplicated_external_id_in_one_call_is_reported_on_both_rows(api):
    rows = debtor_rows(2) + debtor_rows(1)
    response = api.post("/api/v1/bulk/debtors", {"rows": rows})
    assert response.status_code == 422
    assert sorted((d["row"], d["code"]) for d in error_of(response)["details"]) == [
        (0, "duplicate"),
        (2, "duplicate"),
    ]


def test_rows_must_be_a_list(api):
    response = api.post("/api/v1/bulk/debtors", {"rows": "B-1"})
    assert response.status_code == 422
    assert error_of(response)["field"] == "rows"
    response = api.post("/api/v1/bulk/debtors", {})
    assert response.status_code == 422
    assert error_of(response)["field"] == "rows"


def test_malformed_json_is_400(api):
    response = api.post("/api/v1/bulk/debtors", '{"rows": [{"external_id": "B-1",')
    assert response.status_code == 400
    assert error_of(response)["code"] == "malformed_json"


def test_a_read_key_cannot_bulk_upsert(api_read):
    response = api_read.post("/api/v1/bulk/debtors", {"rows": debtor_rows(1)})
    assert response.status_code == 403
    assert error_of(response)["code"] == "insufficient_scope"
    assert not Debtor.objects.filter(external_id__startswith="B-").exists()


def test_bulk_documents_need_a_portfolio_of_the_organization(cast, api, api_co):
    rows = [
        {
            "external_id": "F-1",
            "debtor_external_id": "C-1001",
            "due_date": "2026-03-01",
            "original_amount": "100",
        }
    ]
    for portfolio in ["no-such", "banco-andino"]:
        response = api.post("/api/v1/bulk/documents", {"portfolio": portfolio, "rows": rows})
        assert response.status_code == 422, portfolio
        error = error_of(response)
        assert (error["code"], error["field"]) == ("unknown_portfolio", "portfolio")
    # Cobranzas Andinas' key cannot write into Comercial del Norte's portfolio either.
    response = api_co.post("/api/v1/bulk/documents", {"portfolio": "credito-tienda", "rows": rows})
    assert error_of(response)["code"] == "unknown_portfolio"
    assert not Document.objects.exists()


def test_json_numbers_are_read_exactly(cast, api):
    body = json.dumps(
        {
            "portfolio": "credito-tienda",
            "rows": [
                {
                    "external_id": "F-1",
                    "debtor_external_id": "C-1001",
                    "due_date": "2026-03-01",
                    "original_amount": 0.1,
                },
                {
                    "external_id": "F-2",
                    "debtor_external_id": "C-1001",
                    "due_date": "2026-03-01",
                    "original_amount": 1234.5,
                },
                {
                    "external_id": "F-3",
                    "debtor_external_id": "C-1001",
                    "due_date": "2026-03-01",
                    "original_amount": "99.99",
                },
            ],
        }
    )
    exact = body.replace(": 0.1}", ": 0.10000000000000000001}")  # a float would read 0.1
    assert exact != body
    response = api.post("/api/v1/bulk/documents", exact)
    assert response.status_code == 422
    assert [(d["row"], d["field"], d["code"]) for d in error_of(response)["details"]] == [
        (0, "original_amount", "too_many_decimals")
    ]
    response = api.post("/api/v1/bulk/documents", body)
    assert response.status_code == 200
    amounts = dict(Document.objects.values_list("external_id", "original_amount"))
    assert {k: str(v) for k, v in amounts.items()} == {"F-1": "0.10", "F-2": "1234.50", "F-3": "99.99"}
