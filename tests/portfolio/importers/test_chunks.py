"""Files longer than a chunk: staged (SQLite) or written as they are read (PostgreSQL) in
several chunks, with the same outcome as one chunk."""

import pytest

from recobro.core.models import AuditEntry
from recobro.portfolio.importers import batch, files
from recobro.portfolio.models import Debtor, ImportStatus
from tests.portfolio.importers.support import issues


@pytest.fixture(autouse=True)
def tiny_chunks(monkeypatch):
    monkeypatch.setattr(batch, "CHUNK_ROWS", 3)
    monkeypatch.setattr(files, "PIPELINE_CHUNK_ROWS", 3)
    monkeypatch.setattr(batch, "ANALYZE_AFTER_ROWS", 2)


def debtors_file(count: int, start: int = 0, extra: str = "") -> str:
    return "external_id,name\n" + "".join(f"D-{i},Deudor {i}\n" for i in range(start, start + count)) + extra


def stored() -> int:
    return Debtor.objects.filter(external_id__startswith="D-").count()


def test_a_file_of_many_chunks_imports_every_row_once(cast, run):
    job = run("debtors", debtors_file(20))
    assert (job.status, job.created_count, stored()) == ("succeeded", 20, 20)
    assert AuditEntry.objects.filter(object_type="portfolio.debtor", action="create").count() == 20
    again = run("debtors", debtors_file(20))
    assert (again.created_count, again.updated_count, again.unchanged_count) == (0, 0, 20)


def test_an_invalid_row_in_a_late_chunk_means_nothing_from_earlier_chunks_is_kept(cast, run):
    job = run("debtors", debtors_file(17, extra="D-99,\n"))
    assert job.status == ImportStatus.REJECTED
    assert issues(job) == [(19, "name", "required")]
    assert stored() == 0
    assert not AuditEntry.objects.filter(object_type="portfolio.debtor").exists()


def test_with_skip_invalid_every_valid_row_of_every_chunk_is_kept(cast, run):
    job = run("debtors", debtors_file(10, extra="D-99,\n") + "D-100,Último\n", skip_invalid=True)
    assert (job.status, job.created_count, job.invalid_count) == ("partial", 11, 1)
    assert stored() == 11


def test_a_key_repeated_chunks_apart_is_reported_on_both_lines_and_neither_is_kept(cast, run):
    job = run("debtors", debtors_file(10, extra="D-1,Otra vez\n"), skip_invalid=True)
    assert issues(job) == [(3, "external_id", "duplicate"), (12, "external_id", "duplicate")]
    assert (job.created_count, stored()) == (9, 9)
    assert not Debtor.objects.filter(external_id="D-1").exists()


def test_a_repeated_key_whose_other_row_is_invalid_imports_the_valid_one(cast, run):
    job = run("debtors", debtors_file(6, extra="D-2,\n"), skip_invalid=True)
    assert issues(job) == [(8, "name", "required")]
    assert Debtor.objects.get(external_id="D-2").name == "Deudor 2"


def test_a_broken_line_after_several_chunks_fails_the_file_and_keeps_nothing(cast, run):
    content = debtors_file(12).encode() + "D-50,Peña\n".encode("cp1252")
    job = run("debtors", content)
    assert (job.status, issues(job)) == ("failed", [(14, "", "encoding")])
    assert stored() == 0


def test_a_corrected_file_updates_only_what_changed_across_chunks(cast, run):
    run("debtors", debtors_file(12))
    job = run("debtors", debtors_file(12).replace("Deudor 7\n", "Deudora Siete\n"))
    assert (job.created_count, job.updated_count, job.unchanged_count) == (0, 1, 11)
    assert AuditEntry.objects.filter(object_type="portfolio.debtor", action="update").count() == 1


def test_a_key_repeated_chunks_apart_rejects_the_file_and_nothing_written_before_is_kept(cast, run):
    job = run("debtors", debtors_file(10, extra="D-1,Otra vez\n"))
    assert job.status == ImportStatus.REJECTED
    assert issues(job) == [(3, "external_id", "duplicate"), (12, "external_id", "duplicate")]
    assert stored() == 0
    assert not AuditEntry.objects.filter(object_type="portfolio.debtor").exists()


@pytest.mark.django_db(transaction=True)
def test_an_import_run_inside_a_transaction_finishes_even_though_its_progress_row_is_locked(cast, write):
    from django.db import transaction

    from recobro.core.audit import Actor
    from recobro.portfolio.importers import create_job, run_import

    path = write("deudores.csv", debtors_file(20))
    job = create_job(
        organization=cast.mx, kind="debtors", file=path, file_name=path.name, actor=Actor.for_user(cast.ana)
    )
    with transaction.atomic():
        job = run_import(job)
    assert (job.status, job.created_count) == ("succeeded", 20)
