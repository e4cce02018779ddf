"""The import engine: CSV and XLSX files (and the API's already-parsed rows) of debtors,
contact points, documents and payments, validated per row and upserted set-based.

Modules by noun: ``reading`` (files, encodings, delimiters, XLSX), ``formats`` (numbers and
dates), ``fields`` (the columns of each kind and header mapping), ``validation`` (rows),
``targets`` (what each kind writes), ``upsert`` (staging and set-based SQL), ``batch`` (a
set of rows and its one-transaction write; ``upsert_rows``), ``files`` (one file read into a
batch, pipelined on PostgreSQL), ``jobs`` (ImportJob lifecycle), ``report`` (errors as CSV).
"""

from recobro.portfolio.importers.batch import upsert_rows
from recobro.portfolio.importers.errors import FileProblem, ImportSetupError, RowError, UpsertResult
from recobro.portfolio.importers.fields import FIELDS, MAPPING_HELP, FieldSpec
from recobro.portfolio.importers.jobs import FINISHED, create_job, run_import, start_import
from recobro.portfolio.importers.report import issues_csv

__all__ = [
    "FIELDS",
    "FINISHED",
    "MAPPING_HELP",
    "FieldSpec",
    "FileProblem",
    "ImportSetupError",
    "RowError",
    "UpsertResult",
    "create_job",
    "issues_csv",
    "run_import",
    "start_import",
    "upsert_rows",
]
