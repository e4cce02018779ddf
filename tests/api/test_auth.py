import datetime as dt

from django.test import Client

from recobro.core import clock
from recobro.core.api import revoke_api_key
from recobro.core.models import ApiKey
from tests.api.conftest import ApiClient, error_of


def test_a_request_without_a_key_gets_401_authentication_required(db):
    response = Client().get("/api/v1/debtors")
    assert response.status_code == 401
    assert error_of(response)["code"] == "authentication_required"


def test_another_authorization_scheme_counts_as_no_key(keys):
    response = Client().get("/api/v1/debtors", HTTP_AUTHORIZATION="Basic YW5hOnNlY3JldA==")
    assert response.status_code == 401
    assert error_of(response)["code"] == "authentication_required"


def test_a_malformed_key_gets_401_invalid_api_key(keys):
    for bad in ["nonsense", "rcb_short_x", "rcb__", f"xyz_{keys.mx_read.prefix}_abc"]:
        response = ApiClient(bad).get("/api/v1/debtors")
        assert response.status_code == 401, bad
        assert error_of(response)["code"] == "invalid_api_key"


def test_a_known_prefix_with_a_wrong_secret_gets_401_invalid_api_key(keys):
    forged = f"rcb_{keys.mx_write.prefix}_{'x' * 43}"
    response = ApiClient(forged).get("/api/v1/debtors")
    assert response.status_code == 401
    assert error_of(response)["code"] == "invalid_api_key"


def test_a_revoked_key_gets_401_api_key_revoked(cast, keys):
    revoke_api_key(api_key=keys.mx_read, actor=cast.actor())
    response = ApiClient(keys.mx_read_secret).get("/api/v1/debtors")
    assert response.status_code == 401
    assert error_of(response)["code"] == "api_key_revoked"


def test_the_key_is_accepted_in_an_x_api_key_header(keys):
    response = Client().get("/api/v1/me", HTTP_X_API_KEY=keys.mx_read_secret)
    assert response.status_code == 200
    assert response.json()["name"] == "BI"


def test_a_bad_key_in_x_api_key_is_rejected_too(keys):
    response = Client().get("/api/v1/me", HTTP_X_API_KEY="rcb_00000000_nope")
    assert response.status_code == 401
    assert error_of(response)["code"] == "invalid_api_key"


def test_me_names_the_key_its_scope_and_its_organization(cast, api_read):
    cast.mx.business_date_override = dt.date(2026, 3, 31)
    cast.mx.save()
    body = api_read.get("/api/v1/me").json()
    assert body == {
        "name": "BI",
        "prefix": body["prefix"],
        "scope": "read",
        "organization": "comercial-norte",
        "business_date": "2026-03-31",
    }


def test_a_read_key_cannot_write(api_read):
    response = api_read.put("/api/v1/debtors/C-2000", {"name": "Nuevo Deudor", "kind": "person"})
    assert response.status_code == 403
    assert error_of(response)["code"] == "insufficient_scope"


def test_only_a_hash_of_the_key_is_stored(keys):
    stored = ApiKey.objects.get(pk=keys.mx_write.pk)
    assert stored.key_hash == ApiKey.hash_secret(keys.mx_write_secret)
    assert keys.mx_write_secret not in {stored.key_hash, stored.prefix, stored.name}


def test_last_used_is_recorded_at_most_once_a_minute(keys, api_read):
    api_read.get("/api/v1/me")
    first = ApiKey.objects.get(pk=keys.mx_read.pk).last_used_at
    assert first is not None

    recent = clock.now() - dt.timedelta(seconds=30)
    ApiKey.objects.filter(pk=keys.mx_read.pk).update(last_used_at=recent)
    api_read.get("/api/v1/me")
    assert ApiKey.objects.get(pk=keys.mx_read.pk).last_used_at == recent

    stale = clock.now() - dt.timedelta(minutes=2)
    ApiKey.objects.filter(pk=keys.mx_read.pk).update(last_used_at=stale)
    api_read.get("/api/v1/me")
    assert ApiKey.objects.get(pk=keys.mx_read.pk).last_used_at > stale


def test_a_write_key_in_x_api_key_can_write(keys):
    response = Client().put(
        "/api/v1/debtors/C-2000",
        '{"name": "Juan Pérez"}',
        content_type="application/json",
        HTTP_X_API_KEY=keys.mx_write_secret,
    )
    assert response.status_code == 201
