"""Payments and allocations: money received and the documents it settles.

- ``record_payment``: one payment, allocated explicitly or by the portfolio's order;
- ``allocate_payments``: set-based allocation of stored payments (after an import);
- ``reverse_payment``: undo a payment's allocations and mark it reversed.

Allocation order (``Portfolio.allocation_order``), over the debtor's documents in the
payment's portfolio that are open with a positive balance:

- ``oldest_due``: by due date, then id;
- ``waterfall``: fees (costs), then interest, then principal (invoices and installments),
  each by due date, then id (``WATERFALL_RANK``).

Credit notes are never allocated to. Disputed documents are skipped by the automatic
order: a payment settles a disputed document only when its allocation says so. What a
payment does not settle stays on it as ``unallocated_amount`` (credit on account).

Each function runs in one transaction, audits every row it changes, refreshes the cases
of the debtors involved and publishes its event (handlers run inside the transaction).
"""

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

from django.db import connection, transaction
from django.utils.translation import gettext as _

from recobro.core import events
from recobro.core.audit import Actor, AuditAction, entry, record_many, snapshot
from recobro.core.clock import now
from recobro.core.models import AuditEntry
from recobro.core.money import MONEY_DECIMAL_PLACES, MONEY_MAX_DIGITS, is_exact, minor_units
from recobro.portfolio import dialect
from recobro.portfolio.engine import SMALL_SCOPE, refresh_cases
from recobro.portfolio.models import (
    OPEN_STATUSES,
    WATERFALL_RANK,
    Allocation,
    AllocationOrder,
    Document,
    DocumentKind,
    DocumentStatus,
    Payment,
    PaymentMethod,
    PaymentSource,
    PaymentStatus,
    Portfolio,
)
from recobro.portfolio.queries import allocation_queue
from recobro.portfolio.services import LedgerError

_CENT = Decimal(1).scaleb(-MONEY_DECIMAL_PLACES)
_MONEY_LIMIT = Decimal(10) ** (MONEY_MAX_DIGITS - MONEY_DECIMAL_PLACES)
_LAST_RANK = max(WATERFALL_RANK.values()) + 1
_ALLOCATION_FIELDS = ["id", "organization", "payment", "document", "amount"]


def _money_text(value: Decimal) -> str:
    """Money as the audit log keeps it: two decimals ("70.00"), the same in SQL and Python."""
    return str(Decimal(value).quantize(_CENT))


def _label(document: Document) -> str:
    return str(document)


def _as_money(value, currency: str, what: str) -> Decimal:
    """A Decimal exact to the currency's minor unit, or a LedgerError saying what is wrong."""
    if isinstance(value, float | bool):
        raise LedgerError(
            _("%(what)s must be a Decimal, not a float (%(value)r).") % {"what": what, "value": value},
            code="amount_float",
        )
    try:
        amount = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        raise LedgerError(
            _("%(what)s %(value)r is not a number.") % {"what": what, "value": value}, code="amount_invalid"
        ) from None
    if not amount.is_finite():
        raise LedgerError(_("%(what)s must be a finite number.") % {"what": what}, code="amount_invalid")
    if abs(amount) >= _MONEY_LIMIT:
        raise LedgerError(
            _("%(what)s %(value)s is too large.") % {"what": what, "value": amount}, code="amount_large"
        )
    if not is_exact(amount, currency):
        raise LedgerError(
            _("%(what)s %(value)s has more decimals than %(currency)s allows (%(places)s).")
            % {"what": what, "value": amount, "currency": currency, "places": minor_units(currency)},
            code="amount_minor_unit",
        )
    return amount.quantize(_CENT)  # as the database stores it, so audit texts match


def _check_choice(value: str, choices, what: str) -> None:
    if value not in choices.values:
        raise LedgerError(
            _("Unknown %(what)s %(value)r; use one of: %(choices)s.")
            % {"what": what, "value": value, "choices": ", ".join(choices.values)},
            code="choice",
        )


# --- record_payment -------------------------------------------------------------------------


def record_payment(
    *,
    organization,
    portfolio: Portfolio,
    debtor,
    amount: Decimal,
    paid_on: dt.date,
    actor: Actor,
    currency: str | None = None,
    method: str = "transfer",
    source: str = "manual",
    reference: str = "",
    external_id: str | None = None,
    allocations: list[tuple[Document, Decimal]] | None = None,
    notes: str = "",
) -> Payment:
    """Record money received from ``debtor`` in ``portfolio`` and settle documents with it.

    With ``allocations`` (document, amount) pairs, exactly those are applied (an empty list
    applies nothing); otherwise the portfolio's allocation order decides. The rest stays
    unallocated. Raises ``LedgerError`` naming the document or field at fault; then nothing
    is stored.
    """
    if portfolio.organization_id != organization.pk:
        raise LedgerError(
            _("Portfolio %(portfolio)s belongs to another organization.") % {"portfolio": portfolio},
            code="tenancy",
        )
    if debtor.organization_id != organization.pk:
        raise LedgerError(
            _("Debtor %(debtor)s belongs to another organization.") % {"debtor": debtor}, code="tenancy"
        )
    currency = (currency or portfolio.currency).upper()
    if currency != portfolio.currency:
        raise LedgerError(
            _("The payment is in %(currency)s but portfolio %(portfolio)s is in %(expected)s.")
            % {"currency": currency, "portfolio": portfolio, "expected": portfolio.currency},
            code="currency",
        )
    amount = _as_money(amount, currency, _("The payment amount"))
    if amount <= 0:
        raise LedgerError(
            _("The payment amount must be positive, not %(amount)s.") % {"amount": amount},
            code="amount_positive",
        )
    if isinstance(paid_on, dt.datetime) or not isinstance(paid_on, dt.date):
        raise LedgerError(
            _("The payment date must be a date, not %(value)r.") % {"value": paid_on}, code="date"
        )
    today = organization.today()
    if paid_on > today:
        raise LedgerError(
            _(
                "The payment date %(date)s is after today's business date (%(today)s): a payment is "
                "recorded once it has been received."
            )
            % {"date": paid_on.isoformat(), "today": today.isoformat()},
            code="date_in_future",
        )
    _check_choice(method, PaymentMethod, _("payment method"))
    _check_choice(source, PaymentSource, _("payment source"))
    if external_id is not None:
        external_id = str(external_id).strip() or None

    with transaction.atomic():
        if (
            external_id is not None
            and Payment.objects.filter(portfolio=portfolio, external_id=external_id).exists()
        ):
            raise LedgerError(
                _("A payment with external id %(external_id)s already exists in portfolio %(portfolio)s.")
                % {"external_id": external_id, "portfolio": portfolio},
                code="duplicate",
            )
        if allocations is None:
            plan = _automatic_plan(portfolio=portfolio, debtor=debtor, amount=amount)
        else:
            plan = _explicit_plan(
                organization=organization,
                portfolio=portfolio,
                debtor=debtor,
                amount=amount,
                pairs=allocations,
            )
        allocated = sum((share for _doc, share in plan), Decimal(0))
        payment = Payment.objects.create(
            organization=organization,
            portfolio=portfolio,
            debtor=debtor,
            external_id=external_id,
            amount=amount,
            unallocated_amount=amount - allocated,
            currency=currency,
            paid_on=paid_on,
            method=method,
            source=source,
            reference=reference,
            notes=notes,
        )
        audit = [
            entry(
                organization=organization,
                actor=actor,
                action=AuditAction.CREATE,
                obj=payment,
                after=snapshot(payment),
            )
        ]
        rows = []
        for document, share in plan:
            before = {"balance": _money_text(document.balance), "status": document.status}
            document.balance -= share
            if document.balance == 0:
                document.status = DocumentStatus.PAID
            document.save(update_fields=["balance", "status", "updated_at"])
            after = {"balance": _money_text(document.balance), "status": document.status}
            audit.append(
                _document_entry(organization, actor, document, before, after, {"operation": "record_payment"})
            )
            rows.append(
                Allocation(organization=organization, payment=payment, document=document, amount=share)
            )
        for allocation in Allocation.objects.bulk_create(rows):
            audit.append(
                entry(
                    organization=organization,
                    actor=actor,
                    action=AuditAction.CREATE,
                    obj=allocation,
                    after=_allocation_snapshot(allocation),
                    context={"operation": "record_payment"},
                )
            )
        record_many(audit)
        refresh_cases(organization=organization, debtor_ids=[debtor.pk], portfolio_ids=[portfolio.pk])
        events.publish(events.PAYMENT_RECORDED, organization=organization, payment=payment)
    return payment


def _allocation_snapshot(allocation: Allocation) -> dict:
    data = snapshot(allocation, _ALLOCATION_FIELDS)
    data["amount"] = _money_text(allocation.amount)
    return data


def _document_entry(organization, actor, document, before, after, context: dict) -> AuditEntry:
    return entry(
        organization=organization,
        actor=actor,
        action=AuditAction.UPDATE,
        obj=document,
        before=before,
        after=after,
        context=context,
    )


def _automatic_plan(*, portfolio, debtor, amount: Decimal) -> list[tuple[Document, Decimal]]:
    # Locked in pk order (as every ledger writer locks), then put in allocation order.
    queue = list(allocation_queue(portfolio=portfolio, debtor=debtor).select_for_update().order_by("pk"))
    queue.sort(key=lambda d: (d.allocation_rank, d.due_date, d.pk))
    plan, left = [], amount
    for document in queue:
        if left <= 0:
            break
        share = min(left, document.balance)
        plan.append((document, share))
        left -= share
    return plan


def _explicit_plan(
    *, organization, portfolio, debtor, amount: Decimal, pairs
) -> list[tuple[Document, Decimal]]:
    pairs = list(pairs)
    wanted = []
    for pair in pairs:
        try:
            document, share = pair
        except (TypeError, ValueError):
            raise LedgerError(
                _("Each allocation must be a (document, amount) pair, not %(value)r.") % {"value": pair},
                code="allocation_shape",
            ) from None
        if not isinstance(document, Document) or document.pk is None:
            raise LedgerError(
                _("Allocation target %(value)r is not a stored document.") % {"value": document},
                code="allocation_shape",
            )
        wanted.append((document, share))
    locked = {
        d.pk: d
        for d in Document.objects.select_for_update().filter(pk__in=[d.pk for d, _s in wanted]).order_by("pk")
    }
    plan: list[tuple[Document, Decimal]] = []
    seen: set[int] = set()
    total = Decimal(0)
    for given, raw_share in wanted:
        document = locked.get(given.pk)
        label = _label(given)
        if document is None:
            raise LedgerError(
                _("Document %(document)s no longer exists.") % {"document": label}, code="allocation"
            )
        label = _label(document)
        if document.pk in seen:
            raise LedgerError(
                _("Document %(document)s is allocated twice in the same payment.") % {"document": label},
                code="allocation_duplicate",
            )
        seen.add(document.pk)
        if document.organization_id != organization.pk or document.debtor_id != debtor.pk:
            raise LedgerError(
                _("Document %(document)s is not a document of debtor %(debtor)s.")
                % {"document": label, "debtor": debtor},
                code="allocation_debtor",
            )
        if document.portfolio_id != portfolio.pk:
            raise LedgerError(
                _("Document %(document)s belongs to another portfolio than the payment (%(portfolio)s).")
                % {"document": label, "portfolio": portfolio},
                code="allocation_portfolio",
            )
        if document.kind == DocumentKind.CREDIT_NOTE:
            raise LedgerError(
                _("Document %(document)s is a credit note; payments cannot be allocated to it.")
                % {"document": label},
                code="allocation_credit_note",
            )
        if document.status not in OPEN_STATUSES:
            raise LedgerError(
                _("Document %(document)s is %(status)s; only open or disputed documents take payments.")
                % {"document": label, "status": document.get_status_display()},
                code="allocation_status",
            )
        share = _as_money(
            raw_share, portfolio.currency, _("The allocation to document %(document)s") % {"document": label}
        )
        if share <= 0:
            raise LedgerError(
                _("The allocation to document %(document)s must be positive, not %(amount)s.")
                % {"document": label, "amount": share},
                code="allocation_positive",
            )
        if share > document.balance:
            raise LedgerError(
                _(
                    "The allocation of %(amount)s to document %(document)s exceeds "
                    "its open balance of %(balance)s."
                )
                % {"amount": share, "document": label, "balance": document.balance},
                code="allocation_exceeds_balance",
            )
        total += share
        plan.append((document, share))
    if total > amount:
        raise LedgerError(
            _("The allocations add up to %(total)s, more than the payment of %(amount)s.")
            % {"total": total, "amount": amount},
            code="allocation_exceeds_payment",
        )
    return plan


# --- reverse_payment ------------------------------------------------------------------------


def reverse_payment(*, payment: Payment, actor: Actor, reason: str) -> Payment:
    """Undo a payment: give its documents back the amounts it settled and mark it reversed.

    Its allocations are deleted (the audit log keeps them) and its whole amount becomes
    unallocated; paid documents it had settled reopen. Returns the payment as stored.
    """
    reason = (reason or "").strip()
    if not reason:
        raise LedgerError(_("Say why the payment is reversed."), code="reason")
    with transaction.atomic():
        locked = Payment.objects.select_for_update().select_related("organization").get(pk=payment.pk)
        organization = locked.organization
        if locked.status == PaymentStatus.REVERSED:
            raise LedgerError(
                _("Payment %(payment)s is already reversed.") % {"payment": locked}, code="reversed"
            )
        before_payment = snapshot(locked)
        allocations = list(locked.allocations.order_by("document_id"))
        documents = {
            d.pk: d
            for d in Document.objects.select_for_update()
            .filter(pk__in=[a.document_id for a in allocations])
            .order_by("pk")
        }
        context = {"operation": "reverse_payment", "reason": reason}
        audit = []
        for allocation in allocations:
            document = documents[allocation.document_id]
            before = {"balance": _money_text(document.balance), "status": document.status}
            document.balance += allocation.amount
            if abs(document.balance) > abs(document.original_amount):
                raise LedgerError(
                    _(
                        "Reversing would give document %(document)s a balance of %(balance)s, "
                        "above its original amount %(original)s."
                    )
                    % {
                        "document": document,
                        "balance": document.balance,
                        "original": document.original_amount,
                    },
                    code="reversal_exceeds_original",
                )
            if document.status == DocumentStatus.PAID:
                document.status = DocumentStatus.OPEN
            document.save(update_fields=["balance", "status", "updated_at"])
            after = {"balance": _money_text(document.balance), "status": document.status}
            audit.append(_document_entry(organization, actor, document, before, after, context))
            audit.append(
                entry(
                    organization=organization,
                    actor=actor,
                    action=AuditAction.DELETE,
                    obj=allocation,
                    before=_allocation_snapshot(allocation),
                    context=context,
                )
            )
        Allocation.objects.filter(pk__in=[a.pk for a in allocations]).delete()
        locked.status = PaymentStatus.REVERSED
        locked.unallocated_amount = locked.amount
        note = _("Reversed on %(date)s: %(reason)s") % {
            "date": organization.today().isoformat(),
            "reason": reason,
        }
        locked.notes = f"{locked.notes}\n{note}" if locked.notes else note
        locked.save(update_fields=["status", "unallocated_amount", "notes"])
        audit.append(
            entry(
                organization=organization,
                actor=actor,
                action=AuditAction.UPDATE,
                obj=locked,
                before=before_payment,
                after=snapshot(locked),
                context=context,
            )
        )
        record_many(audit)
        refresh_cases(
            organization=organization, debtor_ids=[locked.debtor_id], portfolio_ids=[locked.portfolio_id]
        )
        events.publish(events.PAYMENT_REVERSED, organization=organization, payment=locked)
    return locked


# --- allocate_payments ----------------------------------------------------------------------

_INTERVALS = "recobro_allocation_intervals"
_PLAN = "recobro_allocation_plan"


def allocate_payments(*, organization, payment_ids: Iterable[int], actor: Actor) -> int:
    """Allocate the unallocated amount of stored payments, set-based, by each portfolio's order.

    For each debtor × portfolio, the payments (by payment date, then id) and the open
    documents (in allocation order) are laid end to end as intervals of cents; a payment
    settles of each document exactly the overlap of their intervals. That is what
    ``record_payment`` does one payment at a time, in one pass of window functions.

    Only posted payments of ``organization`` with an unallocated amount take part; other ids
    are ignored. A constant number of statements, whatever the number of payments (so no
    chunks: the transaction must hold them all anyway). Returns the number of allocations
    written (new, or increased for a payment already partly allocated to a document).
    """
    ids = sorted({int(i) for i in payment_ids})
    if not ids:
        return 0
    t = _Tables()
    stamp = now()
    big = len(ids) > SMALL_SCOPE
    with transaction.atomic(), connection.cursor() as cursor, dialect.bulk_settings(cursor, enabled=big):
        in_ids, in_params = dialect.id_in("p.id", ids)
        if dialect.is_postgresql():
            # Lock the payments, then their debtors' open documents, each in pk order.
            cursor.execute(
                f"SELECT COUNT(*) FROM (SELECT p.id FROM {t.payment} p WHERE p.organization_id = %s"
                f" AND {in_ids} ORDER BY p.id FOR UPDATE) locked",
                [organization.pk, *in_params],
            )
            cursor.execute(
                f"SELECT COUNT(*) FROM (SELECT d.id FROM {t.document} d WHERE d.organization_id = %s"
                f" AND d.status = 'open' AND EXISTS (SELECT 1 FROM {t.payment} p WHERE {in_ids}"
                f" AND p.portfolio_id = d.portfolio_id AND p.debtor_id = d.debtor_id)"
                f" ORDER BY d.id FOR UPDATE OF d) locked",
                [organization.pk, *in_params],
            )
        for name, columns in (
            (
                _INTERVALS,
                "side CHAR(1), id BIGINT, portfolio_id BIGINT, debtor_id BIGINT, lo BIGINT, hi BIGINT",
            ),
            (
                _PLAN,
                "payment_id BIGINT, document_id BIGINT, portfolio_id BIGINT, debtor_id BIGINT, cents BIGINT",
            ),
        ):
            for statement in dialect.temp_table(name, columns):
                cursor.execute(statement, [])
        cursor.execute(*_intervals_sql(t, organization.pk, in_ids, in_params))
        cursor.execute(
            f"CREATE INDEX {_INTERVALS}_pair ON {_INTERVALS} (portfolio_id, debtor_id, side, lo)", []
        )
        if big and dialect.is_postgresql():
            cursor.execute(f"ANALYZE {_INTERVALS}", [])
        cursor.execute(*_plan_sql())
        written = cursor.rowcount
        if written:
            who = [
                stamp,
                actor.source,
                getattr(actor.user, "pk", None),
                getattr(actor.api_key, "pk", None),
                actor.display()[:200],
            ]
            cursor.execute(*_insert_allocations_sql(t, stamp))
            cursor.execute(*_audit_allocations_sql(t, who))
            cursor.execute(*_audit_documents_sql(t, who))
            cursor.execute(*_audit_payments_sql(t, who))
            cursor.execute(*_update_documents_sql(t, stamp))
            cursor.execute(*_update_payments_sql(t))
        cursor.execute(
            f"SELECT DISTINCT p.debtor_id, p.portfolio_id FROM {t.payment} p"
            f" WHERE p.organization_id = %s AND {in_ids}",
            [organization.pk, *in_params],
        )
        pairs = cursor.fetchall()
        cursor.execute(dialect.drop_temp_table(_PLAN), [])
        cursor.execute(dialect.drop_temp_table(_INTERVALS), [])
        if pairs:
            refresh_cases(
                organization=organization,
                debtor_ids={debtor for debtor, _p in pairs},
                portfolio_ids={portfolio for _d, portfolio in pairs},
            )
        events.publish(events.PAYMENTS_ALLOCATED, organization=organization, payment_ids=ids)
    return written


class _Tables:
    def __init__(self):
        self.payment = Payment._meta.db_table
        self.document = Document._meta.db_table
        self.portfolio = Portfolio._meta.db_table
        self.allocation = Allocation._meta.db_table
        self.audit = AuditEntry._meta.db_table


def _rank_sql(alias: str) -> str:
    whens = " ".join(f"WHEN '{kind}' THEN {rank}" for kind, rank in WATERFALL_RANK.items())
    return (
        f"CASE WHEN pf.allocation_order = '{AllocationOrder.WATERFALL}'"
        f" THEN CASE {alias}.kind {whens} ELSE {_LAST_RANK} END ELSE 0 END"
    )


def _intervals_sql(t: _Tables, organization_id: int, in_ids: str, in_params: list) -> tuple[str, list]:
    """Lay each debtor × portfolio's payments and open documents end to end, in cents.

    A payment covers (lo, hi] of the running total of its debtor × portfolio's payments, by
    payment date then id; a document needs (lo, hi] of the running total of the open
    balances, in allocation order. Side 'p' for payments, 'd' for documents.
    """
    sql = (
        f"INSERT INTO {_INTERVALS} (side, id, portfolio_id, debtor_id, lo, hi)"
        f" WITH pay AS ("
        f"  SELECT p.id, p.portfolio_id, p.debtor_id, p.paid_on,"
        f"   {dialect.cents('p.unallocated_amount')} AS cents"
        f"  FROM {t.payment} p WHERE p.organization_id = %s AND p.status = '{PaymentStatus.POSTED}'"
        f"  AND p.unallocated_amount > 0 AND {in_ids}"
        f" ), doc AS ("
        f"  SELECT d.id, d.portfolio_id, d.debtor_id, d.due_date, {dialect.cents('d.balance')} AS cents,"
        f"   {_rank_sql('d')} AS rnk"
        f"  FROM (SELECT DISTINCT portfolio_id, debtor_id FROM pay) pp"
        f"  JOIN {t.document} d ON d.portfolio_id = pp.portfolio_id AND d.debtor_id = pp.debtor_id"
        f"  JOIN {t.portfolio} pf ON pf.id = d.portfolio_id"
        f"  WHERE d.organization_id = %s AND d.status = '{DocumentStatus.OPEN}'"
        f"  AND d.kind <> '{DocumentKind.CREDIT_NOTE}' AND d.balance > 0"
        f" )"
        f" SELECT 'p', id, portfolio_id, debtor_id, hi - cents, hi FROM ("
        f"  SELECT id, portfolio_id, debtor_id, cents, SUM(cents) OVER (PARTITION BY portfolio_id, debtor_id"
        f"   ORDER BY paid_on, id ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS hi FROM pay) p"
        f" UNION ALL"
        f" SELECT 'd', id, portfolio_id, debtor_id, hi - cents, hi FROM ("
        f"  SELECT id, portfolio_id, debtor_id, cents, SUM(cents) OVER (PARTITION BY portfolio_id, debtor_id"
        f"   ORDER BY rnk, due_date, id ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS hi FROM doc) d"
    )
    return sql, [organization_id, *in_params, organization_id]


def _plan_sql() -> tuple[str, list]:
    """Fill the plan: a payment settles of a document exactly the overlap of their intervals.

    Through the (portfolio, debtor, side, lo) index: each payment meets only its own
    debtor's documents (a join of two CTEs would be a nested scan on SQLite).
    """
    overlap = f"{dialect.least('p.hi', 'd.hi')} - {dialect.greatest('p.lo', 'd.lo')}"
    sql = (
        f"INSERT INTO {_PLAN} (payment_id, document_id, portfolio_id, debtor_id, cents)"
        f" SELECT p.id, d.id, p.portfolio_id, p.debtor_id, {overlap}"
        f" FROM {_INTERVALS} p JOIN {_INTERVALS} d ON d.portfolio_id = p.portfolio_id"
        f" AND d.debtor_id = p.debtor_id AND d.side = 'd' AND d.lo < p.hi AND p.lo < d.hi"
        f" WHERE p.side = 'p'"
    )
    return sql, []


def _insert_allocations_sql(t: _Tables, stamp) -> tuple[str, list]:
    merged = dialect.money(f"{dialect.cents(f'{t.allocation}.amount')} + {dialect.cents('excluded.amount')}")
    sql = (
        f"INSERT INTO {t.allocation} (organization_id, payment_id, document_id, amount, created_at)"
        f" SELECT p.organization_id, o.payment_id, o.document_id, {dialect.money('o.cents')}, %s"
        f" FROM {_PLAN} o JOIN {t.payment} p ON p.id = o.payment_id WHERE true"
        f" ON CONFLICT (payment_id, document_id) DO UPDATE SET amount = {merged}"
    )
    return sql, [stamp]


_AUDIT_COLUMNS = (
    "organization_id, created_at, source, user_id, api_key_id, actor_label,"
    " action, object_type, object_id, object_repr, before, after, context"
)


def _context(operation: str) -> str:
    return dialect.json_object({"operation": f"'{operation}'"})


def _document_label(alias: str) -> str:
    return f"COALESCE(NULLIF({alias}.number, ''), {alias}.external_id)"


def _audit_allocations_sql(t: _Tables, who: list) -> tuple[str, list]:
    fresh = f"{dialect.cents('a.amount')} = o.cents"
    before = dialect.json_object(
        {"amount": dialect.money_text(dialect.money(f"{dialect.cents('a.amount')} - o.cents"))}
    )
    after = dialect.json_object(
        {
            "id": "a.id",
            "organization_id": "a.organization_id",
            "payment_id": "a.payment_id",
            "document_id": "a.document_id",
            "amount": dialect.money_text("a.amount"),
        }
    )
    repr_ = dialect.concat(dialect.money_text("a.amount"), "' → '", _document_label("d"))
    sql = (
        f"INSERT INTO {t.audit} ({_AUDIT_COLUMNS})"
        f" SELECT a.organization_id, %s, %s, %s, %s, %s,"
        f" CASE WHEN {fresh} THEN '{AuditAction.CREATE}' ELSE '{AuditAction.UPDATE}' END,"
        f" '{Allocation._meta.label_lower}', {dialect.text('a.id')}, {repr_},"
        f" CASE WHEN {fresh} THEN NULL ELSE {before} END, {after}, {_context('allocate_payments')}"
        f" FROM {_PLAN} o JOIN {t.allocation} a"
        f" ON a.payment_id = o.payment_id AND a.document_id = o.document_id"
        f" JOIN {t.document} d ON d.id = a.document_id"
    )
    return sql, who


def _document_totals() -> str:
    return f"(SELECT document_id, SUM(cents) AS cents FROM {_PLAN} GROUP BY document_id)"


def _payment_totals() -> str:
    return f"(SELECT payment_id, SUM(cents) AS cents FROM {_PLAN} GROUP BY payment_id)"


def _audit_documents_sql(t: _Tables, who: list) -> tuple[str, list]:
    left = f"{dialect.cents('d.balance')} - o.cents"
    status = f"CASE WHEN {left} = 0 THEN '{DocumentStatus.PAID}' ELSE d.status END"
    before = dialect.json_object({"balance": dialect.money_text("d.balance"), "status": "d.status"})
    after = dialect.json_object({"balance": dialect.money_text(dialect.money(left)), "status": status})
    sql = (
        f"INSERT INTO {t.audit} ({_AUDIT_COLUMNS})"
        f" SELECT d.organization_id, %s, %s, %s, %s, %s, '{AuditAction.UPDATE}',"
        f" '{Document._meta.label_lower}', {dialect.text('d.id')}, {_document_label('d')},"
        f" {before}, {after}, {_context('allocate_payments')}"
        f" FROM {_document_totals()} o JOIN {t.document} d ON d.id = o.document_id"
    )
    return sql, who


def _audit_payments_sql(t: _Tables, who: list) -> tuple[str, list]:
    left = f"{dialect.cents('p.unallocated_amount')} - o.cents"
    before = dialect.json_object({"unallocated_amount": dialect.money_text("p.unallocated_amount")})
    after = dialect.json_object({"unallocated_amount": dialect.money_text(dialect.money(left))})
    repr_ = dialect.concat(
        dialect.money_text("p.amount"), "' '", "p.currency", "' '", dialect.text("p.paid_on")
    )
    sql = (
        f"INSERT INTO {t.audit} ({_AUDIT_COLUMNS})"
        f" SELECT p.organization_id, %s, %s, %s, %s, %s, '{AuditAction.UPDATE}',"
        f" '{Payment._meta.label_lower}', {dialect.text('p.id')}, {repr_},"
        f" {before}, {after}, {_context('allocate_payments')}"
        f" FROM {_payment_totals()} o JOIN {t.payment} p ON p.id = o.payment_id"
    )
    return sql, who


def _update_documents_sql(t: _Tables, stamp) -> tuple[str, list]:
    left = f"{dialect.cents(f'{t.document}.balance')} - o.cents"
    sql = (
        f"UPDATE {t.document} SET balance = {dialect.money(left)},"
        f" status = CASE WHEN {left} = 0 THEN '{DocumentStatus.PAID}' ELSE {t.document}.status END,"
        f" updated_at = %s"
        f" FROM {_document_totals()} o WHERE {t.document}.id = o.document_id"
    )
    return sql, [stamp]


def _update_payments_sql(t: _Tables) -> tuple[str, list]:
    left = f"{dialect.cents(f'{t.payment}.unallocated_amount')} - o.cents"
    sql = (
        f"UPDATE {t.payment} SET unallocated_amount = {dialect.money(left)}"
        f" FROM {_payment_totals()} o WHERE {t.payment}.id = o.payment_id"
    )
    return sql, []
