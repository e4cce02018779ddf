"""Custom attributes of debtors: ``attr.<name>`` columns (or profile mappings) into
``Debtor.attributes``, upserted and audited like every other field."""

import openpyxl
import pytest
from django.core.management import call_command

from recobro.core.models import AuditEntry
from recobro.portfolio.models import Debtor
from tests.portfolio.importers.support import issues, messages

FILE = (
    "external_id,name,attr.region,attr.segmento_erp\n"
    "C-2001,Ana Gómez,  Norte ,A2\n"
    "C-2002,Bruno Díaz,Región Sur,\n"
)


def attributes() -> dict[str, dict]:
    return dict(Debtor.objects.filter(external_id__startswith="C-2").values_list("external_id", "attributes"))


def test_attr_columns_are_stored_as_trimmed_text_and_an_empty_cell_sets_nothing(cast, run):
    job = run("debtors", FILE)
    assert (job.status, job.created_count) == ("succeeded", 2)
    assert attributes() == {
        "C-2001": {"region": "Norte", "segmento_erp": "A2"},
        "C-2002": {"region": "Región Sur"},
    }


def test_the_creation_is_audited_with_the_attributes(cast, run):
    run("debtors", FILE)
    entry = AuditEntry.objects.get(action="create", object_type="portfolio.debtor", object_repr="Bruno Díaz")
    assert entry.after["attributes"] == {"region": "Región Sur"}


def test_a_debtor_file_without_attributes_creates_debtors_with_none(cast, run):
    run("debtors", "external_id,name\nC-2001,Ana Gómez\n")
    assert attributes() == {"C-2001": {}}
    entry = AuditEntry.objects.get(action="create", object_type="portfolio.debtor")
    assert entry.after["attributes"] == {}


def test_importing_the_same_attributes_twice_changes_nothing_the_second_time(cast, run):
    run("debtors", FILE)
    stamps = dict(Debtor.objects.values_list("external_id", "updated_at"))
    audit = AuditEntry.objects.count()
    job = run("debtors", FILE)
    assert (job.created_count, job.updated_count, job.unchanged_count) == (0, 0, 2)
    assert AuditEntry.objects.count() == audit
    assert dict(Debtor.objects.values_list("external_id", "updated_at")) == stamps


def test_attributes_stored_by_hand_with_accents_compare_equal_to_the_same_text_in_a_file(cast, run):
    # Django stores JSON with \\u escapes on SQLite; the file's text has the letter itself.
    Debtor.objects.create(
        organization=cast.mx, external_id="C-2002", name="Bruno Díaz", attributes={"region": "Región Sur"}
    )
    job = run("debtors", "external_id,name,attr.region\nC-2002,Bruno Díaz,Región Sur\n")
    assert (job.updated_count, job.unchanged_count) == (0, 1)


def test_a_changed_attribute_updates_only_that_key_and_the_audit_shows_before_and_after(cast, run):
    run("debtors", FILE)
    Debtor.objects.filter(external_id="C-2001").update(
        attributes={"region": "Norte", "segmento_erp": "A2", "vip": "sí"}
    )
    job = run(
        "debtors", "external_id,name,attr.region\nC-2001,Ana Gómez,Centro\nC-2002,Bruno Díaz,Región Sur\n"
    )
    assert (job.updated_count, job.unchanged_count) == (1, 1)
    assert attributes()["C-2001"] == {"region": "Centro", "segmento_erp": "A2", "vip": "sí"}
    ana = Debtor.objects.get(external_id="C-2001")
    entry = AuditEntry.objects.get(action="update", object_id=str(ana.pk))
    assert entry.before["attributes"] == {"region": "Norte", "segmento_erp": "A2", "vip": "sí"}
    assert entry.after["attributes"] == {"region": "Centro", "segmento_erp": "A2", "vip": "sí"}
    assert entry.context == {"import_job": job.pk}


def test_an_empty_cell_removes_the_attribute_and_a_file_without_the_column_keeps_it(cast, run):
    run("debtors", FILE)
    job = run("debtors", "external_id,name,attr.segmento_erp\nC-2001,Ana Gómez,\n")
    assert job.updated_count == 1
    assert attributes()["C-2001"] == {"region": "Norte"}
    run("debtors", "external_id,name\nC-2001,Ana Gómez Díaz\n")
    assert attributes()["C-2001"] == {"region": "Norte"}


def test_an_attribute_stored_as_a_number_becomes_text(cast, run):
    Debtor.objects.create(organization=cast.mx, external_id="C-2001", name="Ana", attributes={"score": 5})
    job = run("debtors", "external_id,name,attr.score\nC-2001,Ana,5\n")
    assert job.updated_count == 1
    assert attributes()["C-2001"] == {"score": "5"}


@pytest.mark.parametrize(
    "header", ["attr.Región", "attr.2nd", "attr.", "attr.zona norte", "attr." + "x" * 41]
)
def test_an_invalid_attribute_name_is_an_error_naming_its_column(cast, run, header):
    job = run("debtors", f"external_id,name,{header}\nC-2001,Ana,x\n")
    assert job.status == "failed"
    assert issues(job) == [(1, header, "invalid_attribute")]
    assert "lower-case letters, digits and _" in messages(job)
    assert not Debtor.objects.filter(external_id="C-2001").exists()


def test_the_same_attribute_twice_in_the_header_is_an_error(cast, run):
    job = run("debtors", "external_id,name,attr.region,attr.region\nC-2001,Ana,x,y\n")
    assert issues(job) == [(1, "attr.region", "duplicate_column")]


def test_an_attribute_longer_than_200_characters_is_a_row_error(cast, run):
    job = run("debtors", f"external_id,name,attr.notes\nC-2001,Ana,{'x' * 201}\n")
    assert job.status == "rejected"
    assert issues(job) == [(2, "attr.notes", "too_long")]


def test_a_formula_in_an_attribute_is_refused(cast, run):
    job = run("debtors", 'external_id,name,attr.region\nC-2001,Ana,=HYPERLINK("x")\n')
    assert issues(job) == [(2, "attr.region", "formula")]


def test_attribute_columns_are_only_for_debtors(cast, run, debtors):
    job = run(
        "contact_points", "debtor_external_id,kind,value,attr.region\nC-1001,email,eva@example.com,Norte\n"
    )
    assert issues(job) == [(1, "attr.region", "unknown_column")]


def test_a_profile_maps_an_attribute_to_any_header(cast, run, profile):
    erp = profile("debtors", column_map={"external_id": "No. Cliente", "attr.region": "Zona de venta"})
    job = run("debtors", "No. Cliente,name,Zona de venta\nC-2001,Ana,Norte\n", profile=erp)
    assert job.status == "succeeded"
    assert attributes() == {"C-2001": {"region": "Norte"}}
    assert AuditEntry.objects.get(action="create", object_type="portfolio.debtor").after["attributes"] == {
        "region": "Norte"
    }


def test_a_row_error_in_a_mapped_attribute_names_the_files_header(cast, run, profile):
    erp = profile("debtors", column_map={"attr.region": "Zona"})
    job = run("debtors", f"external_id,name,Zona\nC-2001,Ana,{'x' * 201}\n", profile=erp)
    assert issues(job) == [(2, "Zona", "too_long")]


def test_a_profile_mapping_an_invalid_attribute_name_is_refused(cast, run, profile):
    erp = profile("debtors", column_map={"attr.Zona": "Zona"})
    job = run("debtors", "external_id,name,Zona\nC-2001,Ana,Norte\n", profile=erp)
    assert job.status == "failed"
    assert issues(job) == [(None, "attr.Zona", "invalid_attribute")]


def test_an_attribute_mapped_by_the_profile_and_headed_in_the_file_is_an_error(cast, run, profile):
    erp = profile("debtors", column_map={"attr.region": "Zona"})
    job = run("debtors", "external_id,name,Zona,attr.region\nC-2001,Ana,Norte,Sur\n", profile=erp)
    assert issues(job) == [(1, "attr.region", "duplicate_column")]
    assert "“Zona”" in messages(job)


def test_a_profile_mapping_an_attribute_to_a_missing_header_says_so(cast, run, profile):
    erp = profile("debtors", column_map={"attr.region": "Zona"})
    job = run("debtors", "external_id,name\nC-2001,Ana\n", profile=erp)
    assert issues(job) == [(1, "Zona", "missing_column")]


def test_an_xlsx_number_or_date_in_an_attribute_is_stored_as_text(cast, run, tmp_path):
    book = openpyxl.Workbook()
    book.active.append(["external_id", "name", "attr.codigo_postal", "attr.cliente_desde"])
    book.active.append(["C-2001", "Ana", 64000, __import__("datetime").date(2019, 5, 2)])
    path = tmp_path / "clientes.xlsx"
    book.save(path)
    job = run("debtors", path)
    assert job.status == "succeeded"
    assert attributes() == {"C-2001": {"codigo_postal": "64000", "cliente_desde": "2019-05-02"}}


def test_the_command_line_imports_attributes(cast, write, capsys):
    path = write("clientes.csv", FILE)
    call_command("import_file", "debtors", str(path), "--organization", "comercial-norte")
    assert attributes()["C-2001"] == {"region": "Norte", "segmento_erp": "A2"}
