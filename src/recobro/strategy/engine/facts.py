"""Phase 2: one row of facts per case of a chunk, in the scratch table FACTS.

The row holds the case's own facts (kept by ``refresh_cases``), the debtor's, the history
aggregates (promises, plans, payments, contacts, holds) and the stored strategy state. A
chunk is a window of debtor ids: the tables keyed by debtor are read by range through their
debtor index, so a chunk costs about the same whatever the size of the tables around it. Facts no rule
reads and no decision needs (the product, custom attributes, days since the last contact)
are left out of the table.

Names of the columns are those of ``rules.facts.CATALOGUE`` where there is one, so rules
compile against the table with ``COLUMNS``.
"""

from __future__ import annotations

from recobro.channels.models import CONTACT_STATUSES, Message
from recobro.negotiation.models import PaymentPlan, PlanStatus, PromiseStatus, PromiseToPay
from recobro.portfolio import dialect
from recobro.portfolio.aging import bucket_case_sql
from recobro.portfolio.models import (
    OPEN_STATUSES,
    Case,
    CaseStatus,
    ContactPoint,
    Debtor,
    Document,
    DocumentKind,
    DocumentStatus,
    Payment,
    PaymentStatus,
    Portfolio,
)
from recobro.strategy.models import CaseState, Hold, HoldScope, StopCondition, Task, TaskKind, TaskStatus

from . import sql as q
from .context import FACTS, PAYMENT_WINDOW_DAYS, PROMISE_WINDOW_DAYS, CycleContext

CASE = Case._meta.db_table
DEBTOR = Debtor._meta.db_table
PORTFOLIO = Portfolio._meta.db_table
DOCUMENT = Document._meta.db_table
PAYMENT = Payment._meta.db_table
PROMISE = PromiseToPay._meta.db_table
PLAN = PaymentPlan._meta.db_table
MESSAGE = Message._meta.db_table
TASK = Task._meta.db_table
HOLD = Hold._meta.db_table
STATE = CaseState._meta.db_table
CONTACT_POINT = ContactPoint._meta.db_table

#: Task kinds whose completion counts as a contact with the debtor.
CONTACT_TASK_KINDS = (TaskKind.CALL, TaskKind.VISIT)

#: Fact name → column of the facts and decisions tables. "stage" and "days_in_stage" are
#: the stored ones in FACTS (what entry rules read); decisions remap them to the new stage.
FACT_COLUMNS = {
    name: name
    for name in (
        "dpd",
        "days_to_due",
        "open_documents",
        "broken_promises_90d",
        "payments_30d",
        "days_since_last_payment",
        "days_since_last_contact",
        "days_in_stage",
        "balance",
        "overdue_balance",
        "original_amount",
        "paid_amount_30d",
        "score",
        "bucket",
        "stage",
        "product",
        "region",
        "debtor_type",
        "portfolio",
        "currency",
        "active_plan",
        "promise_pending",
        "disputed",
        "payment_in_transit",
        "attr",
    )
}

_OPEN = ", ".join(f"'{s}'" for s in OPEN_STATUSES)
_CREDIT = DocumentKind.CREDIT_NOTE


def needs(ctx: CycleContext, fact: str) -> bool:
    return fact in ctx.config.facts_used


def needs_disputed(ctx: CycleContext) -> bool:
    return needs(ctx, "disputed") or any(StopCondition.DISPUTE in s.stop_on for s in ctx.config.steps)


def hold_effective(ctx: CycleContext, alias: str) -> tuple[str, list]:
    """``alias`` is a hold that pauses the strategy on as_of (``HoldQuerySet.effective_on``)."""
    date = q.date_param()
    return (
        f"{alias}.organization_id = %s AND {alias}.starts_on <= {date}"
        f" AND ({alias}.ends_on IS NULL OR {alias}.ends_on >= {date})"
        f" AND {alias}.released_at IS NULL AND {alias}.needs_approval = FALSE",
        [ctx.organization_id, ctx.as_of, ctx.as_of],
    )


def _product_sql(ctx: CycleContext, case_alias: str, held_filter: str = "") -> str:
    """The product of the oldest open document that names one (credit notes aside)."""
    return (
        f"(SELECT doc.product FROM {DOCUMENT} doc WHERE doc.portfolio_id = {case_alias}.portfolio_id"
        f" AND doc.debtor_id = {case_alias}.debtor_id AND doc.status IN ({_OPEN}) AND doc.balance <> 0"
        f" AND doc.kind <> '{_CREDIT}' AND doc.product <> ''{held_filter}"
        f" ORDER BY doc.due_date, doc.id LIMIT 1)"
    )


def _region_sql(ctx: CycleContext, attributes: str) -> tuple[str, list]:
    if ctx.postgresql:
        return (
            f"(CASE WHEN jsonb_typeof(CAST({attributes} AS jsonb) -> 'region') = 'string'"
            f" THEN CAST({attributes} AS jsonb) ->> 'region' END)",
            [],
        )
    return (
        f"(CASE WHEN json_type({attributes}, '$.region') = 'text'"
        f" THEN json_extract({attributes}, '$.region') END)",
        [],
    )


def _product_key(ctx: CycleContext, alias: str) -> str:
    """Text that sorts like (due date, id) and ends with the product: its MIN is the product
    of the oldest document, ``substr(key, PRODUCT_AT)`` (an ISO date is 10 characters; an id
    plus 10**15 is 16 digits for any id below 9 * 10**15)."""
    if ctx.postgresql:
        return (
            f"(CAST({alias}.due_date AS TEXT) || CAST({alias}.id + 1000000000000000 AS TEXT)"
            f' || {alias}.product) COLLATE "C"'
        )
    return f"({alias}.due_date || ({alias}.id + 1000000000000000) || {alias}.product)"


PRODUCT_AT = 27


def facts_sql(ctx: CycleContext, low: int, high: int, ids: list[int] | None = None) -> tuple[str, list]:
    """The SELECT that fills FACTS for the cases of the debtors with ids in [low, high) (and in
    ``ids`` when given: a re-run's changed debtors).

    Chunks are windows of debtor ids: the big tables around a case are keyed by debtor
    (debtors, documents, contact points, messages) and are read by range through their
    debtor index; the few keyed by case (states, promises, plans, tasks) are joined."""
    date = q.date_param()
    as_of = ctx.as_of
    cols: list[str] = []
    params: list = []
    joins: list[str] = []
    join_params: list = []

    def col(expr: str, name: str, *p) -> None:
        cols.append(f"{expr} AS {name}")
        params.extend(p)

    def scope(column: str) -> tuple[str, list]:
        """``column`` (a debtor id) is in the chunk."""
        sql = f"{column} >= %s AND {column} < %s"
        if ids is None:
            return sql, [low, high]
        clause, clause_params = dialect.id_in(column, ids)
        return f"{sql} AND {clause}", [low, high, *clause_params]

    col("c.id", "case_id")
    col("c.debtor_id", "debtor_id")
    col("c.portfolio_id", "portfolio_id")
    col(q.boolean(f"c.status = '{CaseStatus.OPEN}'"), "is_open")
    col("c.balance", "balance")
    col(q.cents("c.balance"), "balance_cents")
    col("c.overdue_balance", "overdue_balance")
    col("c.original_amount", "original_amount")
    col("c.open_documents", "open_documents")
    col("c.oldest_due_date", "oldest_due_date")
    col("c.dpd", "dpd")
    col(q.days_between(date, "c.oldest_due_date"), "due_offset", as_of)
    col(q.days_between("c.oldest_due_date", date), "days_to_due", as_of)
    col("CASE WHEN c.open_documents > 0 THEN c.bucket END", "bucket")
    col("c.currency", "currency")
    col("pf.code", "portfolio")
    col("d.kind", "debtor_type")
    col("d.risk_score", "score")
    col(q.boolean("d.do_not_contact OR d.is_deceased"), "no_contact")
    col(q.boolean("d.is_disputed"), "debtor_disputed")
    if needs(ctx, "attr"):
        col("d.attributes", "attr")
    if needs(ctx, "region"):
        region, region_params = _region_sql(ctx, "d.attributes")
        col(region, "region", *region_params)

    # Facts of the open documents beyond the case row: disputed ones, the oldest's product.
    product, disputed = needs(ctx, "product"), needs_disputed(ctx)
    if product or disputed:
        joins.append(
            f"LEFT JOIN (SELECT doc.portfolio_id, doc.debtor_id,"
            f" MAX(CASE WHEN doc.status = '{DocumentStatus.DISPUTED}' THEN 1 ELSE 0 END) AS disputed,"
            f" MIN(CASE WHEN doc.kind <> '{_CREDIT}' AND doc.product <> ''"
            f" THEN {_product_key(ctx, 'doc')} END)"
            f" AS product_key FROM {DOCUMENT} doc WHERE doc.organization_id = %s"
            f" AND {scope('doc.debtor_id')[0]} AND doc.status IN ({_OPEN})"
            f" AND doc.balance <> 0"
            f" GROUP BY doc.portfolio_id, doc.debtor_id) dg"
            f" ON dg.portfolio_id = c.portfolio_id AND dg.debtor_id = c.debtor_id"
        )
        join_params += [ctx.organization_id, *scope("doc.debtor_id")[1]]
    if disputed:
        col(q.boolean("d.is_disputed OR dg.disputed = 1"), "disputed")
    else:
        col(q.boolean("d.is_disputed"), "disputed")
    if product:
        col(f"CAST(substr(dg.product_key, {PRODUCT_AT}) AS VARCHAR(60))", "product")

    # Promises (already resolved for as_of by resolve_promises) and plans of the chunk's cases.
    col(q.boolean("pp.case_id IS NOT NULL"), "promise_pending")
    joins.append(
        f"LEFT JOIN (SELECT DISTINCT x.case_id FROM {PROMISE} x WHERE x.organization_id = %s"
        f" AND x.status = '{PromiseStatus.PENDING}' AND x.made_on <= {date}) pp ON pp.case_id = c.id"
    )
    join_params += [ctx.organization_id, as_of]
    col("COALESCE(pb.n, 0)", "broken_promises_90d")
    joins.append(
        f"LEFT JOIN (SELECT x.case_id, COUNT(*) AS n FROM {PROMISE} x WHERE x.organization_id = %s"
        f" AND x.status = '{PromiseStatus.BROKEN}' AND x.resolved_on > {date} AND x.resolved_on <= {date}"
        f" GROUP BY x.case_id) pb ON pb.case_id = c.id"
    )
    join_params += [ctx.organization_id, ctx.days_before(PROMISE_WINDOW_DAYS), as_of]
    col(q.boolean("pl.case_id IS NOT NULL"), "active_plan")
    joins.append(
        f"LEFT JOIN (SELECT DISTINCT x.case_id FROM {PLAN} x WHERE x.organization_id = %s"
        f" AND x.status = '{PlanStatus.ACTIVE}' AND x.starts_on <= {date}) pl ON pl.case_id = c.id"
    )
    join_params += [ctx.organization_id, as_of]
    col("FALSE", "payment_in_transit")

    # Payments: only cases paid lately have any in the window; the rest skip the lookup.
    window = max(PAYMENT_WINDOW_DAYS, ctx.config.payment_stop_days + 1)
    col("COALESCE(pay.n, 0)", "payments_30d")
    col(f"COALESCE({q.money('pay.amount_cents')}, 0)", "paid_amount_30d")
    col(q.boolean("pay.recent = 1"), "recent_payment")
    joins.append(
        f"LEFT JOIN (SELECT c2.id AS case_id,"
        f" SUM(CASE WHEN p.paid_on > {date} THEN 1 ELSE 0 END) AS n,"
        f" SUM(CASE WHEN p.paid_on > {date} THEN {q.cents('p.amount')} ELSE 0 END) AS amount_cents,"
        f" MAX(CASE WHEN p.paid_on >= {date} THEN 1 ELSE 0 END) AS recent"
        f" FROM {CASE} c2 JOIN {PAYMENT} p ON p.portfolio_id = c2.portfolio_id AND p.debtor_id = c2.debtor_id"
        f" WHERE c2.organization_id = %s AND {scope('c2.debtor_id')[0]}"
        f" AND c2.last_payment_on > {date} AND p.status = '{PaymentStatus.POSTED}'"
        f" AND p.paid_on > {date} AND p.paid_on <= {date}"
        f" GROUP BY c2.id) pay ON pay.case_id = c.id"
    )
    window_start = ctx.days_before(window)
    join_params += [
        ctx.days_before(PAYMENT_WINDOW_DAYS),
        ctx.days_before(PAYMENT_WINDOW_DAYS),
        ctx.days_before(ctx.config.payment_stop_days),
        ctx.organization_id,
        *scope("c2.debtor_id")[1],
        window_start,
        window_start,
        as_of,
    ]
    col(
        f"CASE WHEN c.last_payment_on <= {date} THEN {q.days_between(date, 'c.last_payment_on')} END",
        "days_since_last_payment",
        as_of,
        as_of,
    )

    if needs(ctx, "days_since_last_contact"):
        # Contacts with the debtor (any of their cases): messages that reached them and calls
        # or visits done, as days before as_of in the organization's timezone; the nearer wins.
        message_day, message_params = q.local_date("MAX(x.sent_at)", ctx.timezone, as_of)
        task_day, task_params = q.local_date("MAX(t.completed_at)", ctx.timezone, as_of)
        statuses = ", ".join(f"'{s}'" for s in CONTACT_STATUSES)
        kinds = ", ".join(f"'{k}'" for k in CONTACT_TASK_KINDS)
        joins.append(
            f"LEFT JOIN (SELECT x.debtor_id, {q.days_between(date, message_day)} AS days FROM {MESSAGE} x"
            f" WHERE {scope('x.debtor_id')[0]} AND x.organization_id = %s"
            f" AND x.status IN ({statuses}) AND x.sent_at IS NOT NULL"
            f" GROUP BY x.debtor_id) lm ON lm.debtor_id = c.debtor_id"
        )
        join_params += [as_of, *message_params, *scope("x.debtor_id")[1], ctx.organization_id]
        joins.append(
            f"LEFT JOIN (SELECT c4.debtor_id, {q.days_between(date, task_day)} AS days FROM {CASE} c4"
            f" JOIN {TASK} t ON t.case_id = c4.id WHERE c4.organization_id = %s"
            f" AND {scope('c4.debtor_id')[0]} AND t.kind IN ({kinds})"
            f" AND t.status = '{TaskStatus.DONE}' AND t.completed_at IS NOT NULL"
            f" GROUP BY c4.debtor_id) lt ON lt.debtor_id = c.debtor_id"
        )
        join_params += [as_of, *task_params, ctx.organization_id, *scope("c4.debtor_id")[1]]
        col(
            "CASE WHEN lm.days >= 0 AND (lt.days IS NULL OR lt.days < 0 OR lm.days <= lt.days) THEN lm.days"
            " WHEN lt.days >= 0 THEN lt.days END",
            "days_since_last_contact",
        )
    else:
        col("CAST(NULL AS INTEGER)", "days_since_last_contact")

    # Holds effective on as_of: a debtor hold pauses the steps; document holds change the facts.
    effective, effective_params = hold_effective(ctx, "h")
    col(q.boolean("dh.debtor_id IS NOT NULL"), "on_hold")
    joins.append(
        f"LEFT JOIN (SELECT DISTINCT h.debtor_id FROM {HOLD} h WHERE {effective}"
        f" AND {scope('h.debtor_id')[0]}"
        f" AND h.scope = '{HoldScope.DEBTOR}') dh ON dh.debtor_id = c.debtor_id"
    )
    join_params += [*effective_params, *scope("h.debtor_id")[1]]
    col(q.boolean("xh.debtor_id IS NOT NULL"), "document_hold")
    joins.append(
        f"LEFT JOIN (SELECT DISTINCT hd.portfolio_id, hd.debtor_id FROM {HOLD} h JOIN {DOCUMENT} hd"
        f" ON hd.id = h.document_id WHERE {effective} AND {scope('h.debtor_id')[0]}"
        f" AND h.scope = '{HoldScope.DOCUMENT}') xh"
        f" ON xh.portfolio_id = c.portfolio_id AND xh.debtor_id = c.debtor_id"
    )
    join_params += [*effective_params, *scope("h.debtor_id")[1]]

    # The stored state.
    col(q.boolean("s.case_id IS NOT NULL"), "has_state")
    for name in (
        "stage_id",
        "stage_entered_on",
        "segment_id",
        "strategy_id",
        "variant_id",
        "strategy_entered_on",
        "stage_pinned_until",
    ):
        col(f"s.{name}", f"old_{name}")
    col("CAST(ROUND(s.probability * 10000) AS INTEGER)", "old_probability_e4")
    col(q.cents("s.expected_recovery"), "old_expected_cents")
    col(q.cents("s.priority"), "old_priority_cents")
    stage_code, stage_params = _stage_code_sql(ctx, "s.stage_id")
    col(stage_code, "stage", *stage_params)
    col(
        f"CASE WHEN s.stage_id IS NOT NULL THEN {q.days_between(date, 's.stage_entered_on')} END",
        "days_in_stage",
        as_of,
    )

    if ctx.postgresql:
        # One index lookup per case rather than a hash of every state of the organization.
        state, state_on = f"LATERAL (SELECT * FROM {STATE} s0 WHERE s0.case_id = c.id OFFSET 0) s", "TRUE"
    else:
        state, state_on = f"{STATE} s", "s.case_id = c.id"
    sql = (
        f"SELECT {', '.join(cols)} FROM {CASE} c"
        f" JOIN (SELECT * FROM {DEBTOR} WHERE {scope('id')[0]}) d ON d.id = c.debtor_id"
        f" JOIN {PORTFOLIO} pf ON pf.id = c.portfolio_id"
        f" LEFT JOIN {state} ON {state_on} "
        + " ".join(joins)
        + f" WHERE c.organization_id = %s AND {scope('c.debtor_id')[0]}"
        f" AND (c.status = '{CaseStatus.OPEN}' OR s.stage_id IS NOT NULL OR s.segment_id IS NOT NULL"
        f" OR s.strategy_id IS NOT NULL)"
    )
    return sql, [*params, *scope("id")[1], *join_params, ctx.organization_id, *scope("c.debtor_id")[1]]


def _stage_code_sql(ctx: CycleContext, column: str) -> tuple[str, list]:
    stages = ctx.config.stages
    if not stages:
        return "CAST(NULL AS VARCHAR(60))", []
    whens = " ".join("WHEN %s THEN %s" for _ in stages)
    params = [x for s in stages for x in (s.id, s.code)]
    return f"CAST(CASE {column} {whens} END AS VARCHAR(60))", params


def document_hold_sql(ctx: CycleContext) -> list[tuple[str, list]]:
    """UPDATEs of FACTS for the (rare) cases with a document on hold: their document facts
    again without the held documents. The first sums, the others derive from the sums."""
    date = q.date_param()
    effective, effective_params = hold_effective(ctx, "h")
    not_held = (
        f" AND NOT EXISTS (SELECT 1 FROM {HOLD} h WHERE h.document_id = doc.id"
        f" AND h.scope = '{HoldScope.DOCUMENT}' AND {effective})"
    )
    documents = (
        f"FROM {DOCUMENT} doc WHERE doc.portfolio_id = {FACTS}.portfolio_id"
        f" AND doc.debtor_id = {FACTS}.debtor_id AND doc.status IN ({_OPEN}) AND doc.balance <> 0{not_held}"
    )
    disputed = q.boolean(
        f"{FACTS}.debtor_disputed = TRUE"
        f" OR MAX(CASE WHEN doc.status = '{DocumentStatus.DISPUTED}' THEN 1 ELSE 0 END) = 1"
    )
    sums = (
        f"SELECT ROUND(COALESCE(SUM(doc.balance), 0), 2),"
        f" ROUND(COALESCE(SUM(CASE WHEN doc.kind <> '{_CREDIT}' AND doc.due_date < {date}"
        f" THEN doc.balance ELSE 0 END), 0), 2),"
        f" ROUND(COALESCE(SUM(doc.original_amount), 0), 2), COUNT(*),"
        f" MIN(CASE WHEN doc.kind <> '{_CREDIT}' THEN doc.due_date END), {disputed} {documents}"
    )
    sql = (
        f"UPDATE {FACTS} SET (balance, overdue_balance, original_amount, open_documents, oldest_due_date,"
        f" disputed) = ({sums})"
    )
    params = [ctx.as_of, *effective_params]
    if needs(ctx, "product"):
        sql += f", product = {_product_sql(ctx, FACTS, not_held)}"
        params += effective_params
    sums_update = (f"{sql} WHERE document_hold = TRUE", params)
    days = q.days_between(date, "oldest_due_date")
    derived = (
        f"UPDATE {FACTS} SET"
        f" dpd = CASE WHEN oldest_due_date IS NULL THEN 0 WHEN {days} > 0 THEN {days} ELSE 0 END,"
        f" due_offset = {days}, days_to_due = {q.days_between('oldest_due_date', date)},"
        f" overdue_balance = CASE WHEN overdue_balance <= 0 OR balance <= 0 THEN 0"
        f" WHEN overdue_balance < balance THEN overdue_balance ELSE balance END,"
        f" balance_cents = {q.cents('balance')}"
        f" WHERE document_hold = TRUE",
        [ctx.as_of, ctx.as_of, ctx.as_of, ctx.as_of],
    )
    bucket, bucket_params = bucket_case_sql(ctx.config.buckets, "dpd")
    bucket_update = (
        f"UPDATE {FACTS} SET bucket = CASE WHEN open_documents > 0 THEN {bucket} END"
        f" WHERE document_hold = TRUE",
        bucket_params,
    )
    return [sums_update, derived, bucket_update]
