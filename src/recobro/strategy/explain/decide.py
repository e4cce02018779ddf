"""Phases 3–6 and 8 for one case: stage, strategy, variant and priority (docs/strategy.md)."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.utils.translation import gettext as _

from recobro.portfolio.models import Case, CaseStatus
from recobro.strategy.engine import variant_bucket
from recobro.strategy.models import (
    CaseState,
    Segment,
    Stage,
    Strategy,
    StrategySettings,
    Variant,
)

from .facts import CENT, check_rule
from .result import (
    Priority,
    StageDecision,
    StageMove,
    StageTest,
    StrategyChoice,
    VariantChoice,
    VariantRange,
    iso,
)

PROBABILITY_PLACES = Decimal("0.0001")


def entry_date(anchor: dt.date | None, as_of: dt.date, previous_cycle: dt.date | None) -> dt.date:
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
    pinned_until = state.stage_pinned_until if state is not None else None
    due_offset = (as_of - oldest_due_date).days if oldest_due_date is not None else None
    tests: list[StageTest] = []
    target: Stage | None = None
    for stage in stages:
        offset_ok = due_offset is not None and due_offset >= stage.entry_offset
        check = check_rule(stage.entry_rule, facts) if stage.entry_rule.strip() else None
        matched = offset_ok and (check is None or check.matched)
        entered_on = None
        if matched:
            entered_on = entry_date(
                oldest_due_date + dt.timedelta(days=stage.entry_offset), as_of, previous_cycle
            )
            if target is None or stage.position > target.position:
                target = stage
        tests.append(StageTest(stage, due_offset, offset_ok, check, matched, entered_on))
    entered = {t.stage.pk: t.entered_on for t in tests}

    def decision(move, stage, entered_on, reason):
        return StageDecision(current, since, tests, target, move, stage, entered_on, reason, pinned_until)

    if case.status == CaseStatus.CLOSED or not facts["open_documents"]:
        if current is None:
            return decision(StageMove.NONE, None, None, _("The case is closed: it has no open balance."))
        return decision(
            StageMove.CLOSED,
            None,
            None,
            _("The case is closed (no open balance): it leaves %(stage)s.") % {"stage": current},
        )
    if current is not None and pinned_until is not None and pinned_until >= as_of:
        # docs/strategy.md §3: a stage a person chose is kept, whatever the entry tests say.
        return decision(
            StageMove.PINNED,
            current,
            since,
            _("The case is kept in %(stage)s by a manual move until %(date)s.")
            % {"stage": current, "date": iso(pinned_until)},
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
    entered_on = entry_date(stage.entered_on, as_of, previous_cycle) if changed else state.strategy_entered_on
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
    # docs/strategy.md §6: only active variants take share ranges.
    ranges, low = [], 0
    for variant in sorted((v for v in variants if v.is_active), key=lambda v: (v.position, v.pk)):
        ranges.append(VariantRange(variant, low, low + variant.share))
        low += variant.share
    bucket = variant_bucket(case.pk, strategy.strategy.pk)
    stored = state.variant if state is not None else None
    same_strategy = not strategy.changed and stored is not None and stored.strategy_id == strategy.strategy.pk
    if same_strategy and stored.is_active:
        return VariantChoice(
            stored,
            bucket,
            ranges,
            True,
            _("The case keeps %(variant)s, drawn when it entered the strategy on %(date)s.")
            % {"variant": stored.name, "date": iso(strategy.entered_on)},
        )
    retired = (
        _(
            "Its variant %(variant)s was retired: it is drawn again among the active ones,"
            " still in the strategy since %(date)s."
        )
        % {"variant": stored.name, "date": iso(strategy.entered_on)}
        + " "
        if same_strategy
        else ""
    )
    for r in ranges:
        if r.low <= bucket < r.high:
            return VariantChoice(
                r.variant,
                bucket,
                ranges,
                False,
                retired
                + _("Bucket %(bucket)s falls in %(range)s: %(variant)s.")
                % {"bucket": bucket, "range": r.label, "variant": r.variant.name},
                redrawn=bool(retired),
            )
    return VariantChoice(
        None,
        bucket,
        ranges,
        False,
        retired
        + _("Bucket %(bucket)s falls in no variant: the shares sum to %(total)s, not 100.")
        % {"bucket": bucket, "total": low},
        redrawn=bool(retired),
    )


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
