"""Import jobs: a file kept with who sent it and when, run in the background (or inline),
with progress a page can poll and counts and issues a person can read afterwards."""

import logging
import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.utils.translation import gettext as _

from recobro.core import events
from recobro.core.audit import Actor
from recobro.core.clock import now
from recobro.core.models import AuditSource
from recobro.portfolio.importers.batch import check_request
from recobro.portfolio.importers.errors import FileProblem, RowError
from recobro.portfolio.importers.fields import FIELDS
from recobro.portfolio.importers.files import FileImport, too_large
from recobro.portfolio.models import ImportIssue, ImportJob, ImportStatus

logger = logging.getLogger(__name__)

FINISHED = (ImportStatus.SUCCEEDED, ImportStatus.PARTIAL, ImportStatus.REJECTED, ImportStatus.FAILED)


def import_actor(actor: Any) -> Actor:
    """The actor of a file import: whoever sent it, through the import door."""
    if isinstance(actor, Actor):
        return replace(actor, source=AuditSource.IMPORT)
    if actor is None:
        return Actor.system("import")
    return Actor.for_user(actor, source=AuditSource.IMPORT)


def _size_of(file: Any) -> int:
    if isinstance(file, str | os.PathLike):
        return os.path.getsize(file)
    size = getattr(file, "size", None)
    return int(size) if size is not None else 0


def create_job(
    *,
    organization,
    kind: str,
    file,
    file_name: str,
    actor,
    portfolio=None,
    profile=None,
    skip_invalid: bool = False,
) -> ImportJob:
    """Keep an uploaded file (a Django ``File``/``UploadedFile`` or a path) as a pending job.

    Raises ``ImportSetupError`` for an unknown kind, a portfolio or profile that does not
    fit. A file over ``RECOBRO_IMPORT_MAX_BYTES`` is refused without being read or stored:
    the job is returned already failed, with the reason.
    """
    check_request(organization=organization, kind=kind, portfolio=portfolio, profile=profile)
    actor = import_actor(actor)
    size = _size_of(file)
    job = ImportJob(
        organization=organization,
        portfolio=portfolio,
        kind=kind,
        profile=profile,
        file_name=(file_name or "import")[:255],
        file_size=size,
        skip_invalid=skip_invalid,
        created_by=actor.user,
        actor_label=actor.display()[:200],
    )
    limit = settings.RECOBRO_IMPORT_MAX_BYTES
    if size > limit:
        problem = RowError(0, "", "too_large", too_large(size, limit))
        with transaction.atomic():
            job.save()
            _record_failure(job, [problem])
        return job
    with transaction.atomic():
        if isinstance(file, str | os.PathLike):
            with open(file, "rb") as fh:
                job.file.save(Path(job.file_name).name, File(fh), save=False)
        else:
            if hasattr(file, "seek"):
                file.seek(0)
            job.file.save(Path(job.file_name).name, file, save=False)
        job.save()
    return job


def start_import(job: ImportJob) -> None:
    """Run the job in the background once the current transaction commits (inline when
    Celery is eager, the embedded default)."""
    if job.status != ImportStatus.PENDING:
        return

    def enqueue() -> None:
        from recobro.portfolio.tasks import run_import_task

        result = run_import_task.delay(job.pk)
        ImportJob.objects.filter(pk=job.pk, task_id="").update(task_id=(result.id or "")[:64])

    transaction.on_commit(enqueue)


def run_import(job: ImportJob, *, progress: Callable[[int, int], None] | None = None) -> ImportJob:
    """Run a pending job now. Progress (rows read, rows expected) is committed to the job as
    it goes and passed to ``progress``; the ledger is written in one transaction at the end.
    A job that is not pending (already run, or running elsewhere) is returned as it is."""
    claimed = ImportJob.objects.filter(pk=job.pk, status=ImportStatus.PENDING).update(
        status=ImportStatus.RUNNING, started_at=now()
    )
    job.refresh_from_db()
    if not claimed:
        return job
    try:
        FileImport(job, progress).run()
    except FileProblem as problem:
        _record_failure(job, problem.errors)
    except Exception as exc:
        logger.exception("import job %s failed", job.pk)
        job.refresh_from_db(fields=["status"])
        if job.status in (ImportStatus.SUCCEEDED, ImportStatus.PARTIAL):
            _record_error_after_write(job, exc)  # the rows are committed: say so
        else:
            _record_failure(
                job,
                [
                    RowError(
                        0,
                        "",
                        "internal_error",
                        _("The import stopped on an unexpected error (%(error)s); nothing was written.")
                        % {"error": exc.__class__.__name__},
                    )
                ],
            )
    job.refresh_from_db()
    return job


def _record_error_after_write(job: ImportJob, exc: Exception) -> None:
    """An unexpected error after the rows were committed (recomputing cases): the job keeps
    its status and counts, and says what stopped."""
    message = _(
        "The rows were written, but what follows the import stopped on an unexpected error (%(error)s); "
        "the cases of these debtors are recomputed at the next refresh."
    ) % {"error": exc.__class__.__name__}
    with transaction.atomic():
        ImportIssue.objects.create(job=job, code="internal_error", message=message[:500])
        job.message = f"{job.message} {message}".strip()
        job.save(update_fields=["message"])
        events.publish(events.IMPORT_FINISHED, organization=job.organization, job=job)


def _record_failure(job: ImportJob, errors: list[RowError]) -> None:
    with transaction.atomic():
        ImportIssue.objects.bulk_create(
            ImportIssue(
                job=job,
                line=e.row or None,
                column=e.field[:100],
                value=e.value[:300],
                code=e.code[:40],
                message=e.message[:500],
            )
            for e in errors
        )
        job.status = ImportStatus.FAILED
        job.finished_at = now()
        job.message = " ".join(e.message for e in errors)
        job.save(update_fields=["status", "finished_at", "message"])
        events.publish(events.IMPORT_FINISHED, organization=job.organization, job=job)


__all__ = ["FIELDS", "FINISHED", "create_job", "run_import", "start_import"]
