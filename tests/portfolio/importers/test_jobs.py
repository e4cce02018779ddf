"""Import jobs: who and when, background runs, progress, the errors CSV, the command line."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError

from recobro.core.audit import Actor
from recobro.portfolio.importers import ImportSetupError, create_job, issues_csv, run_import, start_import
from recobro.portfolio.models import Debtor, Document, ImportJob, ImportStatus
from tests.portfolio.importers.support import issues

DEBTORS = "external_id;name;tax_id\nC-1;Ana;GODE561231GR8\nC-2;Bruno;XXXX\nC-3;Celia;\nC-4;Dora;1234\n"


def upload(content: str, name: str = "clientes.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content.encode(), content_type="text/csv")


def test_create_job_keeps_the_file_and_who_sent_it_as_a_pending_job(cast):
    job = create_job(
        organization=cast.mx,
        kind="debtors",
        file=upload(DEBTORS),
        file_name="clientes.csv",
        actor=Actor.for_user(cast.ana),
        skip_invalid=True,
    )
    job.refresh_from_db()
    assert (job.status, job.file_name, job.created_by, job.actor_label) == (
        "pending",
        "clientes.csv",
        cast.ana,
        "ana",
    )
    assert (job.file_size, job.skip_invalid) == (len(DEBTORS.encode()), True)
    with job.file.open("rb") as stored:
        assert stored.read().decode() == DEBTORS


@pytest.mark.parametrize(
    ("kind", "portfolio", "message"),
    [
        ("invoices", None, "not a kind of import"),
        ("payments", None, "needs a portfolio"),
        ("documents", "other", "another organization"),
    ],
)
def test_a_job_asked_for_wrongly_is_refused_naming_what_is_wrong(cast, kind, portfolio, message):
    with pytest.raises(ImportSetupError, match=message):
        create_job(
            organization=cast.mx,
            kind=kind,
            file=upload(DEBTORS),
            file_name="x.csv",
            actor=cast.ana,
            portfolio=cast.bank_co if portfolio == "other" else None,
        )
    assert not ImportJob.objects.exists()


def test_a_profile_for_another_kind_is_refused(cast, profile):
    with pytest.raises(ImportSetupError, match="is for documents, not debtors"):
        create_job(
            organization=cast.mx,
            kind="debtors",
            file=upload(DEBTORS),
            file_name="x.csv",
            actor=cast.ana,
            profile=profile("documents"),
        )


def test_start_import_runs_the_job_once_the_transaction_commits(cast, django_capture_on_commit_callbacks):
    job = create_job(
        organization=cast.mx, kind="debtors", file=upload(DEBTORS), file_name="c.csv", actor=cast.ana
    )
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        start_import(job)
    job.refresh_from_db()
    assert job.status == ImportStatus.PENDING
    for callback in callbacks:
        callback()
    job.refresh_from_db()
    assert (job.status, job.invalid_count) == ("rejected", 2)
    assert job.task_id


def test_a_job_runs_only_once(cast):
    job = create_job(
        organization=cast.mx,
        kind="debtors",
        file=upload(DEBTORS),
        file_name="c.csv",
        actor=cast.ana,
        skip_invalid=True,
    )
    assert run_import(job).created_count == 2
    again = run_import(job)
    assert (again.status, again.created_count, again.unchanged_count) == ("partial", 2, 0)
    assert Debtor.objects.filter(external_id__in=["C-1", "C-3"]).count() == 2


def test_the_job_keeps_counts_times_and_a_summary(cast, run):
    job = run("debtors", DEBTORS + "\n", skip_invalid=True)
    assert (job.total_rows, job.processed_rows, job.progress_percent) == (5, 5, 100)
    assert (job.created_count, job.invalid_count, job.ignored_count) == (2, 2, 1)
    assert job.started_at <= job.finished_at
    assert job.message == "Created: 2 · updated: 0 · unchanged: 0. 2 invalid rows were skipped."


def test_count_messages_agree_with_their_count(cast, run):
    job = run("debtors", "external_id;name;tax_id\nC-1;Ana;\nC-2;Bruno;XXXX\n", skip_invalid=True)
    assert job.message == "Created: 1 · updated: 0 · unchanged: 0. 1 invalid row was skipped."
    job = run("debtors", "external_id;name;tax_id\nC-5;Ana;XXXX\n")
    assert job.message.startswith("1 invalid row: nothing was written. Fix it ")
    job = run("debtors", "external_id;name;tax_id\nC-5;Ana;XXXX\nC-6;Bruno;XXXX\n")
    assert job.message.startswith("2 invalid rows: nothing was written. Fix them ")
    job = run("debtors", "external_id;name;tax_id\nC-7;Ana\n")
    assert issues(job) == [(2, "", "field_count")]
    assert job.issues.get().message == "Line 2 has 2 fields; the header has 3."
    job = run("debtors", "external_id;name\nC-8\n")
    assert job.issues.get().message == "Line 2 has 1 field; the header has 2."


def test_progress_is_reported_while_rows_are_read(cast, run):
    seen = []
    rows = "".join(f"D-{i};Deudor {i};\n" for i in range(25_000))
    job = run(
        "debtors", "external_id;name;tax_id\n" + rows, progress=lambda done, total: seen.append((done, total))
    )
    assert job.created_count == 25_000
    assert seen[0] == (0, 25_000)
    assert (10_000, 25_000) in seen and (20_000, 25_000) in seen
    assert seen[-1] == (25_000, 25_000)


def test_the_errors_csv_has_the_original_rows_with_line_column_and_reason(cast, run):
    job = run("debtors", DEBTORS)
    report = list(csv.reader(io.StringIO(issues_csv(job)), delimiter=";"))
    assert report[0] == ["external_id", "name", "tax_id", "recobro_line", "recobro_column", "recobro_reason"]
    assert [row[:5] for row in report[1:]] == [
        ["C-2", "Bruno", "XXXX", "3", "tax_id"],
        ["C-4", "Dora", "1234", "5", "tax_id"],
    ]
    assert "not a valid RFC" in report[1][5]


def test_the_corrected_errors_csv_imports_as_it_is(cast, run):
    job = run("debtors", DEBTORS, skip_invalid=True)
    fixed = issues_csv(job).replace("XXXX", "").replace(";1234;", ";;")
    again = run("debtors", fixed, name="errores.csv")
    assert (again.status, again.created_count) == ("succeeded", 2)
    assert Debtor.objects.filter(external_id__in=["C-1", "C-2", "C-3", "C-4"]).count() == 4


def test_the_errors_csv_of_a_file_level_problem_names_it(cast, run):
    job = run("debtors", "external_id,nombre,Vendedor\nC-1,Ana,Pedro\n")
    report = list(csv.reader(io.StringIO(issues_csv(job))))
    assert report[1][3:5] == ["1", "Vendedor"]
    assert "Unknown columns" in report[1][5]


def test_the_errors_csv_of_an_xlsx_renders_cells_as_text(cast, run, tmp_path):
    import datetime as dt

    import openpyxl

    book = openpyxl.Workbook()
    book.active.append(["external_id", "debtor_external_id", "due_date", "original_amount"])
    book.active.append(["F-1", "C-9", dt.datetime(2026, 1, 31), 12.5])
    book.save(tmp_path / "docs.xlsx")
    job = run("documents", tmp_path / "docs.xlsx", portfolio=cast.retail)
    report = list(csv.reader(io.StringIO(issues_csv(job))))
    assert report[1][:5] == ["F-1", "C-9", "2026-01-31", "12.5", "2"]


def test_the_command_line_imports_a_file_and_prints_a_summary(cast, write, capsys):
    path = write("clientes.csv", "external_id,name\nC-1,Ana\nC-2,Bruno\n")
    call_command("import_file", "debtors", str(path), "--organization", "comercial-norte")
    out = capsys.readouterr().out
    job = ImportJob.objects.get()
    assert f"(import {job.pk})" in out
    assert "2 of 2 rows read (100%)" in out
    assert "created 2 · updated 0 · unchanged 0 · invalid 0 · ignored 0" in out
    assert job.actor_label.startswith("command line") and job.status == "succeeded"


def test_the_command_line_fails_when_rows_are_invalid_and_shows_the_first_errors(cast, write, capsys):
    path = write(
        "docs.csv", "external_id,debtor_external_id,due_date,original_amount\nF-1,C-1001,2026-01-31,abc\n"
    )
    with pytest.raises(CommandError, match="Rejected"):
        call_command(
            "import_file",
            "documents",
            str(path),
            "--organization",
            "comercial-norte",
            "--portfolio",
            "prestamos",
        )
    assert "line 2, original_amount: “abc” is not a number." in capsys.readouterr().err
    assert not Document.objects.exists()


def test_the_command_line_names_an_unknown_portfolio_and_lists_the_codes(cast, write):
    path = write("docs.csv", "x\n")
    with pytest.raises(
        CommandError, match=r"no portfolio with the code “tarjetas”\. Codes: credito-tienda, prestamos"
    ):
        call_command(
            "import_file",
            "documents",
            str(path),
            "--organization",
            "comercial-norte",
            "--portfolio",
            "tarjetas",
        )


def test_the_command_line_asks_which_organization_when_there_are_several(cast, write):
    path = write("d.csv", "x\n")
    with pytest.raises(CommandError, match="several organizations"):
        call_command("import_file", "debtors", str(path))


def test_the_command_line_refuses_an_unknown_kind_and_profile(cast, write):
    path = write("d.csv", "x\n")
    with pytest.raises(CommandError, match="not a kind of import"):
        call_command("import_file", "deudas", str(path), "--organization", "comercial-norte")
    with pytest.raises(CommandError, match="no import profile named “SAP”"):
        call_command(
            "import_file", "debtors", str(path), "--organization", "comercial-norte", "--profile", "SAP"
        )


def test_a_failed_job_records_why(cast, run):
    job = run("debtors", "")
    assert (job.status, issues(job)) == ("failed", [(None, "", "empty_file")])
    assert job.finished_at is not None
