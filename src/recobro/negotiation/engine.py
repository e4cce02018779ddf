"""Promises settle themselves from payments, set-based (docs/strategy.md, phase 1).

``resolve_promises`` is the one public function; the daily cycle runs it before anything
else. For each pending promise of the organization, ``paid`` is the sum of the posted
payments of its case (same portfolio and debtor) with ``made_on <= paid_on <= min(promised_on,
as_of)``; reversed payments do not count. Then:

- kept: ``paid >= amount``, whatever the date (a promise paid in full early is kept at once);
- partly kept: the promised date has passed (``promised_on < as_of``) and ``0 < paid < amount``;
- broken: the promised date has passed and nothing was paid;

with ``paid_amount = paid`` and ``resolved_on = as_of``. A promise still running gets its
``paid_amount`` brought up to date. One UPDATE per outcome; money is summed in integer cents
(SQLite sums decimals as floats). Running it twice for a date changes nothing the second time.
"""

import datetime as dt
from collections.abc import Iterable

from django.db import connection, transaction

from recobro.negotiation.models import PromiseStatus, PromiseToPay
from recobro.portfolio import dialect
from recobro.portfolio.models import Case, Payment, PaymentStatus

PROMISE = PromiseToPay._meta.db_table
CASE = Case._meta.db_table
PAYMENT = Payment._meta.db_table


def _paid_cents(as_of_sql: str) -> str:
    """Cents paid towards the promise row of PROMISE (correlated)."""
    until = dialect.least(f"{PROMISE}.promised_on", as_of_sql)
    return (
        f"(SELECT COALESCE(SUM({dialect.cents('p.amount')}), 0) FROM {CASE} c"
        f" JOIN {PAYMENT} p ON p.portfolio_id = c.portfolio_id AND p.debtor_id = c.debtor_id"
        f" WHERE c.id = {PROMISE}.case_id AND p.status = '{PaymentStatus.POSTED}'"
        f" AND p.paid_on >= {PROMISE}.made_on AND p.paid_on <= {until})"
    )


def resolve_promises(*, organization, as_of: dt.date, debtor_ids: Iterable[int] | None = None) -> dict:
    """Settle the organization's pending promises (or those of some debtors) as of ``as_of``.

    Returns counts: ``kept``, ``partly_kept``, ``broken`` (resolved now) and ``updated``
    (pending promises whose paid amount moved).
    """
    if isinstance(as_of, dt.datetime) or not isinstance(as_of, dt.date):
        raise TypeError(f"as_of must be a date, not {as_of!r}")
    date = dialect.date_param()
    paid = _paid_cents(date)
    amount = dialect.cents(f"{PROMISE}.amount")
    pending = f"{PROMISE}.organization_id = %s AND {PROMISE}.status = '{PromiseStatus.PENDING}'"
    scope_params: list = []
    if debtor_ids is not None:
        clause, scope_params = dialect.id_in("c.debtor_id", debtor_ids)
        pending += f" AND {PROMISE}.case_id IN (SELECT c.id FROM {CASE} c WHERE {clause})"
    # (outcome, condition on the paid cents, whether the promised date must have passed)
    outcomes = (
        (PromiseStatus.KEPT, f"{paid} >= {amount}", False),
        (PromiseStatus.PARTLY_KEPT, f"{paid} > 0", True),
        (PromiseStatus.BROKEN, "1 = 1", True),
    )
    counts = {}
    with transaction.atomic(), connection.cursor() as cursor:
        for status, condition, past in outcomes:
            passed = f" AND {PROMISE}.promised_on < {date}" if past else ""
            condition_params = [as_of] if "SELECT" in condition else []
            cursor.execute(
                f"UPDATE {PROMISE} SET status = %s, paid_amount = {dialect.money(paid)}, resolved_on = {date}"
                f" WHERE {pending}{passed} AND {condition}",
                [
                    status,
                    as_of,
                    as_of,
                    organization.pk,
                    *scope_params,
                    *([as_of] if past else []),
                    *condition_params,
                ],
            )
            counts[str(status)] = cursor.rowcount
        cursor.execute(
            f"UPDATE {PROMISE} SET paid_amount = {dialect.money(paid)}"
            f" WHERE {pending} AND {dialect.cents(f'{PROMISE}.paid_amount')} <> {paid}",
            [as_of, organization.pk, *scope_params, as_of],
        )
        counts["updated"] = cursor.rowcount
    return counts
