"""The explanation as readable text: the ``recobro explain`` command."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from recobro.strategy import rules

from .facts import money
from .result import Explanation, RuleCheck, iso


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
            lines += rule_lines(test.rule, "      ")
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
        lines += rule_lines(test.check, "      ")
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
            lines += rule_lines(outcome.condition, "       ")
    lines += ["", _("Priority")]
    p = e.priority
    lines.append(
        "  "
        + _("probability %(p)s · expected recovery %(er)s · weight %(w)s → priority %(pr)s")
        % {
            "p": p.probability,
            "er": money(p.expected_recovery, case),
            "w": p.weight,
            "pr": money(p.priority, case),
        }
    )
    lines.append("  " + p.reason)
    if e.notes:
        lines.append("")
        lines += e.notes
    return lines


def rule_lines(check: RuleCheck, indent: str) -> list[str]:
    if check.error:
        return [indent + _("rule error: %(error)s") % {"error": check.error}]
    return [indent + line for line in check.trace_lines]
