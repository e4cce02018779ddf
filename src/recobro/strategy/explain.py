"""Why a case is where it is, and what the daily cycle will do with it on a business date.

``explain_case(case=..., as_of=...)`` gathers the facts of one case in Python — the same
facts, under the same names, as the cycle engine's facts table (docs/strategy.md §2) —
and replays the cycle's decisions on them with the rule evaluator
(``recobro.strategy.rules.evaluate`` / ``trace``): each active stage's entry test and the
resulting move, each segment in priority order until the first match, the strategy and
its fallback, the variant bucket (the stable hash of §6, same formula) and the share
ranges, and for each step of the variant its due date and what the cycle does with it.

It reads with a fixed handful of queries for the one case (never a loop over others) and
never writes: promises whose date has passed are resolved *as the cycle would* in memory.
The facts use the ledger as it stands (documents' balances now), dated with ``as_of``:
for a past date that is what the cycle would decide were it run again now.

The result is plain dataclasses; ``explanation_lines`` prints it as text (the command
line) and the case page's panel renders it with templates.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Max
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from recobro.channels.models import CHANNEL_CONTACT_KINDS, CONTACT_STATUSES, Message
from recobro.core.money import format_money
from recobro.negotiation.models import PaymentPlan, PlanStatus, PromiseStatus, PromiseToPay
from recobro.portfolio.aging import bucket_for, organization_buckets
from recobro.portfolio.models import (
    OPEN_STATUSES,
    Case,
    CaseStatus,
    ContactPoint,
    DocumentKind,
    DocumentStatus,
    Payment,
    PaymentStatus,
)
from recobro.strategy import rules
from recobro.strategy.models import (
    Action,
    CaseState,
    CycleRun,
    CycleStatus,
    Hold,
    HoldScope,
    Segment,
    SkipReason,
    Stage,
    Step,
    StepAction,
    StepAnchor,
    StopCondition,
    Strategy,
    StrategySettings,
    Task,
    TaskKind,
    TaskStatus,
    Variant,
)

#: docs/strategy.md §6: bucket = ((case_id * HASH_CASE + strategy_id * HASH_STRATEGY) mod 2^32) mod 100
HASH_CASE = 2654435761
HASH_STRATEGY = 40503
HASH_MODULUS = 4294967296

#: Windows of the history facts, in days before as_of: "as_of - N < date <= as_of".
PROMISE_WINDOW_DAYS = 90
PAYMENT_WINDOW_DAYS = 30

#: Task kinds whose completion counts as a contact with the debtor.
CONTACT_TASK_KINDS = (TaskKind.CALL, TaskKind.VISIT)

CENT = Decimal("0.01")
PROBABILITY_PLACES = Decimal("0.0001")


def variant_bucket(case_id: int, strategy_id: int) -> int:
    """The case's stable bucket 0–99 in a strategy (docs/strategy.md §6; the engine's SQL
    computes the same with BIGINT arithmetic)."""
    return ((case_id * HASH_CASE + strategy_id * HASH_STRATEGY) % HASH_MODULUS) % 100


def iso(day: dt.date | None) -> str:
    return day.isoformat() if day is not None else "—"


# --- The result --------------------------------------------------------------------------


@dataclass
class RuleCheck:
    """A rule evaluated on the case: its text, its result and one trace line per condition."""

    text: str
    matched: bool
    trace: list[rules.TraceItem] = field(default_factory=list)
    error: str = ""  # the rule does not parse (it was saved before validation, or data was edited)

    @property
    def trace_lines(self) -> list[str]:
        return [str(item) for item in self.trace]


@dataclass
class StageTest:
    """One active stage's entry test: ``due_offset >= entry_offset`` and its entry rule."""

    stage: Stage
    due_offset: int | None  # as_of - oldest due date (negative before due); None: no due date
    offset_ok: bool
    rule: RuleCheck | None  # None when the stage has no entry rule
    matched: bool
    entered_on: dt.date | None  # the date the case would have entered it (§3), when matched


class StageMove(enum.StrEnum):
    NONE = "none"  # no stage before, none now
    ENTER = "enter"  # no stage before, enters the target
    FORWARD = "forward"  # the target is later than the current stage
    STAY = "stay"  # the target is the current stage
    HOLD_BACK = "hold_back"  # the target is earlier (or none) but the case is not cured / the stage keeps it
    BACK_CURED = "back_cured"  # cured: goes back to the target (or leaves every stage)
    CLOSED = "closed"  # the case has no open balance: leaves its stage


@dataclass
class StageDecision:
    current: Stage | None
    current_since: dt.date | None
    tests: list[StageTest]
    target: Stage | None
    move: StageMove
    stage: Stage | None  # the stage after the cycle
    entered_on: dt.date | None
    reason: str


@dataclass
class SegmentTest:
    segment: Segment
    check: RuleCheck


@dataclass
class StrategyChoice:
    strategy: Strategy | None
    via: str  # "segment", "default" (the stage's strategy without segment) or "none"
    previous: Strategy | None
    changed: bool
    entered_on: dt.date | None
    reason: str


@dataclass
class VariantRange:
    variant: Variant
    low: int
    high: int  # exclusive

    @property
    def label(self) -> str:
        return f"[{self.low}, {self.high})"


@dataclass
class VariantChoice:
    variant: Variant | None
    bucket: int | None
    ranges: list[VariantRange]
    kept: bool  # the stored variant stays (the case stays in the strategy)
    reason: str


class StepStatus(enum.StrEnum):
    NO_ANCHOR = "no_anchor"
    NOT_YET_DUE = "not_yet_due"
    BEFORE_STRATEGY = "before_strategy"
    ALREADY_DONE = "already_done"
    CONDITION_FALSE = "condition_false"
    HELD = "held"
    WAITS_WEEKDAY = "waits_weekday"
    STOPPED = "stopped"
    SUPERSEDED = "superseded"
    STALE = "stale"
    SKIPPED = "skipped"  # runs, but cannot reach the debtor (do not contact, no contact point, template)
    FIRES = "fires"


#: Statuses for which the cycle records an Action today, with (status, skip reason).
RECORDED_TODAY = (
    StepStatus.STOPPED,
    StepStatus.SUPERSEDED,
    StepStatus.STALE,
    StepStatus.SKIPPED,
    StepStatus.FIRES,
)
#: Statuses of a step that stays due and is judged again on a later day.
WAITING = (StepStatus.CONDITION_FALSE, StepStatus.HELD, StepStatus.WAITS_WEEKDAY)


@dataclass
class StepOutcome:
    step: Step
    anchor_date: dt.date | None
    due_on: dt.date | None
    status: StepStatus
    detail: str
    condition: RuleCheck | None = None
    action: Action | None = None  # the Action already recorded for (case, step, due_on)
    skip_reason: str = ""  # the Action's skip reason the cycle records today
    stop: StopCondition | None = None
    contact_point: ContactPoint | None = None

    @property
    def recorded_today(self) -> tuple[str, str] | None:
        """(status, skip_reason) of the Action the cycle records for this step today, or None."""
        if self.status == StepStatus.FIRES:
            return ("done", "")
        if self.status in RECORDED_TODAY:
            return ("skipped", self.skip_reason)
        return None

    @property
    def when(self) -> str:
        """E.g. "due 2026-03-31 = oldest due date 2026-03-21 + 10 days"."""
        anchor = _("oldest due date") if self.step.anchor == StepAnchor.DUE_DATE else _("stage entry")
        if self.due_on is None:
            return _("no due date (%(anchor)s unknown)") % {"anchor": anchor}
        offset = self.step.offset_days
        return ngettext(
            "due %(date)s = %(anchor)s %(anchor_date)s %(sign)s %(days)d day",
            "due %(date)s = %(anchor)s %(anchor_date)s %(sign)s %(days)d days",
            abs(offset),
        ) % {
            "date": iso(self.due_on),
            "anchor": anchor,
            "anchor_date": iso(self.anchor_date),
            "sign": "-" if offset < 0 else "+",
            "days": abs(offset),
        }

    @property
    def kind_label(self) -> str:
        if self.step.action == StepAction.MESSAGE:
            return self.step.get_channel_display()
        return self.step.get_task_kind_display()


@dataclass
class Priority:
    probability: Decimal
    source: str  # "score" or "fallback"
    expected_recovery: Decimal
    weight: Decimal
    priority: Decimal
    reason: str


@dataclass
class Explanation:
    case: Case
    as_of: dt.date
    facts: dict[str, Any]
    previous_cycle: dt.date | None
    state: CaseState | None
    stage: StageDecision
    segments: list[SegmentTest]
    segment: Segment | None
    strategy: StrategyChoice
    variant: VariantChoice
    steps: list[StepOutcome]
    debtor_holds: list[Hold]
    document_holds: list[Hold]
    priority: Priority
    notes: list[str] = field(default_factory=list)

    @property
    def firing(self) -> list[StepOutcome]:
        return [s for s in self.steps if s.status == StepStatus.FIRES]

    @property
    def recorded_today(self) -> list[StepOutcome]:
        return [s for s in self.steps if s.recorded_today is not None]


# --- Facts --------------------------------------------------------------------------------


@dataclass
class _Ledger:
    """What explain read about the case, kept for the step decisions."""

    documents: list[dict]
    oldest_due_date: dt.date | None
    payments: list[dict]
    pending_promises: list[PromiseToPay]
    active_plan: PaymentPlan | None
    disputed_documents: list[dict]


def _money(amount: Decimal, case: Case) -> str:
    return format_money(amount, case.currency, case.organization.locale)


def _resolved_promise_status(
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
) -> tuple[dict[str, Any], _Ledger]:
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
        status, resolved_on = _resolved_promise_status(promise, payments, as_of)
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
        "region": _text_attribute(debtor.attributes, "region"),
        "debtor_type": debtor.kind,
        "portfolio": case.portfolio.code,
        "currency": case.currency,
        "active_plan": plan is not None,
        "promise_pending": bool(pending),
        "disputed": debtor.is_disputed or bool(disputed_documents),
        "payment_in_transit": False,
        rules.ATTRIBUTES_KEY: debtor.attributes if isinstance(debtor.attributes, dict) else {},
    }
    ledger = _Ledger(
        documents=documents,
        oldest_due_date=oldest,
        payments=payments,
        pending_promises=pending,
        active_plan=plan,
        disputed_documents=disputed_documents,
    )
    return facts, ledger


def _text_attribute(attributes, name: str) -> str | None:
    value = attributes.get(name) if isinstance(attributes, dict) else None
    return value if isinstance(value, str) else None


def _check(text: str, facts: dict[str, Any]) -> RuleCheck:
    try:
        rule = rules.parse(text)
        return RuleCheck(text=text, matched=rules.evaluate(rule, facts), trace=rules.trace(rule, facts))
    except rules.RuleError as error:
        return RuleCheck(text=text, matched=False, error=str(error))


# --- The phases ---------------------------------------------------------------------------


def _entry_date(anchor: dt.date | None, as_of: dt.date, previous_cycle: dt.date | None) -> dt.date:
    """docs/strategy.md §3: the date the case would have entered had the cycle run every day."""
    if previous_cycle is None or anchor is None:
        return as_of
    return min(max(anchor, previous_cycle + dt.timedelta(days=1)), as_of)


def decide_stage(
    *,
    case: Case,
    as_of: dt.date,
    facts: dict[str, Any],
    oldest_due_date: dt.date | None,
    stages: list[Stage],
    state: CaseState | None,
    previous_cycle: dt.date | None,
) -> StageDecision:
    current = state.stage if state is not None else None
    since = state.stage_entered_on if state is not None else None
    due_offset = (as_of - oldest_due_date).days if oldest_due_date is not None else None
    tests: list[StageTest] = []
    target: Stage | None = None
    for stage in stages:
        offset_ok = due_offset is not None and due_offset >= stage.entry_offset
        check = _check(stage.entry_rule, facts) if stage.entry_rule.strip() else None
        matched = offset_ok and (check is None or check.matched)
        entered_on = None
        if matched:
            entered_on = _entry_date(
                oldest_due_date + dt.timedelta(days=stage.entry_offset), as_of, previous_cycle
            )
            if target is None or stage.position > target.position:
                target = stage
        tests.append(StageTest(stage, due_offset, offset_ok, check, matched, entered_on))
    entered = {t.stage.pk: t.entered_on for t in tests}

    def decision(move, stage, entered_on, reason):
        return StageDecision(current, since, tests, target, move, stage, entered_on, reason)

    if case.status == CaseStatus.CLOSED or not facts["open_documents"]:
        if current is None:
            return decision(StageMove.NONE, None, None, _("The case is closed: it has no open balance."))
        return decision(
            StageMove.CLOSED,
            None,
            None,
            _("The case is closed (no open balance): it leaves %(stage)s.") % {"stage": current},
        )
    if current is None:
        if target is None:
            return decision(
                StageMove.NONE, None, None, _("No stage's entry test holds: the case is in no stage.")
            )
        return decision(
            StageMove.ENTER,
            target,
            entered[target.pk],
            _("The case enters %(stage)s on %(date)s.") % {"stage": target, "date": iso(entered[target.pk])},
        )
    if target is not None and target.pk == current.pk:
        return decision(
            StageMove.STAY,
            current,
            since,
            _("The case stays in %(stage)s: its entry test holds.") % {"stage": current},
        )
    if target is not None and target.position > current.position:
        return decision(
            StageMove.FORWARD,
            target,
            entered[target.pk],
            _("The case moves forward from %(current)s to %(stage)s on %(date)s.")
            % {"current": current, "stage": target, "date": iso(entered[target.pk])},
        )
    # The target is earlier than the current stage, or there is none.
    if facts["dpd"] == 0 and current.exits_when_cured:
        if target is None:
            return decision(
                StageMove.BACK_CURED,
                None,
                None,
                _("The case is no longer overdue: it leaves %(current)s and is in no stage.")
                % {"current": current},
            )
        return decision(
            StageMove.BACK_CURED,
            target,
            entered[target.pk],
            _("The case is no longer overdue: it goes back from %(current)s to %(stage)s.")
            % {"current": current, "stage": target},
        )
    earlier = str(target) if target is not None else _("no stage")
    if not current.exits_when_cured:
        why = _("%(current)s does not let cases go back") % {"current": current}
    else:
        why = _("the case is still %(dpd)s days past due (only a cured case goes back)") % {
            "dpd": facts["dpd"]
        }
    return decision(
        StageMove.HOLD_BACK,
        current,
        since,
        _("The entry tests point to %(earlier)s, but the case stays in %(current)s: %(why)s.")
        % {"earlier": earlier, "current": current, "why": why},
    )


def choose_strategy(
    *,
    stage: StageDecision,
    segment: Segment | None,
    strategies: list[Strategy],
    state: CaseState | None,
    as_of: dt.date,
    previous_cycle: dt.date | None,
) -> StrategyChoice:
    previous = state.strategy if state is not None else None
    chosen, via = None, "none"
    if stage.stage is not None:
        by_segment = {s.segment_id: s for s in strategies if s.stage_id == stage.stage.pk}
        if segment is not None and segment.pk in by_segment:
            chosen, via = by_segment[segment.pk], "segment"
        elif None in by_segment:
            chosen, via = by_segment[None], "default"
    changed = (chosen.pk if chosen else None) != (previous.pk if previous else None)
    if chosen is None:
        if stage.stage is None:
            reason = _("No stage, so no strategy.")
        else:
            reason = _(
                "%(stage)s has no active strategy for this segment and no strategy without segment."
            ) % {"stage": stage.stage}
        return StrategyChoice(None, via, previous, changed, None, reason)
    if changed:
        entered_on = _entry_date(stage.entered_on, as_of, previous_cycle)
    else:
        entered_on = state.strategy_entered_on
    if via == "segment":
        reason = _("The strategy of %(stage)s for the segment %(segment)s.") % {
            "stage": stage.stage,
            "segment": segment,
        }
    elif segment is not None:
        reason = _("%(stage)s has no strategy for the segment %(segment)s: its strategy without segment.") % {
            "stage": stage.stage,
            "segment": segment,
        }
    else:
        reason = _("No segment matched: the strategy of %(stage)s without segment.") % {"stage": stage.stage}
    if changed:
        reason += " " + _("The case enters it on %(date)s.") % {"date": iso(entered_on)}
    else:
        reason += " " + _("The case is in it since %(date)s.") % {"date": iso(entered_on)}
    return StrategyChoice(chosen, via, previous, changed, entered_on, reason)


def choose_variant(
    *, case: Case, strategy: StrategyChoice, variants: list[Variant], state: CaseState | None
) -> VariantChoice:
    if strategy.strategy is None:
        return VariantChoice(None, None, [], False, _("No strategy, so no variant."))
    ranges, low = [], 0
    for variant in sorted(variants, key=lambda v: (v.position, v.pk)):
        ranges.append(VariantRange(variant, low, low + variant.share))
        low += variant.share
    bucket = variant_bucket(case.pk, strategy.strategy.pk)
    stored = state.variant if state is not None else None
    if not strategy.changed and stored is not None and stored.strategy_id == strategy.strategy.pk:
        return VariantChoice(
            stored,
            bucket,
            ranges,
            True,
            _("The case keeps %(variant)s, drawn when it entered the strategy on %(date)s.")
            % {"variant": stored.name, "date": iso(strategy.entered_on)},
        )
    for r in ranges:
        if r.low <= bucket < r.high:
            return VariantChoice(
                r.variant,
                bucket,
                ranges,
                False,
                _("Bucket %(bucket)s falls in %(range)s: %(variant)s.")
                % {"bucket": bucket, "range": r.label, "variant": r.variant.name},
            )
    return VariantChoice(
        None,
        bucket,
        ranges,
        False,
        _("Bucket %(bucket)s falls in no variant: the shares sum to %(total)s, not 100.")
        % {"bucket": bucket, "total": low},
    )


def _weekday_names(digits: str) -> str:
    names = {
        "1": _("Monday"),
        "2": _("Tuesday"),
        "3": _("Wednesday"),
        "4": _("Thursday"),
        "5": _("Friday"),
        "6": _("Saturday"),
        "7": _("Sunday"),
    }
    return ", ".join(str(names[d]) for d in digits if d in names)


def _stop_hit(
    step: Step, *, case: Case, as_of: dt.date, facts: dict, ledger: _Ledger, settings: StrategySettings
) -> tuple[StopCondition, str] | None:
    """The first stop condition of the step that holds today, with the fact that makes it hold."""
    stops = set(step.stop_on or [])
    if StopCondition.PAYMENT in stops:
        since = as_of - dt.timedelta(days=settings.payment_stop_days)
        for payment in ledger.payments:  # newest first
            if since <= payment["paid_on"] <= as_of:
                return StopCondition.PAYMENT, _("payment of %(amount)s on %(date)s") % {
                    "amount": _money(payment["amount"], case),
                    "date": iso(payment["paid_on"]),
                }
    if StopCondition.PROMISE in stops and ledger.pending_promises:
        promise = min(ledger.pending_promises, key=lambda p: (p.promised_on, p.pk))
        return StopCondition.PROMISE, _("promise of %(amount)s for %(date)s") % {
            "amount": _money(promise.amount, case),
            "date": iso(promise.promised_on),
        }
    if StopCondition.DISPUTE in stops and facts["disputed"]:
        if case.debtor.is_disputed:
            return StopCondition.DISPUTE, _("the debtor is flagged in dispute")
        numbers = ", ".join(d["number"] or d["external_id"] for d in ledger.disputed_documents)
        return StopCondition.DISPUTE, _("document %(numbers)s in dispute") % {"numbers": numbers}
    if StopCondition.PLAN in stops and ledger.active_plan is not None:
        plan = ledger.active_plan
        return StopCondition.PLAN, _("payment plan agreed on %(date)s") % {"date": iso(plan.starts_on)}
    if StopCondition.IN_TRANSIT in stops and facts["payment_in_transit"]:
        return StopCondition.IN_TRANSIT, _("a payment in transit")
    return None


def _contact_point(step: Step, contact_points: list[ContactPoint]) -> ContactPoint | None:
    """docs/strategy.md §7: the primary (then newest) usable contact point the channel accepts."""
    kinds = CHANNEL_CONTACT_KINDS.get(step.channel, ())
    usable = [
        cp for cp in contact_points if cp.kind in kinds and cp.opted_out_at is None and not cp.wrong_number
    ]
    usable.sort(key=lambda cp: (not cp.is_primary, -cp.created_at.timestamp(), -cp.pk))
    return usable[0] if usable else None


def judge_steps(
    *,
    case: Case,
    as_of: dt.date,
    facts: dict[str, Any],
    ledger: _Ledger,
    stage: StageDecision,
    strategy: StrategyChoice,
    steps: list[Step],
    actions: dict[tuple[int, dt.date], Action],
    debtor_holds: list[Hold],
    contact_points: list[ContactPoint],
    settings: StrategySettings,
) -> list[StepOutcome]:
    """docs/strategy.md §7, step by step, in the variant's order."""
    outcomes: list[StepOutcome] = []
    weekday = str(as_of.isoweekday())
    for step in steps:
        anchor = ledger.oldest_due_date if step.anchor == StepAnchor.DUE_DATE else stage.entered_on
        if anchor is None:
            detail = (
                _("The case has no due date to count from.")
                if step.anchor == StepAnchor.DUE_DATE
                else _("The case has no stage entry date to count from.")
            )
            outcomes.append(StepOutcome(step, None, None, StepStatus.NO_ANCHOR, detail))
            continue
        due_on = anchor + dt.timedelta(days=step.offset_days)
        outcome = StepOutcome(step, anchor, due_on, StepStatus.FIRES, "")
        outcomes.append(outcome)
        if due_on > as_of:
            days = (due_on - as_of).days
            outcome.status = StepStatus.NOT_YET_DUE
            outcome.detail = ngettext(
                "Not yet due: falls due on %(date)s, in %(days)d day.",
                "Not yet due: falls due on %(date)s, in %(days)d days.",
                days,
            ) % {"date": iso(due_on), "days": days}
            continue
        if strategy.entered_on is not None and due_on < strategy.entered_on:
            outcome.status = StepStatus.BEFORE_STRATEGY
            outcome.detail = _(
                "Fell due on %(date)s, before the case entered the strategy on %(entered)s: not its step."
            ) % {"date": iso(due_on), "entered": iso(strategy.entered_on)}
            continue
        action = actions.get((step.pk, due_on))
        if action is not None:
            outcome.action = action
            outcome.status = StepStatus.ALREADY_DONE
            if action.status == "skipped":
                outcome.detail = _("Already decided on %(date)s: skipped (%(reason)s).") % {
                    "date": iso(action.business_date),
                    "reason": action.get_skip_reason_display(),
                }
            else:
                outcome.detail = _("Already done on %(date)s.") % {"date": iso(action.business_date)}
            continue
        if step.condition.strip():
            outcome.condition = _check(step.condition, facts)
            if not outcome.condition.matched:
                outcome.status = StepStatus.CONDITION_FALSE
                outcome.detail = (
                    _("Its condition cannot be read: %(error)s") % {"error": outcome.condition.error}
                    if outcome.condition.error
                    else _("Due since %(date)s, but its condition is false today: it waits.")
                    % {"date": iso(due_on)}
                )
                continue
        if debtor_holds:
            hold = debtor_holds[0]
            outcome.status = StepStatus.HELD
            outcome.detail = _(
                "Due since %(date)s, but the debtor is on hold (%(reason)s, since %(start)s): it waits."
            ) % {
                "date": iso(due_on),
                "reason": hold.get_reason_display(),
                "start": iso(hold.starts_on),
            }
            continue
        if step.weekdays and weekday not in step.weekdays:
            outcome.status = StepStatus.WAITS_WEEKDAY
            outcome.detail = _("Due since %(date)s, but it runs only on %(days)s: it waits.") % {
                "date": iso(due_on),
                "days": _weekday_names(step.weekdays),
            }
            continue
        hit = _stop_hit(step, case=case, as_of=as_of, facts=facts, ledger=ledger, settings=settings)
        if hit is not None:
            outcome.status = StepStatus.STOPPED
            outcome.stop, fact = hit
            outcome.skip_reason = str(outcome.stop)
            outcome.detail = _("Stopped: %(condition)s — %(fact)s. Recorded as skipped.") % {
                "condition": outcome.stop.label,
                "fact": fact,
            }
            continue

    # Catch-up: among the surviving due steps, the latest of each kind runs.
    groups: dict[tuple[str, str], list[StepOutcome]] = {}
    for outcome in outcomes:
        if outcome.status == StepStatus.FIRES:
            step = outcome.step
            key = (step.action, step.channel if step.action == StepAction.MESSAGE else step.task_kind)
            groups.setdefault(key, []).append(outcome)
    for group in groups.values():
        group.sort(key=lambda o: (o.due_on, o.step.position))
        latest = group[-1]
        for outcome in group[:-1]:
            outcome.status = StepStatus.SUPERSEDED
            outcome.skip_reason = SkipReason.SUPERSEDED
            outcome.detail = _(
                "Superseded by the later step “%(step)s” (due %(date)s). Recorded as skipped."
            ) % {
                "step": latest.step.name,
                "date": iso(latest.due_on),
            }
        if latest.due_on < as_of - dt.timedelta(days=settings.catch_up_days):
            latest.status = StepStatus.STALE
            latest.skip_reason = SkipReason.STALE
            latest.detail = _(
                "Fell due on %(date)s, more than %(days)s days ago (the catch-up window). "
                "Recorded as skipped."
            ) % {"date": iso(latest.due_on), "days": settings.catch_up_days}
            continue
        _deliver(latest, case=case, as_of=as_of, contact_points=contact_points)
    return outcomes


def _deliver(outcome: StepOutcome, *, case: Case, as_of: dt.date, contact_points: list[ContactPoint]) -> None:
    step = outcome.step
    late = _(" (due %(date)s, caught up)") % {"date": iso(outcome.due_on)} if outcome.due_on < as_of else ""
    if step.action == StepAction.TASK:
        outcome.detail = _("Fires: task “%(title)s” (%(kind)s), due %(date)s%(late)s.") % {
            "title": step.name,
            "kind": step.get_task_kind_display(),
            "date": iso(as_of),
            "late": late,
        }
        return
    debtor = case.debtor
    if debtor.do_not_contact or debtor.is_deceased:
        outcome.status = StepStatus.SKIPPED
        outcome.skip_reason = SkipReason.DO_NOT_CONTACT
        flag = _("deceased") if debtor.is_deceased else _("do not contact")
        outcome.detail = _("Skipped: the debtor is flagged “%(flag)s”.") % {"flag": flag}
        return
    if step.template is not None and not step.template.is_active:
        outcome.status = StepStatus.SKIPPED
        outcome.skip_reason = SkipReason.NO_TEMPLATE
        outcome.detail = _("Skipped: the template “%(template)s” is inactive.") % {
            "template": step.template.name
        }
        return
    point = _contact_point(step, contact_points)
    if point is None:
        outcome.status = StepStatus.SKIPPED
        outcome.skip_reason = SkipReason.NO_CONTACT_POINT
        outcome.detail = _("Skipped: the debtor has no usable contact point for %(channel)s.") % {
            "channel": step.get_channel_display()
        }
        return
    outcome.contact_point = point
    outcome.detail = _("Fires: %(channel)s message with “%(template)s” to %(to)s%(late)s.") % {
        "channel": step.get_channel_display(),
        "template": step.template.name if step.template else "—",
        "to": point.normalized,
        "late": late,
    }


def compute_priority(
    *, case: Case, facts: dict[str, Any], stage: Stage | None, settings: StrategySettings
) -> Priority:
    """docs/strategy.md §8."""
    score = case.debtor.risk_score
    broken = facts["broken_promises_90d"]
    if score is not None:
        probability = Decimal(score)
        source = "score"
        reason = _("The debtor's risk score %(score)s.") % {"score": score}
    else:
        table = settings.fallback_probability or {}
        base = Decimal(str(table.get(facts["bucket"] or "", "0")))
        probability = base * Decimal(settings.broken_promise_factor) ** broken
        source = "fallback"
        reason = _(
            "No score: %(base)s for the bucket %(bucket)s × %(factor)s^%(broken)s broken promises."
        ) % {
            "base": base,
            "bucket": facts["bucket"] or "—",
            "factor": settings.broken_promise_factor,
            "broken": broken,
        }
    probability = probability.quantize(PROBABILITY_PLACES, rounding=ROUND_HALF_UP)
    expected = (facts["balance"] * probability).quantize(CENT, rounding=ROUND_HALF_UP)
    weight = stage.priority_weight if stage is not None else Decimal(1)
    priority = (expected * weight).quantize(CENT, rounding=ROUND_HALF_UP)
    return Priority(probability, source, expected, weight, priority, reason)


# --- The one public function -----------------------------------------------------------------


def explain_case(*, case: Case, as_of: dt.date) -> Explanation:
    """Replay the daily cycle of ``as_of`` for one case, without writing anything."""
    if isinstance(as_of, dt.datetime) or not isinstance(as_of, dt.date):
        raise TypeError(f"as_of must be a date, not {as_of!r}")
    case = Case.objects.select_related("debtor", "portfolio", "organization").get(pk=case.pk)
    organization = case.organization
    settings = StrategySettings.objects.filter(organization=organization).first() or StrategySettings(
        organization=organization
    )
    state = (
        CaseState.objects.filter(case=case).select_related("stage", "segment", "strategy", "variant").first()
    )
    previous_cycle = CycleRun.objects.filter(
        organization=organization, status=CycleStatus.DONE, as_of__lt=as_of
    ).aggregate(last=Max("as_of"))["last"]
    holds = list(
        Hold.objects.filter(organization=organization, debtor=case.debtor)
        .effective_on(as_of)
        .select_related("document")
        .order_by("starts_on", "id")
    )
    debtor_holds = [h for h in holds if h.scope == HoldScope.DEBTOR]
    document_holds = [
        h for h in holds if h.scope == HoldScope.DOCUMENT and h.document.portfolio_id == case.portfolio_id
    ]
    facts, ledger = gather_facts(case=case, as_of=as_of, state=state, document_holds=document_holds)

    stages = list(Stage.objects.filter(organization=organization, is_active=True).order_by("position"))
    stage = decide_stage(
        case=case,
        as_of=as_of,
        facts=facts,
        oldest_due_date=ledger.oldest_due_date,
        stages=stages,
        state=state,
        previous_cycle=previous_cycle,
    )
    facts = {
        **facts,
        "stage": stage.stage.code if stage.stage is not None else None,
        "days_in_stage": (as_of - stage.entered_on).days if stage.entered_on is not None else None,
    }

    notes: list[str] = []
    segments: list[SegmentTest] = []
    segment = None
    if facts["open_documents"]:
        for candidate in Segment.objects.filter(organization=organization, is_active=True).order_by(
            "priority"
        ):
            test = SegmentTest(candidate, _check(candidate.rule, facts))
            segments.append(test)
            if test.check.matched:
                segment = candidate
                break

    strategies = []
    if stage.stage is not None:
        strategies = list(
            Strategy.objects.filter(
                organization=organization, stage=stage.stage, is_active=True
            ).select_related("segment")
        )
    strategy = choose_strategy(
        stage=stage,
        segment=segment,
        strategies=strategies,
        state=state,
        as_of=as_of,
        previous_cycle=previous_cycle,
    )
    variants = list(strategy.strategy.variants.all()) if strategy.strategy is not None else []
    variant = choose_variant(case=case, strategy=strategy, variants=variants, state=state)

    steps: list[StepOutcome] = []
    if variant.variant is not None:
        step_rows = list(
            variant.variant.steps.filter(is_active=True).select_related("template").order_by("position")
        )
        actions = {
            (a.step_id, a.due_on): a
            for a in Action.objects.filter(case=case, step__in=[s.pk for s in step_rows])
        }
        contact_points = list(ContactPoint.objects.filter(debtor=case.debtor).order_by("pk"))
        steps = judge_steps(
            case=case,
            as_of=as_of,
            facts=facts,
            ledger=ledger,
            stage=stage,
            strategy=strategy,
            steps=step_rows,
            actions=actions,
            debtor_holds=debtor_holds,
            contact_points=contact_points,
            settings=settings,
        )
    if debtor_holds:
        notes.append(
            _("The debtor is on hold: no step runs or is skipped while the hold lasts; due steps wait.")
        )
    if document_holds:
        notes.append(
            ngettext(
                "%(count)d document on hold is left out of the facts.",
                "%(count)d documents on hold are left out of the facts.",
                len(document_holds),
            )
            % {"count": len(document_holds)}
        )
    priority = compute_priority(case=case, facts=facts, stage=stage.stage, settings=settings)
    return Explanation(
        case=case,
        as_of=as_of,
        facts=facts,
        previous_cycle=previous_cycle,
        state=state,
        stage=stage,
        segments=segments,
        segment=segment,
        strategy=strategy,
        variant=variant,
        steps=steps,
        debtor_holds=debtor_holds,
        document_holds=document_holds,
        priority=priority,
        notes=notes,
    )


# --- As text --------------------------------------------------------------------------------


def format_fact(value: Any) -> str:
    if value is None:
        return _("empty")
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in sorted(value.items())) or "—"
    return str(value)


def explanation_lines(explanation: Explanation) -> list[str]:
    """The explanation as readable lines of text (the ``recobro explain`` command)."""
    e = explanation
    case = e.case
    lines = [
        _("Case %(id)s — %(debtor)s · %(portfolio)s, as of %(date)s")
        % {"id": case.pk, "debtor": case.debtor, "portfolio": case.portfolio, "date": iso(e.as_of)},
        _("Previous completed cycle: %(date)s") % {"date": iso(e.previous_cycle)},
        "",
        _("Facts"),
    ]
    for name, value in e.facts.items():
        label = rules.ATTRIBUTES_KEY if name == rules.ATTRIBUTES_KEY else name
        lines.append(f"  {label}: {format_fact(value)}")
    lines += ["", _("Stage")]
    current = str(e.stage.current) if e.stage.current is not None else _("none")
    lines.append(
        "  " + _("Now: %(stage)s (since %(date)s)") % {"stage": current, "date": iso(e.stage.current_since)}
    )
    for test in e.stage.tests:
        offset = _("no due date") if test.due_offset is None else str(test.due_offset)
        lines.append(
            "  "
            + _("%(mark)s %(stage)s: days past due %(offset)s >= %(entry)s → %(ok)s")
            % {
                "mark": "✓" if test.matched else "·",
                "stage": test.stage,
                "offset": offset,
                "entry": test.stage.entry_offset,
                "ok": _("yes") if test.offset_ok else _("no"),
            }
        )
        if test.rule is not None:
            lines += _rule_lines(test.rule, "      ")
    lines.append("  → " + e.stage.reason)
    lines += ["", _("Segment")]
    if not e.segments:
        lines.append("  " + _("No active segment."))
    for test in e.segments:
        lines.append(
            "  "
            + _("%(mark)s %(segment)s (priority %(priority)s): %(rule)s")
            % {
                "mark": "✓" if test.check.matched else "·",
                "segment": test.segment,
                "priority": test.segment.priority,
                "rule": test.check.text,
            }
        )
        lines += _rule_lines(test.check, "      ")
    lines.append("  → " + (str(e.segment) if e.segment is not None else _("No segment matched.")))
    lines += ["", _("Strategy"), "  → " + (str(e.strategy.strategy) if e.strategy.strategy else _("none"))]
    lines.append("    " + e.strategy.reason)
    lines += ["", _("Variant")]
    if e.variant.bucket is not None:
        lines.append("  " + _("Bucket: %(bucket)s") % {"bucket": e.variant.bucket})
    for r in e.variant.ranges:
        lines.append(f"  {r.label} {r.variant.name} ({r.variant.share}%)")
    lines.append("  → " + e.variant.reason)
    lines += ["", _("Steps")]
    if not e.steps:
        lines.append("  " + _("No steps to judge."))
    for outcome in e.steps:
        step = outcome.step
        lines.append(f"  {step.position}. {step.name} [{outcome.kind_label}] {outcome.when}")
        lines.append("     " + outcome.detail)
        if outcome.condition is not None:
            lines += _rule_lines(outcome.condition, "       ")
    lines += ["", _("Priority")]
    p = e.priority
    lines.append(
        "  "
        + _("probability %(p)s · expected recovery %(er)s · weight %(w)s → priority %(pr)s")
        % {
            "p": p.probability,
            "er": _money(p.expected_recovery, case),
            "w": p.weight,
            "pr": _money(p.priority, case),
        }
    )
    lines.append("  " + p.reason)
    if e.notes:
        lines.append("")
        lines += e.notes
    return lines


def _rule_lines(check: RuleCheck, indent: str) -> list[str]:
    if check.error:
        return [indent + _("rule error: %(error)s") % {"error": check.error}]
    return [indent + line for line in check.trace_lines]
