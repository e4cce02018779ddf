"""A batch: the rows of one import (a file or an API call) on their way into the ledger.

Valid rows are staged in chunks as they come; invalid ones are remembered with their line
(or position), column and reason. ``apply`` then writes everything in one transaction, or
nothing when a row is invalid and invalid rows are not to be skipped. ``upsert_rows`` is
the API's door to the same validation and upsert.
"""

import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.db import DatabaseError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from recobro.core.audit import Actor
from recobro.portfolio import engine, references
from recobro.portfolio.importers.errors import ImportSetupError, RowError, UpsertResult
from recobro.portfolio.importers.fields import (
    ATTRIBUTE_KINDS,
    ATTRIBUTE_PREFIX,
    FIELDS,
    attribute_problem,
    expected_columns,
)
from recobro.portfolio.importers.targets import TARGETS, record_json
from recobro.portfolio.importers.upsert import ANALYZE_AFTER_ROWS, Staging, Written
from recobro.portfolio.importers.validation import DebtorLookup, Problem, RowValidator, cell_text
from recobro.portfolio.models import ImportKind, ImportProfile, Portfolio
from recobro.portfolio.services import payments as payment_services

#: Valid rows staged per round trip. 10,000 rows of a document are about 2 MB of Python
#: tuples; one COPY or executemany of that size costs a few tens of milliseconds.
CHUNK_ROWS = 10_000
#: Errors kept (stored as ImportIssue, returned by the API). Beyond it rows are still
#: counted as invalid, but a person fixing a file has enough to start with.
MAX_ERRORS = 10_000

logger = logging.getLogger(__name__)

#: Past this many affected debtors the portfolio's cases are refreshed whole, by debtor id
#: ranges, instead of by a list of ids: same result (a refresh writes only what changed),
#: cheaper SQL than a list of hundreds of thousands of ids.
REFRESH_ALL_AFTER = 20_000

NEEDS_PORTFOLIO = (ImportKind.DOCUMENTS, ImportKind.PAYMENTS)
NEEDS_DEBTORS = (ImportKind.CONTACT_POINTS, ImportKind.DOCUMENTS, ImportKind.PAYMENTS)


def check_request(*, organization, kind: str, portfolio=None, profile=None) -> None:
    """Raise ``ImportSetupError`` naming what is wrong with what was asked for."""
    if kind not in FIELDS:
        raise ImportSetupError(
            _("“%(kind)s” is not a kind of import; use one of: %(kinds)s.")
            % {"kind": kind, "kinds": ", ".join(str(k) for k in ImportKind.values)}
        )
    if portfolio is not None and not isinstance(portfolio, Portfolio):
        raise ImportSetupError(_("The portfolio must be a portfolio, not %(value)r.") % {"value": portfolio})
    if portfolio is not None and portfolio.organization_id != organization.pk:
        raise ImportSetupError(
            _("The portfolio “%(portfolio)s” belongs to another organization.")
            % {"portfolio": portfolio.code}
        )
    if kind in NEEDS_PORTFOLIO and portfolio is None:
        raise ImportSetupError(
            _("Importing %(kind)s needs a portfolio: say which one.")
            % {"kind": ImportKind(kind).label.lower()}
        )
    if profile is not None:
        if not isinstance(profile, ImportProfile) or profile.organization_id != organization.pk:
            raise ImportSetupError(_("The import profile belongs to another organization."))
        if profile.kind != kind:
            raise ImportSetupError(
                _("The import profile “%(profile)s” is for %(profile_kind)s, not %(kind)s.")
                % {"profile": profile.name, "profile_kind": profile.kind, "kind": kind}
            )


class Batch:
    """Collects one import's rows: staged when valid, remembered when not."""

    def __init__(
        self,
        *,
        organization,
        kind: str,
        portfolio,
        actor: Actor,
        job_id: int | None = None,
        in_file: bool = True,
        max_errors: int | None = MAX_ERRORS,
    ):
        self.organization = organization
        self.kind = kind
        self.portfolio = portfolio
        self.actor = actor
        self.target = TARGETS[kind]
        self.staging = Staging(
            target=self.target, organization=organization, portfolio=portfolio, actor=actor, job_id=job_id
        )
        self.in_file = in_file
        self.max_errors = max_errors
        self.errors: list[RowError] = []
        self.invalid: set[int] = set()
        self.valid = 0
        self._unstage: set[int] = set()
        self._first: dict[Any, int] = {}
        self._reported_first: set[int] = set()
        self._buffer: list[tuple] = []
        self.chunk_rows = CHUNK_ROWS
        self._json = record_json(self.target)
        #: Pipelined imports: where full chunks go instead of the staging table, and the keys
        #: that appear more than once in the file, whose rows wait for ``release_held``.
        self.sink: Callable[[list[tuple]], None] | None = None
        self.hold: set | None = None
        self._held: dict[Any, list[tuple[int, int, tuple, str]]] = {}

    def __enter__(self) -> "Batch":
        self.staging.__enter__()
        return self

    def __exit__(self, *exc_info) -> None:
        self.staging.__exit__(*exc_info)

    # --- rows

    def reject(self, row: int, field: str, code: str, message: str, value: Any = "") -> None:
        self.invalid.add(row)
        if self.max_errors is None or len(self.errors) < self.max_errors:
            self.errors.append(RowError(row, field, code, message, str(value)[:300]))

    def reject_problems(self, row: int, problems: list[Problem], label: Callable[[str], str]) -> None:
        for name, code, message, value in problems:
            self.reject(row, label(name), code, message, value)

    def accept(self, row: int, group: int, record: tuple, label: Callable[[str], str]) -> None:
        """Stage a valid row, unless its key was already seen in this batch."""
        if self.kind == ImportKind.CONTACT_POINTS:
            key, shown = (record[0], record[1], record[3]), record[2]  # debtor, kind, normalised
        else:
            key = shown = record[0]  # external id
        if self.hold is not None:
            if key in self.hold:
                self._held.setdefault(key, []).append((row, group, record, shown))
                return
            self._stage(row, group, record)
            return
        first = self._first.setdefault(key, row)
        if first != row:
            field = label("value" if self.kind == ImportKind.CONTACT_POINTS else "external_id")
            self.reject(row, field, "duplicate", self._duplicate_message(shown, first), shown)
            if first not in self._reported_first:
                self._reported_first.add(first)
                self._unstage.add(first)
                self.reject(first, field, "duplicate", self._duplicate_message(shown, row), shown)
            return
        self._stage(row, group, record)

    def _stage(self, row: int, group: int, record: tuple) -> None:
        self.valid += 1
        self._buffer.append((row, group, *record, self._json(record)))
        if len(self._buffer) >= self.chunk_rows:
            self.flush()

    def release_held(self, label: Callable[[str], str]) -> None:
        """The rows whose key the file repeats: a key met on one valid row after all is
        staged; on two or more, every one of them is invalid (which one is right?)."""
        field = label("value" if self.kind == ImportKind.CONTACT_POINTS else "external_id")
        for rows in self._held.values():
            if len(rows) == 1:
                row, group, record, _shown = rows[0]
                self._stage(row, group, record)
                continue
            first = rows[0][0]
            for row, _group, _record, shown in rows:
                other = rows[1][0] if row == first else first
                self.reject(row, field, "duplicate", self._duplicate_message(shown, other), shown)
        self._held = {}

    def _duplicate_message(self, shown: str, other: int) -> str:
        if self.in_file:
            return _("“%(key)s” appears more than once in this file: also on line %(other)s.") % {
                "key": shown,
                "other": other,
            }
        return _("“%(key)s” appears more than once in this request: also at row %(other)s.") % {
            "key": shown,
            "other": other,
        }

    def flush(self) -> None:
        rows, self._buffer = self._buffer, []
        if self.sink is not None:
            if rows:
                self.sink(rows)
        else:
            self.staging.insert(rows)

    # --- writing

    def apply(
        self,
        *,
        skip_invalid: bool,
        label: Callable[[str], str],
        finish: Callable[[Written | None], None] | None = None,
    ) -> Written | None:
        """Write the staged rows in one transaction, or nothing (None) when a row is invalid
        and ``skip_invalid`` is false. ``finish`` runs inside the same transaction."""
        self.flush()
        with transaction.atomic():
            self.staging.lock()
            self.staging.note_empty_scope()
            self.staging.link()
            for conflict in self.staging.conflicts():
                self._unstage.add(conflict.row)
                self.reject(
                    conflict.row, label(conflict.field), conflict.code, conflict.message, conflict.value
                )
            self.errors.sort(key=lambda e: e.row)
            written = None
            if skip_invalid or not self.invalid:
                if self._unstage:
                    self.staging.discard(self._unstage)
                written = self.staging.write()
                if written.created + written.updated >= ANALYZE_AFTER_ROWS:
                    self.staging.analyze_target()
                follow_up(
                    organization=self.organization,
                    kind=self.kind,
                    portfolio=self.portfolio,
                    written=written,
                    actor=self.actor,
                )
            if finish is not None:
                finish(written)
        if written is not None:
            refresh_cases_after(
                organization=self.organization, kind=self.kind, portfolio=self.portfolio, written=written
            )
        return written

    def apply_stream(
        self,
        chunks: Iterable[list[tuple] | tuple[str, int]],
        *,
        skip_invalid: bool,
        label: Callable[[str], str],
        finish: Callable[[Written | None], None],
    ) -> Written | None:
        """``apply`` for chunks that keep coming while the file is still being read: each is
        staged, linked, checked and written as it arrives, inside one transaction, so the
        database works while Python reads on. An invalid row found late rolls back what
        earlier chunks wrote (unless ``skip_invalid``): the outcome is ``apply``'s."""
        total = Written()
        with transaction.atomic():
            self.staging.lock()
            self.staging.check_constraints_per_statement()
            writes = transaction.savepoint()
            known = self._target_size()
            fresh = 0
            self.staging.note_empty_scope()
            waited, ready = 0.0, time.monotonic()
            for rows in chunks:
                waited += time.monotonic() - ready
                self.staging.clear()
                if isinstance(rows, tuple):
                    self.staging.insert_text(*rows)
                else:
                    self.staging.insert(rows)
                self.staging.link()
                refused = set()
                for conflict in self.staging.conflicts():
                    refused.add(conflict.row)
                    self.reject(
                        conflict.row, label(conflict.field), conflict.code, conflict.message, conflict.value
                    )
                if self.invalid and not skip_invalid:
                    continue  # nothing will be kept: only look for more problems
                if refused:
                    self.staging.discard(refused)
                written = self.staging.write()
                total.add(written)
                if len(total.debtor_ids) > REFRESH_ALL_AFTER:
                    self.staging.want_debtor_ids = False  # the whole portfolio will be refreshed
                    total.everyone = True
                fresh += written.created
                if fresh >= max(ANALYZE_AFTER_ROWS, known) and not self.staging.scope_empty:
                    # The table doubled: plan the next chunks' lookups anew (a first load
                    # looks nothing up, and is analysed once at the end).
                    self.staging.analyze_target()
                    known, fresh = known + fresh, 0
                ready = time.monotonic()
            logger.info("import: %.1f s spent waiting for rows to write", waited)
            self.errors.sort(key=lambda e: e.row)
            if self.invalid and not skip_invalid:
                transaction.savepoint_rollback(writes)
                finish(None)
                return None
            transaction.savepoint_commit(writes)
            if fresh >= ANALYZE_AFTER_ROWS or total.updated >= ANALYZE_AFTER_ROWS:
                self.staging.analyze_target()
            follow_up(
                organization=self.organization,
                kind=self.kind,
                portfolio=self.portfolio,
                written=total,
                actor=self.actor,
            )
            finish(total)
        refresh_cases_after(
            organization=self.organization, kind=self.kind, portfolio=self.portfolio, written=total
        )
        return total

    def _target_size(self) -> int:
        """Rows the planner believes the target table has (0 when never analysed)."""
        from django.db import connection

        if connection.vendor != "postgresql":
            return 0
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT GREATEST(reltuples, 0) FROM pg_class WHERE oid = %s::regclass", [self.target.table]
            )
            row = cursor.fetchone()
        return int(row[0]) if row else 0


def follow_up(*, organization, kind: str, portfolio, written: Written, actor: Actor) -> None:
    """What the ledger derives from new rows in the same transaction: payment references
    of new debtors, allocation of new payments (which refreshes its cases itself)."""
    if kind == ImportKind.DEBTORS and written.created:
        references.assign_payment_references(organization=organization)
    elif kind == ImportKind.PAYMENTS and written.created_ids:
        payment_services.allocate_payments(
            organization=organization, payment_ids=written.created_ids, actor=actor
        )


def refresh_cases_after(*, organization, kind: str, portfolio, written: Written) -> None:
    """Refresh the cases of the debtors whose documents changed, once the documents are
    committed. Case facts are derived and the refresh is idempotent and resumable; outside
    the import's transaction it runs in short chunks (in parallel on PostgreSQL) instead
    of stretching one long transaction. Inside an outer transaction it simply joins it."""
    if kind != ImportKind.DOCUMENTS or not written.debtor_ids:
        return
    debtor_ids = (
        None if written.everyone or len(written.debtor_ids) > REFRESH_ALL_AFTER else written.debtor_ids
    )
    started = time.monotonic()
    try:
        engine.refresh_cases(organization=organization, debtor_ids=debtor_ids, portfolio_ids=[portfolio.pk])
        logger.info("import: cases refreshed in %.1f s", time.monotonic() - started)
    except DatabaseError:
        # The documents are stored; their cases catch up at the next refresh (the daily
        # cycle or any change to them). Say so rather than report the import as failed.
        # Anything else is a bug, and is not hidden behind a warning.
        logger.exception("cases of %s debtors not refreshed after an import", len(written.debtor_ids))
        written.cases_stale = True


def upsert_rows(
    *,
    organization,
    kind: str,
    rows: list[dict],
    actor: Actor,
    portfolio=None,
    skip_invalid: bool = False,
) -> UpsertResult:
    """Validate and upsert already-parsed rows keyed by Recobro field names (see ``FIELDS``).

    Values may be JSON-typed (numbers, booleans, ISO date strings) or text; amounts in text
    use a dot for decimals. A field left out of a row keeps its stored value (or its default
    for a new row); a field sent empty or null clears it. ``RowError.row`` is the 0-based
    position in ``rows``. With any invalid row nothing is written unless ``skip_invalid``;
    either way the result lists every error.
    """
    check_request(organization=organization, kind=kind, portfolio=portfolio)
    limit = settings.RECOBRO_API_MAX_BULK_ROWS
    if len(rows) > limit:
        raise ImportSetupError(
            ngettext(
                "%(count)s row is more than the %(limit)s a call may carry; split them.",
                "%(count)s rows is more than the %(limit)s a call may carry; split them.",
                len(rows),
            )
            % {"count": f"{len(rows):,}", "limit": f"{limit:,}"}
        )
    specs = {spec.name: spec for spec in FIELDS[kind]}
    takes_attributes = kind in ATTRIBUTE_KINDS
    debtors = DebtorLookup(organization)
    if kind in NEEDS_DEBTORS:
        debtors.load(cell_text(r.get("debtor_external_id")) for r in rows if isinstance(r, dict))
    validators: dict[frozenset[str], RowValidator] = {}
    result = UpsertResult()

    def label(name: str) -> str:
        if name.startswith(ATTRIBUTE_PREFIX):
            return f"attributes.{name[len(ATTRIBUTE_PREFIX) :]}"
        return name

    with Batch(
        organization=organization, kind=kind, portfolio=portfolio, actor=actor, in_file=False, max_errors=None
    ) as batch:
        for index, row in enumerate(rows):
            if not isinstance(row, dict):
                batch.reject(
                    index, "", "not_an_object", _("Each row must be an object of field names and values.")
                )
                continue
            unknown = [
                str(name)
                for name in row
                if name not in specs and not (takes_attributes and name == "attributes")
            ]
            for name in unknown:
                batch.reject(
                    index,
                    name,
                    "unknown_field",
                    _(
                        "“%(field)s” is not a field of this kind of row; the fields are %(fields)s "
                        "(* = required)."
                    )
                    % {"field": name, "fields": expected_columns(kind)},
                )
            values = {name: value for name, value in row.items() if name in specs}
            if takes_attributes and "attributes" in row:
                attributes, wrong = _attribute_fields(row["attributes"])
                for field, code, message, value in wrong:
                    batch.reject(index, field, code, message, value)
                if wrong:
                    continue
                values.update(attributes)
            present = frozenset(values)
            validator = validators.get(present)
            if validator is None:
                validator = validators[present] = RowValidator(
                    organization=organization,
                    kind=kind,
                    portfolio=portfolio,
                    present=present,
                    debtors=debtors,
                )
            clean, problems = validator.validate(values)
            if problems:
                batch.reject_problems(index, problems, label)
            elif not unknown:
                batch.accept(index, batch.staging.group_for(present), clean, label)
        written = batch.apply(skip_invalid=skip_invalid, label=label)
    if written is not None:
        result.created, result.updated, result.unchanged = written.created, written.updated, written.unchanged
    result.errors = batch.errors
    return result


def _attribute_fields(attributes: Any) -> tuple[dict[str, Any], list[tuple[str, str, str, str]]]:
    """An API row's ``attributes`` object as ``attr.<name>`` fields, or what is wrong with it
    (field, code, message, value). Values are text; null or "" removes the attribute."""
    if not isinstance(attributes, dict):
        message = _(
            "attributes must be an object of attribute names and text values "
            '(null or "" removes an attribute).'
        )
        return {}, [("attributes", "invalid_attributes", message, cell_text(attributes))]
    fields: dict[str, Any] = {}
    wrong: list[tuple[str, str, str, str]] = []
    for name, value in attributes.items():
        name = str(name)
        problem = attribute_problem(name)
        if problem:
            wrong.append((f"attributes.{name}", "invalid_attribute", problem, name))
        elif value is not None and not isinstance(value, str):
            message = _("An attribute's value must be text (or null to remove it), not %(value)s.") % {
                "value": type(value).__name__
            }
            wrong.append((f"attributes.{name}", "invalid_attribute_value", message, cell_text(value)))
        else:
            fields[ATTRIBUTE_PREFIX + name] = value
    return fields, wrong
