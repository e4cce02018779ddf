"""Phase 3: the stage of each case (docs/strategy.md §3), as SQL over the facts.

``target`` is the active stage of highest position whose entry test holds; ``new_stage``
moves forward to it, back to it only when the case is cured and its stage lets it go, and
out when the case is closed; ``entered_on`` is the date the case would have entered had the
cycle run every day.
"""

from __future__ import annotations

import datetime as dt

from recobro.strategy import rules
from recobro.strategy.models import TransitionReason

from . import sql as q
from .context import CycleContext
from .facts import FACT_COLUMNS


def columns_of(alias: str, *, new_stage: bool) -> rules.Callable:
    """The ``columns`` callable for ``rules.to_sql``: facts of ``alias``; with ``new_stage``
    the stage facts are the ones this cycle decided (segment rules, step conditions), without
    it the stored ones (entry rules)."""
    mapping = {name: f"{alias}.{column}" for name, column in FACT_COLUMNS.items()}
    if new_stage:
        mapping["stage"] = f"{alias}.new_stage_code"
        mapping["days_in_stage"] = f"{alias}.new_days_in_stage"
    return rules.columns_from(mapping)


def case_open(alias: str) -> str:
    """Open with something still owed once held documents are set aside (docs §3: otherwise
    the case is treated as closed: it leaves its stage and has no segment)."""
    return f"({alias}.is_open = TRUE AND {alias}.open_documents > 0)"


def target_sql(ctx: CycleContext, alias: str) -> tuple[str, list]:
    """The target stage id (or null) of the facts row ``alias``."""
    whens, params = [], []
    columns = columns_of(alias, new_stage=False)
    for stage in sorted(ctx.config.active_stages, key=lambda s: s.position, reverse=True):
        test = f"{alias}.due_offset >= %s"
        test_params: list = [stage.entry_offset]
        if stage.entry_rule is not None:
            rule_sql, rule_params = rules.to_sql(stage.entry_rule, columns, vendor=ctx.vendor)
            test += f" AND {rule_sql}"
            test_params += rule_params
        whens.append(f"WHEN {test} THEN %s")
        params += [*test_params, stage.id]
    if not whens:
        return "CAST(NULL AS BIGINT)", []
    return f"CAST(CASE WHEN {alias}.due_offset IS NULL THEN NULL {' '.join(whens)} END AS BIGINT)", params


def _by_stage(ctx: CycleContext, column: str, attribute: str, default: str = "NULL") -> tuple[str, list]:
    stages = ctx.config.stages
    if not stages:
        return default, []
    whens = " ".join("WHEN %s THEN %s" for _ in stages)
    return f"(CASE {column} {whens} ELSE {default} END)", [
        x for s in stages for x in (s.id, getattr(s, attribute))
    ]


def position_sql(ctx: CycleContext, column: str) -> tuple[str, list]:
    return _by_stage(ctx, column, "position")


def new_stage_sql(ctx: CycleContext, alias: str) -> tuple[str, list]:
    target, current = f"{alias}.target_stage_id", f"{alias}.old_stage_id"
    target_position, tp = position_sql(ctx, target)
    current_position, cp = position_sql(ctx, current)
    leaving = [s.id for s in ctx.config.stages if s.exits_when_cured]
    cured_exit = f"{current} IN ({', '.join('%s' for _ in leaving)})" if leaving else "1 = 0"
    sql = (
        f"CAST(CASE WHEN NOT {case_open(alias)} THEN NULL"
        f" WHEN {current} IS NOT NULL AND {alias}.old_stage_pinned_until >= {q.date_param()} THEN {current}"
        f" WHEN {current} IS NULL THEN {target}"
        f" WHEN {target} = {current} THEN {current}"
        f" WHEN {target} IS NOT NULL AND {target_position} > {current_position} THEN {target}"
        f" WHEN {alias}.dpd = 0 AND {cured_exit} THEN {target}"
        f" ELSE {current} END AS BIGINT)"
    )
    return sql, [ctx.as_of, *tp, *cp, *leaving]


def entry_date_sql(ctx: CycleContext, anchor: str, anchor_params: list) -> tuple[str, list]:
    """docs §3: ``min(max(anchor, previous cycle + 1), as_of)``; ``as_of`` without a
    previous completed cycle or without an anchor."""
    date = q.date_param()
    if ctx.previous is None:
        return date, [ctx.as_of]
    day_after = ctx.previous + dt.timedelta(days=1)
    return (
        f"(CASE WHEN {anchor} IS NULL THEN {date} ELSE {q.least(q.greatest(anchor, date), date)} END)",
        [*anchor_params, ctx.as_of, *anchor_params, day_after, ctx.as_of],
    )


def stage_columns_sql(ctx: CycleContext, alias: str) -> tuple[list[str], list]:
    """Level C: entry date, code and transition reason of the new stage (``alias`` has
    ``new_stage_id``)."""
    new, old = f"{alias}.new_stage_id", f"{alias}.old_stage_id"
    offset, offset_params = _by_stage(ctx, new, "entry_offset")
    anchor = q.add_days(f"{alias}.oldest_due_date", offset)
    entry, entry_params = entry_date_sql(ctx, anchor, offset_params)
    same = f"{new} IS NOT DISTINCT FROM {old}" if ctx.postgresql else f"{new} IS {old}"
    entered = (
        f"CASE WHEN {new} IS NULL THEN NULL WHEN {same} THEN {alias}.old_stage_entered_on ELSE {entry} END"
    )
    code, code_params = _by_stage(ctx, new, "code")
    new_position, np = position_sql(ctx, new)
    old_position, op = position_sql(ctx, old)
    reason = (
        f"CASE WHEN {same} THEN NULL"
        f" WHEN NOT {case_open(alias)} THEN '{TransitionReason.CLOSED}'"
        f" WHEN {old} IS NULL OR ({new} IS NOT NULL AND {new_position} > {old_position})"
        f" THEN '{TransitionReason.RULE}' ELSE '{TransitionReason.CURED}' END"
    )
    columns = [
        f"{entered} AS new_stage_entered_on",
        f"CAST({code} AS VARCHAR(60)) AS new_stage_code",
        f"CAST({reason} AS VARCHAR(8)) AS transition_reason",
    ]
    return columns, [*entry_params, *code_params, *np, *op]


def weight_sql(ctx: CycleContext, column: str) -> tuple[str, list]:
    """The new stage's priority weight in hundredths (100 without a stage)."""
    stages = ctx.config.stages
    if not stages:
        return "100", []
    whens = " ".join("WHEN %s THEN %s" for _ in stages)
    return f"(CASE {column} {whens} ELSE 100 END)", [
        x for s in stages for x in (s.id, int(s.priority_weight * 100))
    ]
