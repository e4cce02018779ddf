"""API keys: created through the API service, the secret shown once, revoked by an action."""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from recobro.core.api import ApiError, authenticate_key
from recobro.core.models import ApiKey, AuditEntry
from tests.backoffice.conftest import client_for
from tests.conftest import make_user


def admin_client(cast):
    return client_for(make_user("beatriz", cast.mx, "admin"))


def test_creating_a_key_shows_its_secret_once(cast):
    client = admin_client(cast)
    response = client.post(reverse("admin:core_apikey_add"), {"name": "ERP nocturno", "scope": "write"})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    secret = response.context["secret"]
    assert secret in response.content.decode()
    key = ApiKey.objects.get(organization=cast.mx, name="ERP nocturno")
    assert key.scope == "write" and key.key_hash == ApiKey.hash_secret(secret)
    assert authenticate_key(secret, scope="write") == key
    for url in (reverse("admin:core_apikey_changelist"), reverse("admin:core_apikey_change", args=[key.pk])):
        page = client.get(url).content.decode()
        assert key.name in page and secret not in page
    assert AuditEntry.objects.filter(
        object_type="core.apikey", object_id=str(key.pk), action="create"
    ).exists()


def test_a_duplicate_name_is_refused_on_the_form(cast):
    client = admin_client(cast)
    client.post(reverse("admin:core_apikey_add"), {"name": "BI", "scope": "read"})
    response = client.post(reverse("admin:core_apikey_add"), {"name": "BI", "scope": "read"})
    assert "secret" not in response.context
    assert "name" in response.context["form"].errors
    assert ApiKey.objects.filter(name="BI").count() == 1


def test_revoking_a_key_from_its_page(cast):
    client = admin_client(cast)
    secret = client.post(reverse("admin:core_apikey_add"), {"name": "BI", "scope": "read"}).context["secret"]
    key = ApiKey.objects.get(name="BI")
    url = reverse("admin:core_apikey_revoke_detail", args=[key.pk])
    assert client.get(url).status_code == 200  # the confirmation
    key.refresh_from_db()
    assert key.revoked_at is None
    assert client.post(url).status_code == 302
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert ApiKey.objects.active().filter(pk=key.pk).count() == 0
    assert AuditEntry.objects.filter(
        object_type="core.apikey", object_id=str(key.pk), action="update"
    ).exists()
    with pytest.raises(ApiError):
        authenticate_key(secret)


def test_revoking_selected_keys_from_the_list(cast):
    client = admin_client(cast)
    for name in ("A", "B"):
        client.post(reverse("admin:core_apikey_add"), {"name": name, "scope": "read"})
    keys = list(ApiKey.objects.filter(organization=cast.mx))
    client.post(
        reverse("admin:core_apikey_changelist"),
        {"action": "revoke_selected", ACTION_CHECKBOX_NAME: [k.pk for k in keys]},
    )
    assert not ApiKey.objects.active().filter(organization=cast.mx).exists()


def test_a_supervisor_cannot_create_or_revoke_keys(ana, cast):
    assert ana.post(reverse("admin:core_apikey_add"), {"name": "X", "scope": "read"}).status_code == 403
    key = ApiKey.objects.create(organization=cast.mx, name="Y", prefix="ffff0000", key_hash="0" * 64)
    assert ana.post(reverse("admin:core_apikey_revoke_detail", args=[key.pk])).status_code == 403
    key.refresh_from_db()
    assert key.revoked_at is None
