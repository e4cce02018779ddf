"""The errors of an import as a CSV a person can fix and upload again.

Each invalid row comes back with its original cells, in the file's delimiter, followed by
``recobro_line``, ``recobro_column`` and ``recobro_reason``. The import ignores those three
columns, so the corrected file can be uploaded as it is. Problems of the whole file (a
missing column, a wrong encoding) come first, with empty cells.
"""

import csv
import datetime as dt
import io
from decimal import Decimal
from typing import Any

from recobro.portfolio.importers.errors import FileProblem
from recobro.portfolio.importers.fields import REPORT_COLUMNS
from recobro.portfolio.importers.files import open_job_file, open_job_table
from recobro.portfolio.importers.formats import number_from_cell
from recobro.portfolio.models import ImportJob, NumberFormat


def issues_csv(job: ImportJob) -> str:
    """The job's errors (not its warnings) with the rows they are about."""
    by_line: dict[int, list[tuple[str, str]]] = {}
    general: list[tuple[int | None, str, str]] = []
    for line, column, message in (
        job.issues.filter(is_warning=False).order_by("line", "id").values_list("line", "column", "message")
    ):
        if line:
            by_line.setdefault(line, []).append((column, message))
        else:
            general.append((line, column, message))

    header: list[str] = []
    delimiter = ","
    rows: list[list[Any]] = []
    comma = job.profile is not None and job.profile.number_format == NumberFormat.COMMA_DECIMAL
    if job.file and by_line:
        try:
            fh = open_job_file(job)
        except OSError:
            fh = None
        if fh is not None:
            try:
                table = open_job_table(job, fh)
                header, delimiter = table.header, table.delimiter
                if table.header_line in by_line:
                    general[:0] = [(table.header_line, c, m) for c, m in by_line.pop(table.header_line)]
                last = max(by_line, default=0)
                try:
                    for line, cells in table.rows:
                        if line > last:
                            break
                        if line in by_line:
                            problems = by_line.pop(line)
                            rows.append(
                                [_text(c, comma) for c in cells]
                                + [
                                    line,
                                    "; ".join(dict.fromkeys(c for c, _m in problems if c)),
                                    " ".join(m for _c, m in problems),
                                ]
                            )
                finally:
                    table.close()
            except FileProblem:
                pass
            finally:
                fh.close()
    # Lines that could not be read back (the file changed, or broke at that line).
    for line, problems in sorted(by_line.items()):
        general.append(
            (line, "; ".join(dict.fromkeys(c for c, _m in problems if c)), " ".join(m for _c, m in problems))
        )

    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow([*header, *REPORT_COLUMNS])
    for line, column, message in general:
        writer.writerow([*([""] * len(header)), line or "", column, message])
    for row in rows:
        if len(row) - 3 < len(header):
            row[-3:-3] = [""] * (len(header) - (len(row) - 3))
        writer.writerow(row)
    return out.getvalue()


def _text(cell: Any, comma: bool) -> str:
    if cell is None:
        return ""
    if isinstance(cell, str):
        return cell
    if isinstance(cell, bool):
        return "true" if cell else "false"
    if isinstance(cell, int | float | Decimal):
        text = str(number_from_cell(cell) if not isinstance(cell, Decimal) else cell)
        return text.replace(".", ",") if comma else text
    if isinstance(cell, dt.datetime):
        return cell.date().isoformat() if cell.time() == dt.time() else cell.isoformat(sep=" ")
    if isinstance(cell, dt.date):
        return cell.isoformat()
    return str(cell)
