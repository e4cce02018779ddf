"""Saving a strategy configuration: validated as a whole, applied as an upsert by code.

``apply_configuration`` takes a whole ``Configuration`` (an imported YAML document) and,
in one transaction: validates everything, then creates or updates each object by its
identity (templates by code, channel and language; segments, stages and strategies by
code; variants by code within their strategy; steps by name within their variant), and
deactivates what the configuration leaves out (a variant left out is retired:
``is_active`` false, its share and steps kept as they were) — nothing is deleted, because
actions and messages point to steps, variants and templates. Every row written gets an
audit entry.

The back-office edits one object at a time with ``save_settings``, ``save_template``,
``save_segment``, ``save_stage``, ``save_strategy`` and ``save_variant``: each loads the
stored configuration, puts the edited object in it, refuses the change if it introduces a
problem (``check_change`` gives the same answer for a form's ``clean``), and applies it the
same way. There is one write path for configuration, whichever door it comes through.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import models, transaction
from django.utils.translation import gettext as _

from recobro.channels.models import Template
from recobro.core import audit
from recobro.core.audit import Actor, AuditAction
from recobro.strategy.models import Segment, Stage, Step, Strategy, StrategySettings, Variant
from recobro.strategy.services import ConfigurationError
from recobro.strategy.services.specs import (
    Configuration,
    SegmentSpec,
    SettingsSpec,
    StageSpec,
    StrategySpec,
    TemplateSpec,
    VariantSpec,
    load_configuration,
)
from recobro.strategy.services.validation import Problem, resolve_template, validate_configuration

SMALL_INT_MAX = 32767
INT_MAX = 2147483647

CREATE, UPDATE, DEACTIVATE = "create", "update", "deactivate"


@dataclass
class Change:
    """One object the configuration creates, updates or deactivates."""

    kind: str  # settings, template, segment, stage, strategy, variant, step
    label: str
    op: str
    fields: dict[str, tuple[Any, Any]] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.op} {self.kind} {self.label}"


@dataclass
class Summary:
    """What applying a configuration did (or, for a dry run, would do)."""

    changes: list[Change] = field(default_factory=list)
    unchanged: int = 0
    dry_run: bool = False

    def count(self, op: str, kind: str | None = None) -> int:
        return sum(1 for c in self.changes if c.op == op and (kind is None or c.kind == kind))

    @property
    def created(self) -> int:
        return self.count(CREATE)

    @property
    def updated(self) -> int:
        return self.count(UPDATE)

    @property
    def deactivated(self) -> int:
        return self.count(DEACTIVATE)

    def by_kind(self) -> dict[str, dict[str, int]]:
        result: dict[str, dict[str, int]] = {}
        for change in self.changes:
            counts = result.setdefault(change.kind, {CREATE: 0, UPDATE: 0, DEACTIVATE: 0})
            counts[change.op] += 1
        return result

    def __str__(self) -> str:
        return _(
            "%(created)d created, %(updated)d updated, %(deactivated)d deactivated, %(unchanged)d unchanged"
        ) % {
            "created": self.created,
            "updated": self.updated,
            "deactivated": self.deactivated,
            "unchanged": self.unchanged,
        }


class _DryRun(Exception):
    """Raised inside the transaction of a dry run so that nothing it wrote stays."""


# --- Entry points -------------------------------------------------------------------------


def apply_configuration(
    *,
    organization,
    config: Configuration,
    actor: Actor,
    dry_run: bool = False,
    via: str = "import",
) -> Summary:
    """Replace the organization's configuration with ``config``; see the module docstring.

    Raises ConfigurationError listing every problem (nothing is written). A dry run does
    all of the work in a transaction that is rolled back and returns what it would change.
    """
    summary = Summary(dry_run=dry_run)
    try:
        with transaction.atomic():
            created = _lock(organization)
            problems = validate_configuration(config, organization=organization)
            if problems:
                raise ConfigurationError(problems)
            _Writer(organization, actor, summary, via, settings_created=created).write(config)
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    return summary


def check_change(*, organization, edit: Callable[[Configuration], str | None]) -> list[Problem]:
    """The problems of a back-office edit. ``edit`` changes a configuration in place and
    returns the path of the object it edits. Problems the stored configuration already had
    elsewhere are not the edit's fault; those of the edited object are."""
    stored = load_configuration(organization)
    config = stored.copy()
    path = edit(config) or ""
    before = set(validate_configuration(stored, organization=organization))
    return [
        p
        for p in validate_configuration(config, organization=organization)
        if p not in before or _within(p.path, path)
    ]


def _within(problem_path: str, path: str) -> bool:
    return bool(path) and (problem_path == path or problem_path.startswith((f"{path}.", f"{path}[")))


def _save(*, organization, actor: Actor, edit: Callable[[Configuration], Any]) -> _Writer:
    summary = Summary()
    with transaction.atomic():
        created = _lock(organization)
        problems = check_change(organization=organization, edit=edit)
        if problems:
            raise ConfigurationError(problems)
        config = load_configuration(organization)
        edit(config)
        writer = _Writer(organization, actor, summary, "back-office", settings_created=created)
        writer.write(config)
    return writer


def save_settings(*, organization, actor: Actor, spec: SettingsSpec) -> StrategySettings:
    def edit(config: Configuration) -> str:
        config.settings = spec
        return "settings"

    return _save(organization=organization, actor=actor, edit=edit).settings


def save_template(*, organization, actor: Actor, spec: TemplateSpec) -> Template:
    """Create or update one template (identity: code, channel and language)."""
    writer = _save(organization=organization, actor=actor, edit=lambda c: c.put_template(spec))
    return writer.templates[spec.key]


def save_segment(*, organization, actor: Actor, spec: SegmentSpec) -> Segment:
    writer = _save(organization=organization, actor=actor, edit=lambda c: c.put_segment(spec))
    return writer.segments[spec.code]


def save_stage(*, organization, actor: Actor, spec: StageSpec) -> Stage:
    writer = _save(organization=organization, actor=actor, edit=lambda c: c.put_stage(spec))
    return writer.stages[spec.code]


def save_strategy(*, organization, actor: Actor, spec: StrategySpec, keep_steps: bool = True) -> Strategy:
    """Create or update one strategy with its variants.

    With ``keep_steps`` (the strategy page, which edits variants but not their steps) each
    variant that exists keeps its stored steps; a new one starts without steps.
    """

    def edit(config: Configuration) -> str:
        if keep_steps:
            stored = config.strategy(spec.code)
            old = {v.code: v.steps for v in stored.variants} if stored else {}
            for variant in spec.variants:
                variant.steps = old.get(variant.code, [])
        return config.put_strategy(spec)

    writer = _save(organization=organization, actor=actor, edit=edit)
    return writer.strategies[spec.code]


def save_variant(*, organization, actor: Actor, strategy: str, spec: VariantSpec) -> Variant:
    """Update one variant of a stored strategy, with its steps (in order)."""

    def edit(config: Configuration) -> str:
        try:
            return config.put_variant(strategy, spec)
        except KeyError:
            raise ConfigurationError(
                [Problem("strategies", _("there is no strategy '%(code)s'.") % {"code": strategy})]
            ) from None

    writer = _save(organization=organization, actor=actor, edit=edit)
    return writer.variants[(strategy, spec.code)]


def _lock(organization) -> bool:
    """Configuration writes of one organization take turns on its settings row (created
    here, with the defaults, the first time: the writer then records it as created)."""
    _row, created = StrategySettings.objects.get_or_create(organization=organization)
    StrategySettings.objects.select_for_update().get(organization=organization)
    return created


# --- The writer --------------------------------------------------------------------------------


def _display(value: Any) -> Any:
    if isinstance(value, Decimal | dt.date):
        return str(value)
    return value


def _free_values(used: set[int], top: int) -> Iterable[int]:
    """Values no row holds or will hold, from the top down, to park rows while renumbering."""
    value = top
    while value >= 0:
        if value not in used:
            yield value
        value -= 1


class _Writer:
    def __init__(
        self, organization, actor: Actor, summary: Summary, via: str, *, settings_created: bool = False
    ) -> None:
        self.organization = organization
        self.settings_created = settings_created
        self.actor = actor
        self.summary = summary
        self.via = via
        self.entries: list = []
        self.settings: StrategySettings | None = None
        self.templates: dict[tuple[str, str, str], Template] = {}
        self.segments: dict[str, Segment] = {}
        self.stages: dict[str, Stage] = {}
        self.strategies: dict[str, Strategy] = {}
        self.variants: dict[tuple[str, str], Variant] = {}

    def write(self, config: Configuration) -> None:
        self._settings(config.settings)
        self._templates(config.templates)
        self._segments(config.segments)
        self._stages(config.stages)
        self._strategies(config.strategies)
        for spec in config.strategies:
            self._variants(spec, config)
        audit.record_many(self.entries)

    # --- rows ----------------------------------------------------------------------------

    def _audit(self, obj: models.Model, action: str, before: dict | None) -> None:
        self.entries.append(
            audit.entry(
                organization=self.organization,
                actor=self.actor,
                action=action,
                obj=obj,
                before=before,
                after=audit.snapshot(obj),
                context={"via": self.via},
            )
        )

    def _create(self, model, kind: str, label: str, values: dict, shown: dict | None = None) -> models.Model:
        obj = model(**values)
        obj.save()
        self._audit(obj, AuditAction.CREATE, None)
        self.summary.changes.append(
            Change(kind, label, CREATE, {k: (None, _display(v)) for k, v in (shown or values).items()})
        )
        return obj

    def _update(
        self,
        obj: models.Model,
        kind: str,
        label: str,
        values: dict,
        shown: dict | None = None,
        *,
        missing=False,
    ) -> models.Model:
        """Set ``values`` on a stored row (``shown``: the same values as people read them)."""
        changed = {k: v for k, v in values.items() if not _same(getattr(obj, k), v)}
        if not changed:
            self.summary.unchanged += 1
            return obj
        shown = shown or {}
        fields = {k: (_display(_readable(obj, k)), _display(shown.get(k, v))) for k, v in changed.items()}
        before = audit.snapshot(obj)
        for k, v in changed.items():
            setattr(obj, k, v)
        obj.save(update_fields=list(changed))
        self._audit(obj, AuditAction.UPDATE, before)
        self.summary.changes.append(Change(kind, label, DEACTIVATE if missing else UPDATE, fields))
        return obj

    # --- settings -----------------------------------------------------------------------------

    def _settings(self, spec: SettingsSpec) -> None:
        row = StrategySettings.objects.get(organization=self.organization)
        stored = {k: Decimal(str(v)) for k, v in (row.fallback_probability or {}).items()}
        probabilities = row.fallback_probability
        if stored != spec.fallback_probability or list(stored) != list(spec.fallback_probability):
            probabilities = {k: str(v) for k, v in spec.fallback_probability.items()}
        values = {
            "cycle_hour": spec.cycle_hour,
            "catch_up_days": spec.catch_up_days,
            "payment_stop_days": spec.payment_stop_days,
            "long_hold_days": spec.long_hold_days,
            "manual_stage_days": spec.manual_stage_days,
            "broken_promise_factor": spec.broken_promise_factor,
            "fallback_probability": probabilities,
        }
        if not self.settings_created:
            self.settings = self._update(row, "settings", str(self.organization), values)
            return
        for name, value in values.items():
            setattr(row, name, value)
        row.save()
        self._audit(row, AuditAction.CREATE, None)
        self.summary.changes.append(
            Change(
                "settings",
                str(self.organization),
                CREATE,
                {k: (None, _display(v)) for k, v in values.items()},
            )
        )
        self.settings = row

    # --- templates ---------------------------------------------------------------------------

    def _templates(self, specs: list[TemplateSpec]) -> None:
        existing = {
            (t.code, t.channel, t.language): t
            for t in Template.objects.filter(organization=self.organization)
        }
        for spec in specs:
            values = {"name": spec.name, "subject": spec.subject, "body": spec.body, "is_active": spec.active}
            row = existing.pop(spec.key, None)
            if row is None:
                row = self._create(
                    Template,
                    "template",
                    spec.label,
                    {
                        "organization": self.organization,
                        "code": spec.code,
                        "channel": spec.channel,
                        "language": spec.language,
                        **values,
                    },
                    values,
                )
            else:
                row = self._update(row, "template", spec.label, values)
            self.templates[spec.key] = row
        for key, row in sorted(existing.items()):
            self.templates[key] = self._update(
                row,
                "template",
                f"{row.code} ({row.channel}, {row.language})",
                {"is_active": False},
                missing=True,
            )

    # --- segments and stages (unique priority / position: renumbered through free values) ----------

    def _segments(self, specs: list[SegmentSpec]) -> None:
        existing = {s.code: s for s in Segment.objects.filter(organization=self.organization)}
        targets = {s.code: s.priority for s in specs}
        left_out = sorted(
            (s for code, s in existing.items() if code not in targets), key=lambda s: (s.priority, s.code)
        )
        after = max([*targets.values(), -1]) + 1
        for offset, row in enumerate(left_out):
            targets[row.code] = after + offset
        self._park(existing.values(), "priority", targets, INT_MAX)
        for spec in specs:
            values = {
                "name": spec.name,
                "priority": spec.priority,
                "rule": spec.rule,
                "description": spec.description,
                "is_active": spec.active,
            }
            row = existing.get(spec.code)
            if row is None:
                row = self._create(
                    Segment,
                    "segment",
                    spec.code,
                    {"organization": self.organization, "code": spec.code, **values},
                    values,
                )
            else:
                row = self._update(row, "segment", spec.code, values)
            self.segments[spec.code] = row
        for row in left_out:
            self.segments[row.code] = self._update(
                row, "segment", row.code, {"priority": targets[row.code], "is_active": False}, missing=True
            )

    def _stages(self, specs: list[StageSpec]) -> None:
        existing = {s.code: s for s in Stage.objects.filter(organization=self.organization)}
        targets = {s.code: s.position for s in specs}
        left_out = sorted(
            (s for code, s in existing.items() if code not in targets), key=lambda s: (s.position, s.code)
        )
        after = max([*targets.values(), -1]) + 1
        for offset, row in enumerate(left_out):
            targets[row.code] = after + offset
        self._park(existing.values(), "position", targets, SMALL_INT_MAX)
        for spec in specs:
            values = {
                "name": spec.name,
                "kind": spec.kind,
                "position": spec.position,
                "entry_offset": spec.entry_offset,
                "entry_rule": spec.entry_rule,
                "exits_when_cured": spec.exits_when_cured,
                "priority_weight": spec.priority_weight,
                "is_active": spec.active,
            }
            row = existing.get(spec.code)
            if row is None:
                row = self._create(
                    Stage,
                    "stage",
                    spec.code,
                    {"organization": self.organization, "code": spec.code, **values},
                    values,
                )
            else:
                row = self._update(row, "stage", spec.code, values)
            self.stages[spec.code] = row
        for row in left_out:
            self.stages[row.code] = self._update(
                row, "stage", row.code, {"position": targets[row.code], "is_active": False}, missing=True
            )

    def _park(
        self, rows: Iterable[models.Model], field_name: str, targets: dict, top: int, key=lambda r: r.code
    ) -> None:
        """Move the rows whose unique number changes to free values first, so that swaps and
        shifts never meet a unique constraint half-way (PostgreSQL checks it per row)."""
        rows = list(rows)
        moving = [r for r in rows if key(r) in targets and targets[key(r)] != getattr(r, field_name)]
        if not moving:
            return
        used = {getattr(r, field_name) for r in rows} | set(targets.values())
        free = iter(_free_values(used, top))
        for row in moving:
            type(row).objects.filter(pk=row.pk).update(**{field_name: next(free)})

    # --- strategies ----------------------------------------------------------------------------

    def _strategies(self, specs: list[StrategySpec]) -> None:
        existing = {s.code: s for s in Strategy.objects.filter(organization=self.organization)}
        named = {s.code for s in specs}
        # Strategies the configuration leaves out are deactivated first: only active ones
        # hold their (stage, segment), so a new strategy may take the pair of a retired one.
        for code, row in sorted(existing.items()):
            if code not in named:
                self.strategies[code] = self._update(
                    row, "strategy", code, {"is_active": False}, missing=True
                )
        pending: list[tuple[StrategySpec, Strategy]] = [
            (spec, existing[spec.code]) for spec in specs if spec.code in existing
        ]
        # Rows that change stage or segment move in an order in which each target pair is
        # free when an active strategy takes it (the pair is unique among active strategies).
        occupied = {(r.stage_id, r.segment_id): r.pk for r in existing.values() if r.is_active}
        while pending:
            progressed = False
            for item in list(pending):
                spec, row = item
                target = (
                    self.stages[spec.stage].pk,
                    self.segments[spec.segment].pk if spec.segment else None,
                )
                holder = occupied.get(target)
                if spec.active and holder is not None and holder != row.pk:
                    continue
                if occupied.get((row.stage_id, row.segment_id)) == row.pk:
                    del occupied[(row.stage_id, row.segment_id)]
                if spec.active:
                    occupied[target] = row.pk
                self.strategies[spec.code] = self._update(
                    row, "strategy", spec.code, self._strategy_values(spec), self._strategy_shown(spec)
                )
                pending.remove(item)
                progressed = True
            if not progressed:
                codes = ", ".join(spec.code for spec, _row in pending)
                raise ConfigurationError(
                    [
                        Problem(
                            "strategies",
                            _(
                                "strategies %(codes)s swap their stages and segments; change one of them "
                                "in a first import and the others in a second."
                            )
                            % {"codes": codes},
                        )
                    ]
                )
        for spec in specs:
            if spec.code not in existing:
                values = self._strategy_values(spec)
                self.strategies[spec.code] = self._create(
                    Strategy,
                    "strategy",
                    spec.code,
                    {"organization": self.organization, "code": spec.code, **values},
                    self._strategy_shown(spec),
                )

    def _strategy_values(self, spec: StrategySpec) -> dict:
        return {
            "name": spec.name,
            "stage_id": self.stages[spec.stage].pk,
            "segment_id": self.segments[spec.segment].pk if spec.segment else None,
            "description": spec.description,
            "is_active": spec.active,
        }

    def _strategy_shown(self, spec: StrategySpec) -> dict:
        return {
            "name": spec.name,
            "stage_id": spec.stage,
            "segment_id": spec.segment,
            "description": spec.description,
            "is_active": spec.active,
        }

    # --- variants and steps ---------------------------------------------------------------------

    def _variants(self, spec: StrategySpec, config: Configuration) -> None:
        strategy = self.strategies[spec.code]
        existing = {v.code: v for v in Variant.objects.filter(strategy=strategy)}
        # The one-champion constraint: champions that stop being one give way first.
        champions = {v.code for v in spec.variants if v.champion}
        for row in existing.values():
            if row.is_champion and row.code not in champions:
                Variant.objects.filter(pk=row.pk).update(is_champion=False)
        for position, vspec in enumerate(spec.variants, start=1):
            label = f"{spec.code} / {vspec.code}"
            values = {
                "name": vspec.name,
                "is_champion": vspec.champion,
                "share": vspec.share,
                "position": position,
                "is_active": vspec.active,
            }
            row = existing.pop(vspec.code, None)
            if row is None:
                row = self._create(
                    Variant, "variant", label, {"strategy": strategy, "code": vspec.code, **values}, values
                )
            else:
                row = self._update(row, "variant", label, values)
            self.variants[(spec.code, vspec.code)] = row
            self._steps(row, label, vspec.steps, config)
        # Variants the configuration drops are retired (docs/strategy.md §6): they take no
        # cases and run no steps, their cases are drawn again among the active ones. Share
        # and steps stay as they were; the champion flag goes (the champion is an active one).
        for position, row in enumerate(
            sorted(existing.values(), key=lambda v: (v.position, v.pk)), start=len(spec.variants) + 1
        ):
            label = f"{spec.code} / {row.code}"
            self._update(
                row,
                "variant",
                label,
                {"is_active": False, "is_champion": False, "position": position},
                missing=True,
            )
            self.variants[(spec.code, row.code)] = row

    def _steps(self, variant: Variant, vlabel: str, specs: list, config: Configuration) -> None:
        rows = list(Step.objects.filter(variant=variant).order_by("position", "pk"))
        by_pk = {r.pk: r for r in rows}
        by_name = {}
        for row in rows:
            by_name.setdefault(row.name, row)
        matched: list[tuple[Any, Step | None]] = []
        taken: set[int] = set()
        for spec in specs:
            row = by_pk.get(spec.pk) if spec.pk else None
            if row is None:
                row = by_name.get(spec.name)
            if row is not None and row.pk in taken:
                row = None
            if row is not None:
                taken.add(row.pk)
            matched.append((spec, row))
        left_out = [r for r in rows if r.pk not in taken]
        targets = {}
        for position, (_spec, row) in enumerate(matched, start=1):
            if row is not None:
                targets[row.pk] = position
        for offset, row in enumerate(left_out, start=len(matched) + 1):
            targets[row.pk] = offset
        self._park(rows, "position", targets, SMALL_INT_MAX, key=lambda r: r.pk)
        for position, (spec, row) in enumerate(matched, start=1):
            template = None
            if spec.action == "message":
                tspec = resolve_template(config, spec)
                template = self.templates[tspec.key]
            values = {
                "position": position,
                "name": spec.name,
                "anchor": spec.anchor,
                "offset_days": spec.offset_days,
                "weekdays": spec.weekdays,
                "action": spec.action,
                "channel": spec.channel if spec.action == "message" else "",
                "template_id": template.pk if template else None,
                "task_kind": spec.task_kind if spec.action == "task" else "",
                "condition": spec.condition,
                "stop_on": list(spec.stop_on),
                "is_active": spec.active,
            }
            shown = {**values, "template_id": template.code if template else None}
            label = f"{vlabel}: {spec.name}"
            if row is None:
                self._create(Step, "step", label, {"variant": variant, **values}, shown)
            else:
                self._update(row, "step", label, values, shown)
        for row in left_out:
            self._update(
                row,
                "step",
                f"{vlabel}: {row.name}",
                {"position": targets[row.pk], "is_active": False},
                missing=True,
            )


def _readable(obj: models.Model, attname: str) -> Any:
    """A stored value as people read it: a related row by its code."""
    value = getattr(obj, attname)
    if attname.endswith("_id") and value is not None:
        related = getattr(obj, attname.removesuffix("_id"), None)
        return getattr(related, "code", value)
    return value


def _same(current: Any, wanted: Any) -> bool:
    if isinstance(wanted, Decimal) and current is not None:
        return Decimal(current) == wanted
    return current == wanted


__all__ = [
    "Change",
    "Summary",
    "apply_configuration",
    "check_change",
    "save_segment",
    "save_settings",
    "save_stage",
    "save_strategy",
    "save_template",
    "save_variant",
]
