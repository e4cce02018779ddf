"""Phase 7 for one case: each step's due date and what the cycle does with it (docs/strategy.md §7)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from recobro.channels.models import CHANNEL_CONTACT_KINDS
from recobro.portfolio.models import Case, ContactPoint
from recobro.strategy.models import (
    Action,
    Hold,
    SkipReason,
    Step,
    StepAction,
    StepAnchor,
    StopCondition,
    StrategySettings,
)

from .facts import Ledger, check_rule, money
from .result import StageDecision, StepOutcome, StepStatus, StrategyChoice, iso


def weekday_names(digits: str) -> str:
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


def stop_hit(
    step: Step, *, case: Case, as_of: dt.date, facts: dict, ledger: Ledger, settings: StrategySettings
) -> tuple[StopCondition, str] | None:
    """The first stop condition of the step that holds today, with the fact that makes it hold."""
    stops = set(step.stop_on or [])
    if StopCondition.PAYMENT in stops:
        since = as_of - dt.timedelta(days=settings.payment_stop_days)
        for payment in ledger.payments:  # newest first
            if since <= payment["paid_on"] <= as_of:
                return StopCondition.PAYMENT, _("payment of %(amount)s on %(date)s") % {
                    "amount": money(payment["amount"], case),
                    "date": iso(payment["paid_on"]),
                }
    if StopCondition.PROMISE in stops and ledger.pending_promises:
        promise = min(ledger.pending_promises, key=lambda p: (p.promised_on, p.pk))
        return StopCondition.PROMISE, _("promise of %(amount)s for %(date)s") % {
            "amount": money(promise.amount, case),
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


def contact_point_for(step: Step, contact_points: list[ContactPoint]) -> ContactPoint | None:
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
    ledger: Ledger,
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
            outcome.condition = check_rule(step.condition, facts)
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
                "days": weekday_names(step.weekdays),
            }
            continue
        hit = stop_hit(step, case=case, as_of=as_of, facts=facts, ledger=ledger, settings=settings)
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
        deliver(latest, case=case, as_of=as_of, contact_points=contact_points)
    return outcomes


def deliver(outcome: StepOutcome, *, case: Case, as_of: dt.date, contact_points: list[ContactPoint]) -> None:
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
    point = contact_point_for(step, contact_points)
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
