"""What changed since a pass of the cycle started: the re-run of a completed date redoes only
the debtors whose inputs changed (docs/strategy.md, "Properties").

Two questions, both answered in a handful of statements:

- ``fingerprint``: a digest of everything organization-wide the cycle reads (the checked
  configuration, the aging buckets, the timezone, the portfolios' codes). When it differs from
  the one the pass ran with, every debtor is dirty.
- ``dirty_debtors``: the debtors with a row written since a moment, read from the timestamps
  the inputs carry (documents and debtors ``updated_at``; payments, holds, promises, plans and
  manual tasks ``created_at``; holds ``released_at``; messages ``sent_at`` and
  ``status_changed_at``; tasks ``completed_at``; manual stage moves) and from the audit log
  for the writes that leave no timestamp on their row (a promise cancelled, a plan approved or
  cancelled, a hold approved, a payment reversed). The cycle's own rows (its transitions, its
  tasks and queued messages) are not changes.

Known gap: a transaction that wrote its timestamps before the pass started but committed after
the pass read those debtors is not seen (its timestamps are older than the pass). Writers here
are short transactions; a long import running across the start of a cycle should be followed
by a full cycle of the day (a new date, or the next day's run).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import fields, is_dataclass
from decimal import Decimal

from django.db import connection

from recobro.core.models import AuditEntry
from recobro.negotiation.models import PaymentPlan, PromiseToPay
from recobro.portfolio.models import Portfolio
from recobro.strategy import rules
from recobro.strategy.models import Action, Hold, StageTransition, Task, TransitionReason

from .config import Config
from .facts import CASE, CONTACT_POINT, DEBTOR, DOCUMENT, HOLD, MESSAGE, PAYMENT, PLAN, PROMISE, TASK

ACTION = Action._meta.db_table
AUDIT = AuditEntry._meta.db_table
TRANSITION = StageTransition._meta.db_table

#: Audited rows whose change leaves no timestamp on the row itself: audit label → the start of
#: a SELECT of the debtor of the row ``o`` (joined to its audit entries ``a``).
_AUDITED = {
    PromiseToPay._meta.label_lower: f"SELECT c.debtor_id FROM {PROMISE} o JOIN {CASE} c ON c.id = o.case_id",
    PaymentPlan._meta.label_lower: f"SELECT c.debtor_id FROM {PLAN} o JOIN {CASE} c ON c.id = o.case_id",
    Hold._meta.label_lower: f"SELECT o.debtor_id FROM {HOLD} o",
    "portfolio.payment": f"SELECT o.debtor_id FROM {PAYMENT} o",
    "portfolio.case": f"SELECT o.debtor_id FROM {CASE} o",
    "strategy.casestate": f"SELECT o.debtor_id FROM {CASE} o",
    Task._meta.label_lower: f"SELECT c.debtor_id FROM {TASK} o JOIN {CASE} c ON c.id = o.case_id",
}


def _canonical(value):
    """A JSON-able form of the configuration that is the same in every process (sets sorted,
    rules by their text)."""
    if isinstance(value, rules.Rule):
        return value.text
    if is_dataclass(value):
        return [type(value).__name__, *(_canonical(getattr(value, f.name)) for f in fields(value))]
    if isinstance(value, dict):
        return [[str(k), _canonical(v)] for k, v in sorted(value.items(), key=lambda i: str(i[0]))]
    if isinstance(value, set | frozenset):
        return sorted(str(v) for v in value)
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    if isinstance(value, Decimal | dt.date):
        return str(value)
    return value


def fingerprint(organization, config: Config) -> str:
    portfolios = Portfolio.objects.filter(organization=organization).order_by("pk")
    portfolios = list(portfolios.values_list("pk", "code", "currency"))
    document = [_canonical(config), organization.timezone, [list(p) for p in portfolios]]
    return hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()


def dirty_debtors(organization_id: int, since: dt.datetime) -> list[int]:
    """Ids of the organization's debtors with an input written at or after ``since``."""
    stamp = connection.ops.adapt_datetimefield_value(since)
    selects: list[tuple[str, int]] = [  # (SELECT of debtor ids, number of ``since`` parameters)
        (f"SELECT x.debtor_id FROM {DOCUMENT} x WHERE x.organization_id = %s AND x.updated_at >= %s", 1),
        (f"SELECT x.debtor_id FROM {PAYMENT} x WHERE x.organization_id = %s AND x.created_at >= %s", 1),
        (f"SELECT x.id FROM {DEBTOR} x WHERE x.organization_id = %s AND x.updated_at >= %s", 1),
        (f"SELECT x.debtor_id FROM {CONTACT_POINT} x WHERE x.organization_id = %s AND x.updated_at >= %s", 1),
        (
            f"SELECT x.debtor_id FROM {HOLD} x WHERE x.organization_id = %s"
            f" AND (x.created_at >= %s OR x.released_at >= %s)",
            2,
        ),
        (
            f"SELECT x.debtor_id FROM {MESSAGE} x WHERE x.organization_id = %s"
            f" AND (x.sent_at >= %s OR x.status_changed_at >= %s)",
            2,
        ),
        (
            f"SELECT c.debtor_id FROM {PROMISE} x JOIN {CASE} c ON c.id = x.case_id"
            f" WHERE x.organization_id = %s AND x.created_at >= %s",
            1,
        ),
        (
            f"SELECT c.debtor_id FROM {PLAN} x JOIN {CASE} c ON c.id = x.case_id"
            f" WHERE x.organization_id = %s AND x.created_at >= %s",
            1,
        ),
        (
            # Tasks done, and tasks people opened (the cycle's own carry an action).
            f"SELECT c.debtor_id FROM {TASK} x JOIN {CASE} c ON c.id = x.case_id"
            f" WHERE x.organization_id = %s AND (x.completed_at >= %s OR (x.created_at >= %s"
            f" AND NOT EXISTS (SELECT 1 FROM {ACTION} a WHERE a.task_id = x.id)))",
            2,
        ),
        (
            f"SELECT c.debtor_id FROM {TRANSITION} x JOIN {CASE} c ON c.id = x.case_id"
            f" WHERE x.organization_id = %s AND x.created_at >= %s"
            f" AND x.reason = '{TransitionReason.MANUAL}'",
            1,
        ),
    ]
    for label, select in _AUDITED.items():
        selects.append(
            (
                f"{select} JOIN {AUDIT} a ON o.id = CAST(CASE WHEN a.object_type = '{label}'"
                f" THEN a.object_id END AS BIGINT)"
                f" WHERE a.organization_id = %s AND a.created_at >= %s AND a.object_type = '{label}'",
                1,
            )
        )
    params: list = []
    for _select, n in selects:
        params += [organization_id, *([stamp] * n)]
    sql = " UNION ".join(select for select, _n in selects)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT DISTINCT debtor_id FROM ({sql}) dirty ORDER BY debtor_id", params)
        return [row[0] for row in cursor.fetchall()]
