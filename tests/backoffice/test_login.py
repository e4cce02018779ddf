from django.contrib.auth import get_user_model
from django.urls import reverse

from tests.backoffice.conftest import client_for


def test_the_login_page_is_unfolds(client, db):
    response = client.get(reverse("admin:login"))
    assert response.status_code == 200
    assert "unfold" in response.content.decode()


def test_ana_logs_in_and_lands_on_the_dashboard(client, cast):
    response = client.post(
        reverse("admin:login"), {"username": "ana", "password": "recobro-test-pass", "next": "/"}, follow=True
    )
    assert response.redirect_chain[-1][0] == "/"
    assert "Comercial del Norte" in response.content.decode()


def test_a_wrong_password_stays_on_the_login_page(client, cast):
    response = client.post(reverse("admin:login"), {"username": "ana", "password": "nope"})
    assert response.status_code == 200
    assert not response.wsgi_request.user.is_authenticated


def test_logout_ends_the_session(cast):
    client = client_for(cast.ana)
    response = client.post(reverse("admin:logout"))
    assert response.status_code == 200
    assert client.get("/").status_code == 302


def test_an_anonymous_visitor_is_sent_to_login(client, db):
    response = client.get(reverse("admin:portfolio_debtor_changelist"))
    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]


def test_a_staff_user_without_membership_sees_no_organization_and_no_data(cast):
    stranger = get_user_model().objects.create_user("mallory", password="x", is_staff=True)
    client = client_for(stranger)
    page = client.get("/").content.decode()
    assert 'id="no-membership"' in page
    assert reverse("admin:portfolio_debtor_changelist") not in page
    assert client.get(reverse("admin:portfolio_debtor_changelist")).status_code == 403
    assert client.get(reverse("portfolio-aging")).status_code == 403


def test_a_superuser_without_membership_reaches_no_tenant(cast, ledger):
    root = get_user_model().objects.create_superuser("root", password="x")
    client = client_for(root)
    assert client.get(reverse("admin:portfolio_debtor_changelist")).status_code == 403
    url = reverse("admin:portfolio_debtor_change", args=[ledger.eva.pk])
    assert client.get(url).status_code == 403
    assert client.get(reverse("admin:core_auditentry_changelist")).status_code == 403


def test_the_language_switch_offers_spanish_and_english(ana, cast):
    page = ana.get("/").content.decode()
    assert reverse("set_language") in page
    assert 'value="en"' in page and 'value="es"' in page
