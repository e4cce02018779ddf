"""Phase 7: due steps, catch-up, and the actions, messages and tasks they make
(docs/strategy.md §7), as a handful of statements per chunk.

DUE gets one row per (case, step, due date) that is due today and not yet done, with its
decision: done, or skipped with a reason. Rows of steps that wait (debtor on hold, a weekday
the step does not run on, a condition false today) are never in DUE: nothing is recorded
and they are judged again on the next cycle. Then ids are given to the new rows, and
messages, tasks and actions are inserted with them (an action's message carries the idempotency
key ``cycle:<action id>``).
"""

from __future__ import annotations

from recobro.channels.models import CHANNEL_CONTACT_KINDS, MessageStatus
from recobro.strategy import rules
from recobro.strategy.models import Action, ActionStatus, SkipReason, StepAction, StopCondition, TaskStatus

from . import sql as q
from .config import STOP_ORDER, StepConf
from .context import DECISIONS, DUE, CycleContext
from .facts import CONTACT_POINT, MESSAGE, TASK
from .stages import columns_of

ACTION = Action._meta.db_table

#: The fact of the decisions table that makes each stop condition hold.
STOP_FACTS = {
    StopCondition.PAYMENT: "recent_payment",
    StopCondition.PROMISE: "promise_pending",
    StopCondition.DISPUTE: "disputed",
    StopCondition.PLAN: "active_plan",
    StopCondition.IN_TRANSIT: "payment_in_transit",
}


def steps_today(ctx: CycleContext) -> list[StepConf]:
    """Active steps that may run on as_of's weekday (the others wait for an allowed day)."""
    return [s for s in ctx.config.steps if s.allowed_on(ctx.as_of)]


def _steps_table(ctx: CycleContext, steps: list[StepConf]) -> tuple[str, list]:
    """The steps as an inline table (a UNION ALL of one-row SELECTs; typed on the first)."""
    types = (
        ("id", "BIGINT"),
        ("variant_id", "BIGINT"),
        ("position", "INTEGER"),
        ("anchor", "VARCHAR(12)"),
        ("offset_days", "INTEGER"),
        ("action", "VARCHAR(8)"),
        ("channel", "VARCHAR(10)"),
        ("task_kind", "VARCHAR(20)"),
        ("grp", "VARCHAR(30)"),
        ("template_id", "BIGINT"),
        ("template_active", "INTEGER"),
        ("language", "VARCHAR(10)"),
        ("title", "VARCHAR(200)"),
        *((f"stop_{c}", "INTEGER") for c in STOP_ORDER),
    )
    first = "SELECT " + ", ".join(f"CAST(%s AS {t}) AS {n}" for n, t in types)
    other = "SELECT " + ", ".join("%s" for _ in types)
    if not steps:
        return f"{first} WHERE 1 = 0", [None] * len(types)
    selects, params = [], []
    for i, step in enumerate(steps):
        selects.append(first if i == 0 else other)
        params += [
            step.id,
            step.variant_id,
            step.position,
            step.anchor,
            step.offset_days,
            step.action,
            step.channel,
            step.task_kind,
            step.group,
            step.template_id,
            1 if step.template_active else 0,
            step.language,
            step.name[:200],
            *(1 if c in step.stop_on else 0 for c in STOP_ORDER),
        ]
    return " UNION ALL ".join(selects), params


def due_sql(ctx: CycleContext) -> tuple[str, list]:
    """The SELECT that fills DUE from DECISIONS."""
    steps = steps_today(ctx)
    table, params = _steps_table(ctx, steps)
    date = q.date_param()
    columns = columns_of("d", new_stage=True)

    conditions, condition_params = [], []
    for step in steps:
        if step.condition is not None:
            rule_sql, rule_params = rules.to_sql(step.condition, columns, vendor=ctx.vendor)
            conditions.append(f"WHEN s.id = %s THEN {rule_sql}")
            condition_params += [step.id, *rule_params]
    condition = f"(CASE {' '.join(conditions)} ELSE TRUE END)" if conditions else "TRUE"
    due_on = (
        f"CASE WHEN s.anchor = 'due_date' THEN {q.add_days('d.oldest_due_date', 's.offset_days')}"
        f" ELSE {q.add_days('d.new_stage_entered_on', 's.offset_days')} END"
    )
    candidates = (
        "SELECT d.case_id, d.debtor_id, d.no_contact,"
        " d.new_strategy_entered_on, d.priority_cents,"
        + ", ".join(f"d.{fact} AS has_{fact}" for fact in STOP_FACTS.values())
        + f", s.*, {due_on} AS due_on"
        # CROSS JOIN: SQLite then reads each case once and its variant's few steps, rather
        # than the whole (wide) decisions table once per step. PostgreSQL plans it as a join.
        f" FROM {DECISIONS} d CROSS JOIN steps s"
        f" WHERE s.variant_id = d.new_variant_id AND d.on_hold = FALSE AND {condition}"
    )
    stop = " ".join(
        f"WHEN c.stop_{condition} = 1 AND c.has_{fact} = TRUE THEN '{condition}'"
        for condition, fact in STOP_FACTS.items()
    )
    due = (
        f"SELECT c.*, CAST(CASE {stop} END AS VARCHAR(20)) AS stop_reason FROM ({candidates}) c"
        f" WHERE c.due_on IS NOT NULL AND c.due_on <= {date}"
        f" AND (c.new_strategy_entered_on IS NULL OR c.due_on >= c.new_strategy_entered_on)"
        f" AND NOT EXISTS (SELECT 1 FROM {ACTION} a WHERE a.case_id = c.case_id AND a.step_id = c.id"
        f" AND a.due_on = c.due_on)"
    )
    ranked = (
        f"SELECT u.*, ROW_NUMBER() OVER (PARTITION BY u.case_id, u.grp, u.stop_reason IS NULL"
        f" ORDER BY u.due_on DESC, u.position DESC) AS rn FROM ({due}) u"
    )
    stale_before = ctx.days_before(ctx.config.catch_up_days)
    sends = (
        f"r.action = '{StepAction.MESSAGE}' AND r.stop_reason IS NULL AND r.rn = 1"
        f" AND r.due_on >= {date} AND r.no_contact = FALSE AND r.template_active = 1"
    )
    kinds = " OR ".join(
        f"(r.channel = '{channel}' AND cp.kind IN ({', '.join(f'{k!r}' for k in accepted)}))"
        for channel, accepted in CHANNEL_CONTACT_KINDS.items()
    )
    contact_point = (
        f"CASE WHEN {sends} THEN (SELECT cp.id FROM {CONTACT_POINT} cp WHERE cp.debtor_id = r.debtor_id"
        f" AND ({kinds}) AND cp.opted_out_at IS NULL AND cp.wrong_number = FALSE"
        f" ORDER BY cp.is_primary DESC, cp.created_at DESC, cp.id DESC LIMIT 1) END"
    )
    # Fenced: the outer query reads contact_point_id twice; merged, it would look it up twice.
    with_point = f"SELECT r.*, {contact_point} AS contact_point_id FROM ({ranked}) r {ctx.fence()}"
    reason = (
        f"CASE WHEN p.stop_reason IS NOT NULL THEN p.stop_reason"
        f" WHEN p.rn > 1 THEN '{SkipReason.SUPERSEDED}'"
        f" WHEN p.due_on < {date} THEN '{SkipReason.STALE}'"
        f" WHEN p.action = '{StepAction.MESSAGE}' AND p.no_contact = TRUE THEN '{SkipReason.DO_NOT_CONTACT}'"
        f" WHEN p.action = '{StepAction.MESSAGE}' AND p.template_active = 0 THEN '{SkipReason.NO_TEMPLATE}'"
        f" WHEN p.action = '{StepAction.MESSAGE}' AND p.contact_point_id IS NULL"
        f" THEN '{SkipReason.NO_CONTACT_POINT}'"
        f" ELSE '' END"
    )
    final = (
        f"WITH steps AS ({table})"
        f" SELECT p.case_id, p.debtor_id, p.variant_id, p.id AS step_id, p.position, p.due_on, p.action,"
        f" p.channel, p.task_kind, p.template_id, p.language, p.title, p.priority_cents, p.contact_point_id,"
        f" CAST({reason} AS VARCHAR(20)) AS skip_reason,"
        f" CAST(NULL AS BIGINT) AS action_id, CAST(NULL AS BIGINT) AS message_id,"
        f" CAST(NULL AS BIGINT) AS task_id"
        f" FROM ({with_point}) p"
    )
    # Parameters in the order their placeholders appear in the text.
    params = [
        *params,  # the steps table
        stale_before,  # reason: stale
        stale_before,  # contact point: only for a message that is sent
        *condition_params,  # candidates
        ctx.as_of,  # due_on <= as_of
    ]
    return final, params


def id_sql(ctx: CycleContext, sequences: dict[str, str]) -> list[tuple[str, list]]:
    """Statements that give the rows of DUE their action, message and task ids.

    PostgreSQL draws them from the tables' sequences (safe with chunks on several
    connections). SQLite has one writer at a time: the chunk holds the write lock, so ids go
    on from each table's AUTOINCREMENT counter, ``base + rowid`` (gaps are harmless)."""
    done = "skip_reason = ''"
    message = f"{done} AND action = '{StepAction.MESSAGE}'"
    task = f"{done} AND action = '{StepAction.TASK}'"
    if ctx.postgresql:
        return [
            (
                f"UPDATE {DUE} SET action_id = nextval(%s),"
                f" message_id = CASE WHEN {message} THEN nextval(%s) END,"
                f" task_id = CASE WHEN {task} THEN nextval(%s) END",
                [sequences[ACTION], sequences[MESSAGE], sequences[TASK]],
            )
        ]

    def base(table: str) -> str:
        return (
            f"(SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = '{table}'), 0),"
            f" COALESCE((SELECT MAX(id) FROM {table}), 0)))"
        )

    return [
        (
            f"UPDATE {DUE} SET action_id = {base(ACTION)} + rowid,"
            f" message_id = CASE WHEN {message} THEN {base(MESSAGE)} + rowid END,"
            f" task_id = CASE WHEN {task} THEN {base(TASK)} + rowid END",
            [],
        )
    ]


def insert_sql(ctx: CycleContext, stamp) -> list[tuple[str, list]]:
    """INSERTs of the new messages, tasks and actions (in that order: actions point to them)."""
    date = q.date_param()
    org = ctx.organization_id
    id_text = "CAST(x.action_id AS TEXT)"
    message = (
        f"INSERT INTO {MESSAGE} (id, organization_id, case_id, debtor_id, channel, contact_point_id,"
        f" template_id, language, business_date, scheduled_for, status, subject, body, provider,"
        f" provider_id, cost, compliance_decision, idempotency_key, created_at, sent_at, status_changed_at)"
        f" SELECT x.message_id, %s, x.case_id, x.debtor_id, x.channel, x.contact_point_id, x.template_id,"
        f" x.language, {date}, NULL, '{MessageStatus.QUEUED}', '', '', '', '', NULL, NULL,"
        f" 'cycle:' || {id_text}, %s, NULL, NULL FROM {DUE} x WHERE x.message_id IS NOT NULL"
    )
    task = (
        f"INSERT INTO {TASK} (id, organization_id, case_id, kind, title, status, due_on, priority,"
        f" assigned_to_id, result, notes, created_at, completed_at)"
        f" SELECT x.task_id, %s, x.case_id, x.task_kind, x.title, '{TaskStatus.OPEN}', {date},"
        f" {q.money('x.priority_cents')}, NULL, '', '', %s, NULL FROM {DUE} x WHERE x.task_id IS NOT NULL"
    )
    action = (
        f"INSERT INTO {ACTION} (id, organization_id, case_id, step_id, variant_id, due_on, business_date,"
        f" status, skip_reason, message_id, task_id, created_at)"
        f" SELECT x.action_id, %s, x.case_id, x.step_id, x.variant_id, x.due_on, {date},"
        f" CASE WHEN x.skip_reason = '' THEN '{ActionStatus.DONE}' ELSE '{ActionStatus.SKIPPED}' END,"
        f" x.skip_reason, x.message_id, x.task_id, %s FROM {DUE} x"
    )
    return [
        (message, [org, ctx.as_of, stamp]),
        (task, [org, ctx.as_of, stamp]),
        (action, [org, ctx.as_of, stamp]),
    ]


def counts_sql() -> str:
    return f"SELECT step_id, skip_reason, COUNT(*) FROM {DUE} GROUP BY step_id, skip_reason"
