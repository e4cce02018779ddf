"""The case engine: derive each debtor × portfolio Case from its open documents, set-based.

``refresh_cases`` is the one public function. For every debtor × portfolio with open
documents (status open or disputed, balance ≠ 0) it upserts an open Case with:

- ``balance``: sum of the open balances (credit notes are negative and reduce it);
- ``overdue_balance``: the open balance of documents due before ``as_of`` (credit notes
  excluded), less any credit that the case balance says is available, never below 0
  (that is ``max(0, min(gross overdue, balance))``);
- ``original_amount``: sum of the open documents' original amounts; ``open_documents``;
- ``oldest_due_date``: oldest due date of the open documents, credit notes excluded
  (None when only credit notes are open);
- ``dpd``: ``max(0, as_of - oldest_due_date)``. A case not yet due has dpd 0; its
  ``oldest_due_date`` stays, so "days to due" is ``oldest_due_date - as_of``;
- ``bucket``: the organization's aging bucket of ``dpd`` (``recobro.portfolio.aging``);
- ``last_payment_on``: latest posted payment date; ``as_of``.

Cases whose debtor × portfolio has no open document any more are closed with balance 0;
the row stays. A case that gets open documents again is reopened.

Runs go in chunks of debtor ids, one transaction per chunk; a re-run writes only rows
whose facts changed, so an interrupted run is resumed by running it again. On PostgreSQL a
run made outside any transaction spreads its chunks over ``WORKERS`` connections; inside a
transaction (a payment, an import) the chunks run on the caller's connection, in order.
"""

import datetime as dt
import os
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.db import connection, transaction

from recobro.core import events
from recobro.core.clock import now
from recobro.portfolio import dialect
from recobro.portfolio.aging import bucket_case_sql, organization_buckets
from recobro.portfolio.models import (
    OPEN_STATUSES,
    Case,
    CaseStatus,
    Document,
    DocumentKind,
    Payment,
    PaymentStatus,
    Portfolio,
)

#: Debtor ids per chunk. Each chunk is one aggregate over its debtors' documents into a
#: scratch table and three writes of their cases, in one transaction. At the benchmark's
#: density (3.3 documents per debtor) 50,000 ids are ~170,000 documents: about 1 s of
#: aggregate and ~30 MB of hash memory on PostgreSQL when every case is new, and row locks
#: on up to 50,000 cases held until the chunk commits. Smaller chunks shorten locks and
#: memory; each chunk costs 8 more statements (~10 ms).
CHUNK_SIZE = 50_000

#: Chunks of a run made outside any transaction go to this many connections at once on
#: PostgreSQL (each chunk is independent: its own debtors, its own transaction). SQLite has
#: one writer at a time, so there it is always 1.
WORKERS = int(getattr(settings, "RECOBRO_CASE_WORKERS", 0) or min(4, os.cpu_count() or 1))

#: A scoped refresh of up to this many debtors (a payment, an API call) runs as it is;
#: bigger ones get ``dialect.BULK_SETTINGS`` and analyzed scratch tables on PostgreSQL.
SMALL_SCOPE = 1_000

_CASE_FACTS = (
    "currency",
    "status",
    "balance",
    "overdue_balance",
    "original_amount",
    "open_documents",
    "oldest_due_date",
    "dpd",
    "bucket",
    "last_payment_on",
    "as_of",
)


def refresh_cases(
    *,
    organization,
    as_of: dt.date | None = None,
    debtor_ids: Iterable[int] | None = None,
    portfolio_ids: Iterable[int] | None = None,
) -> dict:
    """Recompute the cases of ``organization`` (or of some debtors / portfolios) as of a date.

    Returns counts: ``created``, ``updated`` (facts changed, including reopened cases),
    ``closed`` and ``chunks``. Publishes ``events.CASES_REFRESHED`` at the end, with the
    ids of the cases in scope (None for a run over every debtor). A broken aging bucket
    configuration raises ``ValidationError`` before anything is written.
    """
    as_of = as_of or organization.today()
    if isinstance(as_of, dt.datetime) or not isinstance(as_of, dt.date):
        raise TypeError(f"as_of must be a date, not {as_of!r}")
    buckets = organization_buckets(organization)
    debtor_list = None if debtor_ids is None else sorted({int(i) for i in debtor_ids})
    portfolio_list = None if portfolio_ids is None else sorted({int(i) for i in portfolio_ids})
    counts = {"created": 0, "updated": 0, "closed": 0, "chunks": 0}
    if debtor_list == [] or portfolio_list == []:
        return counts

    run = _Refresh(organization.pk, as_of, buckets, portfolio_list)
    windows = list(_chunks(run, debtor_list))
    parallel = WORKERS > 1 and len(windows) > 1 and dialect.is_postgresql() and not connection.in_atomic_block
    if parallel:
        with ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="refresh-cases") as pool:
            results = list(pool.map(run.chunk_on_own_connection, windows))
    else:
        results = [run.chunk_in_transaction(window) for window in windows]
    for created, updated, closed in results:
        counts["created"] += created
        counts["updated"] += updated
        counts["closed"] += closed
        counts["chunks"] += 1

    case_ids = None if debtor_list is None else run.case_ids(debtor_list)
    events.publish(events.CASES_REFRESHED, organization=organization, case_ids=case_ids)
    return counts


def _chunks(run: "_Refresh", debtor_list: list[int] | None) -> Iterator[tuple[int, int, list[int] | None]]:
    """(low, high, ids) debtor id windows: ranges for a full run, slices of the list otherwise."""
    if debtor_list is not None:
        for start in range(0, len(debtor_list), CHUNK_SIZE):
            ids = debtor_list[start : start + CHUNK_SIZE]
            yield ids[0], ids[-1] + 1, ids
        return
    low, high = run.debtor_id_span()
    if low is None:
        return
    for start in range(low, high + 1, CHUNK_SIZE):
        yield start, min(start + CHUNK_SIZE, high + 1), None


class _Refresh:
    """The SQL of one refresh run; ``chunk`` does one debtor id window.

    Per chunk: the facts of every debtor × portfolio with open documents in the window go
    into a scratch table (one aggregate over the documents); then one UPDATE rewrites the
    cases whose facts differ, one INSERT adds the missing ones, one UPDATE closes the open
    cases that have no facts any more. Unchanged cases are not written at all.
    """

    FACTS = "recobro_case_facts"

    def __init__(self, organization_id: int, as_of: dt.date, buckets: list[dict], portfolio_ids):
        self.organization_id = organization_id
        self.as_of = as_of
        self.buckets = buckets
        self.portfolio_ids = portfolio_ids
        self.document = Document._meta.db_table
        self.case = Case._meta.db_table
        self.payment = Payment._meta.db_table
        self.portfolio = Portfolio._meta.db_table
        self.open_statuses = ", ".join(f"'{s}'" for s in OPEN_STATUSES)

    def _scope(self, alias: str, ids: list[int] | None) -> tuple[str, list]:
        sql, params = "", []
        if ids is not None:
            clause, p = dialect.id_in(f"{alias}.debtor_id", ids)
            sql += f" AND {clause}"
            params += p
        if self.portfolio_ids is not None:
            clause, p = dialect.id_in(f"{alias}.portfolio_id", self.portfolio_ids)
            sql += f" AND {clause}"
            params += p
        return sql, params

    def debtor_id_span(self) -> tuple[int | None, int | None]:
        doc_scope, doc_params = self._scope("d", None)
        case_scope, case_params = self._scope("c", None)
        # One MIN or MAX per subquery: alone, each is a walk down the debtor index to the first
        # row of the organization; together in one SELECT they scan every row (SQLite: 20 s
        # over 3,000,000 documents when the cache is cold).
        doc = f"FROM {self.document} d WHERE d.organization_id = %s{doc_scope}"
        case = f"FROM {self.case} c WHERE c.organization_id = %s{case_scope}"
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT MIN(lo), MAX(hi) FROM ("
                f" SELECT (SELECT MIN(d.debtor_id) {doc}) AS lo, (SELECT MAX(d.debtor_id) {doc}) AS hi"
                f" UNION ALL"
                f" SELECT (SELECT MIN(c.debtor_id) {case}), (SELECT MAX(c.debtor_id) {case})) span",
                [
                    *(self.organization_id, *doc_params) * 2,
                    *(self.organization_id, *case_params) * 2,
                ],
            )
            return cursor.fetchone()

    def chunk_in_transaction(self, window) -> tuple[int, int, int]:
        with transaction.atomic():
            return self.chunk(*window)

    def chunk_on_own_connection(self, window) -> tuple[int, int, int]:
        """For a worker thread: Django gives each thread its own connection; close it after."""
        try:
            return self.chunk_in_transaction(window)
        finally:
            connection.close()

    def case_ids(self, debtor_ids: list[int]) -> list[int]:
        """The cases of these debtors (one parameter however many: an import may name 300,000)."""
        scope, params = self._scope("c", debtor_ids)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT c.id FROM {self.case} c WHERE c.organization_id = %s{scope} ORDER BY c.id",
                [self.organization_id, *params],
            )
            return [row[0] for row in cursor.fetchall()]

    def chunk(self, low: int, high: int, ids: list[int] | None) -> tuple[int, int, int]:
        """(created, updated, closed) for one window; the caller holds the transaction."""
        big = ids is None or len(ids) > SMALL_SCOPE
        stamp = now()
        with connection.cursor() as cursor, dialect.bulk_settings(cursor, enabled=big):
            cursor.execute(dialect.drop_temp_table(self.FACTS), [])
            facts_sql, facts_params = self._facts_sql(low, high, ids)
            cursor.execute(f"{dialect.create_temp_table_as(self.FACTS)} {facts_sql}", facts_params)
            cursor.execute(
                f"CREATE UNIQUE INDEX {self.FACTS}_key ON {self.FACTS} (portfolio_id, debtor_id)", []
            )
            if big and dialect.is_postgresql():
                cursor.execute(f"ANALYZE {self.FACTS}", [])  # no autovacuum for temp tables: plans need it
            cursor.execute(*self._update_sql(stamp))
            updated = cursor.rowcount
            cursor.execute(*self._insert_sql(stamp))
            created = cursor.rowcount
            cursor.execute(*self._close_sql(low, high, ids, stamp))
            closed = cursor.rowcount
            cursor.execute(dialect.drop_temp_table(self.FACTS), [])
        return created, updated, closed

    def _facts_sql(self, low: int, high: int, ids) -> tuple[str, list]:
        """One row of case facts per debtor × portfolio with open documents in the window."""
        doc_scope, doc_params = self._scope("d", ids)
        pay_scope, pay_params = self._scope("p", ids)
        credit = DocumentKind.CREDIT_NOTE
        date = dialect.date_param()
        days = dialect.days_between(date, "f.oldest_due_date")
        bucket, bucket_params = bucket_case_sql(self.buckets, "g.dpd")
        sql = (
            f"SELECT CAST(%s AS BIGINT) AS organization_id, g.portfolio_id, g.debtor_id, pf.currency,"
            f" CAST('{CaseStatus.OPEN}' AS VARCHAR(10)) AS status, g.balance,"
            f" CASE WHEN g.overdue <= 0 OR g.balance <= 0 THEN 0"
            f" WHEN g.overdue < g.balance THEN g.overdue ELSE g.balance END AS overdue_balance,"
            f" g.original_amount, g.open_documents, g.oldest_due_date, g.dpd,"
            f" CAST({bucket} AS VARCHAR(20)) AS bucket, lp.paid_on AS last_payment_on, {date} AS as_of,"
            f" c.id AS case_id"
            f" FROM ("
            f"  SELECT f.*, CASE WHEN f.oldest_due_date IS NULL THEN 0"
            f"   WHEN {days} > 0 THEN {days} ELSE 0 END AS dpd"
            f"  FROM ("
            f"   SELECT d.portfolio_id, d.debtor_id,"
            f"    ROUND(SUM(d.balance), 2) AS balance,"
            f"    ROUND(SUM(CASE WHEN d.kind <> '{credit}' AND d.due_date < {date}"
            f"     THEN d.balance ELSE 0 END), 2) AS overdue,"
            f"    ROUND(SUM(d.original_amount), 2) AS original_amount,"
            f"    COUNT(*) AS open_documents,"
            f"    MIN(CASE WHEN d.kind <> '{credit}' THEN d.due_date END) AS oldest_due_date"
            f"   FROM {self.document} d"
            f"   WHERE d.organization_id = %s AND d.status IN ({self.open_statuses}) AND d.balance <> 0"
            f"    AND d.debtor_id >= %s AND d.debtor_id < %s{doc_scope}"
            f"   GROUP BY d.portfolio_id, d.debtor_id"
            f"  ) f"
            f" ) g JOIN {self.portfolio} pf ON pf.id = g.portfolio_id"
            f" LEFT JOIN ("
            f"  SELECT p.portfolio_id, p.debtor_id, MAX(p.paid_on) AS paid_on FROM {self.payment} p"
            f"  WHERE p.organization_id = %s AND p.status = '{PaymentStatus.POSTED}'"
            f"   AND p.debtor_id >= %s AND p.debtor_id < %s{pay_scope}"
            f"  GROUP BY p.portfolio_id, p.debtor_id"
            f" ) lp ON lp.portfolio_id = g.portfolio_id AND lp.debtor_id = g.debtor_id"
            f" LEFT JOIN {self.case} c ON c.portfolio_id = g.portfolio_id AND c.debtor_id = g.debtor_id"
        )
        params = [
            self.organization_id,
            *bucket_params,
            self.as_of,  # as_of column
            self.as_of,  # dpd: first days_between
            self.as_of,  # dpd: second days_between
            self.as_of,  # overdue
            self.organization_id,
            low,
            high,
            *doc_params,
            self.organization_id,
            low,
            high,
            *pay_params,
        ]
        return sql, params

    def _update_sql(self, stamp) -> tuple[str, list]:
        """Rewrite the cases whose facts differ (reopening closed ones)."""
        differs = " OR ".join(dialect.is_distinct(f"n.{col}", f"{self.case}.{col}") for col in _CASE_FACTS)
        sql = (
            f"UPDATE {self.case} SET "
            + ", ".join(f"{col} = n.{col}" for col in _CASE_FACTS)
            + f", updated_at = %s FROM {self.FACTS} n"
            f" WHERE {self.case}.id = n.case_id AND ({differs})"
        )
        return sql, [stamp]

    def _insert_sql(self, stamp) -> tuple[str, list]:
        """Add the missing cases. ON CONFLICT: a concurrent refresh may have added one meanwhile.

        Which cases exist was resolved when the facts were computed: an anti-join against
        the table being inserted into is planned on its size before the insert, and turns
        into a scan per row when it starts empty.
        """
        facts = ", ".join(_CASE_FACTS)
        changed = " OR ".join(
            dialect.is_distinct(f"{self.case}.{col}", f"excluded.{col}") for col in _CASE_FACTS
        )
        sql = (
            f"INSERT INTO {self.case}"
            f" (organization_id, portfolio_id, debtor_id, {facts}, opened_at, updated_at)"
            f" SELECT n.organization_id, n.portfolio_id, n.debtor_id,"
            f" {', '.join(f'n.{col}' for col in _CASE_FACTS)}, %s, %s"
            f" FROM {self.FACTS} n WHERE n.case_id IS NULL"
            f" ON CONFLICT (portfolio_id, debtor_id) DO UPDATE SET "
            + ", ".join(f"{col} = excluded.{col}" for col in (*_CASE_FACTS, "updated_at"))
            + f" WHERE {changed}"
        )
        return sql, [stamp, stamp]

    def _close_sql(self, low: int, high: int, ids, stamp) -> tuple[str, list]:
        """Close the open cases of the window that have no open documents any more."""
        scope, scope_params = self._scope(self.case, ids)
        last_payment = (
            f"(SELECT MAX(p.paid_on) FROM {self.payment} p WHERE p.portfolio_id = {self.case}.portfolio_id"
            f" AND p.debtor_id = {self.case}.debtor_id AND p.status = '{PaymentStatus.POSTED}')"
        )
        sql = (
            f"UPDATE {self.case} SET status = '{CaseStatus.CLOSED}', balance = 0, overdue_balance = 0,"
            f" original_amount = 0, open_documents = 0, oldest_due_date = NULL, dpd = 0, bucket = '',"
            f" last_payment_on = {last_payment}, as_of = {dialect.date_param()}, updated_at = %s"
            f" WHERE {self.case}.organization_id = %s AND {self.case}.status = '{CaseStatus.OPEN}'"
            f" AND {self.case}.debtor_id >= %s AND {self.case}.debtor_id < %s{scope}"
            f" AND NOT EXISTS (SELECT 1 FROM {self.FACTS} n"
            f"  WHERE n.portfolio_id = {self.case}.portfolio_id AND n.debtor_id = {self.case}.debtor_id)"
        )
        return sql, [self.as_of, stamp, self.organization_id, low, high, *scope_params]
