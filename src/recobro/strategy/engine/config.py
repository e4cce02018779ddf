"""The configuration a cycle runs with: loaded once, checked, rules parsed.

Everything the cycle reads from the configuration tables is read here, before anything
is written, so that a broken configuration (a rule that no longer parses, shares that do
not sum to 100, a step whose template is of another channel…) stops the run with a clear
error naming the segment, stage, strategy or step at fault.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from recobro.channels.models import CHANNEL_CONTACT_KINDS
from recobro.portfolio.aging import organization_buckets
from recobro.strategy import rules
from recobro.strategy.models import (
    Segment,
    Stage,
    Step,
    StepAction,
    StepAnchor,
    StopCondition,
    Strategy,
    StrategySettings,
    Variant,
)


class CycleError(Exception):
    """The cycle cannot run: a bad date or a broken configuration. Nothing was written."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


#: Stop conditions in the order their skip reason is chosen when several hold.
STOP_ORDER = (
    StopCondition.PAYMENT,
    StopCondition.PROMISE,
    StopCondition.DISPUTE,
    StopCondition.PLAN,
    StopCondition.IN_TRANSIT,
)


@dataclass(frozen=True)
class StageConf:
    id: int
    code: str
    position: int
    entry_offset: int
    entry_rule: rules.Rule | None
    exits_when_cured: bool
    priority_weight: Decimal
    is_active: bool


@dataclass(frozen=True)
class SegmentConf:
    id: int
    code: str
    priority: int
    rule: rules.Rule


@dataclass(frozen=True)
class VariantConf:
    id: int
    code: str
    strategy_id: int
    low: int  # bucket range [low, high)
    high: int


@dataclass(frozen=True)
class StrategyConf:
    id: int
    code: str
    stage_id: int
    segment_id: int | None
    variants: tuple[VariantConf, ...]


@dataclass(frozen=True)
class StepConf:
    id: int
    variant_id: int
    position: int
    name: str
    anchor: str
    offset_days: int
    weekdays: str
    action: str
    channel: str
    template_id: int | None
    template_active: bool
    language: str
    task_kind: str
    condition: rules.Rule | None
    stop_on: frozenset[str]

    @property
    def group(self) -> str:
        """Catch-up groups: messages by channel, tasks by task kind."""
        return f"m:{self.channel}" if self.action == StepAction.MESSAGE else f"t:{self.task_kind}"

    def allowed_on(self, day: dt.date) -> bool:
        return not self.weekdays or str(day.isoweekday()) in self.weekdays


@dataclass
class Config:
    stages: list[StageConf]  # every stage, by position (the stored stage may be inactive)
    segments: list[SegmentConf]  # active, by priority
    strategies: list[StrategyConf]  # active
    steps: list[StepConf]  # active steps of the variants of active strategies
    catch_up_days: int
    payment_stop_days: int
    fallback: dict[str, Decimal]
    broken_promise_factor: Decimal
    buckets: list[dict]
    #: Facts read by any rule (segment, entry rule, step condition): the optional columns.
    facts_used: set[str] = field(default_factory=set)

    @property
    def active_stages(self) -> list[StageConf]:
        return [s for s in self.stages if s.is_active]

    def stage(self, stage_id: int | None) -> StageConf | None:
        return next((s for s in self.stages if s.id == stage_id), None)

    def probability_table(self) -> dict[str, list[int]]:
        """Fallback probability in ten-thousandths by bucket and number of broken promises:
        ``round(fallback × factor ** n, 4)`` half up, for n = 0, 1, …; the last entry holds
        for every larger n (it has reached 0, or the factor is 1)."""
        table: dict[str, list[int]] = {}
        factor = self.broken_promise_factor
        unit = Decimal("0.0001")
        for key, base in self.fallback.items():
            values: list[int] = []
            n = 0
            while True:
                exact = base * factor**n
                values.append(int(exact.quantize(unit, rounding=ROUND_HALF_UP) * 10000))
                if factor >= 1 or exact < Decimal("0.00005") or n >= 200:
                    break
                n += 1
            table[key] = values
        return table


def _parse(text: str, what: str) -> rules.Rule | None:
    if not (text or "").strip():
        return None
    try:
        return rules.parse(text)
    except rules.RuleError as error:
        raise CycleError(
            _("%(what)s: the rule “%(rule)s” cannot be used: %(error)s")
            % {"what": what, "rule": text, "error": error}
        ) from None


def _decimal(value, what: str) -> Decimal:
    try:
        number = Decimal(str(value))
    except (ArithmeticError, ValueError, TypeError):
        number = None
    if number is None or not number.is_finite() or not (0 <= number <= 1):
        raise CycleError(
            _("%(what)s: the probability must be a number from 0 to 1, not %(value)r.")
            % {"what": what, "value": value}
        )
    return number


def load_config(organization) -> Config:
    """The organization's strategy configuration, checked; raises CycleError."""
    settings = StrategySettings.objects.filter(organization=organization).first() or StrategySettings(
        organization=organization
    )
    try:
        buckets = organization_buckets(organization)
    except ValidationError as error:
        raise CycleError(" ".join(error.messages)) from None
    fallback_raw = settings.fallback_probability or {}
    if not isinstance(fallback_raw, dict):
        raise CycleError(_("Strategy settings: the probability by bucket must be a mapping of bucket keys."))
    fallback = {
        str(key): _decimal(value, _("Strategy settings, bucket “%(key)s”") % {"key": key})
        for key, value in fallback_raw.items()
    }

    stages = []
    for stage in Stage.objects.filter(organization=organization).order_by("position", "id"):
        what = _("Stage “%(code)s”") % {"code": stage.code}
        stages.append(
            StageConf(
                id=stage.pk,
                code=stage.code,
                position=stage.position,
                entry_offset=stage.entry_offset,
                entry_rule=_parse(stage.entry_rule, what) if stage.is_active else None,
                exits_when_cured=stage.exits_when_cured,
                priority_weight=stage.priority_weight,
                is_active=stage.is_active,
            )
        )

    segments = [
        SegmentConf(
            id=segment.pk,
            code=segment.code,
            priority=segment.priority,
            rule=_parse(segment.rule, _("Segment “%(code)s”") % {"code": segment.code})
            or _missing_rule(segment),
        )
        for segment in Segment.objects.filter(organization=organization, is_active=True).order_by(
            "priority", "id"
        )
    ]

    active_stage_ids = {s.id for s in stages}
    strategies: list[StrategyConf] = []
    variants_by_strategy: dict[int, list[Variant]] = {}
    for variant in Variant.objects.filter(
        strategy__organization=organization, strategy__is_active=True, is_active=True
    ).order_by("strategy_id", "position", "id"):
        variants_by_strategy.setdefault(variant.strategy_id, []).append(variant)
    for strategy in Strategy.objects.filter(organization=organization, is_active=True).order_by("id"):
        if strategy.stage_id not in active_stage_ids:
            continue
        low, confs = 0, []
        for variant in variants_by_strategy.get(strategy.pk, []):
            confs.append(VariantConf(variant.pk, variant.code, strategy.pk, low, low + variant.share))
            low += variant.share
        if low != 100:
            raise CycleError(
                _("Strategy “%(code)s”: the shares of its active variants sum to %(total)s%%, not 100%%.")
                % {"code": strategy.code, "total": low}
            )
        strategies.append(
            StrategyConf(strategy.pk, strategy.code, strategy.stage_id, strategy.segment_id, tuple(confs))
        )

    strategy_ids = {s.id for s in strategies}
    steps: list[StepConf] = []
    valid_stops = set(StopCondition.values)
    for step in (
        Step.objects.filter(variant__strategy_id__in=strategy_ids, variant__is_active=True, is_active=True)
        .select_related("template", "variant__strategy")
        .order_by("variant_id", "position")
    ):
        what = _("Step %(position)s “%(name)s” of strategy “%(strategy)s”, variant “%(variant)s”") % {
            "position": step.position,
            "name": step.name,
            "strategy": step.variant.strategy.code,
            "variant": step.variant.code,
        }
        stop_on = step.stop_on or []
        if not isinstance(stop_on, list) or any(s not in valid_stops for s in stop_on):
            raise CycleError(
                _("%(what)s: unknown stop condition in %(value)r (known: %(known)s).")
                % {"what": what, "value": stop_on, "known": ", ".join(StopCondition.values)}
            )
        if step.weekdays and (not step.weekdays.isdigit() or any(d not in "1234567" for d in step.weekdays)):
            raise CycleError(
                _("%(what)s: weekdays must be digits 1 (Monday) to 7 (Sunday), not “%(value)s”.")
                % {"what": what, "value": step.weekdays}
            )
        if step.anchor not in StepAnchor.values:
            raise CycleError(
                _("%(what)s: unknown anchor “%(value)s”.") % {"what": what, "value": step.anchor}
            )
        template = step.template
        if step.action == StepAction.MESSAGE:
            if step.channel not in CHANNEL_CONTACT_KINDS or template is None:
                raise CycleError(_("%(what)s: a message needs a channel and a template.") % {"what": what})
            if template.channel != step.channel:
                raise CycleError(
                    _("%(what)s: the template “%(template)s” is for %(template_channel)s, not %(channel)s.")
                    % {
                        "what": what,
                        "template": template.code,
                        "template_channel": template.channel,
                        "channel": step.channel,
                    }
                )
        steps.append(
            StepConf(
                id=step.pk,
                variant_id=step.variant_id,
                position=step.position,
                name=step.name,
                anchor=step.anchor,
                offset_days=step.offset_days,
                weekdays=step.weekdays,
                action=step.action,
                channel=step.channel if step.action == StepAction.MESSAGE else "",
                template_id=template.pk if template is not None else None,
                template_active=bool(template is not None and template.is_active),
                language=template.language if template is not None else "",
                task_kind=step.task_kind if step.action == StepAction.TASK else "",
                condition=_parse(step.condition, what),
                stop_on=frozenset(stop_on),
            )
        )

    config = Config(
        stages=stages,
        segments=segments,
        strategies=strategies,
        steps=steps,
        catch_up_days=settings.catch_up_days,
        payment_stop_days=settings.payment_stop_days,
        fallback=fallback,
        broken_promise_factor=Decimal(settings.broken_promise_factor),
        buckets=buckets,
    )
    used: set[str] = set()
    for rule in [s.entry_rule for s in stages] + [s.rule for s in segments] + [s.condition for s in steps]:
        if rule is not None:
            used |= {name if not name.startswith("attr.") else rules.ATTRIBUTES_KEY for name in rule.facts}
    config.facts_used = used
    return config


def _missing_rule(segment: Segment):
    raise CycleError(_("Segment “%(code)s” has no rule.") % {"code": segment.code})
