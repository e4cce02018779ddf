"""Set-based upsert: valid rows go into a staging table, then a handful of statements
create, update and audit every row at once.

The staging table is a temporary table private to this database connection. Rows reach
it in chunks while the file is still being read (PostgreSQL: ``COPY``; SQLite:
``executemany``), so memory holds one chunk, never the file. Then, in one transaction:

1. link each staged row to the stored row with its key and mark it create / update /
   unchanged, comparing only the columns the file (or API call) carries; a document's
   balance is held to what payments recorded in Recobro left of it, so that re-importing
   an ERP file does not undo them (``Staging._hold_paid_balances``);
2. find conflicts only the database can see (a payment imported before with another
   amount; a balance left above a lowered amount; an amount below what payments settled;
   a balance on a document stored as paid);
3. audit the updates (before/after built in SQL with ``json_object`` /
   ``jsonb_build_object``), update the changed rows, insert the new ones and audit them.

A row identical to what is stored is not touched: no UPDATE, no audit entry,
``updated_at`` kept. That is what makes importing the same file twice a no-op.
"""

import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.utils.translation import gettext as _

from recobro.core.audit import Actor
from recobro.core.clock import now
from recobro.core.models import AuditAction, AuditEntry, Organization
from recobro.portfolio import dialect
from recobro.portfolio.importers.targets import (
    BOOL,
    DATE,
    ID,
    MONEY,
    PATCH,
    SCORE,
    TEXT,
    Target,
    payment_source_for,
)
from recobro.portfolio.models import Allocation, Debtor, DocumentKind, DocumentStatus, ImportKind, Portfolio

CREATE, UPDATE, UNCHANGED = "c", "u", "n"

#: Rows written past which the target table is analysed inside the transaction (PostgreSQL).
ANALYZE_AFTER_ROWS = 10_000


_SQL_TYPES = {
    "postgresql": {
        TEXT: "text",
        MONEY: "numeric(18, 2)",
        SCORE: "numeric(5, 4)",
        DATE: "date",
        BOOL: "boolean",
        ID: "bigint",
        PATCH: "jsonb",
    },
    "sqlite": {
        TEXT: "text",
        MONEY: "decimal",
        SCORE: "decimal",
        DATE: "date",
        BOOL: "bool",
        ID: "integer",
        PATCH: "text",
    },
}

_AUDIT_COLUMNS = (
    "organization_id, created_at, source, user_id, api_key_id, actor_label,"
    " action, object_type, object_id, object_repr, before, after, context"
)


def _json_value(expr: str, type_: str) -> str:
    """A column as the audit log stores it: Decimals and dates as text, booleans as JSON."""
    if type_ == MONEY:
        return dialect.money_text(expr)
    if type_ == SCORE:
        if dialect.is_postgresql():
            return f"CAST(CAST({expr} AS NUMERIC(5, 4)) AS TEXT)"
        return f"CASE WHEN {expr} IS NULL THEN NULL ELSE printf('%%.4f', {expr}) END"
    if type_ == DATE and dialect.is_postgresql():
        return f"CAST({expr} AS TEXT)"
    if type_ == BOOL and not dialect.is_postgresql():
        return f"json(CASE WHEN {expr} IS NULL THEN NULL WHEN {expr} THEN 'true' ELSE 'false' END)"
    if type_ == PATCH:
        return dialect.json_value(expr)
    return expr


def _new_value(target: Target, column: str, stored: str, staged: str) -> str:
    """What an update writes into ``column``: the staged value, or for a patch column the
    stored object with the staged patch applied."""
    if target.types[column] == PATCH:
        return dialect.merge_patch(stored, staged)
    return staged


def _differs(target: Target, column: str, stored: str, staged: str) -> str:
    if target.types[column] == PATCH:
        return dialect.patch_changes(stored, staged)
    return dialect.is_distinct(stored, staged)


def _insert_value(target: Target, column: str) -> str:
    """What an insert writes into ``column`` from the staged row ``s``."""
    if target.types[column] == PATCH:
        empty = "CAST('{}' AS jsonb)" if dialect.is_postgresql() else "'{}'"
        return dialect.merge_patch(empty, f"COALESCE(s.{column}, {empty})")
    return f"s.{column}"


@dataclass
class Written:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    debtor_ids: list[int] = field(default_factory=list)  # whose cases may have changed
    created_ids: list[int] = field(default_factory=list)
    cases_stale: bool = False  # the case refresh after the write failed
    everyone: bool = False  # so many debtors changed that their list was no longer kept

    def add(self, other: "Written") -> None:
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged
        if not self.everyone:
            self.debtor_ids = sorted(set(self.debtor_ids).union(other.debtor_ids))
        self.created_ids.extend(other.created_ids)


@dataclass(frozen=True)
class Conflict:
    row: int  # the staged row's line (or position)
    field: str  # the Recobro field name
    code: str
    message: str
    value: str = ""


class Staging:
    """The staging table of one import and the statements that apply it."""

    def __init__(
        self,
        *,
        target: Target,
        organization: Organization,
        portfolio: Portfolio | None,
        actor: Actor,
        job_id: int | None = None,
    ):
        self.target = target
        self.organization = organization
        self.portfolio = portfolio
        self.actor = actor
        self.job_id = job_id
        self.name = f"recobro_import_{uuid.uuid4().hex[:12]}"
        self.groups: dict[frozenset[str], int] = {}
        self.vendor = connection.vendor
        self.scope_id = organization.pk if target.scope == "organization_id" else portfolio.pk
        self.scope_empty = False
        #: Whether ``write`` lists the debtors whose cases may change (past a point the caller
        #: refreshes the whole portfolio and stops asking).
        self.want_debtor_ids = True
        self.staged = 0
        self._allocations: bool | None = None

    # --- lifecycle

    def __enter__(self) -> "Staging":
        types = _SQL_TYPES["postgresql" if dialect.is_postgresql() else "sqlite"]
        columns = ", ".join(f"{name} {types[type_]}" for name, type_ in self.target.columns)
        old = ", old_debtor_id bigint" if "debtor_id" in self.target.column_names else ""
        sql = (
            f"CREATE TEMP TABLE {self.name} (line integer NOT NULL, grp integer NOT NULL, {columns},"
            f" created_json text, target_id bigint, action char(1) DEFAULT '{CREATE}'{old})"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [])
            if dialect.is_postgresql():
                # ANALYZE of a chunk only needs rough figures: sample 3,000 rows, not 30,000.
                for column in (*self.target.key, "action"):
                    cursor.execute(f"ALTER TABLE {self.name} ALTER COLUMN {column} SET STATISTICS 10", [])
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if connection.connection is None:
            return  # the connection is gone, and its temporary table with it
        if exc_type is not None and (connection.in_atomic_block or connection.needs_rollback):
            return  # a failing transaction cannot run more SQL; the table dies with the session
        with connection.cursor() as cursor:
            cursor.execute(dialect.drop_temp_table(self.name), [])

    def group_for(self, present: frozenset[str]) -> int:
        """Rows that carry the same fields share a group: one UPDATE per group."""
        if present not in self.groups:
            self.groups[present] = len(self.groups)
        return self.groups[present]

    # --- loading

    def insert(self, rows: Sequence[tuple]) -> None:
        """Stage rows: (line, group, *columns in ``target.columns`` order, created_json)."""
        if not rows:
            return
        names = ["line", "grp", *self.target.column_names, "created_json"]
        with transaction.atomic(), connection.cursor() as cursor:
            if dialect.is_postgresql():
                with cursor.cursor.copy(f"COPY {self.name} ({', '.join(names)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                marks = ", ".join(["%s"] * len(names))
                cursor.executemany(f"INSERT INTO {self.name} ({', '.join(names)}) VALUES ({marks})", rows)
        self.staged += len(rows)

    def check_constraints_per_statement(self) -> None:
        """Check the foreign keys at the end of each statement, not all at the commit.

        Django declares them deferred, so a million rows queue millions of checks that
        PostgreSQL runs at the commit, after the file is read. Checked per chunk, they run
        while the reading thread prepares the next chunk. Only this transaction changes."""
        if dialect.is_postgresql():
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE", [])

    def clear(self) -> None:
        """Empty the staging table (the next chunk of a pipelined import goes in)."""
        self.staged = 0
        with connection.cursor() as cursor:
            if dialect.is_postgresql():
                cursor.execute(f"TRUNCATE {self.name}", [])
            else:
                cursor.execute(f"DELETE FROM {self.name}", [])

    def analyze_target(self) -> None:
        """Refresh the planner's statistics of the target table inside this transaction
        (PostgreSQL). Autovacuum only sees new rows after the commit; the statements that
        follow here (case refresh, allocation, the next chunk's link) need plans that know
        them. ANALYZE samples 30,000 rows whatever the table's size: well under a second."""
        if dialect.is_postgresql():
            with connection.cursor() as cursor:
                cursor.execute(f"ANALYZE {self.target.table}", [])

    def insert_text(self, text: str, count: int) -> None:
        """Stage ``count`` rows already in COPY's text format (``copy_text``; PostgreSQL)."""
        names = ["line", "grp", *self.target.column_names, "created_json"]
        sql = f"COPY {self.name} ({', '.join(names)}) FROM STDIN"
        with transaction.atomic(), connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
            copy.write(text)
        self.staged += count

    def discard(self, rows: Iterable[int]) -> None:
        """Drop staged rows (by line) found invalid after they were staged."""
        lines = sorted(set(rows))
        with connection.cursor() as cursor:
            for start in range(0, len(lines), 10_000):
                clause, params = dialect.id_in("line", lines[start : start + 10_000])
                cursor.execute(f"DELETE FROM {self.name} WHERE {clause}", params)
                self.staged -= cursor.rowcount

    # --- applying

    def lock(self) -> None:
        """Serialise imports into the same scope (PostgreSQL row lock; SQLite locks the file)."""
        model = Organization if self.target.scope == "organization_id" else Portfolio
        list(model.objects.select_for_update().filter(pk=self.scope_id).values_list("pk"))

    def note_empty_scope(self) -> None:
        """Remember whether the organization (or portfolio) has no rows of this kind yet: a
        first load, where every row is new and ``link`` has nothing to look up. Called once
        the scope is locked; rows this import writes keep their keys unique (repeated keys
        are refused), so the answer holds for every chunk."""
        model = self.target.model
        self.scope_empty = not model.objects.filter(**{self.target.scope: self.scope_id}).exists()

    def link(self) -> None:
        """Find each staged row's stored row and mark it update or unchanged; the rest stay
        marked create (the column's default). A document's staged balance is first held to
        what Recobro's payments left of it (``_hold_paid_balances``)."""
        t = self.target
        join = " AND ".join(f"d.{k} = {self.name}.{k}" for k in t.key)
        old = ", old_debtor_id = d.debtor_id" if "debtor_id" in t.column_names else ""
        with connection.cursor() as cursor:
            if self.scope_empty:
                return  # every row is new: nothing to look up, nothing for the planner to learn
            if dialect.is_postgresql():
                # Temporary tables are never auto-analysed; the join needs the key's figures.
                cursor.execute(f"ANALYZE {self.name} ({', '.join(t.key)})", [])
            for present, group in self.groups.items():
                columns = t.update_columns(present)
                differs = (
                    " OR ".join(_differs(t, c, f"d.{c}", f"{self.name}.{c}") for c in columns) or "1 = 0"
                )
                mark = (
                    f"UPDATE {self.name} SET target_id = d.id{old},"
                    f" action = CASE WHEN {differs} THEN '{UPDATE}' ELSE '{UNCHANGED}' END"
                    f" FROM {t.table} d WHERE d.{t.scope} = %s AND {join} AND {self.name}.grp = %s"
                )
                cursor.execute(mark, [self.scope_id, group])
                holds = t.kind == ImportKind.DOCUMENTS and "balance" in present and self._any_allocation()
                if holds and self._hold_paid_balances(cursor, present, group):
                    # Mark again the rows whose balance (or status) was held.
                    cursor.execute(f"{mark} AND {self.name}.action IS NULL", [self.scope_id, group])
            if dialect.is_postgresql():
                cursor.execute(f"ANALYZE {self.name} (action)", [])  # plan the writes by the marks

    def _any_allocation(self) -> bool:
        """Whether the organization has allocations at all (asked once per import): a
        portfolio loaded from an ERP without payments in Recobro skips the balance hold."""
        if self._allocations is None:
            self._allocations = Allocation.objects.filter(organization=self.organization).exists()
        return self._allocations

    def _allocated(self, group: int | None = None) -> str:
        """Per stored document of the staged rows (of ``group``, or all): the cents that
        payments recorded in Recobro settled of it (their allocations)."""
        in_group = "" if group is None else f" AND grp = {int(group)}"
        return (
            f"(SELECT al.document_id, SUM({dialect.cents('al.amount')}) AS cents"
            f" FROM {Allocation._meta.db_table} al WHERE al.document_id IN"
            f" (SELECT target_id FROM {self.name} WHERE target_id IS NOT NULL{in_group})"
            f" GROUP BY al.document_id)"
        )

    def _hold_paid_balances(self, cursor, present: frozenset[str], group: int) -> int:
        """Re-importing a balance must not undo payments recorded in Recobro.

        The ERP's balance is the truth for the documents it sends, except that a document
        with allocations (payments recorded, imported or allocated in Recobro) never gets a
        balance above its amount less what those payments settled: an ERP file exported
        before it heard of them would otherwise open up again what they paid. A lower
        balance is taken as sent (the ERP knows of other payments). When what is left is 0
        and the row says "open", the document stays paid, as the payments left it.

        Rows so held are marked for linking again (``action`` NULL). An amount below what
        the payments settled is a conflict (``_document_conflicts``); meanwhile its balance
        is held at 0. Returns the number of rows held."""
        s = self.name
        balance = dialect.cents(f"{s}.balance")
        left = f"({dialect.cents(f'{s}.original_amount')} - a.cents)"
        held = f"CASE WHEN {balance} > {left} THEN {dialect.greatest(left, '0')} ELSE {balance} END"
        sets = [f"balance = {dialect.money(held)}"]
        wanted = [f"{balance} > {left}"]
        if "status" in present:
            reopened = f"{s}.status = '{DocumentStatus.OPEN}' AND {held} = 0"
            sets.append(f"status = CASE WHEN {reopened} THEN '{DocumentStatus.PAID}' ELSE {s}.status END")
            wanted.append(f"({reopened})")
        cursor.execute(
            f"UPDATE {s} SET {', '.join(sets)}, action = NULL FROM {self._allocated(group)} a"
            f" WHERE a.document_id = {s}.target_id AND {s}.grp = %s AND ({' OR '.join(wanted)})",
            [group],
        )
        return cursor.rowcount

    def conflicts(self) -> list[Conflict]:
        """Rows the database refuses although each is valid on its own."""
        if self.target.kind == ImportKind.PAYMENTS:
            return self._payment_conflicts()
        if self.target.kind == ImportKind.DOCUMENTS:
            return self._document_conflicts()
        return []

    def _payment_conflicts(self) -> list[Conflict]:
        checks = " OR ".join(dialect.is_distinct(f"d.{c}", f"s.{c}") for c in self.target.frozen)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT s.line, {dialect.money_text('d.amount')}, d.currency, {dialect.text('d.paid_on')},"
                f" db.external_id FROM {self.name} s JOIN {self.target.table} d ON d.id = s.target_id"
                f" JOIN {Debtor._meta.db_table} db ON db.id = d.debtor_id"
                f" WHERE {checks} ORDER BY s.line",
                [],
            )
            rows = cursor.fetchall()
        return [
            Conflict(
                line,
                "external_id",
                "payment_changed",
                _(
                    "This payment was imported before with another amount, date or debtor (%(amount)s "
                    "%(currency)s on %(date)s, debtor %(debtor)s). An import does not change a payment: "
                    "reverse it in Recobro and import it with a new id."
                )
                % {"amount": amount, "currency": currency, "date": str(paid_on)[:10], "debtor": debtor},
            )
            for line, amount, currency, paid_on, debtor in rows
        ]

    def _document_conflicts(self) -> list[Conflict]:
        found: list[Conflict] = []
        credit = f"'{DocumentKind.CREDIT_NOTE}'"
        paid = f"'{DocumentStatus.PAID}'"
        with connection.cursor() as cursor:
            for present, group in self.groups.items():
                if "balance" in present and "status" in present:
                    continue  # the row validation already checked them together
                status = "s.status" if "status" in present else "d.status"
                balance = "s.balance" if "balance" in present else "d.balance"
                cursor.execute(
                    f"SELECT s.line, {dialect.money_text(balance)}"
                    f" FROM {self.name} s JOIN {self.target.table} d ON d.id = s.target_id"
                    f" WHERE s.grp = %s AND {status} = {paid} AND {balance} <> 0 ORDER BY s.line",
                    [group],
                )
                for line, balance_text in cursor.fetchall():
                    if "status" in present:  # paid now, with the balance stored
                        field, value = "status", DocumentStatus.PAID
                        message = _(
                            "A paid document has a balance of 0, and this one's stored balance is "
                            "%(balance)s; include the balance column to change both together."
                        ) % {"balance": balance_text}
                    else:  # a balance for a document stored as paid
                        field, value = "balance", balance_text
                        message = _(
                            "This document is stored as paid, and a paid document has a balance of 0, not "
                            "%(balance)s; include the status column to reopen it."
                        ) % {"balance": balance_text}
                    found.append(Conflict(line, field, "paid_with_balance", message, str(value)))
            if not self.scope_empty and self._any_allocation():
                cursor.execute(
                    f"SELECT s.line, {dialect.money_text('s.original_amount')},"
                    f" {dialect.money_text(dialect.money('a.cents'))}"
                    f" FROM {self.name} s JOIN {self._allocated()} a ON a.document_id = s.target_id"
                    f" WHERE {dialect.cents('s.original_amount')} < a.cents ORDER BY s.line",
                    [],
                )
                for line, amount_text, allocated_text in cursor.fetchall():
                    message = _(
                        "Payments recorded in Recobro settled %(allocated)s of this document, more than "
                        "its new amount %(amount)s. Reverse those payments in Recobro first."
                    ) % {"allocated": allocated_text, "amount": amount_text}
                    code = "amount_below_payments"
                    found.append(Conflict(line, "original_amount", code, message, amount_text))
            for present, group in self.groups.items():
                if "balance" in present and "kind" in present:
                    continue  # the row validation already checked amount, balance and kind together
                kind = "s.kind" if "kind" in present else "d.kind"
                balance = "s.balance" if "balance" in present else "d.balance"
                amount = "s.original_amount"
                fits = (
                    f"(({kind} <> {credit} AND {amount} > 0 AND {balance} >= 0 AND {balance} <= {amount})"
                    f" OR ({kind} = {credit} AND {amount} < 0 AND {balance} <= 0 AND {balance} >= {amount}))"
                )
                cursor.execute(
                    f"SELECT s.line, {dialect.money_text(balance)}, {dialect.money_text(amount)}, {kind}"
                    f" FROM {self.name} s JOIN {self.target.table} d ON d.id = s.target_id"
                    f" WHERE s.grp = %s AND NOT {fits} ORDER BY s.line",
                    [group],
                )
                for line, balance_text, amount_text, kind_value in cursor.fetchall():
                    found.append(
                        Conflict(
                            line,
                            "original_amount",
                            "balance_out_of_range",
                            _(
                                "The stored balance %(balance)s does not fit the new amount %(amount)s "
                                "of this "
                                "%(kind)s; include the balance (and kind) columns to change them together."
                            )
                            % {"balance": balance_text, "amount": amount_text, "kind": kind_value},
                            amount_text,
                        )
                    )
        return found

    def write(self) -> Written:
        """Apply the staged rows (after ``link``): audit and update, insert and audit."""
        t = self.target
        stamp = now()
        stamp_db = connection.ops.adapt_datetimefield_value(stamp)
        who = [
            self.organization.pk,
            stamp_db,
            self.actor.source,
            getattr(self.actor.user, "pk", None),
            getattr(self.actor.api_key, "pk", None),
            self.actor.display()[:200],
        ]
        label = t.model._meta.label_lower
        context = self._context_sql()
        repr_sql = self._repr_sql()
        written = Written()
        # On a first load every staged row is new, and the staging table has no statistics
        # on its marks: say "all rows" rather than let the planner guess at a filter.
        creates = "1 = 1" if self.scope_empty else f"s.action = '{CREATE}'"
        staged_creates = "1 = 1" if self.scope_empty else f"{self.name}.action = '{CREATE}'"
        # New ids follow the file's order. On PostgreSQL the staging table was just filled by
        # one COPY, so a scan already returns rows in that order: the sort is saved.
        in_file_order = "" if dialect.is_postgresql() else " ORDER BY s.line"
        with connection.cursor() as cursor:
            for present, group in self.groups.items():
                columns = t.update_columns(present)
                if not columns or self.scope_empty:
                    continue
                before = dialect.json_object({c: _json_value(f"d.{c}", t.types[c]) for c in columns})
                after = dialect.json_object(
                    {c: _json_value(_new_value(t, c, f"d.{c}", f"s.{c}"), t.types[c]) for c in columns}
                )
                cursor.execute(
                    f"INSERT INTO {AuditEntry._meta.db_table} ({_AUDIT_COLUMNS})"
                    f" SELECT %s, %s, %s, %s, %s, %s, '{AuditAction.UPDATE}', '{label}',"
                    f" {dialect.text('d.id')},"
                    f" substr({repr_sql}, 1, 200), {before}, {after}, {context}"
                    f" FROM {self.name} s JOIN {t.table} d ON d.id = s.target_id"
                    f" WHERE s.action = '{UPDATE}' AND s.grp = %s",
                    [*who, group],
                )
                sets = ", ".join(f"{c} = {_new_value(t, c, f'{t.table}.{c}', f's.{c}')}" for c in columns)
                touch, params = (", updated_at = %s", [stamp_db]) if t.touch else ("", [])
                cursor.execute(
                    f"UPDATE {t.table} SET {sets}{touch} FROM {self.name} s"
                    f" WHERE {t.table}.id = s.target_id AND s.action = '{UPDATE}' AND s.grp = %s",
                    [*params, group],
                )
                written.updated += cursor.rowcount

            names = t.column_names
            extra_cols, extra_sql, extra_params = self._constants()
            scope_cols = ["organization_id"] + (["portfolio_id"] if t.scope == "portfolio_id" else [])
            scope_params = [self.organization.pk] + ([self.portfolio.pk] if t.scope == "portfolio_id" else [])
            stamps = ["created_at"] + (["updated_at"] if t.touch else [])
            insert_cols = [*scope_cols, *names, *extra_cols, *stamps]
            select = [
                *(["%s"] * len(scope_cols)),
                *(_insert_value(t, c) for c in names),
                *extra_sql,
                *(["%s"] * len(stamps)),
            ]
            insert = (
                f"INSERT INTO {t.table} ({', '.join(insert_cols)}) SELECT {', '.join(select)}"
                f" FROM {self.name} s WHERE {creates}{in_file_order}"
            )
            insert_params = [*scope_params, *extra_params, *([stamp_db] * len(stamps))]
            audit_columns = (
                f"INSERT INTO {AuditEntry._meta.db_table} ({_AUDIT_COLUMNS})"
                f" SELECT %s, %s, %s, %s, %s, %s, '{AuditAction.CREATE}', '{label}',"
            )
            after = "CAST(s.created_json AS jsonb)" if dialect.is_postgresql() else "s.created_json"
            if dialect.is_postgresql():
                # One statement inserts the rows and their audit entries, which take the new
                # ids from RETURNING (a join on the stored table would meet stale statistics).
                on_key = " AND ".join(f"s.{k} = ins.{k}" for k in t.key)
                link = ""
                if t.kind == ImportKind.PAYMENTS:  # their ids go on to allocation
                    on_stage = " AND ".join(f"{self.name}.{k} = ins.{k}" for k in t.key)
                    link = (
                        f", linked AS (UPDATE {self.name} SET target_id = ins.id FROM ins"
                        f" WHERE {on_stage} AND {staged_creates})"
                    )
                cursor.execute(
                    f"WITH ins AS ({insert} RETURNING id, {', '.join(t.key)}){link} {audit_columns}"
                    f" {dialect.text('ins.id')}, substr({repr_sql}, 1, 200), NULL, {after}, {context}"
                    f" FROM ins JOIN {self.name} s ON {on_key} WHERE {creates}",
                    [*insert_params, *who],
                )
                written.created = cursor.rowcount  # one entry per row inserted
            else:
                cursor.execute(insert, insert_params)
                written.created = cursor.rowcount
                if cursor.rowcount:
                    join = " AND ".join(f"d.{k} = {self.name}.{k}" for k in t.key)
                    cursor.execute(
                        f"UPDATE {self.name} SET target_id = d.id FROM {t.table} d"
                        f" WHERE d.{t.scope} = %s AND {join} AND {self.name}.action = '{CREATE}'",
                        [self.scope_id],
                    )
                    cursor.execute(
                        f"{audit_columns} {dialect.text('s.target_id')}, substr({repr_sql}, 1, 200), NULL,"
                        f" {after}, {context} FROM {self.name} s WHERE {creates}",
                        who,
                    )

            written.unchanged = self.staged - written.created - written.updated
            if "debtor_id" in names and t.kind != ImportKind.CONTACT_POINTS and self.want_debtor_ids:
                cursor.execute(
                    f"SELECT debtor_id FROM {self.name} WHERE action IN ('{CREATE}', '{UPDATE}')"
                    f" UNION SELECT old_debtor_id FROM {self.name}"
                    f" WHERE action = '{UPDATE}' AND old_debtor_id IS NOT NULL",
                    [],
                )
                written.debtor_ids = sorted(row[0] for row in cursor.fetchall())
            if t.kind == ImportKind.PAYMENTS and written.created:
                cursor.execute(
                    f"SELECT target_id FROM {self.name} WHERE action = '{CREATE}' ORDER BY target_id", []
                )
                written.created_ids = [row[0] for row in cursor.fetchall()]
        return written

    def _context_sql(self) -> str:
        """The context of every entry: one JSON literal, not a JSON function call per row."""
        context = {"via": str(self.actor.source)} if self.job_id is None else {"import_job": int(self.job_id)}
        literal = json.dumps(context).replace("'", "''").replace("%", "%%")
        return f"CAST('{literal}' AS jsonb)" if dialect.is_postgresql() else f"'{literal}'"

    def _repr_sql(self) -> str:
        if self.target.kind == ImportKind.PAYMENTS:
            return dialect.concat(
                dialect.money_text("s.amount"), "' '", "s.currency", "' '", dialect.text("s.paid_on")
            )
        return self.target.repr_sql

    def _constants(self) -> tuple[list[str], list[str], list]:
        columns, sql, params = [], [], []
        for column, spec in self.target.constants.items():
            columns.append(column)
            if spec == "json":
                sql.append("CAST('{}' AS jsonb)" if dialect.is_postgresql() else "'{}'")
            elif spec == "false":
                sql.append("false")
            elif spec == "source":
                sql.append("%s")
                params.append(str(payment_source_for(self.actor)))
            else:
                sql.append(spec)
        return columns, sql, params
