"""What an import reports: row errors, whole-file problems and setup mistakes."""

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError


@dataclass(frozen=True)
class RowError:
    """One problem with one row.

    ``row`` is the file's line number (the header is line 1) for file imports, and the
    0-based position in ``rows`` for ``upsert_rows``. ``field`` is the column header as it is
    in the file (or the Recobro field name for ``upsert_rows``); empty for the whole row.
    """

    row: int
    field: str
    code: str
    message: str
    value: str = ""


@dataclass
class UpsertResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def invalid(self) -> int:
        return len({e.row for e in self.errors})


class FileProblem(Exception):
    """The file as a whole cannot be imported (encoding, structure, columns, size).

    Carries one or more ``RowError``; ``row`` is the line when one can be named, else 0.
    """

    def __init__(self, *errors: RowError):
        super().__init__("; ".join(e.message for e in errors))
        self.errors = list(errors)


class ImportSetupError(ValidationError):
    """The import was asked for wrongly: unknown kind, portfolio or profile, a kind that needs
    a portfolio without one, too many rows for one API call. Raised before anything is
    stored; the message names what is wrong (a form shows it as a form error)."""
