"""The simulator: moves an organization's business clock day by day with seeded debtors.

``simulate(*, organization, days, seed, progress=None) -> SimulationSummary`` (docs/
strategy.md, "Simulation"). From the organization's current business date, for each day:
the clock is set to the day (``Organization.business_date_override``), then

1. messages queued on earlier days are delivered by the simulated provider;
2. open tasks due by the day are worked (calls may end in promises);
3. debtors pay with the model's daily probability (``simulation.model``), through the
   ledger's set-based allocation;
4. accounts that keep buying get next month's document;
5. the daily cycle runs for the day (``run_cycle``).

The clock moves ``days`` days. When the current business date has no completed cycle yet
(a fresh organization, or a simulation interrupted in the middle of a day), that day is
simulated first; every step of a day is idempotent, so an interrupted simulation, run
again, finishes the day it was on and goes on. At the end the clock stays frozen on the
last simulated day, unless that day is the organization's real today: then the override is
cleared and the real clock takes over (that is how ``make demo`` ends on today).

The same seed and the same starting data give the same history (tests/strategy/
test_simulate.py).
"""

import bisect
import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Count
from django.utils.translation import gettext as _

from recobro.channels.models import Message
from recobro.core import audit, clock
from recobro.core.audit import Actor, AuditAction
from recobro.core.models import Organization
from recobro.negotiation.models import PromiseToPay
from recobro.portfolio.models import Case, Payment, PaymentStatus
from recobro.strategy import engine
from recobro.strategy.models import (
    Action,
    ActionStatus,
    CycleRun,
    CycleStatus,
    Task,
    Variant,
)
from recobro.strategy.simulation import day as routine
from recobro.strategy.simulation.day import DayCounts, SimulationError

#: The audit entry that records a finished simulation.
SIMULATION_MARKER = "strategy.simulation"
#: Longest simulation a single call runs (ten years of days).
MAX_DAYS = 3660
#: Actions this many days before a simulation still claim the payments made in it.
ATTRIBUTION_DAYS = 90


@dataclass
class DayReport:
    """What happened on one simulated day."""

    day: dt.date
    counts: DayCounts
    messages_queued: int = 0
    tasks_created: int = 0
    cycle: dict = field(default_factory=dict)


@dataclass
class VariantResult:
    """How the cases of one strategy variant did over the simulation.

    ``cases``: cases the variant decided something for in the period (an action done, or
    skipped: a step without a usable contact point still counts for its variant, or the
    comparison would favour the variants that skip the hard cases), or whose payments in
    the period it claims: a payment counts for the variant of the case's latest action
    before the day it was made (up to ``ATTRIBUTION_DAYS`` before the period). ``payers``
    of them paid, ``payments`` for ``paid`` in all.
    """

    strategy: str
    variant: str
    champion: bool
    share: int
    cases: int = 0
    messages: int = 0
    tasks: int = 0
    payers: int = 0
    payments: int = 0
    paid: Decimal = Decimal(0)

    @property
    def payer_rate(self) -> Decimal:
        """Share of the variant's cases that paid, as a fraction."""
        return (Decimal(self.payers) / self.cases).quantize(Decimal("0.0001")) if self.cases else Decimal(0)


@dataclass
class SimulationSummary:
    organization: str
    currency: str
    seed: int
    start: dt.date
    end: dt.date
    #: The first day simulated: the start, when its cycle had not run yet, else the day after.
    first: dt.date | None = None
    clock_released: bool = False
    days: list[DayReport] = field(default_factory=list)
    promises_by_status: dict[str, int] = field(default_factory=dict)
    variants: list[VariantResult] = field(default_factory=list)

    def total(self, name: str):
        values = [getattr(report.counts, name) for report in self.days]
        return sum(values, Decimal(0) if name == "paid_amount" else 0)

    @property
    def messages_queued(self) -> int:
        return sum(report.messages_queued for report in self.days)

    @property
    def tasks_created(self) -> int:
        return sum(report.tasks_created for report in self.days)


def real_today(organization: Organization) -> dt.date:
    """The organization's date on the wall clock, whatever its frozen business date."""
    return clock.now().astimezone(ZoneInfo(organization.timezone)).date()


def simulate(
    *,
    organization: Organization,
    days: int,
    seed: int,
    progress: Callable[[DayReport], None] | None = None,
) -> SimulationSummary:
    """Move ``organization``'s business clock ``days`` days, simulating each day."""
    if isinstance(days, bool) or not isinstance(days, int) or days < 0:
        raise SimulationError(
            _("The number of days must be a whole number ≥ 0, not %(days)r.") % {"days": days}
        )
    if days > MAX_DAYS:
        raise SimulationError(
            _("%(days)s days is more than a simulation may run at once (%(max)s).")
            % {"days": days, "max": MAX_DAYS}
        )
    organization.refresh_from_db()
    start = organization.today()
    last = (
        CycleRun.objects.filter(organization=organization, status=CycleStatus.DONE)
        .order_by("-as_of")
        .values_list("as_of", flat=True)
        .first()
    )
    if last is not None and last > start:
        raise SimulationError(
            _(
                "%(organization)s already ran its cycle for %(last)s, after its business date "
                "%(start)s: a simulation cannot rewrite history. Clear the frozen business date or "
                "set it to %(last)s or later."
            )
            % {"organization": organization, "last": last.isoformat(), "start": start.isoformat()}
        )
    first = start if last != start else start + dt.timedelta(days=1)
    end = start + dt.timedelta(days=days)
    summary = SimulationSummary(
        organization=organization.name,
        currency=organization.currency,
        seed=seed,
        start=start,
        end=end,
        first=first,
    )
    day = first
    while day <= end:
        _set_clock(organization, day)
        counts = DayCounts()
        routine.deliver_messages(organization=organization, day=day, seed=seed, counts=counts)
        cases = routine.open_cases(organization=organization, day=day)
        # Promises taken on today's calls update ``cases`` in place.
        routine.work_tasks(organization=organization, day=day, seed=seed, cases=cases, counts=counts)
        routine.pay(organization=organization, day=day, seed=seed, cases=cases, counts=counts)
        routine.bill(organization=organization, day=day, seed=seed, counts=counts)
        cycle = engine.run_cycle(organization=organization, as_of=day)
        report = DayReport(
            day=day,
            counts=counts,
            messages_queued=Message.objects.filter(organization=organization, business_date=day).count(),
            tasks_created=Task.objects.filter(organization=organization, action__business_date=day).count(),
            cycle=cycle,
        )
        summary.days.append(report)
        if progress is not None:
            progress(report)
        day += dt.timedelta(days=1)

    if end == real_today(organization):
        _set_clock(organization, None)
        summary.clock_released = True
    else:
        _set_clock(organization, end)
    summary.promises_by_status = _promises(organization, summary)
    summary.variants = variant_results(organization, start=first, end=end)
    audit.record(
        organization=organization,
        actor=Actor.system(routine.PROVIDER),
        action=AuditAction.UPDATE,
        object_type=SIMULATION_MARKER,
        object_id=f"{start.isoformat()}..{end.isoformat()}",
        object_repr=_("Simulated %(days)s days") % {"days": days},
        context={
            "seed": seed,
            "days": days,
            "start": start.isoformat(),
            "end": end.isoformat(),
            "payments": summary.total("payments"),
            "paid_amount": str(summary.total("paid_amount")),
            "clock_released": summary.clock_released,
        },
    )
    return summary


def _set_clock(organization: Organization, day: dt.date | None) -> None:
    with transaction.atomic():
        Organization.objects.filter(pk=organization.pk).update(business_date_override=day)
    organization.business_date_override = day


def _promises(organization: Organization, summary: SimulationSummary) -> dict[str, int]:
    rows = (
        PromiseToPay.objects.filter(organization=organization, made_on__range=(summary.first, summary.end))
        .values_list("status")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return dict(rows)


def variant_results(organization: Organization, *, start: dt.date, end: dt.date) -> list[VariantResult]:
    """Champion against challengers: per variant, the cases it had from ``start`` to
    ``end``, the actions it took, and what those cases paid after its actions (see
    ``VariantResult``). Four queries; the attribution is done in memory."""
    variants = {
        v.pk: VariantResult(strategy=v.strategy.name, variant=v.name, champion=v.is_champion, share=v.share)
        for v in Variant.objects.filter(strategy__organization=organization).select_related("strategy")
    }
    if not variants:
        return []
    history: dict[int, list[tuple[dt.date, int]]] = defaultdict(list)
    worked: dict[int, set[int]] = defaultdict(set)
    for case_id, variant_id, business_date, status, message_id in (
        Action.objects.filter(
            organization=organization,
            business_date__gte=start - dt.timedelta(days=ATTRIBUTION_DAYS),
            business_date__lte=end,
        )
        .values_list("case_id", "variant_id", "business_date", "status", "message_id")
        .order_by("case_id", "business_date", "pk")
    ):
        history[case_id].append((business_date, variant_id))
        if business_date >= start and variant_id in variants:
            worked[variant_id].add(case_id)
            if status != ActionStatus.DONE:
                continue
            if message_id is None:
                variants[variant_id].tasks += 1
            else:
                variants[variant_id].messages += 1
    cases = {
        (portfolio_id, debtor_id): pk
        for pk, portfolio_id, debtor_id in Case.objects.filter(pk__in=list(history)).values_list(
            "pk", "portfolio_id", "debtor_id"
        )
    }
    payers: dict[int, set[int]] = defaultdict(set)
    for portfolio_id, debtor_id, paid_on, amount in Payment.objects.filter(
        organization=organization, status=PaymentStatus.POSTED, paid_on__range=(start, end)
    ).values_list("portfolio_id", "debtor_id", "paid_on", "amount"):
        case_id = cases.get((portfolio_id, debtor_id))
        if case_id is None:
            continue
        actions = history[case_id]
        # The cycle acts at the end of its day: a payment answers actions of earlier days.
        index = bisect.bisect_left(actions, (paid_on,)) - 1
        if index < 0 or actions[index][1] not in variants:
            continue
        variant_id = actions[index][1]
        variants[variant_id].payments += 1
        variants[variant_id].paid += amount
        payers[variant_id].add(case_id)
    for variant_id, result in variants.items():
        result.cases = len(worked[variant_id] | payers[variant_id])
        result.payers = len(payers[variant_id])
    return sorted(
        (v for v in variants.values() if v.cases or v.payments),
        key=lambda v: (v.strategy, not v.champion, v.variant),
    )


__all__ = [
    "MAX_DAYS",
    "DayReport",
    "SimulationError",
    "SimulationSummary",
    "VariantResult",
    "real_today",
    "simulate",
    "variant_results",
]
