"""What explain_case returns: plain dataclasses, one per phase of the cycle."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from recobro.portfolio.models import Case, ContactPoint
from recobro.strategy import rules
from recobro.strategy.models import (
    Action,
    CaseState,
    Hold,
    Segment,
    Stage,
    Step,
    StepAction,
    StepAnchor,
    StopCondition,
    Strategy,
    Variant,
)


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
    PINNED = "pinned"  # a manual move keeps the current stage until stage_pinned_until


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
    pinned_until: dt.date | None = None  # the stored pin of a manual move (kept while >= as_of)

    @property
    def pinned(self) -> bool:
        return self.move == StageMove.PINNED


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
    redrawn: bool = False  # the stored variant was retired: drawn again, still in the strategy


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
