"""Every user sees only their organization, and collectors only their portfolios."""

import pytest
from django.urls import reverse

from recobro.core import audit
from recobro.core.audit import Actor
from tests.backoffice.conftest import client_for


def change_url(obj) -> str:
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])


def not_found(response) -> bool:
    """The admin answers an object outside the queryset with a redirect to the index (or a 404)."""
    return response.status_code == 404 or (
        response.status_code == 302 and response["Location"] == reverse("admin:index")
    )


def test_ana_cannot_open_a_debtor_of_cobranzas_andinas_by_url(ana, ledger):
    assert not_found(ana.get(change_url(ledger.camila)))


def test_ana_cannot_change_a_debtor_of_cobranzas_andinas_by_post(ana, ledger):
    response = ana.post(change_url(ledger.camila), {"name": "Hacked", "kind": "person", "external_id": "A-1"})
    assert not_found(response)
    ledger.camila.refresh_from_db()
    assert ledger.camila.name == "Camila Rojas"


def test_the_debtor_list_holds_only_the_organizations_debtors(ana, ledger):
    page = ana.get(reverse("admin:portfolio_debtor_changelist")).content.decode()
    assert ledger.eva.name in page
    assert ledger.camila.name not in page


def test_diana_cannot_open_carlos_debtor(cast, ledger):
    diana = client_for(cast.diana)
    assert not_found(diana.get(change_url(ledger.eva)))
    page = diana.get(reverse("admin:portfolio_debtor_changelist")).content.decode()
    assert ledger.pedro.name in page
    assert ledger.eva.name not in page


def test_carlos_sees_his_debtor_and_not_dianas(cast, ledger):
    carlos = client_for(cast.carlos)
    assert carlos.get(change_url(ledger.eva)).status_code == 200
    assert not_found(carlos.get(change_url(ledger.pedro)))


@pytest.mark.parametrize("model", ["document", "payment", "case"])
def test_collectors_lists_stop_at_their_portfolios(cast, ledger, model):
    page = client_for(cast.diana).get(reverse(f"admin:portfolio_{model}_changelist")).content.decode()
    assert "Préstamos personales" in page
    assert "Crédito tienda" not in page


def test_portfolio_filter_offers_only_the_users_portfolios(ana, cast, ledger):
    page = ana.get(reverse("admin:portfolio_document_changelist")).content.decode()
    assert cast.retail.name in page
    assert cast.bank_co.name not in page


def test_debtor_autocomplete_searches_only_the_organization(ana, cast, ledger):
    response = ana.get(
        reverse("admin:autocomplete"),
        {"app_label": "portfolio", "model_name": "contactpoint", "field_name": "debtor", "term": "a"},
    )
    names = {r["text"] for r in response.json()["results"]}
    assert ledger.eva.name in names
    assert ledger.camila.name not in names


def test_a_contact_point_cannot_be_attached_to_another_organizations_debtor(ana, cast, ledger):
    response = ana.post(
        reverse("admin:portfolio_contactpoint_add"),
        {"debtor": ledger.camila.pk, "kind": "email", "value": "camila@example.com", "label": ""},
    )
    assert response.status_code == 200
    assert "debtor" in response.context["adminform"].form.errors
    assert not ledger.camila.contact_points.exists()


def test_organization_settings_open_only_the_users_own_organization(ana, cast):
    response = ana.get(reverse("admin:core_organization_changelist"))
    assert response["Location"] == change_url(cast.mx)
    assert not_found(ana.get(change_url(cast.co)))


def test_the_audit_log_shows_only_the_organizations_entries(ana, cast, ledger):
    audit.record(
        organization=cast.co,
        actor=Actor.for_user(cast.oscar),
        action="update",
        obj=ledger.camila,
        object_repr="Entrada de Cobranzas Andinas",
    )
    audit.record(
        organization=cast.mx,
        actor=Actor.for_user(cast.ana),
        action="update",
        obj=ledger.eva,
        object_repr="Entrada de Comercial del Norte",
    )
    page = ana.get(reverse("admin:core_auditentry_changelist")).content.decode()
    assert "Entrada de Comercial del Norte" in page
    assert "Entrada de Cobranzas Andinas" not in page
