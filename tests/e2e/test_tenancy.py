"""Tenancy as a person meets it: Diana, a collector on the loans portfolio, cannot find
Carlos' debtor by searching or by typing its address; Ulises, the auditor, reads everything
of his organization and finds no button to add, change or delete."""

import re

import pytest
from playwright.sync_api import expect

from recobro.portfolio.engine import refresh_cases
from recobro.portfolio.importers import upsert_rows
from recobro.portfolio.models import Document
from tests.e2e.conftest import login, screenshot

pytestmark = pytest.mark.django_db(transaction=True)
expect.set_options(timeout=15_000)


@pytest.fixture
def ledger(cast):
    """Eva owes on Carlos' portfolio; Mario owes on Diana's."""
    actor = cast.actor()
    result = upsert_rows(
        organization=cast.mx,
        kind="debtors",
        rows=[{"external_id": "C-2001", "name": "Mario Peña Soto"}],
        actor=actor,
    )
    assert result.errors == []
    for portfolio, row in (
        (cast.retail, {"external_id": "R-1", "number": "A-100", "debtor_external_id": "C-1001"}),
        (cast.loans, {"external_id": "L-1", "number": "P-500", "debtor_external_id": "C-2001"}),
    ):
        row.update(due_date="2026-01-15", original_amount="1500.00")
        result = upsert_rows(
            organization=cast.mx, kind="documents", portfolio=portfolio, rows=[row], actor=actor
        )
        assert result.errors == []
    refresh_cases(organization=cast.mx)
    return cast


def open_debtors(page):
    page.get_by_role("link", name=re.compile(r"Deudores$")).click()
    expect(page).to_have_url(re.compile(r"/portfolio/debtor/$"))


def search(page, text: str):
    box = page.locator("#searchbar")
    box.fill(text)
    box.press("Enter")
    expect(page).to_have_url(re.compile(r"[?&]q="))


def test_diana_does_not_find_carlos_debtor_in_the_list_or_by_its_address(ledger, page):
    login(page, "diana")
    open_debtors(page)
    expect(page.get_by_role("link", name="Mario Peña Soto")).to_be_visible()
    expect(page.get_by_role("link", name="Eva Martínez López")).to_have_count(0)

    for text in ("Eva", "C-1001", "MALE800101AB1"):
        search(page, text)
        expect(page.get_by_role("link", name="Eva Martínez López")).to_have_count(0)
        expect(page.locator("#result_list tbody tr, table tbody tr").filter(has_text="Eva")).to_have_count(0)
    screenshot(page, "tenancy-diana-search")

    # Typing the address of Eva's page (or of her document) shows nothing of hers.
    response = page.goto(f"{page.base_url}/portfolio/debtor/{ledger.eva.pk}/change/")
    assert response.status in (200, 404)
    expect(page.locator("input[name=name]")).to_have_count(0)
    expect(page.get_by_text("Eva Martínez López")).to_have_count(0)
    expect(page.get_by_text("MALE800101AB1")).to_have_count(0)
    screenshot(page, "tenancy-diana-by-url")

    document = Document.objects.get(external_id="R-1")
    page.goto(f"{page.base_url}/portfolio/document/{document.pk}/change/")
    expect(page.get_by_text("A-100")).to_have_count(0)
    expect(page.get_by_text("Eva Martínez López")).to_have_count(0)

    # Her own debtor opens normally.
    open_debtors(page)
    page.get_by_role("link", name="Mario Peña Soto").click()
    expect(page.get_by_role("heading", name="Mario Peña Soto").first).to_be_visible()
    expect(page.locator("#dataset-document-group").get_by_role("link", name="P-500")).to_be_visible()


def test_oscar_of_the_colombian_agency_sees_nothing_of_the_mexican_retailer(ledger, page):
    login(page, "oscar")
    open_debtors(page)
    expect(page.get_by_role("link", name="Eva Martínez López")).to_have_count(0)
    expect(page.get_by_role("link", name="Mario Peña Soto")).to_have_count(0)
    page.goto(f"{page.base_url}/portfolio/debtor/{ledger.eva.pk}/change/")
    expect(page.get_by_text("Eva Martínez López")).to_have_count(0)


def test_the_auditor_reads_everything_and_finds_no_button_to_change_it(ledger, page):
    login(page, "ulises")
    open_debtors(page)
    expect(page.get_by_role("link", name="Eva Martínez López")).to_be_visible()
    expect(page.get_by_role("link", name="Mario Peña Soto")).to_be_visible()
    expect(page.get_by_title("Agregar deudor")).to_have_count(0)
    expect(page.locator("a[href$='/portfolio/debtor/add/']")).to_have_count(0)
    screenshot(page, "tenancy-auditor-list")

    page.get_by_role("link", name="Eva Martínez López").click()
    expect(page.get_by_text("MALE800101AB1")).to_be_visible()
    expect(page.locator("#dataset-document-group").get_by_role("link", name="A-100")).to_be_visible()
    expect(page.locator("input[name=name]")).to_have_count(0)
    for name in ("Guardar", "Guardar y continuar editando", "Guardar y agregar otro"):
        expect(page.get_by_role("button", name=name, exact=True)).to_have_count(0)
    expect(page.get_by_role("link", name=re.compile("Eliminar"))).to_have_count(0)
    expect(page.get_by_role("link", name=re.compile("Registrar un pago"))).to_have_count(0)
    expect(page.locator("a[href$='/record-payment/'], a[href$='/delete/']")).to_have_count(0)
    screenshot(page, "tenancy-auditor-debtor")

    # Nor on the payments list, nor the import page.
    page.get_by_role("link", name=re.compile(r"Pagos$")).click()
    expect(page.locator("a[href$='/portfolio/payment/add/']")).to_have_count(0)
    response = page.goto(f"{page.base_url}/imports/new/")
    assert response.status == 403
    expect(page.get_by_role("button", name="Subir e importar")).to_have_count(0)
