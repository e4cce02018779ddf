"""The debtor page as Ana uses it: find the debtor by searching the list, read documents,
payments (with what they settled) and the case together, then record a payment by hand."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from recobro.portfolio.engine import refresh_cases
from recobro.portfolio.importers import upsert_rows
from recobro.portfolio.models import Case, Payment
from recobro.portfolio.services.payments import record_payment
from tests.e2e.conftest import login, screenshot

pytestmark = pytest.mark.django_db(transaction=True)
expect.set_options(timeout=15_000)


@pytest.fixture
def ledger(cast):
    """Eva owes two invoices of Carlos' portfolio and paid part of the oldest; another
    debtor with a similar first name is there so that the search has to choose."""
    actor = cast.actor()
    result = upsert_rows(
        organization=cast.mx,
        kind="debtors",
        rows=[{"external_id": "C-1002", "name": "Evaristo Salgado Ruiz", "tax_id": "ROLJ7507182N8"}],
        actor=actor,
    )
    assert result.errors == []
    result = upsert_rows(
        organization=cast.mx,
        kind="documents",
        portfolio=cast.retail,
        rows=[
            {
                "external_id": "F-100",
                "number": "A-100",
                "debtor_external_id": "C-1001",
                "due_date": "2026-01-15",
                "original_amount": "1500.00",
            },
            {
                "external_id": "F-101",
                "number": "A-101",
                "debtor_external_id": "C-1001",
                "due_date": "2026-02-15",
                "original_amount": "2500.00",
            },
            {
                "external_id": "F-200",
                "number": "A-200",
                "debtor_external_id": "C-1002",
                "due_date": "2026-02-01",
                "original_amount": "900.00",
            },
        ],
        actor=actor,
    )
    assert result.errors == []
    record_payment(
        organization=cast.mx,
        portfolio=cast.retail,
        debtor=cast.eva,
        amount=Decimal("1000.00"),
        paid_on=dt.date(2026, 3, 1),
        actor=actor,
        reference="DEP-7781",
    )
    refresh_cases(organization=cast.mx)
    return cast


def test_ana_finds_eva_by_search_and_sees_documents_payments_and_case_together(ledger, page):
    login(page, "ana")
    page.get_by_role("link", name=re.compile(r"Deudores$")).click()
    expect(page.get_by_role("link", name="Evaristo Salgado Ruiz")).to_be_visible()

    search = page.locator("#searchbar")
    search.fill("Martínez")
    search.press("Enter")
    expect(page.get_by_role("link", name="Evaristo Salgado Ruiz")).to_have_count(0)
    screenshot(page, "debtor-list-search")
    page.get_by_role("link", name="Eva Martínez López").click()

    expect(page.get_by_role("heading", name="Eva Martínez López").first).to_be_visible()
    expect(page.locator("input[name=name]")).to_have_value("Eva Martínez López")

    # The three lists under the form: cases, documents, payments.
    for title in ("Casos", "Documentos", "Pagos"):
        expect(page.get_by_role("heading", name=title, exact=True).first).to_be_visible()
    cases = page.locator("#dataset-case-group")
    documents = page.locator("#dataset-document-group")
    payments = page.locator("#dataset-payment-group")

    expect(documents.get_by_role("link", name="A-100")).to_be_visible()
    expect(documents.get_by_role("link", name="A-101")).to_be_visible()
    expect(documents).not_to_contain_text("A-200")
    expect(documents.locator("tr", has_text="A-100")).to_contain_text("$500.00")
    expect(documents.locator("tr", has_text="A-101")).to_contain_text("$2,500.00")

    payment_row = payments.locator("tbody tr")
    expect(payment_row).to_have_count(1)
    expect(payment_row).to_contain_text("01/03/2026")
    expect(payment_row).to_contain_text("$1,000.00")
    expect(payment_row).to_contain_text("DEP-7781")
    expect(payment_row).to_contain_text("A-100: $1,000.00")

    case_row = cases.locator("tbody tr")
    expect(case_row).to_have_count(1)
    expect(case_row).to_contain_text("Crédito tienda")
    expect(case_row).to_contain_text("$3,000.00")
    screenshot(page, "debtor-page")


def test_ana_records_a_manual_payment_and_sees_the_new_balance(ledger, page):
    eva = ledger.eva
    login(page, "ana")
    page.goto(f"{page.base_url}/portfolio/debtor/{eva.pk}/change/")
    page.get_by_role("link", name="Registrar un pago").click()

    expect(page.get_by_role("heading", level=2, name="Registrar un pago")).to_be_visible()
    expect(page.locator("#payment-debtor")).to_contain_text("Eva Martínez López")
    expect(page.get_by_label("Cartera")).to_have_value(str(ledger.retail.pk))
    page.get_by_label("Monto").fill("700")
    page.get_by_label("Fecha de pago").fill("2026-03-20")
    page.get_by_label("Forma de pago").select_option(label="Efectivo")
    page.get_by_label("Referencia").fill("CAJA-0042")
    screenshot(page, "record-payment-form")
    page.get_by_role("button", name="Registrar pago").click()

    expect(page.get_by_text("Pago de $700.00 registrado.")).to_be_visible()
    expect(page.locator("input[name=name]")).to_have_value("Eva Martínez López")
    # Oldest due first: A-100's last 500.00 and 200.00 of A-101.
    payments = page.locator("#dataset-payment-group")
    new_payment = payments.locator("tr", has_text="CAJA-0042")
    expect(new_payment).to_contain_text("$700.00")
    expect(new_payment).to_contain_text("A-100: $500.00")
    expect(new_payment).to_contain_text("A-101: $200.00")
    documents = page.locator("#dataset-document-group")
    expect(documents.locator("tr", has_text="A-100")).to_contain_text("$0.00")
    expect(documents.locator("tr", has_text="A-101")).to_contain_text("$2,300.00")
    expect(page.locator("#dataset-case-group tbody tr")).to_contain_text("$2,300.00")
    screenshot(page, "debtor-page-after-payment")

    assert Case.objects.get(debtor=eva, portfolio=ledger.retail).balance == Decimal("2300.00")
    assert Payment.objects.filter(debtor=eva, reference="CAJA-0042", source="manual").count() == 1
