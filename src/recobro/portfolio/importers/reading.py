"""Opening an import file: CSV (encodings, delimiters, line endings) or XLSX, streamed.

A table is read row by row with the line each row starts on, so a 1 GB CSV never sits in
memory and every problem names its line. Problems that stop the whole file (wrong
encoding, an unterminated quote, not a real XLSX) raise ``FileProblem``.
"""

import codecs
import contextlib
import csv
import datetime as dt
import io
import itertools
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from django.utils.translation import gettext as _

from recobro.portfolio.importers.errors import FileProblem, RowError
from recobro.portfolio.models import FileEncoding

SAMPLE_BYTES = 1024 * 1024
#: The longest field a CSV may have; longer means a quote was never closed.
FIELD_LIMIT = 131_072
DETECTED_DELIMITERS = (",", ";", "\t", "|")
#: Single-cell rows (report titles) skipped at most before the header.
TITLE_ROWS = 10

_ZIP_MAGIC = b"PK\x03\x04"
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Excel 97-2003 .xls
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)

csv.field_size_limit(FIELD_LIMIT)


def _problem(code: str, message: str, line: int = 0) -> FileProblem:
    return FileProblem(RowError(line, "", code, message))


@dataclass
class Table:
    """A header and an iterator of (line, cells) for the rows after it."""

    header: list[str]
    header_line: int
    rows: Iterator[tuple[int, list[Any]]]
    estimated_rows: int | None
    delimiter: str = ","
    encoding: str = ""
    is_xlsx: bool = False
    title_lines: list[int] = field(default_factory=list)  # lines above the header, skipped
    _closers: list = field(default_factory=list)

    def close(self) -> None:
        for close in self._closers:
            close()


def open_table(
    fh: BinaryIO, *, file_name: str, encoding: str | None = None, delimiter: str | None = None
) -> Table:
    """Open ``fh`` (binary, seekable) as CSV or XLSX. ``encoding``/``delimiter`` come from
    the mapping profile; without them UTF-8 is read and the delimiter is detected."""
    head = fh.read(8)
    fh.seek(0)
    lower = file_name.lower()
    if head.startswith(_OLE2_MAGIC) or lower.endswith(".xls"):
        raise _problem(
            "old_excel",
            _("“%(name)s” is an Excel 97-2003 (.xls) file. Save it as .xlsx or as CSV and upload it again.")
            % {"name": file_name},
        )
    if head.startswith(_ZIP_MAGIC) or lower.endswith((".xlsx", ".xlsm")):
        return _open_xlsx(fh, file_name)
    return _open_csv(fh, encoding=encoding, delimiter=delimiter)


def _filled(cells: list[Any]) -> int:
    return sum(1 for c in cells if c is not None and (not isinstance(c, str) or c.strip()))


def _find_header(rows: Iterator[tuple[int, list[Any]]]) -> tuple[int, list[str], list[int], Iterator]:
    """The header is the first row with two or more values: every kind has at least two
    required columns, so a single-cell row above it is a report title ("Cartera al 31/03")."""
    seen: list[tuple[int, list[Any]]] = []
    chosen = None
    for line, cells in rows:
        seen.append((line, cells))
        filled = _filled(cells)
        if filled >= 2:
            chosen = len(seen) - 1
            break
        if sum(1 for _line, c in seen if _filled(c)) > TITLE_ROWS:
            break
    if chosen is None:
        chosen = next((i for i, (_line, c) in enumerate(seen) if _filled(c)), None)
    if chosen is None:
        return 0, [], [], rows
    header_line, cells = seen[chosen]
    header = ["" if c is None else str(c).strip() for c in cells]
    titles = [line for line, c in seen[:chosen] if _filled(c)]
    return header_line, header, titles, itertools.chain(seen[chosen + 1 :], rows)


# --- CSV ------------------------------------------------------------------------------


def _codec(encoding: str | None) -> str:
    if not encoding or encoding == FileEncoding.UTF8:
        return "utf-8-sig"
    if encoding == FileEncoding.CP1252:
        return "cp1252"
    return encoding


def _encoding_name(codec: str) -> str:
    return "UTF-8" if codec == "utf-8-sig" else "Windows-1252 (Latin-1)"


def detect_delimiter(header_line: str) -> str:
    """The delimiter that splits the header line most, outside quotes; comma on a tie."""
    counts = dict.fromkeys(DETECTED_DELIMITERS, 0)
    quoted = False
    for ch in header_line:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in counts:
            counts[ch] += 1
    best = max(DETECTED_DELIMITERS, key=lambda d: (counts[d], d == ","))
    return best if counts[best] else ","


def _open_csv(fh: BinaryIO, *, encoding: str | None, delimiter: str | None) -> Table:
    sample = fh.read(SAMPLE_BYTES)
    fh.seek(0)
    if sample.startswith(_UTF16_BOMS):
        raise _problem(
            "utf16",
            _(
                "The file is in UTF-16 (Excel's “Unicode text”). Save it as “CSV UTF-8” or as .xlsx and "
                "upload it again."
            ),
        )
    if not sample.lstrip(codecs.BOM_UTF8).strip():
        raise _problem("empty_file", _("The file is empty."))
    if b"\x00" in sample:
        line = sample[: sample.index(b"\x00")].count(b"\n") + 1
        raise _problem(
            "binary_file",
            _("Line %(line)s contains NUL bytes: this is not a CSV text file.") % {"line": line},
            line,
        )
    codec = _codec(encoding)
    if codec == "cp1252" and not sample.isascii():
        try:
            codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        except UnicodeDecodeError:
            pass
        else:
            raise _problem(
                "encoding",
                _(
                    "The file is in UTF-8, but the import profile says Windows-1252: its accents would be "
                    "misread. Choose UTF-8 in the profile."
                ),
            )
    first_line = sample.decode(codec, errors="replace").splitlines()[0] if sample else ""
    delimiter = delimiter or detect_delimiter(first_line)
    estimated = _count_lines(fh)
    text = io.TextIOWrapper(fh, encoding=codec, errors="strict", newline="")
    reader = csv.reader(text, delimiter=delimiter, strict=True)
    rows = _csv_rows(reader, fh, codec)
    header_line, header, titles, rows = _find_header(rows)
    if not header:
        raise _problem("empty_file", _("The file is empty."))
    return Table(
        header=header,
        header_line=header_line,
        rows=rows,
        title_lines=titles,
        estimated_rows=max(estimated - header_line, 0),
        delimiter=delimiter,
        encoding=encoding or FileEncoding.UTF8,
        _closers=[text.close],
    )


def _count_lines(fh: BinaryIO) -> int:
    """Lines in the file, for the progress bar (a quoted field with line breaks counts more)."""
    count, last = 0, b"\n"
    while chunk := fh.read(4 * 1024 * 1024):
        count += chunk.count(b"\n")
        last = chunk[-1:]
    fh.seek(0)
    return count + (last != b"\n")


def _csv_rows(reader, fh: BinaryIO, codec: str) -> Iterator[tuple[int, list[str]]]:
    line = 1  # where the next record starts: a quoted field may span lines
    try:
        for cells in reader:
            yield line, cells
            line = reader.line_num + 1
    except UnicodeDecodeError:
        raise _decode_problem(fh, codec) from None
    except csv.Error as exc:
        detail = str(exc)
        if "unexpected end of data" in detail:
            message = _(
                "Line %(line)s: a quoted field is never closed (unterminated quote); the file may be "
                "truncated."
            )
        elif "field larger than field limit" in detail:
            message = _(
                "Line %(line)s: a field is longer than %(limit)s characters; a quote is probably never "
                "closed."
            )
        else:
            message = _("Line %(line)s is malformed: a quote inside a field is not doubled (%(detail)s).")
        raise _problem(
            "malformed", message % {"line": line, "limit": f"{FIELD_LIMIT:,}", "detail": detail}, line
        ) from None


def _decode_problem(fh: BinaryIO, codec: str) -> FileProblem:
    """Find the first line that does not decode, to name it."""
    fh.seek(0)
    for number, raw in enumerate(fh, start=1):
        try:
            raw.decode(codec if number == 1 else codec.replace("-sig", ""))
        except UnicodeDecodeError as exc:
            bad = " ".join(f"0x{b:02X}" for b in exc.object[exc.start : exc.end])
            if codec == "utf-8-sig":
                message = _(
                    "Line %(line)s is not valid UTF-8 (bytes %(bytes)s). The file is probably in "
                    "Windows-1252 (Latin-1): choose that encoding in an import profile and upload it again."
                )
            else:
                message = _("Line %(line)s has bytes that are not valid %(encoding)s (%(bytes)s).")
            return _problem(
                "encoding",
                message % {"line": number, "bytes": bad, "encoding": _encoding_name(codec)},
                number,
            )
    return _problem(
        "encoding", _("The file is not valid %(encoding)s.") % {"encoding": _encoding_name(codec)}
    )


# --- XLSX -----------------------------------------------------------------------------


def _open_xlsx(fh: BinaryIO, file_name: str) -> Table:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = load_workbook(fh, read_only=True, data_only=False)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError, TypeError) as exc:
        raise _problem(
            "not_xlsx",
            _(
                "“%(name)s” is not a valid XLSX workbook (%(detail)s). "
                "Save it again from Excel as .xlsx or CSV."
            )
            % {"name": file_name, "detail": exc.__class__.__name__},
        ) from None
    if not workbook.worksheets:
        workbook.close()
        raise _problem("empty_file", _("The workbook has no sheets."))
    sheet = workbook.worksheets[0]
    rows = _xlsx_rows(sheet)
    with contextlib.ExitStack() as on_error:  # closes the workbook if the header cannot be read
        on_error.callback(workbook.close)
        header_line, header, titles, rows = _find_header(rows)
        on_error.pop_all()
    while header and not header[-1]:
        header.pop()
    if not header:
        workbook.close()
        raise _problem("empty_file", _("The first sheet of the workbook is empty."))
    estimated = (sheet.max_row - header_line) if sheet.max_row else None
    return Table(
        header=header,
        header_line=header_line,
        rows=rows,
        estimated_rows=estimated,
        title_lines=titles,
        is_xlsx=True,
        _closers=[workbook.close],
    )


def _xlsx_rows(sheet) -> Iterator[tuple[int, list[Any]]]:
    try:
        for line, values in enumerate(sheet.iter_rows(min_row=1, values_only=True), start=1):
            yield line, [_xlsx_value(v) for v in values]
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError, OSError) as exc:
        raise _problem(
            "not_xlsx",
            _("The workbook is damaged and cannot be read to the end (%(detail)s).")
            % {"detail": exc.__class__.__name__},
        ) from None


def _xlsx_value(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float):
        return value
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value
    text = getattr(value, "text", None)  # ArrayFormula and friends
    return str(text if text is not None else value)
