"""Checks of a whole configuration: every problem, each with the path of what is wrong.

``validate_configuration`` never stops at the first problem and never writes. Paths follow
the YAML document: ``segments[0].rule``, ``strategies[2].variants[0].steps[1].template``
(0-based indices). The YAML reader adds its own problems (unknown and missing keys, wrong
types) with the same paths before these checks run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext as _

from recobro.channels.models import Channel
from recobro.strategy.models import StageKind, StepAction, StepAnchor, StopCondition, TaskKind
from recobro.strategy.rules import RuleError, parse
from recobro.strategy.services.specs import (
    Configuration,
    SegmentSpec,
    SettingsSpec,
    StageSpec,
    StepSpec,
    StrategySpec,
    TemplateSpec,
    VariantSpec,
)

CODE_RE = re.compile(r"^[-a-zA-Z0-9_]+$")
CODE_MAX = 60
NAME_MAX = 200
SMALL_INT_MAX = 32767
INT_MAX = 2147483647
#: Day offsets beyond a century are typing mistakes, not strategies.
OFFSET_LIMIT = 36500
WEEKDAYS_RE = re.compile(r"^[1-7]{0,7}$")


@dataclass(frozen=True)
class Problem:
    """One thing wrong: where (``path`` of the object, ``field`` in it) and what."""

    path: str
    message: str
    field: str = ""

    @property
    def where(self) -> str:
        return f"{self.path}.{self.field}" if self.field else self.path

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


class Checker:
    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, path: str, message: str, field: str = "") -> None:
        self.problems.append(Problem(path=path, message=message, field=field))

    # --- generic field checks -------------------------------------------------------

    def code(self, path: str, value: str, field: str = "code") -> None:
        if not value:
            self.add(path, _("a code is required."), field)
        elif len(value) > CODE_MAX:
            self.add(path, _("a code has at most %(max)d characters.") % {"max": CODE_MAX}, field)
        elif not CODE_RE.match(value):
            self.add(
                path,
                _("'%(value)s' is not a valid code: use letters, digits, hyphens and underscores.")
                % {"value": value},
                field,
            )

    def text(self, path: str, value: str, field: str, *, max_length: int, required: bool = False) -> None:
        if required and not (value or "").strip():
            self.add(path, _("this value is required."), field)
        elif len(value or "") > max_length:
            self.add(
                path,
                _("at most %(max)d characters (this has %(length)d).")
                % {"max": max_length, "length": len(value)},
                field,
            )

    def choice(self, path: str, value: str, choices, field: str) -> bool:
        if value not in choices.values:
            self.add(
                path,
                _("'%(value)s' is not one of: %(choices)s.")
                % {"value": value, "choices": ", ".join(choices.values)},
                field,
            )
            return False
        return True

    def integer(self, path: str, value: int, field: str, *, low: int, high: int) -> None:
        if not low <= value <= high:
            self.add(
                path,
                _("%(value)s is out of range (%(low)d to %(high)d).")
                % {"value": value, "low": low, "high": high},
                field,
            )

    def decimal(
        self, path: str, value: Decimal, field: str, *, low, high, places: int, high_open=False
    ) -> None:
        if not value.is_finite():
            self.add(path, _("must be a finite number."), field)
            return
        too_high = value >= high if high_open else value > high
        if value < low or too_high:
            bound = _("below %(high)s") if high_open else _("up to %(high)s")
            self.add(
                path,
                _("%(value)s is out of range (from %(low)s %(bound)s).")
                % {"value": value, "low": low, "bound": bound % {"high": high}},
                field,
            )
        elif value != value.quantize(Decimal(1).scaleb(-places)):
            self.add(
                path,
                _("%(value)s has more than %(places)d decimals.") % {"value": value, "places": places},
                field,
            )

    def rule(self, path: str, text: str, field: str, *, required: bool) -> None:
        if not (text or "").strip():
            if required:
                self.add(path, _("a rule is required."), field)
            return
        try:
            parse(text)
        except RuleError as error:
            self.add(path, error.message, field)

    def unique(self, items: list, key, path_of, field: str, message: str) -> None:
        """Report every item whose ``key`` repeats an earlier one's."""
        seen: dict = {}
        for index, item in enumerate(items):
            value = key(item)
            if value is None:
                continue
            if value in seen:
                self.add(
                    path_of(index), message % {"value": _shown(value), "first": path_of(seen[value])}, field
                )
            else:
                seen[value] = index


def _shown(value) -> str:
    if isinstance(value, tuple):
        return " / ".join("—" if v is None else str(v) for v in value)
    return str(value)


# --- The configuration ----------------------------------------------------------------


def validate_configuration(config: Configuration, *, organization) -> list[Problem]:
    """Every problem of ``config`` for ``organization``; empty when it may be applied.

    When ``config`` replaces all of the organization's configuration (an import), what it
    leaves out is deactivated and stands in nobody's way: only active strategies compete
    for a stage and segment, and a dropped variant is retired.
    """
    check = Checker()
    _settings(check, config.settings, organization)
    _templates(check, config.templates)
    _segments(check, config.segments)
    _stages(check, config.stages)
    _strategies(check, config)
    return check.problems


def _settings(check: Checker, spec: SettingsSpec, organization) -> None:
    path = "settings"
    check.integer(path, spec.cycle_hour, "cycle_hour", low=0, high=23)
    for name in ("catch_up_days", "payment_stop_days", "long_hold_days", "manual_stage_days"):
        check.integer(path, getattr(spec, name), name, low=0, high=SMALL_INT_MAX)
    check.decimal(path, spec.broken_promise_factor, "broken_promise_factor", low=0, high=1, places=3)
    buckets = [b["key"] for b in organization.aging_buckets or []]
    given = spec.fallback_probability or {}
    for key, value in given.items():
        if key not in buckets:
            check.add(
                path,
                _("'%(key)s' is not an aging bucket of the organization (%(buckets)s).")
                % {"key": key, "buckets": ", ".join(buckets)},
                "fallback_probability",
            )
        else:
            check.decimal(f"{path}.fallback_probability", value, key, low=0, high=1, places=4)
    missing = [key for key in buckets if key not in given]
    if missing:
        check.add(
            path,
            _("a probability is needed for every aging bucket; missing: %(keys)s.")
            % {"keys": ", ".join(missing)},
            "fallback_probability",
        )


def _templates(check: Checker, templates: list[TemplateSpec]) -> None:
    for index, spec in enumerate(templates):
        path = f"templates[{index}]"
        check.code(path, spec.code)
        check.choice(path, spec.channel, Channel, "channel")
        check.text(path, spec.language, "language", max_length=10, required=True)
        check.text(path, spec.name, "name", max_length=NAME_MAX, required=True)
        check.text(path, spec.subject, "subject", max_length=200)
        check.text(path, spec.body, "body", max_length=100_000, required=True)
    check.unique(
        templates,
        lambda t: t.key,
        lambda i: f"templates[{i}]",
        "code",
        _("template %(value)s is already defined at %(first)s."),
    )


def _segments(check: Checker, segments: list[SegmentSpec]) -> None:
    for index, spec in enumerate(segments):
        path = f"segments[{index}]"
        check.code(path, spec.code)
        check.text(path, spec.name, "name", max_length=NAME_MAX, required=True)
        check.integer(path, spec.priority, "priority", low=0, high=INT_MAX)
        check.rule(path, spec.rule, "rule", required=True)
    check.unique(
        segments,
        lambda s: s.code,
        lambda i: f"segments[{i}]",
        "code",
        _("code '%(value)s' is already used by %(first)s."),
    )
    check.unique(
        segments,
        lambda s: s.priority,
        lambda i: f"segments[{i}]",
        "priority",
        _("priority %(value)s is already used by %(first)s; each segment needs its own."),
    )


def _stages(check: Checker, stages: list[StageSpec]) -> None:
    for index, spec in enumerate(stages):
        path = f"stages[{index}]"
        check.code(path, spec.code)
        check.text(path, spec.name, "name", max_length=NAME_MAX, required=True)
        check.choice(path, spec.kind, StageKind, "kind")
        check.integer(path, spec.position, "position", low=0, high=SMALL_INT_MAX)
        check.integer(path, spec.entry_offset, "entry_offset", low=-OFFSET_LIMIT, high=OFFSET_LIMIT)
        check.rule(path, spec.entry_rule, "entry_rule", required=False)
        check.decimal(
            path, spec.priority_weight, "priority_weight", low=0, high=1000, places=2, high_open=True
        )
    check.unique(
        stages,
        lambda s: s.code,
        lambda i: f"stages[{i}]",
        "code",
        _("code '%(value)s' is already used by %(first)s."),
    )
    check.unique(
        stages,
        lambda s: s.position,
        lambda i: f"stages[{i}]",
        "position",
        _("position %(value)s is already used by %(first)s; each stage needs its own."),
    )


def _strategies(check: Checker, config: Configuration) -> None:
    stages = {s.code: s for s in config.stages}
    segments = {s.code: s for s in config.segments}
    for index, spec in enumerate(config.strategies):
        path = f"strategies[{index}]"
        check.code(path, spec.code)
        check.text(path, spec.name, "name", max_length=NAME_MAX, required=True)
        stage = stages.get(spec.stage)
        if stage is None:
            check.add(path, _("there is no stage with the code '%(code)s'.") % {"code": spec.stage}, "stage")
        elif spec.active and not stage.active:
            check.add(
                path,
                _("stage '%(code)s' is inactive; an active strategy needs an active stage.")
                % {"code": spec.stage},
                "stage",
            )
        if spec.segment is not None:
            segment = segments.get(spec.segment)
            if segment is None:
                check.add(
                    path,
                    _("there is no segment with the code '%(code)s'.") % {"code": spec.segment},
                    "segment",
                )
            elif spec.active and not segment.active:
                check.add(
                    path,
                    _("segment '%(code)s' is inactive; an active strategy needs an active segment.")
                    % {"code": spec.segment},
                    "segment",
                )
        _variants(check, path, spec, config)
    check.unique(
        config.strategies,
        lambda s: s.code,
        lambda i: f"strategies[{i}]",
        "code",
        _("code '%(value)s' is already used by %(first)s."),
    )
    # Only active strategies compete for a stage and segment; retired ones may share it.
    check.unique(
        config.strategies,
        lambda s: (s.stage, s.segment) if s.active else None,
        lambda i: f"strategies[{i}]",
        "segment",
        _(
            "stage and segment %(value)s already have a strategy (%(first)s); "
            "a case must know which one applies."
        ),
    )


def _variants(check: Checker, path: str, spec: StrategySpec, config: Configuration) -> None:
    if not spec.variants:
        check.add(path, _("a strategy needs at least one variant (its champion)."), "variants")
        return
    for index, variant in enumerate(spec.variants):
        vpath = f"{path}.variants[{index}]"
        check.code(vpath, variant.code)
        check.text(vpath, variant.name, "name", max_length=NAME_MAX, required=True)
        check.integer(vpath, variant.share, "share", low=0, high=100)
        _steps(check, vpath, variant, spec, config)
    check.unique(
        spec.variants,
        lambda v: v.code,
        lambda i: f"{path}.variants[{i}]",
        "code",
        _("code '%(value)s' is already used by %(first)s."),
    )
    for index, variant in enumerate(spec.variants):
        if variant.champion and not variant.active:
            check.add(
                f"{path}.variants[{index}]",
                _("a retired variant cannot be the champion; make another variant the champion first."),
                "champion",
            )
    # docs/strategy.md §6: only active variants take cases; a retired one keeps its share value.
    active = [v for v in spec.variants if v.active]
    if not active:
        check.add(path, _("a strategy needs at least one active variant (its champion)."), "variants")
        return
    total = sum(v.share for v in active)
    if total != 100:
        shares = " + ".join(str(v.share) for v in active)
        check.add(
            path,
            _("the shares of the variants sum to %(total)s (%(shares)s); they must sum to 100.")
            % {"total": total, "shares": shares},
            "variants",
        )
    champions = [v.code for v in active if v.champion]
    if len(champions) != 1:
        check.add(
            path,
            _("a strategy needs exactly one champion variant; it has %(count)d (%(codes)s).")
            % {"count": len(champions), "codes": ", ".join(champions) or "—"},
            "variants",
        )


def _steps(
    check: Checker, vpath: str, variant: VariantSpec, strategy: StrategySpec, config: Configuration
) -> None:
    for index, step in enumerate(variant.steps):
        _step(check, f"{vpath}.steps[{index}]", step, variant, strategy, config)
    check.unique(
        variant.steps,
        lambda s: s.name.strip().lower() or None,
        lambda i: f"{vpath}.steps[{i}]",
        "name",
        _("step name '%(value)s' is already used by %(first)s; steps of a variant are known by their names."),
    )


def _step(
    check: Checker,
    path: str,
    step: StepSpec,
    variant: VariantSpec,
    strategy: StrategySpec,
    config: Configuration,
) -> None:
    check.text(path, step.name, "name", max_length=NAME_MAX, required=True)
    check.choice(path, step.anchor, StepAnchor, "anchor")
    check.integer(path, step.offset_days, "offset_days", low=-OFFSET_LIMIT, high=OFFSET_LIMIT)
    if not WEEKDAYS_RE.match(step.weekdays or "") or len(set(step.weekdays)) != len(step.weekdays):
        check.add(
            path,
            _("'%(value)s' is not a set of ISO weekday digits (1 = Monday … 7 = Sunday, e.g. 12345).")
            % {"value": step.weekdays},
            "weekdays",
        )
    check.rule(path, step.condition, "condition", required=False)
    stop_on = step.stop_on or []
    for value in stop_on:
        check.choice(path, value, StopCondition, "stop_on")
    if len(set(stop_on)) != len(stop_on):
        check.add(path, _("a stop condition is repeated."), "stop_on")
    if not check.choice(path, step.action, StepAction, "action"):
        return
    if step.action == StepAction.MESSAGE:
        if step.task_kind:
            check.add(path, _("a message step has no task kind."), "task_kind")
        if not step.channel:
            check.add(path, _("a message step needs a channel."), "channel")
            return
        if not check.choice(path, step.channel, Channel, "channel"):
            return
        _step_template(check, path, step, variant, strategy, config)
    else:
        if step.channel:
            check.add(path, _("a task step has no channel."), "channel")
        if step.template:
            check.add(path, _("a task step has no template."), "template")
        if not step.task_kind:
            check.add(
                path,
                _("a task step needs a task kind (%(kinds)s).") % {"kinds": ", ".join(TaskKind.values)},
                "task_kind",
            )
        else:
            check.choice(path, step.task_kind, TaskKind, "task_kind")


def _step_template(
    check: Checker,
    path: str,
    step: StepSpec,
    variant: VariantSpec,
    strategy: StrategySpec,
    config: Configuration,
) -> None:
    if not step.template:
        check.add(path, _("a message step needs a template."), "template")
        return
    candidates = [t for t in config.templates if t.code == step.template and t.channel == step.channel]
    if step.language:
        candidates = [t for t in candidates if t.language == step.language]
    if not candidates:
        others = sorted({t.channel for t in config.templates if t.code == step.template})
        if others:
            message = _("template '%(code)s' has no %(channel)s version (it exists for %(others)s).") % {
                "code": step.template,
                "channel": step.channel,
                "others": ", ".join(others),
            }
        elif step.language:
            message = _("there is no template '%(code)s' for %(channel)s in language '%(language)s'.") % {
                "code": step.template,
                "channel": step.channel,
                "language": step.language,
            }
        else:
            message = _("there is no template with the code '%(code)s'.") % {"code": step.template}
        check.add(path, message, "template")
        return
    if len(candidates) > 1:
        check.add(
            path,
            _(
                "template '%(code)s' exists for %(channel)s in several languages (%(languages)s); "
                "say which with language."
            )
            % {
                "code": step.template,
                "channel": step.channel,
                "languages": ", ".join(sorted(t.language for t in candidates)),
            },
            "language",
        )
        return
    if step.active and variant.active and strategy.active and not candidates[0].active:
        check.add(
            path,
            _("template %(template)s is inactive; an active step needs an active template.")
            % {"template": candidates[0].label},
            "template",
        )


def resolve_template(config: Configuration, step: StepSpec) -> TemplateSpec | None:
    """The template a (valid) message step sends."""
    for t in config.templates:
        if (
            t.code == step.template
            and t.channel == step.channel
            and (not step.language or t.language == step.language)
        ):
            return t
    return None
