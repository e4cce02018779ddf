"""The error shape every failure shares, and the OpenAPI document."""

from django.test import Client

from tests.api.conftest import error_of


def test_an_unknown_endpoint_answers_404_in_the_same_shape(api_read):
    response = api_read.get("/api/v1/invoices")
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_a_query_parameter_of_the_wrong_type_names_it(api_read):
    response = api_read.get("/api/v1/cases", {"min_dpd": "many"})
    assert response.status_code == 422
    error = error_of(response)
    assert (error["code"], error["field"], error["row"]) == ("invalid_input", "min_dpd", None)
    assert error["details"][0]["code"] == "int_parsing"


def test_a_nested_field_path_is_dotted(api):
    response = api.put("/api/v1/debtors/C-2000", {"name": {"first": "Juan"}})
    assert response.status_code == 422
    assert error_of(response)["field"] == "name"
    response = api.put("/api/v1/debtors/C-2000", [{"name": "Juan"}])
    assert response.status_code == 422
    assert error_of(response)["code"] == "invalid_input"


def test_messages_follow_the_requests_language(api_read):
    response = api_read.get("/api/v1/debtors/NO-SUCH", HTTP_ACCEPT_LANGUAGE="en")
    assert error_of(response)["message"] == "Not found."


def test_the_openapi_document_shows_the_key_schemes_and_every_operation_is_documented(db):
    spec = Client().get("/api/openapi.json").json()
    assert spec["components"]["securitySchemes"]["ApiKeyBearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": spec["components"]["securitySchemes"]["ApiKeyBearer"]["description"],
    }
    assert spec["components"]["securitySchemes"]["ApiKeyInHeader"]["name"] == "X-API-Key"
    operations = [(path, method, op) for path, ops in spec["paths"].items() for method, op in ops.items()]
    assert len(operations) >= 20
    for path, method, op in operations:
        assert op.get("summary"), (path, method)
        assert op["security"], (path, method)
        ok = op["responses"].get("200") or op["responses"].get("201")
        assert ok and ok["content"]["application/json"]["schema"], (path, method)
        assert op["responses"]["401"]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorOut")
    bulk = spec["components"]["schemas"]["DocumentsBulkIn"]["properties"]["rows"]
    assert bulk["items"]["$ref"].endswith("/DocumentRow")
    assert bulk["maxItems"] == 10_000
    amount = spec["components"]["schemas"]["DocumentOut"]["properties"]["balance"]
    assert amount["type"] == "string"


def test_the_interactive_docs_are_served(db):
    response = Client().get("/api/docs")
    assert response.status_code == 200
    assert b"openapi.json" in response.content
