"""Importing debtors: upsert by external id, tax ids, idempotence, corrected files."""

import pytest

from recobro.core.models import AuditEntry
from recobro.portfolio.models import Debtor, ImportStatus
from recobro.portfolio.references import is_valid as is_valid_reference
from tests.portfolio.importers.support import issues, messages

FILE = (
    "external_id,name,tax_id,kind,is_disputed\n"
    "C-2001,Ana Gómez,GODE561231GR8,persona,no\n"
    "C-2002,Comercializadora Sur SA,,empresa,sí\n"
)


def test_debtors_are_created_with_payment_references(cast, run):
    job = run("debtors", FILE)
    assert (job.status, job.created_count, job.updated_count, job.unchanged_count) == ("succeeded", 2, 0, 0)
    ana = Debtor.objects.get(organization=cast.mx, external_id="C-2001")
    company = Debtor.objects.get(organization=cast.mx, external_id="C-2002")
    assert (ana.tax_id, ana.tax_id_type, ana.kind, ana.is_disputed) == (
        "GODE561231GR8",
        "rfc",
        "person",
        False,
    )
    assert (company.kind, company.is_disputed) == ("company", True)
    assert is_valid_reference(ana.payment_reference) and is_valid_reference(company.payment_reference)


def test_importing_the_same_file_twice_changes_nothing_the_second_time(cast, run):
    run("debtors", FILE)
    stamps = dict(Debtor.objects.values_list("external_id", "updated_at"))
    audit = AuditEntry.objects.count()
    job = run("debtors", FILE)
    assert (job.status, job.created_count, job.updated_count, job.unchanged_count) == ("succeeded", 0, 0, 2)
    assert AuditEntry.objects.count() == audit
    assert dict(Debtor.objects.values_list("external_id", "updated_at")) == stamps


def test_a_corrected_file_changes_only_the_rows_and_fields_that_differ(cast, run):
    run("debtors", FILE)
    before = {d.external_id: d for d in Debtor.objects.filter(external_id__in=["C-2001", "C-2002"])}
    job = run("debtors", FILE.replace("Comercializadora Sur SA", "Comercializadora del Sur SA"))
    assert (job.created_count, job.updated_count, job.unchanged_count) == (0, 1, 1)
    ana, company = Debtor.objects.get(external_id="C-2001"), Debtor.objects.get(external_id="C-2002")
    assert ana.updated_at == before["C-2001"].updated_at
    assert company.updated_at > before["C-2002"].updated_at
    assert company.name == "Comercializadora del Sur SA"
    entry = AuditEntry.objects.get(action="update", object_id=str(company.pk))
    assert (
        entry.before["name"] == "Comercializadora Sur SA"
        and entry.after["name"] == "Comercializadora del Sur SA"
    )


def test_a_column_left_out_of_the_file_keeps_the_stored_value(cast, run):
    run("debtors", FILE)
    job = run("debtors", "external_id,name\nC-2001,Ana Gómez Díaz\n")
    assert job.updated_count == 1
    ana = Debtor.objects.get(external_id="C-2001")
    assert (ana.name, ana.tax_id, ana.tax_id_type) == ("Ana Gómez Díaz", "GODE561231GR8", "rfc")


def test_creates_and_updates_are_audited_with_actor_source_and_job(cast, run):
    job = run("debtors", FILE)
    entries = AuditEntry.objects.filter(object_type="portfolio.debtor", action="create").order_by("object_id")
    assert entries.count() == 2
    entry = entries.get(object_repr="Ana Gómez")
    assert (entry.source, entry.user, entry.actor_label, entry.organization) == (
        "import",
        cast.ana,
        "ana",
        cast.mx,
    )
    assert entry.before is None
    assert entry.after["external_id"] == "C-2001" and entry.after["is_disputed"] is False
    assert entry.context == {"import_job": job.pk}


def test_an_invalid_rfc_is_reported_with_line_column_and_reason(cast, run):
    job = run("debtors", "external_id,name,RFC\nC-1,Ana,GODE561231GR8\nC-2,Bruno,XXXX0000\n")
    assert job.status == ImportStatus.REJECTED
    assert issues(job) == [(3, "RFC", "invalid_tax_id")]
    assert "“XXXX0000” is not a valid RFC (MX) / CURP (MX)" in messages(job)


@pytest.mark.parametrize(
    ("tax_id", "tax_id_type", "stored"),
    [
        ("BOXW310820HNERXN09", "curp", "BOXW310820HNERXN09"),
        ("900.123.456-8", "nit", "9001234568"),
        ("1.020.304.050", "cc", "1020304050"),
        ("76.086.428-5", "rut", "760864285"),
        ("20-26756539-3", "cuit", "20267565393"),
        ("20100000009", "ruc", "20100000009"),
        ("10117410", "dni", "10117410"),
        ("390.533.447-05", "cpf", "39053344705"),
        ("11.222.333/0001-81", "cnpj", "11222333000181"),
        ("AB-123", "other", "AB-123"),
    ],
)
def test_tax_ids_are_checked_and_compacted_by_their_type(cast, run, tax_id, tax_id_type, stored):
    job = run("debtors", f'external_id,name,tax_id,tax_id_type\nC-1,Ana,"{tax_id}",{tax_id_type}\n')
    assert job.status == ImportStatus.SUCCEEDED, messages(job)
    assert Debtor.objects.get(external_id="C-1").tax_id == stored


@pytest.mark.parametrize(
    ("tax_id", "tax_id_type"), [("900.123.456-7", "nit"), ("76.086.428-4", "rut"), ("12", "cc")]
)
def test_a_tax_id_failing_its_check_is_invalid(cast, run, tax_id, tax_id_type):
    job = run("debtors", f'external_id,name,tax_id,tax_id_type\nC-1,Ana,"{tax_id}",{tax_id_type}\n')
    assert issues(job) == [(2, "tax_id", "invalid_tax_id")]


def test_without_a_type_a_colombian_tax_id_is_a_cedula_or_a_nit_with_its_dash(cast, run):
    run(
        "debtors",
        "external_id,name,tax_id\nK-1,Oscar,1020304050\nK-2,TelcoSur SAS,900123456-8\n",
        organization=cast.co,
    )
    oscar, telco = Debtor.objects.get(external_id="K-1"), Debtor.objects.get(external_id="K-2")
    assert (oscar.tax_id_type, telco.tax_id_type, telco.tax_id) == ("cc", "nit", "9001234568")


def test_a_duplicated_external_id_reports_both_lines_and_neither_is_imported(cast, run):
    job = run("debtors", "external_id,name\nC-1,Ana\nC-2,Bruno\nC-1,Ana María\n", skip_invalid=True)
    assert issues(job) == [(2, "external_id", "duplicate"), (4, "external_id", "duplicate")]
    assert "also on line 4" in messages(job) and "also on line 2" in messages(job)
    assert (job.created_count, job.invalid_count) == (1, 2)
    assert not Debtor.objects.filter(external_id="C-1").exists()


def test_debtors_of_another_organization_are_not_touched(cast, run):
    job = run("debtors", "external_id,name\nC-1001,Eva en Colombia\n", organization=cast.co)
    assert job.created_count == 1
    assert Debtor.objects.get(organization=cast.mx, external_id="C-1001").name == "Eva Martínez López"


def test_an_unknown_timezone_and_an_out_of_range_score_are_invalid(cast, run):
    job = run(
        "debtors", "external_id,name,timezone,risk_score\nC-1,Ana,America/Nowhere,0.5\nC-2,Bruno,,1.5\n"
    )
    assert issues(job) == [(2, "timezone", "unknown_timezone"), (3, "risk_score", "out_of_range")]


def test_a_name_longer_than_the_field_is_invalid(cast, run):
    job = run("debtors", f"external_id,name\nC-1,{'A' * 201}\n")
    assert issues(job) == [(2, "name", "too_long")]


def test_an_empty_required_value_is_invalid(cast, run):
    job = run("debtors", "external_id,name\nC-1,\n")
    assert issues(job) == [(2, "name", "required")]
