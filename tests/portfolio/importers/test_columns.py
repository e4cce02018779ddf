"""Header rows: matching fields, mapping profiles, unknown and missing columns."""

import pytest

from recobro.portfolio.importers import FIELDS
from recobro.portfolio.importers.errors import FileProblem
from recobro.portfolio.importers.fields import plan_columns
from recobro.portfolio.importers.formats import fold
from recobro.portfolio.models import Debtor, Document, ImportStatus
from tests.portfolio.importers.support import issues


def fields_of(header, kind="documents", column_map=None):
    plan = plan_columns(header, kind=kind, column_map=column_map)
    return {spec.name: plan.header[index] for index, spec in plan.columns}


@pytest.mark.parametrize("kind", list(FIELDS))
def test_field_names_and_their_usual_headers_are_unambiguous_within_a_kind(kind):
    seen: dict[str, str] = {}
    for spec in FIELDS[kind]:
        for header in (spec.name, *spec.aliases):
            assert seen.setdefault(fold(header), spec.name) == spec.name, header


def test_every_field_says_if_it_is_required_its_type_and_what_it_holds():
    for specs in FIELDS.values():
        for spec in specs:
            assert isinstance(spec.required, bool) and spec.type and str(spec.help_text)


def test_headers_match_ignoring_case_accents_spaces_and_punctuation():
    found = fields_of(["EXTERNAL ID", "Debtor-External-Id", "Due_Date", "original amount"])
    assert found == {
        "external_id": "EXTERNAL ID",
        "debtor_external_id": "Debtor-External-Id",
        "due_date": "Due_Date",
        "original_amount": "original amount",
    }


def test_usual_spanish_erp_headers_find_their_fields():
    found = fields_of(
        [
            "ID Documento",
            "Folio",
            "ID Cliente",
            "Fecha de Vencimiento",
            "Importe",
            "Saldo",
            "Moneda",
            "Estatus",
        ]
    )
    assert found["external_id"] == "ID Documento"
    assert found["number"] == "Folio"
    assert found["debtor_external_id"] == "ID Cliente"
    assert found["due_date"] == "Fecha de Vencimiento"
    assert found["original_amount"] == "Importe"
    assert found["balance"] == "Saldo"
    assert found["status"] == "Estatus"


def test_a_missing_required_column_is_named():
    with pytest.raises(FileProblem) as caught:
        plan_columns(["external_id", "debtor_external_id", "original_amount"], kind="documents")
    [error] = caught.value.errors
    assert (error.row, error.field, error.code) == (1, "due_date", "missing_column")


def test_unknown_columns_are_an_error_listing_them_and_the_expected_fields():
    with pytest.raises(FileProblem) as caught:
        plan_columns(["external_id", "name", "Vendedor", "Zona"], kind="debtors")
    [error] = caught.value.errors
    assert error.code == "unknown_column"
    assert "“Vendedor”, “Zona”" in error.message
    assert "external_id*, name*, kind" in error.message
    assert '"ignore"' in error.message


def test_a_profile_can_skip_unknown_columns_by_list_or_by_an_empty_mapping():
    found = fields_of(
        ["external_id", "name", "Vendedor", "Zona"],
        kind="debtors",
        column_map={"ignore": ["vendedor"], "Zona": ""},
    )
    assert found == {"external_id": "external_id", "name": "name"}


def test_an_ignore_star_skips_every_unknown_column():
    found = fields_of(["external_id", "name", "Vendedor", "Zona"], kind="debtors", column_map={"ignore": "*"})
    assert set(found) == {"external_id", "name"}


def test_a_profile_maps_fields_to_the_headers_of_an_erp():
    found = fields_of(
        ["Cve Doc", "Cve Cte", "Vence", "Monto Doc"],
        column_map={
            "external_id": "cve doc",
            "debtor_external_id": "CVE CTE",
            "due_date": "Vence",
            "original_amount": "Monto Doc",
        },
    )
    assert found["external_id"] == "Cve Doc" and found["original_amount"] == "Monto Doc"


def test_a_field_mapped_to_nothing_is_left_out_even_if_a_column_has_its_name():
    found = fields_of(
        ["external_id", "debtor_external_id", "due_date", "original_amount", "balance"],
        column_map={"balance": "", "ignore": ["balance"]},
    )
    assert "balance" not in found


def test_a_profile_cannot_leave_out_a_required_field():
    with pytest.raises(FileProblem) as caught:
        plan_columns(["external_id", "name"], kind="debtors", column_map={"name": ""})
    assert [(e.field, e.code) for e in caught.value.errors] == [
        ("name", "missing_column"),
        ("name", "unknown_column"),
    ]


def test_a_profile_mapping_a_header_that_is_not_in_the_file_is_an_error():
    with pytest.raises(FileProblem) as caught:
        plan_columns(["external_id", "name"], kind="debtors", column_map={"name": "Razón social"})
    assert [(e.field, e.code) for e in caught.value.errors] == [
        ("Razón social", "missing_column"),
        ("name", "unknown_column"),
    ]


def test_a_profile_mapping_an_unknown_field_is_an_error():
    with pytest.raises(FileProblem) as caught:
        plan_columns(["external_id", "name"], kind="debtors", column_map={"segmento": "Segmento"})
    assert caught.value.errors[0].code == "profile_unknown_field"


def test_a_column_named_twice_is_an_error():
    with pytest.raises(FileProblem) as caught:
        plan_columns(["external_id", "name", "Name"], kind="debtors")
    assert caught.value.errors[0].code == "duplicate_column"


def test_the_columns_of_an_errors_report_are_ignored_on_re_upload():
    found = fields_of(
        ["external_id", "name", "recobro_line", "recobro_column", "recobro_reason"], kind="debtors"
    )
    assert set(found) == {"external_id", "name"}


def test_a_file_with_unknown_columns_fails_and_writes_nothing(cast, run):
    job = run("debtors", "external_id,name,Vendedor\nC-1,Ana,Pedro\n")
    assert job.status == ImportStatus.FAILED
    assert issues(job) == [(1, "Vendedor", "unknown_column")]
    assert not Debtor.objects.filter(external_id="C-1").exists()


def test_a_profile_imports_an_erp_export_with_its_own_headers_and_formats(cast, run, profile, debtors):
    erp = profile(
        "documents",
        column_map={
            "external_id": "Folio",
            "number": "Folio",
            "debtor_external_id": "Cliente",
            "ignore": ["Vendedor"],
        },
        delimiter=";",
        number_format="comma",
        date_format="dmy",
    )
    job = run(
        "documents",
        "Folio;Cliente;Vencimiento;Importe;Saldo;Vendedor\nF-1;C-1002;31/01/2026;1.234,56;1.000,00;Pedro\n",
        portfolio=cast.retail,
        profile=erp,
    )
    assert job.status == ImportStatus.SUCCEEDED
    document = Document.objects.get(external_id="F-1")
    assert (document.number, str(document.original_amount), str(document.balance)) == (
        "F-1",
        "1234.56",
        "1000.00",
    )
    assert document.due_date.isoformat() == "2026-01-31"
