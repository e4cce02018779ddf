"""Manual payment entry: the form calls record_payment; the ledger's refusals show on the form."""

from decimal import Decimal

from django.urls import reverse

from recobro.core.models import AuditEntry
from recobro.portfolio.models import Case, Document, Payment, Portfolio
from tests.conftest import AS_OF, make_document


def add_url(debtor=None) -> str:
    url = reverse("admin:portfolio_payment_add")
    return f"{url}?debtor={debtor.pk}" if debtor else url


def test_a_payment_recorded_from_the_debtor_page_settles_the_oldest_document(ana, cast, ledger):
    response = ana.post(
        add_url(ledger.eva),
        {"portfolio": cast.retail.pk, "amount": "700.00", "paid_on": AS_OF.isoformat(), "method": "cash"},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:portfolio_debtor_change", args=[ledger.eva.pk])
    payment = Payment.objects.exclude(pk=ledger.payment.pk).get(debtor=ledger.eva)
    assert (payment.amount, payment.source, payment.method) == (Decimal("700.00"), "manual", "cash")
    assert Document.objects.get(external_id="F-1001").status == "paid"
    assert Case.objects.get(debtor=ledger.eva).balance == Decimal("2500.50")
    entry = AuditEntry.objects.get(object_type="portfolio.payment", object_id=str(payment.pk))
    assert entry.user == cast.ana


def test_the_payments_list_finds_the_debtor_by_external_id(ana, cast, ledger):
    response = ana.post(
        add_url(),
        {
            "debtor": "C-2001",
            "portfolio": cast.loans.pk,
            "amount": "100.00",
            "paid_on": AS_OF.isoformat(),
            "method": "transfer",
            "reference": "DEP-1",
        },
    )
    assert response.status_code == 302
    payment = Payment.objects.get(reference="DEP-1")
    assert payment.debtor == ledger.pedro
    assert response["Location"] == reverse("admin:portfolio_payment_change", args=[payment.pk])


def test_an_unknown_or_foreign_debtor_is_refused(ana, cast, ledger):
    data = {"portfolio": cast.loans.pk, "amount": "1.00", "paid_on": AS_OF.isoformat(), "method": "cash"}
    response = ana.post(add_url(), {**data, "debtor": "A-1"})  # Camila, of Cobranzas Andinas
    assert response.status_code == 200
    assert "debtor" in response.context["form"].errors
    assert ana.get(add_url(ledger.camila)).status_code == 404


def test_a_ledger_error_is_shown_on_the_form_and_nothing_is_stored(ana, cast, ledger):
    pesos = Portfolio.objects.create(
        organization=cast.mx, code="chile", name="Chile", creditor="X", currency="CLP", jurisdiction="CL"
    )
    make_document(pesos, ledger.pedro, "CL-1", "1000", AS_OF)
    response = ana.post(
        add_url(ledger.pedro),
        {"portfolio": pesos.pk, "amount": "10.50", "paid_on": AS_OF.isoformat(), "method": "cash"},
    )
    assert response.status_code == 200
    errors = response.context["form"].non_field_errors()
    assert errors and "CLP" in errors[0]
    assert not Payment.objects.filter(portfolio=pesos).exists()


def test_a_payment_cannot_be_dated_in_the_future(ana, cast, ledger):
    response = ana.post(
        add_url(ledger.eva),
        {"portfolio": cast.retail.pk, "amount": "5.00", "paid_on": "2026-04-01", "method": "cash"},
    )
    assert "paid_on" in response.context["form"].errors


def test_the_form_defaults_to_the_business_date_and_the_debtors_portfolio(ana, cast, ledger):
    form = ana.get(add_url(ledger.eva)).context["form"]
    assert form.fields["paid_on"].initial == AS_OF
    assert form.fields["portfolio"].initial == cast.retail
    assert set(form.fields["portfolio"].queryset) == {cast.retail, cast.loans}
