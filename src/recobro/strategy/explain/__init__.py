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

from django.db.models import Max
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from recobro.portfolio.models import Case, ContactPoint
from recobro.strategy.engine import variant_bucket
from recobro.strategy.models import (
    Action,
    CaseState,
    CycleRun,
    CycleStatus,
    Hold,
    HoldScope,
    Segment,
    Stage,
    Strategy,
    StrategySettings,
)

from .decide import choose_strategy, choose_variant, compute_priority, decide_stage
from .facts import check_rule, gather_facts
from .result import (
    RECORDED_TODAY,
    WAITING,
    Explanation,
    Priority,
    RuleCheck,
    SegmentTest,
    StageDecision,
    StageMove,
    StageTest,
    StepOutcome,
    StepStatus,
    StrategyChoice,
    VariantChoice,
    VariantRange,
)
from .steps import judge_steps
from .text import explanation_lines

__all__ = [
    "RECORDED_TODAY",
    "WAITING",
    "Explanation",
    "Priority",
    "RuleCheck",
    "SegmentTest",
    "StageDecision",
    "StageMove",
    "StageTest",
    "StepOutcome",
    "StepStatus",
    "StrategyChoice",
    "VariantChoice",
    "VariantRange",
    "explain_case",
    "explanation_lines",
    "variant_bucket",
]


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
            test = SegmentTest(candidate, check_rule(candidate.rule, facts))
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
