"""Files as they come: delimiters, encodings, line endings, and broken or wrong files."""

import pytest

from recobro.core.audit import Actor
from recobro.portfolio.importers import create_job, run_import
from recobro.portfolio.models import Debtor, ImportStatus
from tests.portfolio.importers.support import issues, messages

HEADER = "external_id,name\n"


def names(cast) -> list[str]:
    return list(
        Debtor.objects.filter(organization=cast.mx).order_by("external_id").values_list("name", flat=True)
    )


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_the_delimiter_is_detected_from_the_header_line(cast, run, delimiter):
    job = run(
        "debtors", f"external_id{delimiter}name{delimiter}language\nC-1{delimiter}Ana Núñez{delimiter}es\n"
    )
    assert job.status == ImportStatus.SUCCEEDED
    assert Debtor.objects.filter(external_id="C-1", name="Ana Núñez", language="es").exists()


def test_a_semicolon_file_with_commas_inside_values_reads_whole_values(cast, run):
    job = run("debtors", "external_id;name\nC-1;Pérez, Ana\n")
    assert job.status == ImportStatus.SUCCEEDED
    assert Debtor.objects.get(external_id="C-1").name == "Pérez, Ana"


def test_a_profile_with_the_wrong_delimiter_says_which_delimiter_the_file_seems_to_use(cast, run, profile):
    job = run("debtors", "external_id;name\nC-1;Ana\n", profile=profile("debtors", delimiter=","))
    assert job.status == ImportStatus.FAILED
    assert issues(job)[0] == (1, "", "delimiter")
    assert "separated by semicolon, not comma" in job.message


def test_a_pipe_delimited_file_reads_with_a_profile(cast, run, profile):
    job = run("debtors", "external_id|name\nC-1|Ana\n", profile=profile("debtors", delimiter="|"))
    assert job.status == ImportStatus.SUCCEEDED
    assert Debtor.objects.filter(external_id="C-1").exists()


def test_a_utf8_bom_is_not_part_of_the_first_header(cast, run):
    job = run("debtors", "\ufeffexternal_id,name\r\nC-1,Ana\r\n")
    assert job.status == ImportStatus.SUCCEEDED
    assert Debtor.objects.filter(external_id="C-1").exists()


def test_crlf_and_lf_line_endings_import_the_same(cast, run):
    run("debtors", "external_id,name\r\nC-1,Ana Núñez\r\n", name="crlf.csv")
    job = run("debtors", "external_id,name\nC-1,Ana Núñez\n", name="lf.csv")
    assert job.unchanged_count == 1
    assert Debtor.objects.get(external_id="C-1").name == "Ana Núñez"


def test_a_quoted_value_may_hold_a_line_break(cast, run):
    job = run("debtors", 'external_id,name\nC-1,"Ana\nNúñez"\nC-2,Bruno\n')
    assert job.status == ImportStatus.SUCCEEDED
    assert Debtor.objects.get(external_id="C-1").name == "Ana\nNúñez"


def test_a_cp1252_file_reads_with_a_cp1252_profile(cast, run, profile):
    cp1252 = profile("debtors", encoding="cp1252", delimiter=";")
    job = run("debtors", "external_id;name\nC-1;Peña Ibáñez\n", encoding="cp1252", profile=cp1252)
    assert job.status == ImportStatus.SUCCEEDED
    assert Debtor.objects.get(external_id="C-1").name == "Peña Ibáñez"


def test_latin1_bytes_without_a_profile_fail_naming_the_line_and_suggesting_cp1252(cast, run):
    job = run("debtors", "external_id,name\nC-1,Ana\nC-2,Peña\n", encoding="cp1252")
    assert job.status == ImportStatus.FAILED
    assert issues(job) == [(3, "", "encoding")]
    assert "Line 3 is not valid UTF-8" in job.message and "Windows-1252" in job.message
    assert names(cast) == ["Eva Martínez López"]


def test_a_utf8_file_under_a_cp1252_profile_is_refused_rather_than_misread(cast, run, profile):
    job = run("debtors", "external_id,name\nC-1,Peña\n", profile=profile("debtors", encoding="cp1252"))
    assert job.status == ImportStatus.FAILED
    assert "UTF-8" in job.message
    assert not Debtor.objects.filter(external_id="C-1").exists()


def test_a_utf16_file_is_refused_with_advice(cast, run):
    job = run("debtors", "external_id,name\nC-1,Ana\n".encode("utf-16"))
    assert job.status == ImportStatus.FAILED
    assert issues(job) == [(None, "", "utf16")]


def test_an_unterminated_quote_fails_naming_the_line_where_it_opens(cast, run):
    job = run("debtors", 'external_id,name\nC-1,Ana\nC-2,"Bruno\nC-3,Celia\n')
    assert job.status == ImportStatus.FAILED
    assert issues(job) == [(3, "", "malformed")]
    assert "unterminated quote" in job.message
    assert not Debtor.objects.filter(external_id="C-1").exists()


def test_a_stray_quote_inside_a_field_fails_naming_the_line(cast, run):
    job = run("debtors", 'external_id,name\nC-1,Ana\nC-2,"Bruno" Díaz\n')
    assert job.status == ImportStatus.FAILED
    assert issues(job) == [(3, "", "malformed")]


def test_a_row_with_too_many_fields_is_invalid_with_its_line(cast, run):
    job = run("debtors", "external_id,name\nC-1,Ana\nC-2,Bruno,extra\n")
    assert job.status == ImportStatus.REJECTED
    assert issues(job) == [(3, "", "field_count")]
    assert "3 fields; the header has 2" in messages(job)


def test_a_row_with_too_few_fields_is_invalid_with_its_line(cast, run):
    job = run("debtors", "external_id,name,language\nC-1,Ana,es\nC-2,Bruno\n")
    assert issues(job) == [(3, "", "field_count")]


def test_trailing_empty_fields_are_tolerated(cast, run):
    job = run("debtors", "external_id,name\nC-1,Ana,,\n")
    assert job.status == ImportStatus.SUCCEEDED


def test_a_report_title_above_the_header_is_skipped_with_a_warning(cast, run):
    job = run("debtors", "Clientes al 31/03/2026\n\nexternal_id,name\nC-1,Ana\n")
    assert (job.status, job.created_count, job.ignored_count) == ("succeeded", 1, 1)
    assert issues(job, warnings=True) == [(1, "", "title_row")]


def test_an_empty_file_fails_clearly(cast, run):
    job = run("debtors", "")
    assert job.status == ImportStatus.FAILED
    assert job.message == "The file is empty."


def test_a_file_of_blank_lines_is_empty(cast, run):
    assert run("debtors", "\ufeff\r\n\r\n").message == "The file is empty."


def test_a_header_only_file_fails_clearly(cast, run):
    job = run("debtors", HEADER)
    assert job.status == ImportStatus.FAILED
    assert issues(job) == [(1, "", "no_rows")]
    assert "no rows to import" in job.message


def test_a_file_over_the_size_limit_is_refused_without_being_stored(cast, write, settings):
    settings.RECOBRO_IMPORT_MAX_BYTES = 1024
    path = write("big.csv", HEADER + "C-1,Ana\n" * 200)
    job = create_job(
        organization=cast.mx, kind="debtors", file=path, file_name="big.csv", actor=Actor.for_user(cast.ana)
    )
    assert job.status == ImportStatus.FAILED
    assert not job.file
    assert "over the 1.0 KB limit" in job.message
    assert issues(job) == [(None, "", "too_large")]
    assert run_import(job).status == ImportStatus.FAILED  # not run again


def test_a_file_named_xlsx_that_is_not_a_workbook_fails_clearly(cast, run):
    job = run("debtors", HEADER + "C-1,Ana\n", name="debtors.xlsx")
    assert job.status == ImportStatus.FAILED
    assert issues(job) == [(None, "", "not_xlsx")]
    assert "not a valid XLSX" in job.message


def test_a_zip_that_is_not_a_workbook_fails_clearly(cast, run):
    job = run("debtors", b"PK\x03\x04" + b"\x00" * 100, name="debtors.csv")
    assert job.status == ImportStatus.FAILED
    assert issues(job) == [(None, "", "not_xlsx")]


def test_an_old_xls_workbook_is_refused_with_advice(cast, run):
    job = run("debtors", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, name="debtors.xls")
    assert job.status == ImportStatus.FAILED
    assert ".xlsx" in job.message


def test_a_binary_file_is_refused(cast, run):
    job = run("debtors", b"external_id,name\nC-1,A\x00na\n")
    assert job.status == ImportStatus.FAILED
    assert issues(job) == [(2, "", "binary_file")]
