"""The dashboard's headline figures come from the organization's open cases."""

from django.urls import reverse

from tests.backoffice.conftest import client_for


def figures(client):
    [panel] = client.get(reverse("admin:index")).context["panels"]
    return panel


def test_ana_sees_her_organizations_open_cases_balance_and_overdue(ana, ledger):
    [mxn] = figures(ana)["currencies"]
    assert mxn["currency"] == "MXN"
    assert mxn["count"] == 2  # Eva on retail, Pedro on loans
    assert mxn["balance"] == "$4,000.50"  # 3,200.50 + 800.00
    assert mxn["overdue"] == "$4,000.50"
    buckets = {b["label"]: b for b in mxn["buckets"]}
    assert buckets["31-60"]["count"] == 1 and buckets["181-360"]["count"] == 1
    assert '"labels": ["Al corriente", "1-30"' in mxn["chart"]


def test_the_dashboard_page_shows_the_figures_and_a_chart(ana, ledger):
    page = ana.get(reverse("admin:index")).content.decode()
    assert 'data-figure="open-cases">2<' in page
    assert "$4,000.50" in page
    assert 'data-type="bar"' in page


def test_a_collector_sees_the_figures_of_his_portfolios_only(cast, ledger):
    [mxn] = figures(client_for(cast.diana))["currencies"]
    assert mxn["count"] == 1
    assert mxn["balance"] == "$800.00"


def test_an_organization_without_cases_gets_a_hint_not_zeros(cast):
    page = client_for(cast.oscar).get(reverse("admin:index")).content.decode()
    assert 'id="no-cases"' in page
