"""Phases 4–6: segment, strategy and variant of each case (docs/strategy.md §4–§6), as SQL.

The segment is one CASE over every active segment's compiled rule, by priority; the strategy
a CASE over (stage, segment) then (stage, no segment); the variant a stable hash of the case
and strategy ids into the variants' share ranges, kept while the case stays in the strategy.
"""

from __future__ import annotations

from recobro.strategy import rules

from . import sql as q
from .context import CycleContext
from .stages import case_open, columns_of, entry_date_sql

#: docs/strategy.md §6: bucket = ((case_id * HASH_CASE + strategy_id * HASH_STRATEGY) mod 2^32) mod 100
HASH_CASE = 2654435761
HASH_STRATEGY = 40503
HASH_MODULUS = 4294967296


def variant_bucket(case_id: int, strategy_id: int) -> int:
    """The same bucket in Python."""
    return ((case_id * HASH_CASE + strategy_id * HASH_STRATEGY) % HASH_MODULUS) % 100


def segment_sql(ctx: CycleContext, alias: str) -> tuple[str, list]:
    """The first active segment, by priority, whose rule holds (new stage facts); null for a
    closed case or when none matches."""
    columns = columns_of(alias, new_stage=True)
    whens, params = [], []
    for segment in ctx.config.segments:
        rule_sql, rule_params = rules.to_sql(segment.rule, columns, vendor=ctx.vendor)
        whens.append(f"WHEN {rule_sql} THEN %s")
        params += [*rule_params, segment.id]
    if not whens:
        return "CAST(NULL AS BIGINT)", []
    return f"CAST(CASE WHEN NOT {case_open(alias)} THEN NULL {' '.join(whens)} END AS BIGINT)", params


def strategy_sql(ctx: CycleContext, alias: str) -> tuple[str, list]:
    stage, segment = f"{alias}.new_stage_id", f"{alias}.new_segment_id"
    whens, params = [], []
    for strategy in ctx.config.strategies:
        if strategy.segment_id is not None:
            whens.append(f"WHEN {stage} = %s AND {segment} = %s THEN %s")
            params += [strategy.stage_id, strategy.segment_id, strategy.id]
    for strategy in ctx.config.strategies:
        if strategy.segment_id is None:
            whens.append(f"WHEN {stage} = %s THEN %s")
            params += [strategy.stage_id, strategy.id]
    if not whens:
        return "CAST(NULL AS BIGINT)", []
    return f"CAST(CASE {' '.join(whens)} END AS BIGINT)", params


def variant_columns_sql(ctx: CycleContext, alias: str) -> tuple[list[str], list]:
    """``new_variant_id`` and ``new_strategy_entered_on`` (``alias`` has ``new_strategy_id``)."""
    strategy, old = f"{alias}.new_strategy_id", f"{alias}.old_strategy_id"
    changed = q.is_distinct(strategy, old)
    keeps_whens, keeps_params, draw_whens, draw_params = [], [], [], []
    for conf in ctx.config.strategies:
        ids = [v.id for v in conf.variants]
        keeps_whens.append(f"WHEN %s THEN {alias}.old_variant_id IN ({', '.join('%s' for _ in ids)})")
        keeps_params += [conf.id, *ids]
        bucket = f"((({alias}.case_id * {HASH_CASE} + {conf.id * HASH_STRATEGY}) %% {HASH_MODULUS}) %% 100)"
        ranges = [v for v in conf.variants if v.high > v.low]
        inner = " ".join(f"WHEN {bucket} < %s THEN %s" for _ in ranges)
        draw_whens.append(f"WHEN %s THEN (CASE {inner} END)")
        draw_params += [conf.id, *(x for v in ranges for x in (v.high, v.id))]
    if not keeps_whens:
        return ["CAST(NULL AS BIGINT) AS new_variant_id", f"{q.date_param()} AS new_strategy_entered_on"], [
            None
        ]
    keeps = f"(CASE {strategy} {' '.join(keeps_whens)} ELSE FALSE END)"
    draw = f"(CASE {strategy} {' '.join(draw_whens)} END)"
    variant = (
        f"CAST(CASE WHEN {strategy} IS NULL THEN NULL"
        f" WHEN NOT ({changed}) AND {alias}.old_variant_id IS NOT NULL AND {keeps}"
        f" THEN {alias}.old_variant_id"
        f" ELSE {draw} END AS BIGINT)"
    )
    entry, entry_params = entry_date_sql(ctx, f"{alias}.new_stage_entered_on", [])
    entered = (
        f"CASE WHEN {strategy} IS NULL THEN NULL WHEN NOT ({changed}) THEN {alias}.old_strategy_entered_on"
        f" ELSE {entry} END"
    )
    return (
        [f"{variant} AS new_variant_id", f"{entered} AS new_strategy_entered_on"],
        [*keeps_params, *draw_params, *entry_params],
    )
