"""Reading one job's file into a batch: rows, blank lines, totals rows, progress; on
PostgreSQL in a second thread while the first writes (see ``FileImport``)."""

import logging
import queue
import sys
import threading
import time
from collections.abc import Callable
from decimal import Decimal
from operator import itemgetter
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection, connections, transaction
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from recobro.core import events
from recobro.core.audit import Actor
from recobro.core.clock import now
from recobro.core.models import AuditSource
from recobro.portfolio.importers.batch import NEEDS_DEBTORS, Batch
from recobro.portfolio.importers.errors import FileProblem, RowError
from recobro.portfolio.importers.fields import AMOUNT, ColumnPlan, plan_columns
from recobro.portfolio.importers.formats import fold, is_formula, looks_like_amount
from recobro.portfolio.importers.reading import Table, detect_delimiter, open_table
from recobro.portfolio.importers.targets import copy_text
from recobro.portfolio.importers.upsert import Written
from recobro.portfolio.importers.validation import DebtorLookup, RowValidator, cell_text
from recobro.portfolio.models import (
    DateFormat,
    ImportIssue,
    ImportJob,
    ImportKind,
    ImportStatus,
    NumberFormat,
)

logger = logging.getLogger(__name__)

#: First words of the label of a totals row, compared without case, accents or spaces.
TOTALS_WORDS = ("total", "subtotal", "grantotal", "sumatotal", "suma", "totales")


def _human_size(size: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:,.0f} {unit}" if unit == "bytes" else f"{size:,.1f} {unit}"
        size /= 1024
    return str(size)  # pragma: no cover


def too_large(size: int, limit: int) -> str:
    return _(
        "The file is %(size)s, over the %(limit)s limit for one import. Split it into smaller files."
    ) % {
        "size": _human_size(size),
        "limit": _human_size(limit),
    }


def open_job_file(job: ImportJob):
    """The stored file as a binary, seekable file object (caller closes it)."""
    stored = job.file.storage.open(job.file.name, "rb")
    return getattr(stored, "file", stored)


def open_job_table(job: ImportJob, fh) -> Table:
    profile = job.profile
    return open_table(
        fh,
        file_name=job.file_name,
        encoding=profile.encoding if profile else None,
        delimiter=profile.delimiter if profile else None,
    )


class FileImport:
    """Reads a job's file row by row into a batch, then applies it."""

    def __init__(self, job: ImportJob, progress: Callable[[int, int], None] | None):
        self.job = job
        self.progress = progress
        self.organization = job.organization
        self.rows_read = 0
        self.ignored = 0
        self.pipelined = False
        self.db_progress = True
        self.warnings: list[RowError] = []

    def run(self) -> None:
        job = self.job
        limit = settings.RECOBRO_IMPORT_MAX_BYTES
        if not job.file:
            raise FileProblem(RowError(0, "", "no_file", _("The job has no file.")))
        size = job.file.size
        if size > limit:
            raise FileProblem(RowError(0, "", "too_large", too_large(size, limit)))
        fh = open_job_file(job)
        try:
            table = open_job_table(job, fh)
            try:
                try:
                    plan = plan_columns(
                        table.header,
                        kind=job.kind,
                        column_map=job.profile.column_map if job.profile else None,
                    )
                except FileProblem as problem:
                    raise FileProblem(*_delimiter_hint(table), *problem.errors) from None
                self._import(table, plan)
            finally:
                table.close()
        finally:
            fh.close()

    def _import(self, table: Table, plan: ColumnPlan) -> None:
        job, profile = self.job, self.job.profile
        debtors = DebtorLookup(self.organization)
        if job.kind in NEEDS_DEBTORS:
            debtors.load_all()
        validator = RowValidator(
            organization=self.organization,
            kind=job.kind,
            portfolio=job.portfolio,
            present=plan.present,
            debtors=debtors,
            number_format=profile.number_format if profile else NumberFormat.DOT_DECIMAL,
            date_format=profile.date_format if profile else DateFormat.ISO,
        )
        labels = {spec.name: plan.header[index] for index, spec in plan.columns}

        def label(name: str) -> str:
            return labels.get(name, name)

        expected = table.estimated_rows or 0
        for line in table.title_lines:
            self.ignored += 1
            self.rows_read += 1
            self.warnings.append(
                RowError(
                    line,
                    "",
                    "title_row",
                    _("Line %(line)s, above the header, looks like a title; it was skipped.")
                    % {"line": line},
                )
            )
        self._report(0, expected)
        with Batch(
            organization=self.organization,
            kind=job.kind,
            portfolio=job.portfolio,
            actor=Actor(
                source=AuditSource.IMPORT,
                user=job.created_by,
                label=job.actor_label or (job.created_by.get_username() if job.created_by else "import"),
            ),
            job_id=job.pk,
        ) as batch:
            group = batch.staging.group_for(plan.present)
            if _pipelined(job):
                written = self._import_pipelined(table, plan, validator, batch, group, label, expected)
                self._announce(written)
                return
            started = time.monotonic()
            self._read(table, plan, validator, batch, group, label, expected)
            logger.info(
                "import %s: %s rows read and validated in %.1f s (%s valid)",
                job.pk,
                self.rows_read,
                time.monotonic() - started,
                batch.valid,
            )
            started = time.monotonic()
            self._check_not_empty(table, batch)
            written = batch.apply(
                skip_invalid=job.skip_invalid,
                label=label,
                finish=lambda written: self._finish(batch, written),
            )
            logger.info("import %s: written in %.1f s", job.pk, time.monotonic() - started)
        self._announce(written)

    def _announce(self, written: Written | None) -> None:
        """Tell the layers above, once the documents and their cases are stored."""
        with transaction.atomic():
            if written is not None and written.cases_stale:
                message = _(
                    "The documents were imported, but their cases could not be recomputed; they will be "
                    "at the next refresh."
                )
                ImportIssue.objects.create(
                    job=self.job, code="cases_not_refreshed", message=message, is_warning=True
                )
                self.job.message = f"{self.job.message} {message}"
                self.job.save(update_fields=["message"])
            events.publish(events.IMPORT_FINISHED, organization=self.job.organization, job=self.job)

    @staticmethod
    def _check_not_empty(table: Table, batch: Batch) -> None:
        if batch.valid + len(batch.invalid) == 0:
            raise FileProblem(
                RowError(table.header_line, "", "no_rows", _("The file has a header but no rows to import."))
            )

    def _import_pipelined(self, table, plan, validator, batch, group, label, expected) -> Written | None:
        """Read in a second thread while this one writes each chunk as it comes (PostgreSQL).

        Python's reading and validating and the database's writing then run side by side on
        two cores. When invalid rows are to be skipped, the keys the file repeats are found
        first (a quick pass over one column), so no row is written that a later duplicate
        makes invalid."""
        # Without skip_invalid a repeated key rejects the whole file, and what was written is
        # rolled back: no need to know repeated keys before writing. With it, they must be
        # known first, so that neither of the rows is written.
        batch.hold = self._repeated_keys(plan) if self.job.skip_invalid else None
        batch.chunk_rows = PIPELINE_CHUNK_ROWS
        self.pipelined = True
        chunks: queue.Queue = queue.Queue(maxsize=2)
        stop = threading.Event()
        batch.sink = lambda rows: _put(chunks, (copy_text(rows), len(rows)), stop)
        language = translation.get_language()
        started = time.monotonic()

        def produce() -> None:
            try:
                with translation.override(language):
                    self._read(table, plan, validator, batch, group, label, expected)
                    batch.release_held(label)
                    batch.flush()
                    self._check_not_empty(table, batch)
                logger.info(
                    "import %s: %s rows read and validated in %.1f s (%s valid)",
                    self.job.pk,
                    self.rows_read,
                    time.monotonic() - started,
                    batch.valid,
                )
                _put(chunks, _DONE, stop)
            except _Stopped:
                pass
            except BaseException as exc:  # handed to the writing thread, which raises it
                _put(chunks, exc, stop, give_up=False)
            finally:
                connections.close_all()  # this thread's connection (progress updates)

        def consume():
            while True:
                item = chunks.get()
                if item is _DONE:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item

        reader = threading.Thread(target=produce, name=f"import-{self.job.pk}-reader", daemon=True)
        interval = sys.getswitchinterval()
        # The reading thread is busy in Python; each time a statement returns, the writing
        # thread needs the interpreter back to send the next one. Hand it over sooner than
        # the default 5 ms so the database is not left idle.
        sys.setswitchinterval(SWITCH_INTERVAL_S)
        reader.start()
        try:
            written = batch.apply_stream(
                consume(),
                skip_invalid=self.job.skip_invalid,
                label=label,
                finish=lambda written: self._finish(batch, written),
            )
        finally:
            stop.set()
            reader.join()
            sys.setswitchinterval(interval)
        logger.info("import %s: read and written in %.1f s", self.job.pk, time.monotonic() - started)
        return written

    def _repeated_keys(self, plan: ColumnPlan) -> set[str]:
        """External ids that appear on more than one row of the file (one quick pass)."""
        index = next(i for i, spec in plan.columns if spec.name == "external_id")
        seen: set[str] = set()
        repeated: set[str] = set()
        fh = open_job_file(self.job)
        try:
            table = open_job_table(self.job, fh)
            try:
                for _line, cells in table.rows:
                    if index < len(cells):
                        key = cell_text(cells[index])
                        if key in seen:
                            repeated.add(key)
                        else:
                            seen.add(key)
            finally:
                table.close()
        finally:
            fh.close()
        return repeated

    def _read(self, table, plan, validator, batch, group, label, expected) -> None:
        width = len(plan.header)
        by_name = {spec.name: index for index, spec in plan.columns}
        pick = _getter([by_name[name] for name in validator.names])
        identity = _getter([index for index, spec in plan.columns if spec.required and spec.type != AMOUNT])
        unnamed = plan.unnamed
        is_xlsx = table.is_xlsx
        blank_from = blank_to = 0
        step = max(10_000, expected // 50)  # at most some fifty progress updates per file
        next_report = step
        for line, cells in table.rows:
            self.rows_read += 1
            if self.rows_read >= next_report:
                self._report(self.rows_read, max(expected, self.rows_read))
                next_report += step
            if _is_blank(cells, is_xlsx):
                if not blank_from:
                    blank_from = line
                blank_to = line
                self.ignored += 1
                continue
            if blank_from:
                self._blank_warning(blank_from, blank_to)
                blank_from = 0
            count = len(cells)
            mismatch = False
            if count != width:
                if count > width:
                    mismatch = any(not _blank_cell(c) for c in cells[width:])
                    cells = cells[:width]
                else:
                    mismatch = not is_xlsx
                    cells = cells + [None if is_xlsx else ""] * (width - count)
            ids = identity(cells)
            if (not all(ids) or None in ids) and self._is_totals(cells):
                self.ignored += 1
                self.warnings.append(
                    RowError(
                        line,
                        "",
                        "totals_row",
                        _("Line %(line)s looks like a totals row; it was not imported.") % {"line": line},
                    )
                )
                continue
            if mismatch:
                batch.reject(
                    line,
                    "",
                    "field_count",
                    ngettext(
                        "Line %(line)s has %(count)s field; the header has %(width)s.",
                        "Line %(line)s has %(count)s fields; the header has %(width)s.",
                        count,
                    )
                    % {"line": line, "count": count, "width": width},
                )
                continue
            stray = [i for i in unnamed if not _blank_cell(cells[i])] if unnamed else None
            if stray:
                batch.reject(
                    line,
                    _("column %(number)s") % {"number": stray[0] + 1},
                    "unnamed_column",
                    _("A value is in a column with no header (column %(number)s).")
                    % {"number": stray[0] + 1},
                    cells[stray[0]],
                )
                continue
            record, problems = validator.check(pick(cells))
            if problems:
                batch.reject_problems(line, problems, label)
            else:
                batch.accept(line, group, record, label)
        if blank_from:
            self._blank_warning(blank_from, blank_to)
        self._report(self.rows_read, self.rows_read)

    @staticmethod
    def _is_totals(cells: list) -> bool:
        """A row with a "Total…" label, or with nothing but amounts, and no identity."""
        for cell in cells:
            if _blank_cell(cell):
                continue
            if isinstance(cell, str):
                if looks_like_amount(cell) or is_formula(cell):
                    continue
                return fold(cell).startswith(TOTALS_WORDS)
            if isinstance(cell, bool) or not isinstance(cell, int | float | Decimal):
                return False
        return True

    def _blank_warning(self, first: int, last: int) -> None:
        if first == last:
            message = _("Line %(line)s is blank; it was skipped.") % {"line": first}
        else:
            message = _("Lines %(first)s to %(last)s are blank; they were skipped.") % {
                "first": first,
                "last": last,
            }
        self.warnings.append(RowError(first, "", "blank_line", message))

    def _report(self, done: int, total: int) -> None:
        if self.db_progress:
            if threading.current_thread() is threading.main_thread() or not self.pipelined:
                ImportJob.objects.filter(pk=self.job.pk).update(processed_rows=done, total_rows=total)
            else:
                self._report_from_reader(done, total)
        if self.progress is not None:
            self.progress(done, total)

    def _report_from_reader(self, done: int, total: int) -> None:
        """Progress from the reading thread's own connection. Should the job's row be locked
        by the writing transaction (run_import called inside a transaction), give up on
        progress rather than wait for a transaction that waits for this thread."""
        try:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL lock_timeout = '200ms'", [])
                ImportJob.objects.filter(pk=self.job.pk).update(processed_rows=done, total_rows=total)
        except DatabaseError:
            self.db_progress = False

    def _finish(self, batch: Batch, written: Written | None) -> None:
        job = self.job
        invalid = len(batch.invalid)
        job.total_rows = job.processed_rows = self.rows_read
        job.invalid_count = invalid
        job.ignored_count = self.ignored
        job.finished_at = now()
        if written is None:
            job.status = ImportStatus.REJECTED
            job.message = ngettext(
                "%(count)s invalid row: nothing was written. Fix it (download the errors as CSV) or "
                "import again skipping invalid rows.",
                "%(count)s invalid rows: nothing was written. Fix them (download the errors as CSV) or "
                "import again skipping invalid rows.",
                invalid,
            ) % {"count": f"{invalid:,}"}
        else:
            job.created_count, job.updated_count = written.created, written.updated
            job.unchanged_count = written.unchanged
            job.status = ImportStatus.PARTIAL if invalid else ImportStatus.SUCCEEDED
            # Labels, not "N created": each count would need its own plural agreement.
            job.message = _("Created: %(created)s · updated: %(updated)s · unchanged: %(unchanged)s.") % {
                "created": f"{written.created:,}",
                "updated": f"{written.updated:,}",
                "unchanged": f"{written.unchanged:,}",
            }
            if invalid:
                job.message += " " + ngettext(
                    "%(count)s invalid row was skipped.", "%(count)s invalid rows were skipped.", invalid
                ) % {"count": f"{invalid:,}"}
        if invalid > len(batch.errors):
            shown = len(batch.errors)
            job.message += " " + ngettext(
                "Only the first problem is listed.", "Only the first %(shown)s problems are listed.", shown
            ) % {"shown": f"{shown:,}"}
        issues = [
            ImportIssue(
                job=job,
                line=e.row or None,
                column=e.field[:100],
                value=e.value[:300],
                code=e.code[:40],
                message=e.message[:500],
                is_warning=warning,
            )
            for warning, group in ((False, batch.errors), (True, self.warnings))
            for e in group
        ]
        ImportIssue.objects.bulk_create(issues, batch_size=2000)
        job.save(
            update_fields=[
                "status",
                "finished_at",
                "message",
                "total_rows",
                "processed_rows",
                "created_count",
                "updated_count",
                "unchanged_count",
                "invalid_count",
                "ignored_count",
            ]
        )


def _delimiter_hint(table: Table) -> list[RowError]:
    """When the whole header is one column, the delimiter is probably wrong: say which fits."""
    if table.is_xlsx or len([h for h in table.header if h]) != 1:
        return []
    found = detect_delimiter(table.header[0])
    if found == table.delimiter or found not in table.header[0]:
        return []
    names = {",": _("comma"), ";": _("semicolon"), "\t": _("tab"), "|": _("pipe")}
    return [
        RowError(
            table.header_line,
            "",
            "delimiter",
            _(
                "The header is a single column; the file seems to be separated by %(found)s, not %(used)s. "
                "Set the delimiter of the import profile."
            )
            % {"found": names[found], "used": names.get(table.delimiter, table.delimiter)},
        )
    ]


#: Rows per chunk when reading and writing run side by side: each chunk costs a dozen
#: statements (stage, link, write, audit); 50,000 rows keep that under 3% of the time while
#: the chunk in the queue holds about 20 MB.
PIPELINE_CHUNK_ROWS = 50_000

_DONE = object()
SWITCH_INTERVAL_S = 0.0005


class _Stopped(Exception):
    """The writing thread gave up: the reading thread stops."""


def _pipelined(job: ImportJob) -> bool:
    """Kinds keyed by external id, on PostgreSQL: there progress can be committed from the
    reading thread while the writing one holds its transaction (SQLite has one writer)."""
    return connection.vendor == "postgresql" and job.kind != ImportKind.CONTACT_POINTS


def _put(chunks: queue.Queue, item: Any, stop: threading.Event, give_up: bool = True) -> None:
    while True:
        if stop.is_set():
            if give_up:
                raise _Stopped
            return
        try:
            chunks.put(item, timeout=0.2)
            return
        except queue.Full:
            continue


def _getter(indexes: list[int]) -> Callable[[list], tuple]:
    """The cells at ``indexes`` as a tuple (``itemgetter`` returns a bare value for one index)."""
    if len(indexes) == 1:
        only = indexes[0]
        return lambda cells: (cells[only],)
    if not indexes:
        return lambda cells: ()
    return itemgetter(*indexes)


def _blank_cell(cell: Any) -> bool:
    return cell is None or (type(cell) is str and (not cell or cell.isspace()))


def _is_blank(cells: list, is_xlsx: bool) -> bool:
    if not is_xlsx:
        return not "".join(cells).strip()
    return all(_blank_cell(c) for c in cells)
