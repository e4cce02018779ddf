"""A realistic little strategy configuration for the cycle tests, on top of the cast.

Comercial del Norte (cast.mx) works its cases in four stages: preventive (from 5 days
before due), administrative (from day 1), extrajudicial (from day 61) and judicial (from
day 121; it keeps its cases even when cured, and weighs their priority by half).

Segments, by priority: "alto" (balance >= 5000), "reincidente" (a broken promise in 90 days)
and "bajo" (balance < 5000).

Strategies:
- preventive, no segment: one variant (100%), an email 3 days before the due date;
- administrative × alto: champion "a" (50%: SMS on day 1, email on day 3, a call on day 5,
  all counted from the due date) and challenger "b" (50%: WhatsApp on day 1, a call on day 2);
- administrative, no segment: champion "a" (50%: SMS on day 1, email on day 7) and
  challenger "b" (50%: email on day 1, SMS on day 4);
- extrajudicial, no segment: one variant: a call when the case enters the stage, a visit
  10 days later;
- judicial: no strategy.
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import pytest

from recobro.channels.models import Message, Template
from recobro.portfolio.models import ContactPoint, Debtor, Document
from recobro.strategy.engine import run_cycle
from recobro.strategy.models import (
    Action,
    CaseState,
    CycleRun,
    Segment,
    Stage,
    StageTransition,
    Step,
    Strategy,
    StrategySettings,
    Task,
    Variant,
)
from tests.conftest import AS_OF, make_document

__all__ = ["AS_OF", "days", "make_document"]


def days(n: int) -> dt.date:
    return AS_OF + dt.timedelta(days=n)


@dataclass
class StrategyConfig:
    preventive: Stage
    administrative: Stage
    extrajudicial: Stage
    judicial: Stage
    alto: Segment
    reincidente: Segment
    bajo: Segment
    preventive_default: Strategy
    admin_alto: Strategy
    admin_default: Strategy
    extra_default: Strategy
    alto_a: Variant
    alto_b: Variant
    admin_a: Variant
    admin_b: Variant
    preventive_only: Variant
    extra_only: Variant
    sms: Template
    email: Template
    whatsapp: Template
    settings: StrategySettings

    def step(self, variant: Variant, position: int) -> Step:
        return Step.objects.get(variant=variant, position=position)


def build_strategy_config(org) -> StrategyConfig:
    def stage(code, kind, position, offset, cured=True, weight="1.00"):
        return Stage.objects.create(
            organization=org,
            code=code,
            name=code.capitalize(),
            kind=kind,
            position=position,
            entry_offset=offset,
            exits_when_cured=cured,
            priority_weight=Decimal(weight),
        )

    preventive = stage("preventiva", "preventive", 1, -5)
    administrative = stage("administrativa", "administrative", 2, 1)
    extrajudicial = stage("extrajudicial", "extrajudicial", 3, 61, weight="1.50")
    judicial = stage("judicial", "judicial", 4, 121, cured=False, weight="0.50")

    def segment(code, rule, priority):
        return Segment.objects.create(
            organization=org, code=code, name=code.capitalize(), rule=rule, priority=priority
        )

    alto = segment("alto", "balance >= 5000", 10)
    reincidente = segment("reincidente", "broken_promises_90d >= 1", 20)
    bajo = segment("bajo", "balance < 5000", 30)

    def template(code, channel):
        return Template.objects.create(
            organization=org, code=code, name=code.capitalize(), channel=channel, subject="Aviso", body="Hola"
        )

    sms = template("recordatorio-sms", "sms")
    email = template("aviso-email", "email")
    whatsapp = template("aviso-wa", "whatsapp")

    def strategy(code, stage, segment=None):
        return Strategy.objects.create(organization=org, code=code, name=code, stage=stage, segment=segment)

    def variant(strategy, code, share, position, champion=False):
        return Variant.objects.create(
            strategy=strategy,
            code=code,
            name=code.upper(),
            share=share,
            position=position,
            is_champion=champion,
        )

    def message(variant, position, day, channel, template, anchor="due_date", **kw):
        return Step.objects.create(
            variant=variant,
            position=position,
            name=f"{channel} day {day}",
            anchor=anchor,
            offset_days=day,
            action="message",
            channel=channel,
            template=template,
            **kw,
        )

    def task(variant, position, day, kind, anchor="due_date", **kw):
        return Step.objects.create(
            variant=variant,
            position=position,
            name=f"{kind} day {day}",
            anchor=anchor,
            offset_days=day,
            action="task",
            task_kind=kind,
            **kw,
        )

    preventive_default = strategy("preventiva", preventive)
    preventive_only = variant(preventive_default, "unica", 100, 1, champion=True)
    message(preventive_only, 1, -3, "email", email)

    admin_alto = strategy("admin-alto", administrative, alto)
    alto_a = variant(admin_alto, "a", 50, 1, champion=True)
    alto_b = variant(admin_alto, "b", 50, 2)
    message(alto_a, 1, 1, "sms", sms)
    message(alto_a, 2, 3, "email", email)
    task(alto_a, 3, 5, "call")
    message(alto_b, 1, 1, "whatsapp", whatsapp)
    task(alto_b, 2, 2, "call")

    admin_default = strategy("admin", administrative)
    admin_a = variant(admin_default, "a", 50, 1, champion=True)
    admin_b = variant(admin_default, "b", 50, 2)
    message(admin_a, 1, 1, "sms", sms)
    message(admin_a, 2, 7, "email", email)
    message(admin_b, 1, 1, "email", email)
    message(admin_b, 2, 4, "sms", sms)

    extra_default = strategy("extrajudicial", extrajudicial)
    extra_only = variant(extra_default, "unica", 100, 1, champion=True)
    task(extra_only, 1, 0, "call", anchor="stage_entry")
    task(extra_only, 2, 10, "visit", anchor="stage_entry")

    settings = StrategySettings.objects.create(organization=org)
    return StrategyConfig(
        preventive=preventive,
        administrative=administrative,
        extrajudicial=extrajudicial,
        judicial=judicial,
        alto=alto,
        reincidente=reincidente,
        bajo=bajo,
        preventive_default=preventive_default,
        admin_alto=admin_alto,
        admin_default=admin_default,
        extra_default=extra_default,
        alto_a=alto_a,
        alto_b=alto_b,
        admin_a=admin_a,
        admin_b=admin_b,
        preventive_only=preventive_only,
        extra_only=extra_only,
        sms=sms,
        email=email,
        whatsapp=whatsapp,
        settings=settings,
    )


@pytest.fixture
def config(cast) -> StrategyConfig:
    return build_strategy_config(cast.mx)


def new_debtor(
    cast, external_id: str, *, phone: str | None = "+528112345678", email: str | None = None, **kw
):
    """A debtor of Comercial del Norte with a mobile (and an email) to be reached at."""
    debtor = Debtor.objects.create(organization=cast.mx, external_id=external_id, name=external_id, **kw)
    if phone:
        ContactPoint.objects.create(
            organization=cast.mx, debtor=debtor, kind="mobile", value=phone, normalized=phone, is_primary=True
        )
    if email:
        ContactPoint.objects.create(
            organization=cast.mx, debtor=debtor, kind="email", value=email, normalized=email, is_primary=True
        )
    return debtor


def owes(
    cast, debtor, amount: str, due: dt.date, *, portfolio=None, external_id: str | None = None
) -> Document:
    portfolio = portfolio or cast.retail
    return make_document(portfolio, debtor, external_id or f"{debtor.external_id}-{due:%m%d}", amount, due)


def cycle(cast, day: dt.date, **kw) -> dict:
    return run_cycle(organization=cast.mx, as_of=day, **kw)


OUTPUTS = (CaseState, StageTransition, Action, Message, Task, CycleRun)


def _sorted(rows) -> list[tuple]:
    return sorted(rows, key=lambda row: [(value is None, str(value)) for value in row])


def snapshot() -> dict:
    """The cycle's outputs by their natural keys (the ids of new rows differ from run to run)."""
    return {
        "links": _sorted(
            Action.objects.values_list(
                "case_id", "step_id", "due_on", "message__channel", "message__contact_point_id", "task__kind"
            )
        ),
        "states": _sorted(CaseState.objects.values_list()),
        "transitions": _sorted(
            StageTransition.objects.values_list(
                "case_id", "from_stage_id", "to_stage_id", "business_date", "reason"
            )
        ),
        "actions": _sorted(
            Action.objects.values_list(
                "case_id", "step_id", "variant_id", "due_on", "business_date", "status", "skip_reason"
            )
        ),
        "messages": _sorted(
            Message.objects.values_list(
                "case_id", "channel", "contact_point_id", "template_id", "business_date", "status"
            )
        ),
        "tasks": _sorted(
            Task.objects.values_list("case_id", "kind", "title", "status", "due_on", "priority")
        ),
    }


#: Days from AS_OF to the due date of ``populate``'s debtors: every stage, and steps falling due.
POPULATE_DUE = (3, -1, -2, -4, -7, -30, -62, -70, -125, -200, 0)


def populate(cast, n: int, prefix: str = "P") -> None:
    """n debtors over every stage, with a mobile each (every third one an email too)."""
    for i in range(n):
        email = f"{prefix.lower()}{i}@example.com" if i % 3 == 0 else None
        debtor = new_debtor(cast, f"{prefix}{i:03d}", phone=f"+52811{i:07d}", email=email)
        owes(cast, debtor, f"{1000 + 700 * (i % 13)}.00", days(POPULATE_DUE[i % len(POPULATE_DUE)]))
