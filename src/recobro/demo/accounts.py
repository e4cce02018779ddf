"""The demo's ledger plan: debtors, their documents and the payments they made.

Each account (a debtor in a portfolio) is drawn with a target state — current, late in a
given aging bucket, or cured — and its monthly documents and payments are laid out so that,
once the documents and payments go through the importer and the allocation engine, the
oldest open due date lands where the target says:

- documents due before the oldest open one were paid in full, on time or late, sometimes
  in two payments ("history" payments, imported before the late charges exist, so that a
  waterfall portfolio settles them as the debtor did at the time);
- late accounts then get moratory interest and collection fees ("charges" documents) and
  some of them pay part of what they owe in the last weeks ("recent" payments);
- cured accounts paid everything, some of them more than they owed (overpayments).

Dates are relative to ``as_of`` (the organization's business date), so every aging bucket
is populated whatever day the demo is loaded. Nothing here touches the database.
"""

import calendar
import datetime as dt
import random
from dataclasses import dataclass, field, replace
from decimal import Decimal

from recobro.core.models import DEFAULT_AGING_BUCKETS
from recobro.core.money import round_money
from recobro.demo.generate import Contact, IdentityFactory
from recobro.demo.spec import OrganizationSpec, PortfolioSpec

# Phases, in the order the loader imports them.
LEDGER = "ledger"  # documents: monthly principal documents and credit notes
CHARGES = "charges"  # documents: moratory interest and collection fees on late accounts
HISTORY = "history"  # payments: the months the debtor paid
RECENT = "recent"  # payments: partial payments and settlements of the last weeks
COUNTER = "counter"  # payments: taken at the counter today (recorded one by one)

CURED = "cured"
#: Share of accounts per aging bucket of the default configuration, and of cured accounts.
DEFAULT_BUCKET_WEIGHTS = {
    "current": 26,
    "1-30": 17,
    "31-60": 11,
    "61-90": 8,
    "91-180": 12,
    "181-360": 10,
    "360+": 8,
}
CURED_WEIGHT = 8
#: Accounts more than this many days late are blocked: no new monthly documents.
BLOCKED_AFTER_DAYS = 90
BLOCKED_OPEN_PERIODS = 3
#: Payments taken at the counter on the business date, per portfolio (recorded one by one).
COUNTER_PAYMENTS = 4

PAYMENT_METHODS = {
    "MX": (("cash", 34), ("deposit", 22), ("transfer", 28), ("card", 10), ("direct_debit", 6)),
    "CO": (("transfer", 40), ("cash", 30), ("deposit", 20), ("card", 10)),
}
SEGMENTS = {
    "tarjeta": ("nuevo", "recurrente", "preferente"),
    "prestamo": ("nuevo", "recurrente", "preferente"),
    "hogar": ("residencial", "residencial", "premium"),
}
CO_CARD_SEGMENTS = ("clasica", "oro", "platino")


@dataclass(frozen=True)
class DebtorRow:
    external_id: str
    kind: str
    name: str
    tax_id: str
    tax_id_type: str
    contacts: tuple[Contact, ...]
    attributes: dict
    is_disputed: bool = False
    do_not_contact: bool = False
    is_deceased: bool = False
    is_bankrupt: bool = False


@dataclass(frozen=True)
class DocumentRow:
    portfolio: str  # portfolio code
    debtor: str  # debtor external id
    external_id: str
    kind: str
    number: str
    product: str
    issue_date: dt.date
    due_date: dt.date
    amount: Decimal  # original amount; negative for credit notes
    phase: str


@dataclass(frozen=True)
class PaymentRow:
    portfolio: str
    debtor: str
    external_id: str
    amount: Decimal
    paid_on: dt.date
    method: str
    reference: str
    phase: str


@dataclass(frozen=True)
class AccountPlan:
    portfolio: str
    debtor: str
    bucket: str  # the aging bucket the account should land in; "cured" when paid off
    dpd: int | None  # target days past due of the oldest open document


@dataclass
class OrganizationData:
    spec: OrganizationSpec
    as_of: dt.date
    debtors: list[DebtorRow] = field(default_factory=list)
    documents: list[DocumentRow] = field(default_factory=list)
    payments: list[PaymentRow] = field(default_factory=list)
    accounts: list[AccountPlan] = field(default_factory=list)

    def documents_of(self, portfolio: str, phase: str) -> list[DocumentRow]:
        return [d for d in self.documents if d.portfolio == portfolio and d.phase == phase]

    def payments_of(self, portfolio: str, phase: str) -> list[PaymentRow]:
        return [p for p in self.payments if p.portfolio == portfolio and p.phase == phase]


def add_months(day: dt.date, months: int, day_of_month: int) -> dt.date:
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day_of_month, calendar.monthrange(year, month)[1]))


def spread(states: dict[str, int], n: int, rng: random.Random) -> list[str]:
    """``n`` states in the given proportions (largest remainder), each at least once when
    ``n`` allows, shuffled."""
    total = sum(states.values())
    quotas = {key: n * weight / total for key, weight in states.items()}
    counts = {key: int(q) for key, q in quotas.items()}
    if n >= len(states):
        for key in counts:
            counts[key] = max(counts[key], 1)
    by_remainder = sorted(states, key=lambda key: quotas[key] - int(quotas[key]), reverse=True)
    i = 0
    while sum(counts.values()) < n:
        counts[by_remainder[i % len(by_remainder)]] += 1
        i += 1
    while sum(counts.values()) > n:
        largest = max(counts, key=counts.get)
        counts[largest] -= 1
    result = [key for key, count in counts.items() for _ in range(count)]
    rng.shuffle(result)
    return result


def bucket_weights(buckets: list[dict]) -> dict[str, int]:
    weights = {b["key"]: DEFAULT_BUCKET_WEIGHTS.get(b["key"], 10) for b in buckets}
    weights[CURED] = CURED_WEIGHT
    return weights


def dpd_for_bucket(bucket: dict, rng: random.Random) -> int:
    low = bucket["min"] if bucket["min"] is not None else -27
    high = bucket["max"] if bucket["max"] is not None else low + 340
    return rng.randint(low, high)


class LedgerBuilder:
    """Lays out one organization's accounts, documents and payments."""

    def __init__(self, spec: OrganizationSpec, *, rng: random.Random, as_of: dt.date, buckets: list[dict]):
        self.spec = spec
        self.rng = rng
        self.as_of = as_of
        self.buckets = {b["key"]: b for b in buckets}
        self.currency = spec.currency
        self.methods, self.method_weights = zip(*PAYMENT_METHODS[spec.country], strict=True)
        self.late_accounts: list[tuple[str, str, Decimal]] = []

    # -- money --------------------------------------------------------------------------
    def money(self, value: float | Decimal) -> Decimal:
        amount = Decimal(str(value))
        if self.currency == "COP":  # Colombian bills and card statements are in whole hundreds
            return (amount / 100).quantize(Decimal(1)) * 100
        return round_money(amount, self.currency)

    def draw_amount(self, portfolio: PortfolioSpec) -> Decimal:
        low, high = Decimal(portfolio.amount_min), Decimal(portfolio.amount_max)
        # Skewed towards small balances, as real portfolios are (the draw is a ratio, not money).
        ratio = Decimal(repr(self.rng.random() ** 1.8))
        return self.money(low + (high - low) * ratio)

    # -- payments -------------------------------------------------------------------------
    def _reference(self, method: str) -> str:
        rng, mx = self.rng, self.spec.country == "MX"
        digits = lambda n: "".join(str(rng.randrange(10)) for _ in range(n))  # noqa: E731
        if method == "transfer":
            return f"SPEI {digits(10)}" if mx else f"PSE {digits(9)}"
        if method == "cash":
            return f"TDA{rng.randint(1, 48):03d}-{digits(6)}" if mx else f"EFECTY {digits(8)}"
        if method == "deposit":
            return f"OXXO {digits(8)}" if mx else f"CONSIGNACION {digits(7)}"
        if method == "card":
            return f"AUT {digits(6)}"
        return f"DOMI {digits(8)}"

    def payment(
        self, portfolio: str, debtor: str, amount: Decimal, paid_on: dt.date, phase: str
    ) -> PaymentRow:
        method = self.rng.choices(self.methods, weights=self.method_weights)[0]
        paid_on = min(paid_on, self.as_of)
        return PaymentRow(portfolio, debtor, "", amount, paid_on, method, self._reference(method), phase)

    def pay_period(self, portfolio: str, debtor: str, due: dt.date, amount: Decimal) -> list[PaymentRow]:
        rng = self.rng
        late = rng.randint(-6, 10) if rng.random() < 0.8 else rng.randint(11, 28)
        first_on = due + dt.timedelta(days=late)
        if rng.random() < 0.18 and amount > 2:
            first = self.money(amount * Decimal(str(rng.uniform(0.3, 0.7))))
            if 0 < first < amount:
                second_on = first_on + dt.timedelta(days=rng.randint(5, 20))
                return [
                    self.payment(portfolio, debtor, first, first_on, HISTORY),
                    self.payment(portfolio, debtor, amount - first, second_on, HISTORY),
                ]
        return [self.payment(portfolio, debtor, amount, first_on, HISTORY)]

    # -- one account ---------------------------------------------------------------------
    def account(self, data: OrganizationData, portfolio: PortfolioSpec, debtor: str, number: int, state: str):
        rng, as_of = self.rng, self.as_of
        base = self.draw_amount(portfolio)
        paid_periods = rng.choice((1, 1, 1, 2, 2, 3))
        cured_early = state == CURED and rng.random() < 0.6
        cured_late = state == CURED and not cured_early
        if cured_early:
            dpd = None
            last_due = as_of - dt.timedelta(days=rng.randint(10, 150))
            anchor = add_months(last_due, 1, last_due.day)  # the month after the last one, never billed
            open_periods = 0
        else:
            dpd = rng.randint(20, 200) if cured_late else dpd_for_bucket(self.buckets[state], rng)
            anchor = as_of - dt.timedelta(days=dpd)
            open_periods = self._open_periods(anchor, dpd, blocked=cured_late or dpd > BLOCKED_AFTER_DAYS)
        data.accounts.append(AccountPlan(portfolio.code, debtor, state, None if state == CURED else dpd))

        first_index = -paid_periods
        day = anchor.day
        periods = [(k, add_months(anchor, k, day)) for k in range(first_index, open_periods)]
        total_periods = len(periods) + rng.randint(0, 8) if portfolio.fixed_installment else 0
        open_docs: list[DocumentRow] = []
        for k, due in periods:
            amount = (
                base
                if portfolio.fixed_installment
                else self.money(base * Decimal(str(rng.uniform(0.7, 1.3))))
            )
            doc = self._principal(portfolio, debtor, number, k - first_index + 1, total_periods, due, amount)
            data.documents.append(doc)
            if k < 0:
                data.payments.extend(self.pay_period(portfolio.code, debtor, due, amount))
            else:
                open_docs.append(doc)

        if cured_early:
            if rng.random() < 0.3:  # paid a little more than owed: the credit stays unallocated
                extra = self.money(base * Decimal(str(rng.uniform(0.05, 0.2))))
                data.payments[-1] = replace(data.payments[-1], amount=data.payments[-1].amount + extra)
            return
        charges = self._charges(portfolio, debtor, number, dpd, anchor, open_docs) if dpd > 15 else []
        data.documents.extend(charges)
        owed = sum((d.amount for d in open_docs + charges), Decimal(0))
        if cured_late:  # settled everything in the last weeks, sometimes with a little more
            extra = self.money(base * Decimal(str(rng.uniform(0.02, 0.1)))) if rng.random() < 0.3 else 0
            paid_on = as_of - dt.timedelta(days=rng.randint(0, 20))
            data.payments.append(self.payment(portfolio.code, debtor, owed + extra, paid_on, RECENT))
            return
        if dpd > 0 and rng.random() < 0.22:  # a partial payment on a late account
            partial = self.money(open_docs[0].amount * Decimal(str(rng.uniform(0.2, 0.6))))
            paid_on = as_of - dt.timedelta(days=rng.randint(0, min(25, dpd - 1)))
            if partial > 0:
                data.payments.append(self.payment(portfolio.code, debtor, partial, paid_on, RECENT))
        if rng.random() < 0.04:
            data.documents.append(self._credit_note(portfolio, debtor, number, open_docs[-1], base))
        if dpd > 0:
            self.late_accounts.append((portfolio.code, debtor, open_docs[0].amount))

    def counter_payments(self, data: OrganizationData, per_portfolio: int) -> None:
        """A few late debtors walk in today and pay part of their oldest document."""
        for code in (p.code for p in self.spec.portfolios):
            candidates = [a for a in self.late_accounts if a[0] == code]
            for _, debtor, oldest in self.rng.sample(candidates, min(per_portfolio, len(candidates))):
                amount = self.money(oldest * Decimal(str(self.rng.uniform(0.25, 0.5))))
                if amount > 0:
                    data.payments.append(self.payment(code, debtor, amount, self.as_of, COUNTER))

    def _open_periods(self, anchor: dt.date, dpd: int, blocked: bool) -> int:
        """How many monthly documents are still open from the oldest one: every month up to
        today, the next one not yet due, or only a few for a blocked account."""
        count = 0
        while True:
            due = add_months(anchor, count, anchor.day)
            if blocked and (due > self.as_of or count >= BLOCKED_OPEN_PERIODS):
                return max(count, 1)
            count += 1
            if due > self.as_of:
                return count

    @staticmethod
    def _document(
        portfolio: PortfolioSpec, debtor: str, external_id: str, kind: str, issue: dt.date, due: dt.date,
        amount: Decimal, phase: str, number: str = "",
    ) -> DocumentRow:  # fmt: skip
        return DocumentRow(
            portfolio=portfolio.code,
            debtor=debtor,
            external_id=external_id,
            kind=kind,
            number=number or external_id,
            product=portfolio.product,
            issue_date=issue,
            due_date=due,
            amount=amount,
            phase=phase,
        )

    def _principal(
        self, portfolio: PortfolioSpec, debtor: str, number: int, seq: int, total: int, due: dt.date,
        amount: Decimal,
    ) -> DocumentRow:  # fmt: skip
        if portfolio.principal_kind == "installment" and total:
            external_id = f"{portfolio.doc_prefix}-{number}-{seq:02d}"
            label = f"{external_id} ({seq}/{total})"
        else:
            external_id = f"{portfolio.doc_prefix}-{number}-{due:%Y%m}"
            label = external_id
        issue = due - dt.timedelta(days=20 if portfolio.principal_kind == "invoice" else 30)
        kind = portfolio.principal_kind
        return self._document(portfolio, debtor, external_id, kind, issue, due, amount, LEDGER, label)

    def _charges(
        self, portfolio: PortfolioSpec, debtor: str, number: int, dpd: int, anchor: dt.date,
        open_docs: list[DocumentRow],
    ) -> list[DocumentRow]:  # fmt: skip
        """Moratory interest on what is overdue, and a collection fee past 30 days."""
        rng, rows = self.rng, []
        overdue = [d for d in open_docs if d.due_date <= self.as_of]
        if rng.random() < 0.85:
            months = Decimal(max(1, min(dpd, 360) // 30))
            principal = sum((d.amount for d in overdue), Decimal(0))
            interest = self.money(principal * portfolio.monthly_interest * months)
            due = overdue[-1].due_date
            if interest > 0:
                external_id = f"INT-{portfolio.doc_prefix}-{number}-{due:%Y%m}"
                rows.append(
                    self._document(portfolio, debtor, external_id, "interest", due, due, interest, CHARGES)
                )
        if dpd > 30 and rng.random() < 0.6:
            due = min(self.as_of, anchor + dt.timedelta(days=31))
            fee = portfolio.late_fee * (2 if dpd > BLOCKED_AFTER_DAYS else 1)
            external_id = f"GC-{portfolio.doc_prefix}-{number}-{due:%Y%m}"
            rows.append(self._document(portfolio, debtor, external_id, "fee", due, due, fee, CHARGES))
        return rows

    def _credit_note(
        self, portfolio: PortfolioSpec, debtor: str, number: int, doc: DocumentRow, base: Decimal
    ) -> DocumentRow:
        """A small credit (a return, a service outage) dated with the newest open document,
        so it lowers the balance without changing the oldest due date."""
        amount = -self.money(base * Decimal(str(self.rng.uniform(0.05, 0.15))))
        external_id = f"NC-{portfolio.doc_prefix}-{number}-{doc.due_date:%Y%m}"
        issue = min(self.as_of, doc.due_date) - dt.timedelta(days=self.rng.randint(1, 15))
        return self._document(
            portfolio, debtor, external_id, "credit_note", issue, doc.due_date, amount, LEDGER
        )


def _seed_int(seed: int, slug: str) -> int:
    return seed * 1000 + sum(ord(ch) for ch in slug)


def generate_organization(
    spec: OrganizationSpec,
    *,
    seed: int,
    as_of: dt.date,
    scale: float = 1.0,
    buckets: list[dict] | None = None,
) -> OrganizationData:
    """Everything the demo loads into one organization, reproducible from ``seed`` and ``as_of``."""
    rng = random.Random(f"{seed}:{spec.slug}")  # noqa: S311 - reproducible demo data, not secrets
    people = IdentityFactory(
        country=spec.country,
        faker_locale=spec.faker_locale,
        email_domain=spec.email_domain,
        rng=rng,
        seed=_seed_int(seed, spec.slug),
    )
    builder = LedgerBuilder(spec, rng=rng, as_of=as_of, buckets=buckets or DEFAULT_AGING_BUCKETS)
    data = OrganizationData(spec=spec, as_of=as_of)
    first, second = spec.portfolios
    n = max(20, round(spec.debtors * scale))

    memberships: dict[str, list[str]] = {first.code: [], second.code: []}
    for i in range(n):
        r = rng.random()
        if r < spec.both_share:
            codes = [first.code, second.code]
        elif r < first.share:
            codes = [first.code]
        else:
            codes = [second.code]
        main = first if codes[0] == first.code else second
        region = people.region()
        identity = people.company(region) if rng.random() < main.company_share else people.person(region)
        external_id = f"{spec.debtor_prefix}-{100001 + i}" if spec.debtor_prefix else identity.tax_id
        if identity.kind == "company":
            segment = "pyme"
        elif spec.country == "CO" and main.product == "tarjeta":
            segment = rng.choice(CO_CARD_SEGMENTS)
        else:
            segment = rng.choice(SEGMENTS[main.product])
        flags = rng.random()
        data.debtors.append(
            DebtorRow(
                external_id=external_id,
                kind=identity.kind,
                name=identity.name,
                tax_id=identity.tax_id,
                tax_id_type=identity.tax_id_type,
                contacts=identity.contacts,
                attributes={
                    "region": region,
                    "segment": segment,
                    "product": main.product,
                    "city": identity.city,
                },
                is_disputed=flags < 0.02,
                do_not_contact=0.02 <= flags < 0.035,
                is_deceased=identity.kind == "person" and 0.035 <= flags < 0.04,
                is_bankrupt=identity.kind == "company" and 0.035 <= flags < 0.06,
            )
        )
        for code in codes:
            memberships[code].append(external_id)

    weights = bucket_weights(list(builder.buckets.values()))
    for portfolio in spec.portfolios:
        debtors = memberships[portfolio.code]
        states = spread(weights, len(debtors), rng)
        for i, (debtor, state) in enumerate(zip(debtors, states, strict=True)):
            builder.account(data, portfolio, debtor, 400001 + i, state)
    builder.counter_payments(data, per_portfolio=COUNTER_PAYMENTS)

    _number_payments(data)
    return data


def _number_payments(data: OrganizationData) -> None:
    """Payment ids in date order per portfolio, as a cashier's system numbers receipts."""
    prefixes = {p.code: p.payment_prefix for p in data.spec.portfolios}
    order = sorted(
        range(len(data.payments)), key=lambda i: (data.payments[i].portfolio, data.payments[i].paid_on, i)
    )
    counters: dict[str, int] = {}
    numbered = list(data.payments)
    for i in order:
        p = data.payments[i]
        counters[p.portfolio] = counters.get(p.portfolio, 0) + 1
        external_id = f"{prefixes[p.portfolio]}-{p.paid_on:%y%m}-{counters[p.portfolio]:06d}"
        numbered[i] = replace(p, external_id=external_id)
    data.payments = numbered
