"""Import flow as Ana lives it: upload a CSV on the upload page, watch the job page finish,
then upload files with invalid rows and read (and download) what is wrong with them."""

import re

import pytest
from playwright.sync_api import expect

from recobro.portfolio.models import Debtor, Document, ImportJob, ImportStatus
from tests.e2e.conftest import login, screenshot

pytestmark = pytest.mark.django_db(transaction=True)
expect.set_options(timeout=15_000)

BOM = "\ufeff"

GOOD_DEBTORS = (
    "id cliente;nombre;rfc;tipo\n"
    "K-1;Karla Núñez Gómez;GOPA850315HX2;persona\n"
    "K-2;Refacciones Ortiz;;empresa\n"
    "K-3;José Luis Rodríguez;ROLJ7507182N8;persona\n"
)

BAD_DEBTORS = "id cliente;nombre;rfc\nK-4;Luisa Pérez;GOPA850315HX2\nK-5;Lorena Paz;LOPA850230ABC\n"

BAD_DOCUMENTS = (
    "id documento;id cliente;fecha vencimiento;importe\n"
    "F-1;C-1001;2026-01-15;1500.00\n"
    "F-2;C-1001;2026-02-31;800.00\n"
)


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def write_csv(tmp_path, name: str, text: str):
    """A semicolon CSV as an ERP exports it: UTF-8 with a byte-order mark, CRLF lines."""
    path = tmp_path / name
    path.write_bytes((BOM + text).replace("\n", "\r\n").encode("utf-8"))
    return path


def upload(page, path, kind: str, portfolio: str | None = None, shot: str | None = None) -> None:
    """Fill the upload form as a person would and send it."""
    page.goto(f"{page.base_url}/imports/new/")
    expect(page.get_by_role("heading", level=2, name="Importar un archivo")).to_be_visible()
    page.get_by_label("Qué contiene el archivo").select_option(label=kind)
    if portfolio is not None:
        page.get_by_label("Cartera").select_option(label=portfolio)
    page.locator("input[type=file][name=file]").set_input_files(str(path))
    if shot:
        screenshot(page, shot)
    page.get_by_role("button", name="Subir e importar").click()
    expect(page).to_have_url(re.compile(r"/imports/\d+/$"))


def finished_progress(page):
    """The job's progress block, once the job has reached a finished status."""
    progress = page.locator("#import-progress")
    expect(progress).to_have_attribute("data-status", re.compile("^(succeeded|partial|rejected|failed)$"))
    return progress


def test_ana_uploads_a_debtor_file_and_sees_it_finish_with_its_counts(cast, page, tmp_path):
    path = write_csv(tmp_path, "clientes-marzo.csv", GOOD_DEBTORS)
    login(page, "ana")
    upload(page, path, "Deudores", shot="import-upload-form")

    progress = finished_progress(page)
    expect(progress).to_have_attribute("data-status", "succeeded")
    expect(progress.get_by_text("Importada", exact=True)).to_be_visible()
    expect(progress.get_by_text("3 de 3 filas")).to_be_visible()
    expect(progress.get_by_text("100 %")).to_be_visible()
    expect(progress.locator("[style*='width: 100%']")).to_have_count(1)
    expect(progress.locator("[data-count=created]")).to_have_text("3")
    expect(progress.locator("[data-count=updated]")).to_have_text("0")
    expect(progress.locator("[data-count=invalid]")).to_have_text("0")
    expect(page.locator("#import-facts")).to_contain_text("clientes-marzo.csv")
    expect(page.locator("#import-facts")).to_contain_text("ana")
    expect(page.get_by_text("Sin problemas: todas las filas eran válidas.")).to_be_visible()
    screenshot(page, "import-finished")

    assert set(Debtor.objects.filter(external_id__startswith="K-").values_list("name", flat=True)) == {
        "Karla Núñez Gómez",
        "Refacciones Ortiz",
        "José Luis Rodríguez",
    }

    # The same file again changes nothing.
    page.get_by_role("link", name="Importar otro archivo").click()
    upload(page, path, "Deudores")
    progress = finished_progress(page)
    expect(progress.locator("[data-count=created]")).to_have_text("0")
    expect(progress.locator("[data-count=unchanged]")).to_have_text("3")


def test_a_debtor_file_with_a_bad_rfc_is_rejected_and_its_errors_download_as_csv(cast, page, tmp_path):
    path = write_csv(tmp_path, "clientes-con-error.csv", BAD_DEBTORS)
    login(page, "ana")
    upload(page, path, "Deudores")

    progress = finished_progress(page)
    expect(progress).to_have_attribute("data-status", "rejected")
    expect(progress.get_by_text("Rechazada: filas inválidas, no se escribió nada")).to_be_visible()
    expect(progress.locator("[data-count=invalid]")).to_have_text("1")
    expect(progress.locator("[data-count=created]")).to_have_text("0")

    issues = page.locator("#import-issues")
    expect(issues.get_by_role("heading", name=re.compile(r"Problemas encontrados \(1\)"))).to_be_visible()
    for header in ("Línea", "Columna", "Valor", "Motivo"):
        expect(issues.get_by_role("columnheader", name=header)).to_be_visible()
    row = issues.locator("tbody tr")
    expect(row).to_have_count(1)
    cells = row.locator("td")
    expect(cells.nth(0)).to_have_text("3")
    expect(cells.nth(1)).to_have_text("rfc")
    expect(cells.nth(2)).to_have_text("LOPA850230ABC")
    expect(cells.nth(3)).to_contain_text("no es válido como RFC")
    screenshot(page, "import-rejected-rfc")

    with page.expect_download() as download_info:
        issues.get_by_role("link", name="Descargar errores en CSV").click()
    download = download_info.value
    assert download.suggested_filename == "clientes-con-error-errors.csv"
    content = download.path().read_text(encoding="utf-8-sig")
    lines = content.splitlines()
    assert lines[0].split(";")[-3:] == ["recobro_line", "recobro_column", "recobro_reason"]
    assert len(lines) == 2
    assert lines[1].startswith("K-5;Lorena Paz;LOPA850230ABC;3;rfc;")
    assert "LOPA850230ABC" in lines[1].split(";")[-1]

    # Nothing was written: not even the valid row.
    assert not Debtor.objects.filter(external_id__in=["K-4", "K-5"]).exists()
    assert ImportJob.objects.get().status == ImportStatus.REJECTED


def test_a_documents_file_with_a_bad_date_names_the_line_column_and_reason(cast, page, tmp_path):
    path = write_csv(tmp_path, "facturas.csv", BAD_DOCUMENTS)
    login(page, "ana")
    upload(page, path, "Documentos", portfolio="Crédito tienda")

    progress = finished_progress(page)
    expect(progress).to_have_attribute("data-status", "rejected")
    expect(page.locator("#import-facts")).to_contain_text("Crédito tienda")
    screenshot(page, "import-rejected-date")
    row = page.locator("#import-issues tbody tr")
    expect(row).to_have_count(1)
    cells = row.locator("td")
    expect(cells.nth(0)).to_have_text("3")
    expect(cells.nth(1)).to_have_text("fecha vencimiento")
    expect(cells.nth(2)).to_have_text("2026-02-31")
    expect(cells.nth(3)).to_contain_text("no es una fecha que exista en el calendario")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Descargar errores en CSV").click()
    content = download_info.value.path().read_text(encoding="utf-8-sig")
    assert "F-2;C-1001;2026-02-31" in content
    assert ";3;fecha vencimiento;" in content
    assert not Document.objects.filter(external_id__in=["F-1", "F-2"]).exists()
