"""The aging report as files people open: XLSX (openpyxl) and CSV.

XLSX: headers in the requested locale's language, amounts as numbers with a number format
of the currency's decimals, shares as numbers with two decimals, the date as a real date
cell formatted for the locale. CSV: headers in the active language, plain numbers with a
dot decimal and ISO dates, for machines as much as for people.

Text that comes from users (portfolio names, bucket labels) is never written as a formula:
cells are typed as strings, and CSV fields that a spreadsheet would evaluate are prefixed
with an apostrophe.
"""

import csv
import io
import re

from babel.dates import format_date, get_date_format
from django.utils import translation
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from recobro.core.money import minor_units
from recobro.portfolio.queries import AGING_COLUMNS, AgingReport

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _babel_locale(locale: str) -> str:
    return (locale or "es").replace("-", "_")


def _language(locale: str) -> str:
    return (locale or "es").replace("_", "-").split("-")[0].lower()


def excel_date_format(locale: str) -> str:
    """The locale's short date pattern as an Excel number format, with a four-digit year."""
    pattern = get_date_format("short", locale=_babel_locale(locale)).pattern
    pattern = re.sub(r"y+", "yyyy", pattern)
    pattern = re.sub(r"M+", "mm", pattern)
    pattern = re.sub(r"d+", "dd", pattern)
    return pattern


def money_format(currency: str) -> str:
    places = minor_units(currency)
    return "#,##0" if places == 0 else "#,##0." + "0" * places


def _text(cell, value: str) -> None:
    cell.value = value
    cell.data_type = "s"  # never a formula, whatever the text starts with


def aging_report_xlsx(report: AgingReport, locale: str) -> bytes:
    """The aging report as an .xlsx workbook, headers and date in ``locale`` (e.g. "es-MX")."""
    with translation.override(_language(locale)):
        wb = Workbook()
        ws = wb.active
        ws.title = _("Aging")[:31]
        bold = Font(bold=True)

        _text(ws.cell(row=1, column=1), aging_report_title(report, locale))
        ws.cell(row=1, column=1).font = Font(bold=True, size=14)
        _text(ws.cell(row=2, column=1), report.organization)
        _text(ws.cell(row=3, column=1), _("As of"))
        date_cell = ws.cell(row=3, column=2, value=report.as_of)
        date_cell.number_format = excel_date_format(locale)
        date_cell.alignment = Alignment(horizontal="left")

        header_row = 5
        for col, (_key, header) in enumerate(AGING_COLUMNS, start=1):
            cell = ws.cell(row=header_row, column=col)
            _text(cell, str(header))
            cell.font = bold
        share_format = "0.00"
        row = header_row + 1
        totals = {t.portfolio_id: t for t in report.totals}
        for total in report.totals:
            amount_format = money_format(total.currency)
            for line in report.rows_for(total.portfolio_id):
                _text(ws.cell(row=row, column=1), line.portfolio)
                _text(ws.cell(row=row, column=2), line.currency)
                _text(ws.cell(row=row, column=3), line.bucket)
                _text(ws.cell(row=row, column=4), line.label)
                ws.cell(row=row, column=5, value=line.documents)
                ws.cell(row=row, column=6, value=line.debtors)
                ws.cell(row=row, column=7, value=line.balance).number_format = amount_format
                ws.cell(row=row, column=8, value=line.share).number_format = share_format
                row += 1
            total = totals[total.portfolio_id]
            _text(ws.cell(row=row, column=1), total.portfolio)
            _text(ws.cell(row=row, column=2), total.currency)
            _text(ws.cell(row=row, column=4), _("Total"))
            ws.cell(row=row, column=5, value=total.documents)
            ws.cell(row=row, column=6, value=total.debtors)
            ws.cell(row=row, column=7, value=total.balance).number_format = amount_format
            ws.cell(row=row, column=8, value=total.share).number_format = share_format
            for col in range(1, len(AGING_COLUMNS) + 1):
                ws.cell(row=row, column=col).font = bold
            row += 2
        widths = [32, 9, 10, 14, 12, 10, 18, 20]
        for col, width in enumerate(widths, start=1):
            ws.column_dimensions[get_column_letter(col)].width = width
        ws.freeze_panes = ws.cell(row=header_row + 1, column=1)

        out = io.BytesIO()
        wb.save(out)
        return out.getvalue()


def _csv_text(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_START) else value


def aging_report_csv(report: AgingReport) -> str:
    """The aging report as CSV text (headers in the active language; UTF-8 when encoded).

    One line per portfolio × bucket, then the portfolio's total line (bucket empty, label
    "Total"). The first column is the report's date (ISO 8601).
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([_("As of"), *(str(header) for _key, header in AGING_COLUMNS)])
    as_of = report.as_of.isoformat()
    for total in report.totals:
        for line in report.rows_for(total.portfolio_id):
            writer.writerow(
                [
                    as_of,
                    _csv_text(line.portfolio),
                    line.currency,
                    _csv_text(line.bucket),
                    _csv_text(line.label),
                    line.documents,
                    line.debtors,
                    f"{line.balance:f}",
                    f"{line.share:f}",
                ]
            )
        writer.writerow(
            [
                as_of,
                _csv_text(total.portfolio),
                total.currency,
                "",
                _("Total"),
                total.documents,
                total.debtors,
                f"{total.balance:f}",
                f"{total.share:f}",
            ]
        )
    return out.getvalue()


def aging_report_title(report: AgingReport, locale: str) -> str:
    """ "Aging report as of 31 mar 2026" in the locale, e.g. for a file's title or an e-mail."""
    with translation.override(_language(locale)):
        when = format_date(report.as_of, format="medium", locale=_babel_locale(locale))
        return _("Aging report as of %(date)s") % {"date": when}


def aging_report_filename(report: AgingReport, extension: str) -> str:
    return f"aging-{report.as_of.isoformat()}.{extension}"


__all__ = ["aging_report_csv", "aging_report_filename", "aging_report_title", "aging_report_xlsx"]
