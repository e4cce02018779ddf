"""Phase 8: probability of payment, expected recovery and priority (docs/strategy.md §8).

All in integers so that both databases give Python's Decimal answer to the cent: the
probability in ten-thousandths, money in cents, weights in hundredths; rounding is half away
from zero (``ROUND_HALF_UP``), as ``quantize`` does.
"""

from __future__ import annotations

from .context import CycleContext


def probability_sql(ctx: CycleContext, alias: str) -> tuple[str, list]:
    """The probability in ten-thousandths: the debtor's score, else the organization's
    fallback for the case's bucket times the broken promise factor per broken promise."""
    table = ctx.config.probability_table()
    broken = f"{alias}.broken_promises_90d"
    bucket_whens, params = [], []
    for key, values in table.items():
        inner = " ".join(f"WHEN {broken} = {n} THEN %s" for n in range(len(values) - 1))
        inner_sql = f"CASE {inner} ELSE %s END" if inner else "%s"
        bucket_whens.append(f"WHEN %s THEN ({inner_sql})")
        params += [key, *values]
    fallback = f"(CASE {alias}.bucket {' '.join(bucket_whens)} ELSE 0 END)" if bucket_whens else "0"
    sql = (
        f"CAST(CASE WHEN {alias}.score IS NOT NULL THEN ROUND({alias}.score * 10000)"
        f" ELSE {fallback} END AS BIGINT)"
    )
    return sql, params


def round_divide(numerator: str, divisor: int) -> str:
    """``numerator / divisor`` for integers, rounded half away from zero."""
    half = divisor // 2
    return (
        f"(CASE WHEN ({numerator}) >= 0 THEN (({numerator}) + {half}) / {divisor}"
        f" ELSE -((-({numerator}) + {half}) / {divisor}) END)"
    )


def expected_cents_sql(alias: str) -> str:
    """balance × probability, in cents."""
    return round_divide(f"{alias}.balance_cents * {alias}.probability_e4", 10000)


def priority_cents_sql(alias: str, weight: str) -> str:
    """expected recovery × the stage's weight, in cents."""
    return round_divide(f"{alias}.expected_cents * {weight}", 100)
