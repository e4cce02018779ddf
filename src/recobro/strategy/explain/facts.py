"""The facts of one case for a business date, as the cycle's facts table has them (docs/strategy.md §2).

The same names (``rules.facts.CATALOGUE``), windows and rules as ``engine.facts``: the case's
documents (without those on hold), payments, promises as ``resolve_promises`` will have
settled them, plans, contacts and the debtor's own facts. A handful of queries for the one
case; nothing is written.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Max

from recobro.channels.models import CONTACT_STATUSES, Message
from recobro.core.money import format_money
from recobro.negotiation.models import PaymentPlan, PlanStatus, PromiseStatus, PromiseToPay
from recobro.portfolio.aging import bucket_for, organization_buckets
from recobro.portfolio.models import (
    OPEN_STATUSES,
    Case,
    DocumentKind,
    DocumentStatus,
    Payment,
    PaymentStatus,
)
from recobro.strategy import rules
from recobro.strategy.engine.context import PAYMENT_WINDOW_DAYS, PROMISE_WINDOW_DAYS
from recobro.strategy.engine.facts import CONTACT_TASK_KINDS
from recobro.strategy.models import (
    CaseState,
    Hold,
    Task,
    TaskStatus,
)

from .result import RuleCheck

CENT = Decimal("0.01")


@dataclass
class Ledger:
    """What explain read about the case, kept for the step decisions."""

    documents: list[dict]
    oldest_due_date: dt.date | None
    payments: list[dict]
    pending_promises: list[PromiseToPay]
    active_plan: PaymentPlan | None
    disputed_documents: list[dict]


def money(amount: Decimal, case: Case) -> str:
    return format_money(amount, case.currency, case.organization.locale)


def resolved_promise_status(
    promise: PromiseToPay, payments: list[dict], as_of: dt.date
) -> tuple[str, dt.date | None]:
    """The promise's status once the cycle's first phase has run for ``as_of``.

    docs/strategy.md §1: a pending promise whose date has passed is kept / partly kept /
    broken from the posted payments made between the promise and its date; one already
    fully paid is kept at once. Resolved promises stay as they are.
    """
    if promise.status != PromiseStatus.PENDING:
        return promise.status, promise.resolved_on
    paid = sum(
        (p["amount"] for p in payments if promise.made_on <= p["paid_on"] <= promise.promised_on),
        Decimal(0),
    )
    if paid >= promise.amount:
        return PromiseStatus.KEPT, as_of
    if promise.promised_on >= as_of:
        return PromiseStatus.PENDING, None
    if paid > 0:
        return PromiseStatus.PARTLY_KEPT, as_of
    return PromiseStatus.BROKEN, as_of


def gather_facts(
    *, case: Case, as_of: dt.date, state: CaseState | None, document_holds: list[Hold]
) -> tuple[dict[str, Any], Ledger]:
    """The case's facts for ``as_of`` (names of ``rules.facts.CATALOGUE``, attributes under
    "attr"), before the stage phase: ``stage`` and ``days_in_stage`` are the stored ones."""
    organization = case.organization
    debtor = case.debtor
    held = {h.document_id for h in document_holds}
    documents = [
        d
        for d in case.portfolio.documents.filter(debtor=debtor, status__in=OPEN_STATUSES)
        .exclude(balance=0)
        .order_by("due_date", "id")
        .values(
            "id",
            "number",
            "external_id",
            "kind",
            "due_date",
            "balance",
            "original_amount",
            "status",
            "product",
        )
        if d["id"] not in held
    ]
    dues = [d["due_date"] for d in documents if d["kind"] != DocumentKind.CREDIT_NOTE]
    oldest = min(dues) if dues else None
    balance = sum((d["balance"] for d in documents), Decimal(0)).quantize(CENT)
    overdue = sum(
        (d["balance"] for d in documents if d["kind"] != DocumentKind.CREDIT_NOTE and d["due_date"] < as_of),
        Decimal(0),
    )
    overdue_balance = Decimal(0) if overdue <= 0 or balance <= 0 else min(overdue, balance)
    dpd = max(0, (as_of - oldest).days) if oldest is not None else 0
    products = [d["product"] for d in documents if d["kind"] != DocumentKind.CREDIT_NOTE and d["product"]]

    payments = list(
        Payment.objects.filter(
            portfolio_id=case.portfolio_id,
            debtor_id=debtor.pk,
            status=PaymentStatus.POSTED,
            paid_on__lte=as_of,
        )
        .order_by("-paid_on", "-id")
        .values("id", "amount", "paid_on", "reference")
    )
    recent = [p for p in payments if p["paid_on"] > as_of - dt.timedelta(days=PAYMENT_WINDOW_DAYS)]

    window_start = as_of - dt.timedelta(days=PROMISE_WINDOW_DAYS)
    promises = list(
        PromiseToPay.objects.filter(case=case, made_on__lte=as_of).filter(
            status__in=[PromiseStatus.PENDING, PromiseStatus.BROKEN]
        )
    )
    pending, broken = [], 0
    for promise in promises:
        status, resolved_on = resolved_promise_status(promise, payments, as_of)
        if status == PromiseStatus.PENDING:
            pending.append(promise)
        elif (
            status == PromiseStatus.BROKEN and resolved_on is not None and window_start < resolved_on <= as_of
        ):
            broken += 1

    plan = PaymentPlan.objects.filter(case=case, status=PlanStatus.ACTIVE, starts_on__lte=as_of).first()

    last_message = Message.objects.filter(
        organization=organization, debtor=debtor, status__in=CONTACT_STATUSES, sent_at__isnull=False
    ).aggregate(last=Max("sent_at"))["last"]
    last_task = Task.objects.filter(
        organization=organization,
        case__debtor=debtor,
        kind__in=CONTACT_TASK_KINDS,
        status=TaskStatus.DONE,
        completed_at__isnull=False,
    ).aggregate(last=Max("completed_at"))["last"]
    contact_days = [
        (as_of - moment.astimezone(ZoneInfo(organization.timezone)).date()).days
        for moment in (last_message, last_task)
        if moment is not None
    ]
    contact_days = [d for d in contact_days if d >= 0]

    disputed_documents = [d for d in documents if d["status"] == DocumentStatus.DISPUTED]
    stored_stage = state.stage if state is not None else None
    stored_since = state.stage_entered_on if state is not None else None
    facts: dict[str, Any] = {
        "dpd": dpd,
        "days_to_due": (oldest - as_of).days if oldest is not None else None,
        "open_documents": len(documents),
        "broken_promises_90d": broken,
        "payments_30d": len(recent),
        "days_since_last_payment": (as_of - payments[0]["paid_on"]).days if payments else None,
        "days_since_last_contact": min(contact_days) if contact_days else None,
        "days_in_stage": (as_of - stored_since).days if stored_stage is not None and stored_since else None,
        "balance": balance,
        "overdue_balance": overdue_balance.quantize(CENT),
        "original_amount": sum((d["original_amount"] for d in documents), Decimal(0)).quantize(CENT),
        "paid_amount_30d": sum((p["amount"] for p in recent), Decimal(0)).quantize(CENT),
        "score": debtor.risk_score,
        "bucket": bucket_for(dpd, organization_buckets(organization)) if documents else None,
        "stage": stored_stage.code if stored_stage is not None else None,
        "product": products[0] if products else None,
        "region": text_attribute(debtor.attributes, "region"),
        "debtor_type": debtor.kind,
        "portfolio": case.portfolio.code,
        "currency": case.currency,
        "active_plan": plan is not None,
        "promise_pending": bool(pending),
        "disputed": debtor.is_disputed or bool(disputed_documents),
        "payment_in_transit": False,
        rules.ATTRIBUTES_KEY: debtor.attributes if isinstance(debtor.attributes, dict) else {},
    }
    ledger = Ledger(
        documents=documents,
        oldest_due_date=oldest,
        payments=payments,
        pending_promises=pending,
        active_plan=plan,
        disputed_documents=disputed_documents,
    )
    return facts, ledger


def text_attribute(attributes, name: str) -> str | None:
    value = attributes.get(name) if isinstance(attributes, dict) else None
    return value if isinstance(value, str) else None


def check_rule(text: str, facts: dict[str, Any]) -> RuleCheck:
    try:
        rule = rules.parse(text)
        return RuleCheck(text=text, matched=rules.evaluate(rule, facts), trace=rules.trace(rule, facts))
    except rules.RuleError as error:
        return RuleCheck(text=text, matched=False, error=str(error))
