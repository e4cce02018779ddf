"""Every list and detail page of the back-office renders for Ana, with data in it."""

import pytest
from django.urls import reverse

from recobro.core.models import ApiKey, AuditEntry, Membership
from recobro.portfolio.models import Case, ContactPoint, Document, ImportProfile, Payment

CHANGELISTS = [
    ("portfolio", "portfolio", "Crédito tienda"),
    ("portfolio", "debtor", "Eva Martínez López"),
    ("portfolio", "contactpoint", "+525512345678"),
    ("portfolio", "document", "F-1001"),
    ("portfolio", "payment", "$300.00"),
    ("portfolio", "case", "Eva Martínez López"),
    ("portfolio", "importprofile", "SAP clientes"),
    ("portfolio", "importjob", ""),
    ("core", "membership", "carlos"),
    ("core", "apikey", "ERP"),
    ("core", "auditentry", "300.00 MXN"),
]


@pytest.fixture
def extras(cast, ledger):
    ImportProfile.objects.create(organization=cast.mx, name="SAP clientes", kind="debtors")
    ApiKey.objects.create(organization=cast.mx, name="ERP", prefix="abcd1234", key_hash="x" * 64)


@pytest.mark.parametrize(("app", "model", "expected"), CHANGELISTS)
def test_each_changelist_renders_for_ana_with_her_rows(ana, extras, app, model, expected):
    response = ana.get(reverse(f"admin:{app}_{model}_changelist"))
    assert response.status_code == 200
    assert expected in response.content.decode()


def _one(model, cast):
    if model is Membership:
        return Membership.objects.get(user=cast.carlos)
    if model is AuditEntry:
        return AuditEntry.objects.filter(organization=cast.mx).first()
    return model.objects.filter(organization=cast.mx).first()


@pytest.mark.parametrize(
    "model", [Document, Payment, Case, ContactPoint, ImportProfile, Membership, ApiKey, AuditEntry]
)
def test_each_change_page_renders_for_ana(ana, cast, extras, model):
    obj = _one(model, cast)
    url = reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])
    response = ana.get(url)
    assert response.status_code == 200
    assert str(obj)[:20] in response.content.decode()


def test_the_portfolio_and_organization_pages_render(ana, cast, extras):
    assert ana.get(reverse("admin:portfolio_portfolio_change", args=[cast.retail.pk])).status_code == 200
    response = ana.get(reverse("admin:core_organization_change", args=[cast.mx.pk]))
    assert response.status_code == 200
    assert "Comercial del Norte" in response.content.decode()


def test_money_is_shown_in_the_organizations_format(ana, ledger):
    page = ana.get(reverse("admin:portfolio_document_changelist")).content.decode()
    assert "$2,500.50" in page  # es-MX: comma thousands, dot decimals


def test_a_colombian_organization_sees_colombian_money(cast, ledger):
    from tests.backoffice.conftest import client_for

    page = client_for(cast.oscar).get(reverse("admin:portfolio_document_changelist")).content.decode()
    assert "$150.000,00" in page.replace("\xa0", "")  # es-CO: dot thousands, comma decimals


def test_the_add_forms_render_for_ana(ana, ledger):
    for name in [
        "portfolio_portfolio",
        "portfolio_debtor",
        "portfolio_contactpoint",
        "portfolio_importprofile",
    ]:
        assert ana.get(reverse(f"admin:{name}_add")).status_code == 200
