"""The debtor page shows the debtor's details, contact points, cases, documents and payments together."""

import datetime as dt

from django.urls import reverse

from recobro.portfolio.references import format_reference
from tests.backoffice.conftest import client_for
from tests.conftest import AS_OF, make_document


def test_the_debtor_page_shows_cases_documents_and_payments_together(ana, ledger):
    response = ana.get(reverse("admin:portfolio_debtor_change", args=[ledger.eva.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert format_reference(ledger.eva.payment_reference) in page
    assert "+525512345678" in page  # contact point
    assert "F-1001" in page and "F-1002" in page  # documents
    assert "$700.00" in page  # F-1001 after the 300.00 payment (oldest due first)
    assert "SPEI-77" in page  # the payment
    assert "F-1001: $300.00" in page  # and what it settled
    assert "$3,200.50" in page  # the case balance
    assert "Crédito tienda" in page


def test_a_collector_sees_only_the_documents_of_his_portfolios_on_a_shared_debtor(cast, ledger):
    make_document(cast.loans, ledger.eva, "P-9", "50.00", AS_OF)
    page = client_for(cast.carlos).get(reverse("admin:portfolio_debtor_change", args=[ledger.eva.pk]))
    assert "F-1001" in page.content.decode()
    assert "P-9" not in page.content.decode()


def test_long_document_lists_are_paginated(ana, cast, ledger):
    for n in range(25):
        make_document(cast.retail, ledger.eva, f"G-{n:02d}", "10.00", AS_OF + dt.timedelta(days=n + 1))
    url = reverse("admin:portfolio_debtor_change", args=[ledger.eva.pk])
    first = ana.get(url).content.decode()
    assert "G-00" in first and "G-24" not in first
    second = ana.get(url, {"document-p": "2"}).content.decode()
    assert "G-24" in second


def test_the_debtor_page_offers_to_record_a_payment(ana, ledger):
    page = ana.get(reverse("admin:portfolio_debtor_change", args=[ledger.eva.pk])).content.decode()
    action_url = reverse("admin:portfolio_debtor_record_payment", args=[ledger.eva.pk])
    assert action_url in page
    response = ana.get(action_url)
    assert response["Location"] == reverse("admin:portfolio_payment_add") + f"?debtor={ledger.eva.pk}"


def test_the_debtor_list_finds_a_debtor_by_payment_reference_typed_with_spaces(ana, ledger):
    typed = format_reference(ledger.eva.payment_reference)
    page = ana.get(reverse("admin:portfolio_debtor_changelist"), {"q": typed}).content.decode()
    assert ledger.eva.name in page
    assert ledger.pedro.name not in page
