"""Permissions follow the membership role: the auditor reads, collectors work contact points."""

import pytest
from django.urls import reverse

from recobro.portfolio.models import ContactPoint, Portfolio
from tests.backoffice.conftest import client_for


@pytest.mark.parametrize("model", ["portfolio", "debtor", "contactpoint", "importprofile", "membership"])
def test_the_auditor_sees_lists_without_an_add_button(auditor, ledger, model):
    app = "core" if model == "membership" else "portfolio"
    response = auditor.get(reverse(f"admin:{app}_{model}_changelist"))
    assert response.status_code == 200
    assert reverse(f"admin:{app}_{model}_add") not in response.content.decode()
    assert auditor.get(reverse(f"admin:{app}_{model}_add")).status_code == 403


def test_the_auditor_opens_a_debtor_read_only(auditor, ledger):
    response = auditor.get(reverse("admin:portfolio_debtor_change", args=[ledger.eva.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert 'name="_save"' not in page
    assert 'name="name"' not in page  # fields are shown as text, not inputs


def test_the_auditor_cannot_change_a_debtor_by_post(auditor, ledger):
    response = auditor.post(
        reverse("admin:portfolio_debtor_change", args=[ledger.eva.pk]),
        {"name": "Changed", "kind": "person", "external_id": "C-1001"},
    )
    assert response.status_code == 403
    ledger.eva.refresh_from_db()
    assert ledger.eva.name == "Eva Martínez López"


def test_the_auditor_cannot_delete(auditor, cast, ledger):
    url = reverse("admin:portfolio_portfolio_delete", args=[cast.retail.pk])
    assert auditor.post(url, {"post": "yes"}).status_code == 403
    assert Portfolio.objects.filter(pk=cast.retail.pk).exists()


def test_the_auditor_reads_the_audit_log_and_cannot_record_payments(auditor, ledger):
    assert auditor.get(reverse("admin:core_auditentry_changelist")).status_code == 200
    assert auditor.get(reverse("admin:portfolio_payment_add")).status_code == 403


def test_a_collector_adds_a_contact_point_to_his_debtor(cast, ledger):
    carlos = client_for(cast.carlos)
    response = carlos.post(
        reverse("admin:portfolio_contactpoint_add"),
        {"debtor": ledger.eva.pk, "kind": "email", "value": "Eva@Example.com", "label": "trabajo"},
    )
    assert response.status_code == 302
    point = ContactPoint.objects.get(debtor=ledger.eva, kind="email")
    assert point.normalized == "eva@example.com"
    assert point.organization == cast.mx


def test_a_collector_cannot_edit_debtors_or_portfolios(cast, ledger):
    carlos = client_for(cast.carlos)
    assert carlos.get(reverse("admin:portfolio_debtor_add")).status_code == 403
    response = carlos.post(
        reverse("admin:portfolio_debtor_change", args=[ledger.eva.pk]),
        {"name": "Changed", "kind": "person", "external_id": "C-1001"},
    )
    assert response.status_code == 403


def test_only_administrators_see_users_and_api_keys_management(cast, ledger):
    carlos = client_for(cast.carlos)
    assert carlos.get(reverse("admin:core_membership_changelist")).status_code == 403
    assert carlos.get(reverse("admin:core_apikey_changelist")).status_code == 403
    ana = client_for(cast.ana)
    assert ana.get(reverse("admin:core_membership_changelist")).status_code == 200
    assert ana.get(reverse("admin:core_membership_add")).status_code == 403  # supervisors read
    assert ana.get(reverse("admin:core_apikey_add")).status_code == 403


def test_the_sidebar_hides_what_a_collector_may_not_open(cast, ledger):
    page = client_for(cast.carlos).get("/").content.decode()
    assert reverse("admin:portfolio_debtor_changelist") in page
    assert reverse("admin:core_membership_changelist") not in page
    assert reverse("portfolio-import-upload") not in page


def test_documents_cases_and_payments_are_never_edited_in_the_admin(ana, ledger):
    doc = ledger.eva.documents.first()
    response = ana.post(
        reverse("admin:portfolio_document_change", args=[doc.pk]),
        {"balance": "0.00", "status": "paid"},
    )
    assert response.status_code == 403
    assert ana.get(reverse("admin:portfolio_document_add")).status_code == 403
    assert ana.get(reverse("admin:portfolio_case_add")).status_code == 403
    payment_url = reverse("admin:portfolio_payment_change", args=[ledger.payment.pk])
    assert ana.post(payment_url, {"amount": "1.00"}).status_code == 403
