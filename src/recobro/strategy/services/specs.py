"""The shapes a strategy configuration is made of, named by code (never by database id).

A ``Configuration`` is everything one organization configures: settings, templates,
segments, stages and strategies with their variants and steps. The YAML document is its
text form (``recobro.strategy.yaml_io``); the back-office edits one object of it at a time.
Both go through ``validation.validate_configuration`` and ``configuration.apply_configuration``.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from decimal import Decimal

from recobro.channels.models import Template
from recobro.core.models import DEFAULT_AGING_BUCKETS
from recobro.strategy.models import (
    Segment,
    Stage,
    Step,
    Strategy,
    StrategySettings,
    Variant,
    default_fallback_probability,
    default_stop_conditions,
)


def _field_default(model, name):
    return model._meta.get_field(name).get_default()


def default_probabilities(organization=None) -> dict[str, Decimal]:
    """The model's default probabilities, for the organization's buckets when given.

    A bucket of the organization's own takes the default of the standard bucket its first
    day falls in (a "1-15" bucket takes the "1-30" probability).
    """
    defaults = {k: Decimal(v) for k, v in default_fallback_probability().items()}
    if organization is None:
        return defaults
    result = {}
    for bucket in organization.aging_buckets or []:
        key = bucket["key"]
        if key in defaults:
            result[key] = defaults[key]
            continue
        first = bucket.get("min")
        for standard in DEFAULT_AGING_BUCKETS:
            low, high = standard["min"], standard["max"]
            if (first is None and low is None) or (
                first is not None and (low is None or low <= first) and (high is None or first <= high)
            ):
                result[key] = defaults[standard["key"]]
                break
    return result


@dataclass
class SettingsSpec:
    cycle_hour: int = _field_default(StrategySettings, "cycle_hour")
    catch_up_days: int = _field_default(StrategySettings, "catch_up_days")
    payment_stop_days: int = _field_default(StrategySettings, "payment_stop_days")
    long_hold_days: int = _field_default(StrategySettings, "long_hold_days")
    manual_stage_days: int = _field_default(StrategySettings, "manual_stage_days")
    broken_promise_factor: Decimal = Decimal("0.800")
    fallback_probability: dict[str, Decimal] = field(default_factory=default_probabilities)


@dataclass
class TemplateSpec:
    code: str
    channel: str
    name: str
    body: str
    language: str = "es"
    subject: str = ""
    active: bool = True

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.code, self.channel, self.language)

    @property
    def label(self) -> str:
        return f"{self.code} ({self.channel}, {self.language})"


@dataclass
class SegmentSpec:
    code: str
    name: str
    priority: int
    rule: str
    description: str = ""
    active: bool = True


@dataclass
class StageSpec:
    code: str
    name: str
    kind: str
    position: int
    entry_offset: int
    entry_rule: str = ""
    exits_when_cured: bool = True
    priority_weight: Decimal = Decimal("1.00")
    active: bool = True


@dataclass
class StepSpec:
    name: str
    anchor: str
    offset_days: int
    action: str
    weekdays: str = ""
    channel: str = ""
    template: str = ""
    #: The template's language, only needed when its code has several for the channel.
    language: str = ""
    task_kind: str = ""
    condition: str = ""
    stop_on: list[str] = field(default_factory=lambda: [str(c) for c in default_stop_conditions()])
    active: bool = True
    #: The stored step this spec edits (the back-office keeps identity across a rename);
    #: never part of the YAML document, where a step is known by its name.
    pk: int | None = field(default=None, compare=False)


@dataclass
class VariantSpec:
    code: str
    name: str
    champion: bool
    share: int
    steps: list[StepSpec] = field(default_factory=list)
    #: A retired variant (False) takes no cases and runs no steps; it keeps its share value.
    active: bool = True


@dataclass
class StrategySpec:
    code: str
    name: str
    stage: str
    segment: str | None = None
    description: str = ""
    active: bool = True
    variants: list[VariantSpec] = field(default_factory=list)


@dataclass
class Configuration:
    settings: SettingsSpec = field(default_factory=SettingsSpec)
    templates: list[TemplateSpec] = field(default_factory=list)
    segments: list[SegmentSpec] = field(default_factory=list)
    stages: list[StageSpec] = field(default_factory=list)
    strategies: list[StrategySpec] = field(default_factory=list)

    def copy(self) -> Configuration:
        return copy.deepcopy(self)

    # --- replacing one object (the back-office edits one at a time) -------------------

    # Each returns the path of the object it put, as validation problems name it.

    def put_template(self, spec: TemplateSpec) -> str:
        return f"templates[{_put(self.templates, spec, lambda t: t.key == spec.key)}]"

    def put_segment(self, spec: SegmentSpec) -> str:
        return f"segments[{_put(self.segments, spec, lambda s: s.code == spec.code)}]"

    def put_stage(self, spec: StageSpec) -> str:
        return f"stages[{_put(self.stages, spec, lambda s: s.code == spec.code)}]"

    def put_strategy(self, spec: StrategySpec) -> str:
        return f"strategies[{_put(self.strategies, spec, lambda s: s.code == spec.code)}]"

    def put_variant(self, strategy: str, spec: VariantSpec) -> str:
        """Put a variant in a strategy of the configuration (KeyError if there is none)."""
        target = self.strategy(strategy)
        if target is None:
            raise KeyError(strategy)
        index = _put(target.variants, spec, lambda v: v.code == spec.code)
        return f"strategies[{self.strategies.index(target)}].variants[{index}]"

    def strategy(self, code: str) -> StrategySpec | None:
        return next((s for s in self.strategies if s.code == code), None)


def _put(items: list, spec, matches) -> int:
    for index, item in enumerate(items):
        if matches(item):
            items[index] = spec
            return index
    items.append(spec)
    return len(items) - 1


# --- Reading the stored configuration -------------------------------------------------


def template_language_needed(templates: list[TemplateSpec], code: str, channel: str) -> bool:
    """Whether a step must say which language of template ``code`` it sends on ``channel``."""
    return sum(1 for t in templates if t.code == code and t.channel == channel) > 1


def load_configuration(organization) -> Configuration:
    """The organization's stored configuration, inactive objects included, in a stable order."""
    settings_row = StrategySettings.objects.filter(organization=organization).first()
    settings = SettingsSpec(fallback_probability=default_probabilities(organization))
    if settings_row is not None:
        settings = SettingsSpec(
            cycle_hour=settings_row.cycle_hour,
            catch_up_days=settings_row.catch_up_days,
            payment_stop_days=settings_row.payment_stop_days,
            long_hold_days=settings_row.long_hold_days,
            manual_stage_days=settings_row.manual_stage_days,
            broken_promise_factor=settings_row.broken_promise_factor,
            fallback_probability=_probabilities(settings_row.fallback_probability, organization),
        )
    templates = [
        TemplateSpec(
            code=t.code,
            channel=t.channel,
            language=t.language,
            name=t.name,
            subject=t.subject,
            body=t.body,
            active=t.is_active,
        )
        for t in Template.objects.filter(organization=organization).order_by("code", "channel", "language")
    ]
    segments = [
        SegmentSpec(
            code=s.code,
            name=s.name,
            priority=s.priority,
            rule=s.rule,
            description=s.description,
            active=s.is_active,
        )
        for s in Segment.objects.filter(organization=organization).order_by("priority", "code")
    ]
    stages = [
        StageSpec(
            code=s.code,
            name=s.name,
            kind=s.kind,
            position=s.position,
            entry_offset=s.entry_offset,
            entry_rule=s.entry_rule,
            exits_when_cured=s.exits_when_cured,
            priority_weight=s.priority_weight,
            active=s.is_active,
        )
        for s in Stage.objects.filter(organization=organization).order_by("position", "code")
    ]
    steps_by_variant: dict[int, list[Step]] = {}
    for step in (
        Step.objects.filter(variant__strategy__organization=organization)
        .select_related("template")
        .order_by("variant_id", "position", "id")
    ):
        steps_by_variant.setdefault(step.variant_id, []).append(step)
    variants_by_strategy: dict[int, list[Variant]] = {}
    for variant in Variant.objects.filter(strategy__organization=organization).order_by(
        "strategy_id", "position", "id"
    ):
        variants_by_strategy.setdefault(variant.strategy_id, []).append(variant)
    strategies = []
    for s in (
        Strategy.objects.filter(organization=organization)
        .select_related("stage", "segment")
        .order_by("stage__position", "stage__code", "segment__priority", "code")
    ):
        strategies.append(
            StrategySpec(
                code=s.code,
                name=s.name,
                stage=s.stage.code,
                segment=s.segment.code if s.segment_id else None,
                description=s.description,
                active=s.is_active,
                variants=[
                    VariantSpec(
                        code=v.code,
                        name=v.name,
                        champion=v.is_champion,
                        share=v.share,
                        active=v.is_active,
                        steps=[_step_spec(step, templates) for step in steps_by_variant.get(v.pk, [])],
                    )
                    for v in variants_by_strategy.get(s.pk, [])
                ],
            )
        )
    return Configuration(
        settings=settings, templates=templates, segments=segments, stages=stages, strategies=strategies
    )


def _probabilities(stored: dict, organization) -> dict[str, Decimal]:
    """Stored probabilities in the organization's bucket order (unknown keys last, sorted)."""
    stored = dict(stored or {})
    order = [b["key"] for b in organization.aging_buckets or []]
    keys = [k for k in order if k in stored] + sorted(k for k in stored if k not in order)
    return {k: Decimal(str(stored[k])) for k in keys}


def _step_spec(step: Step, templates: list[TemplateSpec]) -> StepSpec:
    template = step.template
    language = ""
    if template is not None and template_language_needed(templates, template.code, template.channel):
        language = template.language
    return StepSpec(
        pk=step.pk,
        name=step.name,
        anchor=step.anchor,
        offset_days=step.offset_days,
        weekdays=step.weekdays,
        action=step.action,
        channel=step.channel,
        template=template.code if template is not None else "",
        language=language,
        task_kind=step.task_kind,
        condition=step.condition,
        stop_on=[str(c) for c in (step.stop_on or [])],
        active=step.is_active,
    )
