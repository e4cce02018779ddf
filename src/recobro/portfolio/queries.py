"""Recurring reads of the ledger: the aging report and the order payments settle documents in."""

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal

from django.db.models import Case, CharField, Count, IntegerField, QuerySet, Sum, Value, When
from django.utils.translation import gettext_lazy as _

from recobro.core.money import round_money
from recobro.portfolio.aging import bucket_label, organization_buckets
from recobro.portfolio.models import (
    OPEN_STATUSES,
    WATERFALL_RANK,
    AllocationOrder,
    Document,
    DocumentKind,
    DocumentStatus,
    Portfolio,
)

#: Rank of kinds missing from WATERFALL_RANK (none today): after principal.
_LAST_RANK = max(WATERFALL_RANK.values()) + 1


def allocation_rank(portfolio: Portfolio) -> Case | Value:
    """The first sort key of a portfolio's allocation order (0 for every kind in oldest_due)."""
    if portfolio.allocation_order != AllocationOrder.WATERFALL:
        return Value(0, output_field=IntegerField())
    return Case(
        *(When(kind=kind, then=Value(rank)) for kind, rank in WATERFALL_RANK.items()),
        default=Value(_LAST_RANK),
        output_field=IntegerField(),
    )


def allocation_queue(*, portfolio: Portfolio, debtor) -> QuerySet:
    """The documents a payment of ``debtor`` in ``portfolio`` settles, in the order it settles them.

    Only open documents with a positive balance: credit notes are never paid, and disputed
    documents are settled only by an explicit allocation. ``oldest_due``: by due date, then
    id; ``waterfall``: fees, then interest, then principal, each by due date, then id.
    """
    return (
        Document.objects.filter(portfolio=portfolio, debtor=debtor, status=DocumentStatus.OPEN, balance__gt=0)
        .exclude(kind=DocumentKind.CREDIT_NOTE)
        .annotate(allocation_rank=allocation_rank(portfolio))
        .order_by("allocation_rank", "due_date", "id")
    )


# --- Aging report -------------------------------------------------------------------------


@dataclass(frozen=True)
class AgingRow:
    """One portfolio × bucket line of the aging report."""

    portfolio_id: int
    portfolio: str
    currency: str
    bucket: str
    label: str
    documents: int
    debtors: int
    balance: Decimal
    share: Decimal  # percentage of the portfolio's open balance, two decimals


@dataclass(frozen=True)
class AgingTotal:
    """A portfolio's totals. ``debtors`` counts each debtor once, whatever their buckets."""

    portfolio_id: int
    portfolio: str
    currency: str
    documents: int
    debtors: int
    balance: Decimal
    share: Decimal


@dataclass(frozen=True)
class AgingReport:
    """Antigüedad de saldos: open balances per portfolio and aging bucket as of a date.

    Computed from the open documents themselves (status open or disputed, balance ≠ 0),
    each aged by its own due date: ``dpd = max(0, as_of - due_date)``. It is right whether
    or not the cases were refreshed. Credit notes are not past due: they count in the first
    bucket (current), where their negative balance reduces that bucket and the total.

    Shares are percentages of the portfolio's total open balance with two decimals, rounded
    by largest remainder so that each portfolio's rows add up to exactly 100 (all 0 when the
    total is 0). There is no grand total across portfolios: they may differ in currency.
    """

    organization_id: int
    organization: str
    as_of: dt.date
    buckets: list[dict]
    rows: list[AgingRow] = field(default_factory=list)
    totals: list[AgingTotal] = field(default_factory=list)

    def rows_for(self, portfolio_id: int) -> list[AgingRow]:
        return [r for r in self.rows if r.portfolio_id == portfolio_id]

    def total_for(self, portfolio_id: int) -> AgingTotal | None:
        return next((t for t in self.totals if t.portfolio_id == portfolio_id), None)

    def row(self, portfolio_id: int, bucket: str) -> AgingRow | None:
        return next((r for r in self.rows if r.portfolio_id == portfolio_id and r.bucket == bucket), None)


def document_bucket(buckets: list[dict], as_of: dt.date) -> Case:
    """The aging bucket of a document as a database expression over its due date.

    ``dpd <= max`` is ``due_date >= as_of - max days`` for a non-negative max, so the
    (organization, due_date) index serves it; a negative max holds no dpd ≥ 0.
    """
    first_key = next(b["key"] for b in buckets if b["max"] is None or b["max"] >= 0)
    whens = [When(kind=DocumentKind.CREDIT_NOTE, then=Value(first_key))]
    whens += [
        When(due_date__gte=as_of - dt.timedelta(days=b["max"]), then=Value(b["key"]))
        for b in buckets[:-1]
        if b["max"] >= 0
    ]
    return Case(*whens, default=Value(buckets[-1]["key"]), output_field=CharField())


def aging_report(*, organization, as_of: dt.date, portfolio: Portfolio | None = None) -> AgingReport:
    """Open balances of ``organization`` (or one portfolio) per portfolio and aging bucket."""
    buckets = organization_buckets(organization)
    documents = Document.objects.filter(organization=organization, status__in=OPEN_STATUSES).exclude(
        balance=0
    )
    portfolios = Portfolio.objects.filter(organization=organization)
    if portfolio is not None:
        if portfolio.organization_id != organization.pk:
            raise ValueError("portfolio belongs to another organization")
        documents = documents.filter(portfolio=portfolio)
        portfolios = portfolios.filter(pk=portfolio.pk)

    by_bucket = (
        documents.annotate(aging_bucket=document_bucket(buckets, as_of))
        .values("portfolio_id", "aging_bucket")
        .annotate(documents=Count("id"), debtors=Count("debtor_id", distinct=True), balance=Sum("balance"))
        .order_by()
    )
    by_portfolio = (
        documents.values("portfolio_id")
        .annotate(documents=Count("id"), debtors=Count("debtor_id", distinct=True), balance=Sum("balance"))
        .order_by()
    )
    cells = {(r["portfolio_id"], r["aging_bucket"]): r for r in by_bucket}
    totals = {r["portfolio_id"]: r for r in by_portfolio}
    shown = [p for p in portfolios.order_by("name", "pk") if p.pk in totals or portfolio is not None]

    report = AgingReport(
        organization_id=organization.pk,
        organization=organization.name,
        as_of=as_of,
        buckets=[{"key": b["key"], "label": bucket_label(b)} for b in buckets],
    )
    for pf in shown:
        total = totals.get(pf.pk, {"documents": 0, "debtors": 0, "balance": Decimal(0)})
        total_balance = round_money(total["balance"] or 0, pf.currency)
        balances = [
            round_money((cells.get((pf.pk, b["key"])) or {}).get("balance") or 0, pf.currency)
            for b in buckets
        ]
        shares = percentages(balances, total_balance)
        for bucket, balance, share in zip(buckets, balances, shares, strict=True):
            cell = cells.get((pf.pk, bucket["key"])) or {}
            report.rows.append(
                AgingRow(
                    portfolio_id=pf.pk,
                    portfolio=pf.name,
                    currency=pf.currency,
                    bucket=bucket["key"],
                    label=bucket_label(bucket),
                    documents=cell.get("documents", 0),
                    debtors=cell.get("debtors", 0),
                    balance=balance,
                    share=share,
                )
            )
        report.totals.append(
            AgingTotal(
                portfolio_id=pf.pk,
                portfolio=pf.name,
                currency=pf.currency,
                documents=total["documents"],
                debtors=total["debtors"],
                balance=total_balance,
                share=Decimal("100.00") if total_balance else Decimal("0.00"),
            )
        )
    return report


def percentages(parts: list[Decimal], total: Decimal) -> list[Decimal]:
    """Each part as a percentage of ``total`` with two decimals, summing to exactly 100.00.

    Largest remainder: round every exact share down to the hundredth, then give the missing
    hundredths to the parts that lost most (ties to the earlier part). Parts may be negative
    (credit notes); a zero total gives zeros.
    """
    cent = Decimal("0.01")
    if not total:
        return [Decimal("0.00") for _ in parts]
    exact = [part * 100 / total for part in parts]
    floors = [value.quantize(cent, rounding=ROUND_FLOOR) for value in exact]
    missing = int(((Decimal(100) - sum(floors, Decimal(0))) / cent).to_integral_value())
    order = sorted(range(len(parts)), key=lambda i: (-(exact[i] - floors[i]), i))
    for i in order[:missing]:
        floors[i] += cent
    return floors


#: Column headers of the aging report exports, in order.
AGING_COLUMNS = [
    ("portfolio", _("Portfolio")),
    ("currency", _("Currency")),
    ("bucket", _("Bucket")),
    ("label", _("Aging")),
    ("documents", _("Documents")),
    ("debtors", _("Debtors")),
    ("balance", _("Open balance")),
    ("share", _("Share of balance (%)")),
]

__all__ = [
    "AGING_COLUMNS",
    "AgingReport",
    "AgingRow",
    "AgingTotal",
    "aging_report",
    "allocation_queue",
    "allocation_rank",
    "document_bucket",
    "percentages",
]
