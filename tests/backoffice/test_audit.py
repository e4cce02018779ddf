"""Every create, update and delete made through the back-office writes an AuditEntry."""

from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from recobro.core.models import AuditEntry, Membership
from recobro.portfolio.models import ContactPoint, Debtor, Portfolio


def entries(**lookup):
    return AuditEntry.objects.filter(**lookup).order_by("id")


PORTFOLIO_FORM = {
    "name": "Tarjetas",
    "code": "tarjetas",
    "creditor": "Comercial del Norte",
    "is_active": "on",
    "currency": "MXN",
    "jurisdiction": "MX",
    "allocation_order": "oldest_due",
}


def test_creating_a_portfolio_records_who_created_what(ana, cast):
    response = ana.post(reverse("admin:portfolio_portfolio_add"), PORTFOLIO_FORM)
    assert response.status_code == 302
    portfolio = Portfolio.objects.get(code="tarjetas")
    assert portfolio.organization == cast.mx
    [entry] = entries(object_type="portfolio.portfolio", object_id=str(portfolio.pk))
    assert (entry.action, entry.source, entry.user, entry.organization) == (
        "create",
        "backoffice",
        cast.ana,
        cast.mx,
    )
    assert entry.before is None
    assert entry.after["name"] == "Tarjetas"


def test_updating_a_debtor_records_before_and_after(ana, cast, ledger):
    url = reverse("admin:portfolio_debtor_change", args=[ledger.pedro.pk])
    data = {
        "name": "Pedro Páramo Rulfo",
        "kind": "person",
        "external_id": "C-2001",
        "tax_id_type": "",
        "tax_id": "",
        "do_not_contact": "on",
        "language": "",
        "timezone": "",
        "risk_score": "",
        "attributes": "{}",
        "contact_points-TOTAL_FORMS": "0",
        "contact_points-INITIAL_FORMS": "0",
    }
    response = ana.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    [entry] = entries(object_type="portfolio.debtor", object_id=str(ledger.pedro.pk), action="update")
    assert entry.before["name"] == "Pedro Páramo" and entry.after["name"] == "Pedro Páramo Rulfo"
    assert entry.before["do_not_contact"] is False and entry.after["do_not_contact"] is True


def test_saving_without_changes_records_nothing(ana, cast):
    url = reverse("admin:portfolio_portfolio_change", args=[cast.retail.pk])
    form = {**PORTFOLIO_FORM, "name": cast.retail.name, "creditor": cast.retail.creditor}
    form.pop("code")
    form.pop("currency")
    assert ana.post(url, form).status_code == 302
    assert not entries(object_type="portfolio.portfolio", action="update").exists()


def test_a_contact_point_added_inline_on_the_debtor_page_is_audited(ana, cast, ledger):
    url = reverse("admin:portfolio_debtor_change", args=[ledger.pedro.pk])
    data = {
        "name": "Pedro Páramo",
        "kind": "person",
        "external_id": "C-2001",
        "attributes": "{}",
        "contact_points-TOTAL_FORMS": "1",
        "contact_points-INITIAL_FORMS": "0",
        "contact_points-0-kind": "mobile",
        "contact_points-0-value": "55 8765 4321",
        "contact_points-0-label": "",
    }
    response = ana.post(url, data)
    assert response.status_code == 302, response.context["inline_admin_formsets"][0].formset.errors
    point = ContactPoint.objects.get(debtor=ledger.pedro)
    assert point.normalized == "+525587654321"
    assert point.organization == cast.mx
    [entry] = entries(object_type="portfolio.contactpoint", object_id=str(point.pk))
    assert entry.action == "create" and entry.after["normalized"] == "+525587654321"


def test_deleting_a_debtor_records_it_and_what_cascaded(ana, cast):
    debtor = Debtor.objects.create(organization=cast.mx, external_id="X-1", name="Borrar")
    point = ContactPoint.objects.create(
        organization=cast.mx, debtor=debtor, kind="email", value="b@example.com", normalized="b@example.com"
    )
    response = ana.post(reverse("admin:portfolio_debtor_delete", args=[debtor.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert not Debtor.objects.filter(pk=debtor.pk).exists()
    deleted = {(e.object_type, e.object_id) for e in entries(action="delete")}
    assert deleted == {("portfolio.debtor", str(debtor.pk)), ("portfolio.contactpoint", str(point.pk))}
    entry = entries(action="delete", object_type="portfolio.debtor").get()
    assert entry.before["name"] == "Borrar" and entry.after is None


def test_bulk_delete_from_the_list_records_one_entry_per_row(ana, cast, ledger):
    points = [
        ContactPoint.objects.create(
            organization=cast.mx, debtor=ledger.pedro, kind="email", value=v, normalized=v
        )
        for v in ("a@example.com", "b@example.com")
    ]
    response = ana.post(
        reverse("admin:portfolio_contactpoint_changelist"),
        {"action": "delete_selected", ACTION_CHECKBOX_NAME: [p.pk for p in points], "post": "yes"},
    )
    assert response.status_code == 302
    assert not ContactPoint.objects.filter(pk__in=[p.pk for p in points]).exists()
    assert {e.object_id for e in entries(action="delete")} == {str(p.pk) for p in points}


def test_creating_a_user_records_the_user_and_the_membership_without_the_password(cast):
    from tests.backoffice.conftest import client_for
    from tests.conftest import make_user

    boss = make_user("beatriz", cast.mx, "admin")
    response = client_for(boss).post(
        reverse("admin:core_membership_add"),
        {
            "username": "gabriel",
            "first_name": "Gabriel",
            "last_name": "Soto",
            "email": "gabriel@example.com",
            "password": "una-clave-larga",
            "role": "collector",
            "portfolios": [cast.loans.pk],
            "is_active": "on",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    membership = Membership.objects.get(user__username="gabriel")
    assert membership.organization == cast.mx
    assert list(membership.portfolios.all()) == [cast.loans]
    assert membership.user.check_password("una-clave-larga")
    user_entry = entries(object_type="auth.user").get()
    assert "password" not in user_entry.after
    membership_entry = entries(object_type="core.membership").get()
    assert membership_entry.after["portfolios"] == [cast.loans.pk]


def test_the_audit_log_is_read_only(ana, cast, ledger):
    entry = AuditEntry.objects.filter(organization=cast.mx).first()
    page = ana.get(reverse("admin:core_auditentry_changelist")).content.decode()
    assert reverse("admin:core_auditentry_add") not in page
    assert ana.get(reverse("admin:core_auditentry_add")).status_code == 403
    url = reverse("admin:core_auditentry_change", args=[entry.pk])
    assert ana.post(url, {"object_repr": "edited"}).status_code == 403
    assert (
        ana.post(reverse("admin:core_auditentry_delete", args=[entry.pk]), {"post": "yes"}).status_code == 403
    )
    assert AuditEntry.objects.filter(pk=entry.pk, object_repr=entry.object_repr).exists()


def test_an_update_shows_a_readable_diff(ana, cast, ledger):
    ana.post(reverse("admin:portfolio_portfolio_add"), PORTFOLIO_FORM)
    portfolio = Portfolio.objects.get(code="tarjetas")
    url = reverse("admin:portfolio_portfolio_change", args=[portfolio.pk])
    form = {**PORTFOLIO_FORM, "creditor": "Banco del Norte"}
    form.pop("code")
    form.pop("currency")
    assert ana.post(url, form).status_code == 302
    entry = entries(object_type="portfolio.portfolio", action="update").get()
    page = ana.get(reverse("admin:core_auditentry_change", args=[entry.pk])).content.decode()
    assert "audit-diff" in page
    assert "Comercial del Norte" in page and "Banco del Norte" in page


def test_the_audit_log_filters_by_type_action_and_user(ana, cast, ledger):
    ana.post(reverse("admin:portfolio_portfolio_add"), PORTFOLIO_FORM)
    url = reverse("admin:core_auditentry_changelist")
    page = ana.get(url, {"object_type": "portfolio.portfolio", "action": "create"}).content.decode()
    assert "Tarjetas" in page
    assert "300.00 MXN" not in page
    page = ana.get(url, {"user": str(cast.carlos.pk)}).content.decode()
    assert "Tarjetas" not in page
    page = ana.get(url, {"q": "Tarjetas"}).content.decode()
    assert "Tarjetas" in page and "300.00 MXN" not in page


def test_a_debtor_created_in_the_back_office_gets_a_payment_reference(ana, cast):
    response = ana.post(
        reverse("admin:portfolio_debtor_add"),
        {
            "name": "Nueva Deudora",
            "kind": "person",
            "external_id": "N-1",
            "attributes": "{}",
            "contact_points-TOTAL_FORMS": "0",
            "contact_points-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    debtor = Debtor.objects.get(external_id="N-1")
    assert debtor.organization == cast.mx and debtor.payment_reference
    entry = entries(object_type="portfolio.debtor", action="create").get()
    assert entry.after["payment_reference"] == debtor.payment_reference
