"""A method an endpoint does not take answers 405 in the API's JSON error shape."""

import pytest

from tests.api.conftest import error_of


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("delete", "/api/v1/debtors/C-1001", {"GET", "PUT"}),
        ("post", "/api/v1/me", {"GET"}),
        ("patch", "/api/v1/debtors", {"GET"}),
        ("put", "/api/v1/bulk/debtors", {"POST"}),
    ],
)
def test_a_wrong_method_is_a_json_405_with_the_allowed_methods(api, method, path, allowed):
    response = getattr(api.client, method)(path, **api.headers, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 405
    assert response["Content-Type"].startswith("application/json")
    assert {m.strip() for m in response["Allow"].split(",")} == allowed
    error = error_of(response)
    assert error["code"] == "method_not_allowed"
    assert method.upper() in error["message"]


def test_the_right_method_still_answers_and_unknown_paths_stay_404(api):
    assert api.get("/api/v1/debtors/C-1001").status_code == 200
    response = api.client.delete("/api/v1/no-such-thing", **api.headers)
    assert (response.status_code, error_of(response)["code"]) == (404, "not_found")


def test_without_a_key_a_wrong_method_is_still_405(client):
    response = client.delete("/api/v1/debtors/C-1001")
    assert response.status_code == 405
    assert error_of(response)["code"] == "method_not_allowed"
