"""The back-office speaks Spanish first; the language switch in the user menu turns it to
English (and back), and the choice holds from page to page."""

import re

import pytest
from playwright.sync_api import expect

from recobro.portfolio.engine import refresh_cases
from recobro.portfolio.importers import upsert_rows
from tests.e2e.conftest import login, screenshot

pytestmark = pytest.mark.django_db(transaction=True)
expect.set_options(timeout=15_000)


@pytest.fixture
def ledger(cast):
    result = upsert_rows(
        organization=cast.mx,
        kind="documents",
        portfolio=cast.retail,
        rows=[
            {
                "external_id": "R-1",
                "number": "A-100",
                "debtor_external_id": "C-1001",
                "due_date": "2026-01-15",
                "original_amount": "1500.00",
            }
        ],
        actor=cast.actor(),
    )
    assert result.errors == []
    refresh_cases(organization=cast.mx)
    return cast


def choose_language(page, name: str) -> None:
    """Open the user menu at the foot of the sidebar and pick a language."""
    page.get_by_text("ana@example.com").click()
    page.get_by_role("button", name=re.compile(name, re.IGNORECASE)).click()
    page.wait_for_load_state("networkidle")


def test_the_language_switch_turns_the_back_office_to_english_and_back(ledger, page):
    login(page, "ana")
    sidebar = page.locator("#nav-sidebar, nav").first
    expect(page.get_by_role("link", name=re.compile(r"Deudores$"))).to_be_visible()
    expect(page.get_by_text("Casos abiertos")).to_be_visible()

    choose_language(page, "English")
    expect(page.locator("html")).to_have_attribute("lang", re.compile("^en"))
    expect(page.get_by_role("link", name=re.compile(r"Debtors$"))).to_be_visible()
    expect(page.get_by_role("link", name=re.compile(r"Aging report$"))).to_be_visible()
    expect(page.get_by_text("Open cases")).to_be_visible()
    expect(page.get_by_text("Casos abiertos")).to_have_count(0)
    expect(sidebar).not_to_contain_text("Deudores")
    screenshot(page, "english-dashboard")

    # The choice holds on the next pages: the debtor list, the debtor, the aging report.
    page.get_by_role("link", name=re.compile(r"Debtors$")).click()
    expect(page.get_by_role("columnheader", name=re.compile("Name"))).to_be_visible()
    expect(page.get_by_role("columnheader", name=re.compile("External id", re.IGNORECASE))).to_be_visible()
    page.get_by_role("link", name="Eva Martínez López").click()
    for title in ("Cases", "Documents", "Payments"):
        expect(page.get_by_role("heading", name=title, exact=True).first).to_be_visible()
    expect(page.get_by_role("link", name=re.compile("Record a payment"))).to_be_visible()
    expect(page.get_by_role("button", name="Save", exact=True)).to_be_visible()
    screenshot(page, "english-debtor")

    page.get_by_role("link", name=re.compile(r"Aging report$")).click()
    expect(page.get_by_label("As of")).to_be_visible()
    expect(page.get_by_role("button", name="Show")).to_be_visible()
    expect(page.get_by_role("columnheader", name="Bucket").first).to_be_visible()
    expect(page.get_by_role("columnheader", name="Balance (MXN)").first).to_be_visible()

    page.get_by_role("link", name=re.compile(r"Upload a file$")).click()
    expect(page.get_by_role("heading", level=2, name="Import a file")).to_be_visible()
    expect(page.get_by_role("button", name="Upload and import")).to_be_visible()
    expect(page.get_by_text("Expected columns")).to_be_visible()
    screenshot(page, "english-import-upload")

    choose_language(page, "español")
    expect(page.locator("html")).to_have_attribute("lang", re.compile("^es"))
    expect(page.get_by_role("heading", level=2, name="Importar un archivo")).to_be_visible()
    expect(page.get_by_role("button", name="Subir e importar")).to_be_visible()
