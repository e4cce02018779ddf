"""The configuration document: one YAML text per organization (docs/strategy.md,
"Configuration document").

``export_configuration(organization) -> str`` writes every object, named by code.
``import_configuration(*, organization, text, actor) -> Summary`` reads a document with a
safe loader (no tags, no aliases, no repeated keys), reports every problem with its path
(``strategies[2].variants[0].steps[1]: unknown key 'chanel' (did you mean 'channel'?)``)
and, only when there is none, applies it in one transaction
(``services.configuration.apply_configuration``). Export → import → export gives the same
text.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import yaml
from django.utils.translation import gettext as _

from recobro.core.audit import Actor
from recobro.strategy.models import StepAction
from recobro.strategy.services import ConfigurationError
from recobro.strategy.services.configuration import Summary, apply_configuration
from recobro.strategy.services.specs import (
    Configuration,
    SegmentSpec,
    SettingsSpec,
    StageSpec,
    StepSpec,
    StrategySpec,
    TemplateSpec,
    VariantSpec,
    default_probabilities,
    load_configuration,
    template_language_needed,
)
from recobro.strategy.services.validation import Problem, validate_configuration

VERSION = 1
#: A configuration is a few hundred lines; anything this big is not one.
MAX_TEXT_LENGTH = 5_000_000


# --- Reading ------------------------------------------------------------------------------


class _Loader(yaml.SafeLoader):
    """yaml.SafeLoader that also refuses aliases and repeated keys."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(
                None, None, _("anchors and aliases (*name) are not allowed"), event.start_mark
            )
        return super().compose_node(parent, index)

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _value in node.value:
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, str | int | float | bool) and key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, _("the key '%(key)s' is repeated") % {"key": key}, key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


class _TypeProblem(Exception):
    pass


def _type_name(value: Any) -> str:
    if value is None:
        return _("nothing (null)")
    if isinstance(value, bool):
        return _("true/false")
    if isinstance(value, int | float):
        return _("a number")
    if isinstance(value, str):
        return _("text")
    if isinstance(value, list):
        return _("a list")
    if isinstance(value, dict):
        return _("a mapping")
    return type(value).__name__


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)  # codes and weekdays written without quotes: 12345
    raise _TypeProblem(_("must be text, not %(type)s") % {"type": _type_name(value)})


def _optional_text(value: Any) -> str:
    return "" if value is None else _text(value)


def _nullable_text(value: Any) -> str | None:
    return None if value is None else _text(value)


def _integer(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise _TypeProblem(
        _("must be a whole number, not %(type)s (%(value)r)") % {"type": _type_name(value), "value": value}
    )


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise _TypeProblem(
        _("must be true or false, not %(type)s (%(value)r)") % {"type": _type_name(value), "value": value}
    )


def _decimal(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise _TypeProblem(_("must be a number, not %(type)s") % {"type": _type_name(value)})
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise _TypeProblem(_("'%(value)s' is not a number") % {"value": value}) from None
    if not number.is_finite():
        raise _TypeProblem(_("must be a finite number"))
    return number


def _text_list(value: Any) -> list[str]:
    if not isinstance(value, list):
        raise _TypeProblem(_("must be a list, not %(type)s") % {"type": _type_name(value)})
    return [_text(item) for item in value]


def _probabilities(value: Any) -> dict[str, Decimal]:
    if not isinstance(value, dict):
        raise _TypeProblem(
            _("must be a mapping of aging bucket to probability, not %(type)s") % {"type": _type_name(value)}
        )
    result = {}
    for key, item in value.items():
        try:
            result[_text(key)] = _decimal(item)
        except _TypeProblem as problem:
            raise _TypeProblem(f"{key}: {problem}") from None
    return result


@dataclass(frozen=True)
class Key:
    read: Callable[[Any], Any]
    required: bool = False
    #: The spec's attribute, when it is not the key's name.
    attribute: str = ""


SETTINGS_KEYS = {
    "cycle_hour": Key(_integer),
    "catch_up_days": Key(_integer),
    "payment_stop_days": Key(_integer),
    "long_hold_days": Key(_integer),
    "manual_stage_days": Key(_integer),
    "broken_promise_factor": Key(_decimal),
    "fallback_probability": Key(_probabilities),
}
TEMPLATE_KEYS = {
    "code": Key(_text, True),
    "channel": Key(_text, True),
    "language": Key(_text),
    "name": Key(_text, True),
    "subject": Key(_optional_text),
    "body": Key(_text, True),
    "active": Key(_boolean),
}
SEGMENT_KEYS = {
    "code": Key(_text, True),
    "name": Key(_text, True),
    "priority": Key(_integer, True),
    "rule": Key(_text, True),
    "description": Key(_optional_text),
    "active": Key(_boolean),
}
STAGE_KEYS = {
    "code": Key(_text, True),
    "name": Key(_text, True),
    "kind": Key(_text, True),
    "position": Key(_integer, True),
    "entry_offset": Key(_integer, True),
    "entry_rule": Key(_optional_text),
    "exits_when_cured": Key(_boolean),
    "priority_weight": Key(_decimal),
    "active": Key(_boolean),
}
STRATEGY_KEYS = {
    "code": Key(_text, True),
    "name": Key(_text, True),
    "stage": Key(_text, True),
    "segment": Key(_nullable_text),
    "description": Key(_optional_text),
    "active": Key(_boolean),
    "variants": Key(lambda v: v, True),
}
VARIANT_KEYS = {
    "code": Key(_text, True),
    "name": Key(_text, True),
    "champion": Key(_boolean, True),
    "share": Key(_integer, True),
    "active": Key(_boolean),
    "steps": Key(lambda v: v, True),
}
STEP_KEYS = {
    "name": Key(_text, True),
    "anchor": Key(_text, True),
    "offset_days": Key(_integer, True),
    "weekdays": Key(_optional_text),
    "action": Key(_text, True),
    "channel": Key(_optional_text),
    "template": Key(_optional_text),
    "language": Key(_optional_text),
    "task_kind": Key(_optional_text),
    "condition": Key(_optional_text),
    "stop_on": Key(_text_list),
    "active": Key(_boolean),
}
TOP_KEYS = ("version", "settings", "templates", "segments", "stages", "strategies")


class _Reader:
    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, path: str, message: str) -> None:
        self.problems.append(Problem(path=path, message=message))

    def mapping(self, raw: Any, path: str, keys: dict[str, Key], what: str) -> dict | None:
        """The known keys of a mapping, read and typed; problems for everything else."""
        if not isinstance(raw, dict):
            self.add(
                path,
                _("must be a mapping (%(what)s), not %(type)s") % {"what": what, "type": _type_name(raw)},
            )
            return None
        values: dict[str, Any] = {}
        ok = True
        for key, value in raw.items():
            name = str(key)
            if not isinstance(key, str) or name not in keys:
                self.add(path, _unknown_key(name, keys))
                ok = False
                continue
            try:
                values[keys[name].attribute or name] = keys[name].read(value)
            except _TypeProblem as problem:
                self.add(f"{path}.{name}" if path else name, str(problem))
                ok = False
        for name, key in keys.items():
            if key.required and name not in raw:
                self.add(path, _("missing key '%(key)s'") % {"key": name})
                ok = False
        return values if ok else None

    def items(self, raw: Any, path: str) -> list:
        if raw is None:
            return []
        if not isinstance(raw, list):
            self.add(path, _("must be a list, not %(type)s") % {"type": _type_name(raw)})
            return []
        return raw


def _unknown_key(name: str, keys) -> str:
    close = difflib.get_close_matches(name, list(keys), n=1)
    if close:
        return _("unknown key '%(key)s' (did you mean '%(close)s'?)") % {"key": name, "close": close[0]}
    return _("unknown key '%(key)s'; the keys here are: %(keys)s") % {"key": name, "keys": ", ".join(keys)}


def read_configuration(text: str, *, organization) -> tuple[Configuration | None, list[Problem]]:
    """Parse and type-check a document; (configuration, []) or (None, problems)."""
    if len(text) > MAX_TEXT_LENGTH:
        return None, [
            Problem("", _("the document is too large (%(size)d characters).") % {"size": len(text)})
        ]
    try:
        raw = yaml.load(text, Loader=_Loader)  # noqa: S506 (a SafeLoader subclass)
    except yaml.YAMLError as error:
        return None, [Problem("", _yaml_error(error))]
    reader = _Reader()
    if not isinstance(raw, dict):
        reader.add(
            "", _("the document must be a mapping with the keys %(keys)s.") % {"keys": ", ".join(TOP_KEYS)}
        )
        return None, reader.problems
    for key in raw:
        if key not in TOP_KEYS:
            reader.add("", _unknown_key(str(key), TOP_KEYS))
    for key in TOP_KEYS:
        if key not in raw:
            reader.add("", _("missing key '%(key)s'") % {"key": key})
    if "version" in raw and raw["version"] != VERSION:
        reader.add(
            "version",
            _("version %(version)r is not supported; this Recobro reads version %(supported)d.")
            % {"version": raw["version"], "supported": VERSION},
        )
    config = Configuration()
    settings = reader.mapping(raw.get("settings") or {}, "settings", SETTINGS_KEYS, _("the settings"))
    if settings is not None:
        settings.setdefault("fallback_probability", default_probabilities(organization))
        config.settings = SettingsSpec(**settings)
    for index, item in enumerate(reader.items(raw.get("templates"), "templates")):
        values = reader.mapping(item, f"templates[{index}]", TEMPLATE_KEYS, _("a template"))
        if values is not None:
            config.templates.append(TemplateSpec(**values))
    for index, item in enumerate(reader.items(raw.get("segments"), "segments")):
        values = reader.mapping(item, f"segments[{index}]", SEGMENT_KEYS, _("a segment"))
        if values is not None:
            config.segments.append(SegmentSpec(**values))
    for index, item in enumerate(reader.items(raw.get("stages"), "stages")):
        values = reader.mapping(item, f"stages[{index}]", STAGE_KEYS, _("a stage"))
        if values is not None:
            config.stages.append(StageSpec(**values))
    for index, item in enumerate(reader.items(raw.get("strategies"), "strategies")):
        strategy = _read_strategy(reader, item, f"strategies[{index}]")
        if strategy is not None:
            config.strategies.append(strategy)
    if reader.problems:
        return None, reader.problems
    return config, []


def _read_strategy(reader: _Reader, raw: Any, path: str) -> StrategySpec | None:
    values = reader.mapping(raw, path, STRATEGY_KEYS, _("a strategy"))
    if values is None:
        return None
    variants = []
    for vindex, vraw in enumerate(reader.items(values.pop("variants"), f"{path}.variants")):
        vpath = f"{path}.variants[{vindex}]"
        vvalues = reader.mapping(vraw, vpath, VARIANT_KEYS, _("a variant"))
        if vvalues is None:
            continue
        steps = []
        for sindex, sraw in enumerate(reader.items(vvalues.pop("steps"), f"{vpath}.steps")):
            svalues = reader.mapping(sraw, f"{vpath}.steps[{sindex}]", STEP_KEYS, _("a step"))
            if svalues is not None:
                steps.append(StepSpec(**svalues))
        variants.append(VariantSpec(**vvalues, steps=steps))
    return StrategySpec(**values, variants=variants)


def _yaml_error(error: yaml.YAMLError) -> str:
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    problem = getattr(error, "problem", None) or str(error)
    if mark is not None:
        return _("the text is not valid YAML at line %(line)d, column %(column)d: %(problem)s") % {
            "line": mark.line + 1,
            "column": mark.column + 1,
            "problem": problem,
        }
    return _("the text is not valid YAML: %(problem)s") % {"problem": problem}


def parse_configuration(text: str, *, organization) -> Configuration:
    """A document read and fully validated, ready to apply; ConfigurationError otherwise."""
    config, problems = read_configuration(text, organization=organization)
    if config is not None:
        problems = validate_configuration(config, organization=organization)
    if problems:
        raise ConfigurationError(problems)
    return config


def import_configuration(*, organization, text: str, actor: Actor, dry_run: bool = False) -> Summary:
    """Validate the whole document, then apply it in one transaction (or, with ``dry_run``,
    say what it would change). ConfigurationError lists every problem; nothing is written."""
    config, problems = read_configuration(text, organization=organization)
    if problems:
        raise ConfigurationError(problems)
    return apply_configuration(
        organization=organization, config=config, actor=actor, dry_run=dry_run, via="yaml import"
    )


# --- Writing ------------------------------------------------------------------------------


class _FlowList(list):
    pass


class _Dumper(yaml.SafeDumper):
    def increase_indent(self, flow=False, indentless=False):
        return super().increase_indent(flow, False)  # lists indented under their key

    def ignore_aliases(self, data):
        return True  # a shared value is written out each time (the reader refuses aliases)


def _represent_str(dumper: yaml.SafeDumper, value: str):
    if "\n" in value:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(Decimal, lambda d, v: d.represent_scalar("tag:yaml.org,2002:str", str(v)))
_Dumper.add_representer(
    _FlowList, lambda d, v: d.represent_sequence("tag:yaml.org,2002:seq", v, flow_style=True)
)


def configuration_document(config: Configuration) -> dict:
    """The configuration as the document's plain structure, keys in the documented order."""
    s = config.settings
    return {
        "version": VERSION,
        "settings": {
            "cycle_hour": s.cycle_hour,
            "catch_up_days": s.catch_up_days,
            "payment_stop_days": s.payment_stop_days,
            "long_hold_days": s.long_hold_days,
            "manual_stage_days": s.manual_stage_days,
            "broken_promise_factor": s.broken_promise_factor,
            "fallback_probability": dict(s.fallback_probability),
        },
        "templates": [
            {
                "code": t.code,
                "channel": t.channel,
                "language": t.language,
                "name": t.name,
                "subject": t.subject,
                "body": t.body,
                "active": t.active,
            }
            for t in config.templates
        ],
        "segments": [
            {
                "code": g.code,
                "name": g.name,
                "priority": g.priority,
                "rule": g.rule,
                "description": g.description,
                "active": g.active,
            }
            for g in config.segments
        ],
        "stages": [
            {
                "code": st.code,
                "name": st.name,
                "kind": st.kind,
                "position": st.position,
                "entry_offset": st.entry_offset,
                "entry_rule": st.entry_rule,
                "exits_when_cured": st.exits_when_cured,
                "priority_weight": st.priority_weight,
                "active": st.active,
            }
            for st in config.stages
        ],
        "strategies": [
            {
                "code": x.code,
                "name": x.name,
                "stage": x.stage,
                "segment": x.segment,
                "description": x.description,
                "active": x.active,
                "variants": [
                    {
                        "code": v.code,
                        "name": v.name,
                        "champion": v.champion,
                        "share": v.share,
                        "active": v.active,
                        "steps": [_step_document(step, config) for step in v.steps],
                    }
                    for v in x.variants
                ],
            }
            for x in config.strategies
        ],
    }


def _step_document(step: StepSpec, config: Configuration) -> dict:
    doc: dict[str, Any] = {
        "name": step.name,
        "anchor": step.anchor,
        "offset_days": step.offset_days,
        "weekdays": step.weekdays,
        "action": step.action,
    }
    if step.action == StepAction.MESSAGE:
        doc["channel"] = step.channel
        doc["template"] = step.template
        if step.language or template_language_needed(config.templates, step.template, step.channel):
            doc["language"] = step.language
    else:
        doc["task_kind"] = step.task_kind
    doc["condition"] = step.condition
    doc["stop_on"] = _FlowList(step.stop_on)
    doc["active"] = step.active
    return doc


def dump_document(document: dict) -> str:
    return yaml.dump(
        document, Dumper=_Dumper, sort_keys=False, allow_unicode=True, default_flow_style=False, width=10_000
    )


def export_configuration(organization) -> str:
    """The organization's whole configuration as one YAML document."""
    return dump_document(configuration_document(load_configuration(organization)))


__all__ = [
    "export_configuration",
    "import_configuration",
    "parse_configuration",
    "read_configuration",
]
