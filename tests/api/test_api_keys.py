import pytest
from django.core.exceptions import ValidationError

from recobro.core.api import authenticate_key, create_api_key, revoke_api_key
from recobro.core.models import ApiKey, AuditEntry


def test_creating_a_key_returns_its_secret_once_and_audits_without_the_hash(cast):
    key, secret = create_api_key(organization=cast.mx, name="Contabilidad", scope="read", actor=cast.actor())
    assert secret.startswith(f"rcb_{key.prefix}_")
    assert authenticate_key(secret) == key
    entry = AuditEntry.objects.get(object_type="core.apikey", object_id=str(key.pk))
    assert entry.action == "create"
    assert entry.user == cast.ana
    assert entry.after["scope"] == "read"
    assert "key_hash" not in entry.after
    assert key.created_by == cast.ana


def test_two_keys_of_an_organization_cannot_share_a_name(cast):
    create_api_key(organization=cast.mx, name="ERP", scope="write", actor=cast.actor())
    with pytest.raises(ValidationError) as raised:
        create_api_key(organization=cast.mx, name="ERP", scope="read", actor=cast.actor())
    assert "name" in raised.value.message_dict
    # Another organization may use the same name.
    create_api_key(organization=cast.co, name="ERP", scope="read", actor=cast.actor(cast.oscar))


def test_a_key_needs_a_name_and_a_known_scope(cast):
    with pytest.raises(ValidationError):
        create_api_key(organization=cast.mx, name="  ", scope="read", actor=cast.actor())
    with pytest.raises(ValidationError):
        create_api_key(organization=cast.mx, name="X", scope="admin", actor=cast.actor())
    assert not ApiKey.objects.exists()


def test_revoking_is_audited_once_and_revoking_again_changes_nothing(cast):
    key, _secret = create_api_key(organization=cast.mx, name="ERP", scope="write", actor=cast.actor())
    revoke_api_key(api_key=key, actor=cast.actor())
    revoked_at = ApiKey.objects.get(pk=key.pk).revoked_at
    assert revoked_at is not None
    revoke_api_key(api_key=key, actor=cast.actor())
    assert ApiKey.objects.get(pk=key.pk).revoked_at == revoked_at
    entries = AuditEntry.objects.filter(object_type="core.apikey", object_id=str(key.pk), action="update")
    assert entries.count() == 1
    assert entries.get().after["revoked_at"] is not None
