"""A small strategy configuration and ledger for the explain tests (and the case panel's).

Comercial del Norte works its cases in four stages: preventive (from 5 days before due),
administrative (from day 1), extrajudicial (from day 61) and judicial (from day 121, which
keeps its cases even when they are cured). Two segments: "alto" (balance >= 5000) and
"bajo" (every other case). The administrative stage has a strategy for "alto" with a
champion and a challenger at 50% each, and a strategy without segment for everyone else.
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from recobro.channels.models import Template
from recobro.core.models import Organization
from recobro.portfolio.engine import refresh_cases
from recobro.portfolio.models import Case, ContactPoint, Debtor, Portfolio
from recobro.strategy.models import CaseState, CycleRun, Segment, Stage, Step, Strategy, Variant
from tests.conftest import AS_OF, make_document


@dataclass
class Config:
    preventive: Stage
    administrative: Stage
    extrajudicial: Stage
    judicial: Stage
    alto: Segment
    bajo: Segment
    admin_alto: Strategy
    admin_default: Strategy
    champion: Variant
    challenger: Variant
    default_variant: Variant
    sms: Template
    email: Template


def build_config(org: Organization) -> Config:
    def stage(code, name, kind, position, offset, cured=True):
        return Stage.objects.create(
            organization=org,
            code=code,
            name=name,
            kind=kind,
            position=position,
            entry_offset=offset,
            exits_when_cured=cured,
        )

    preventive = stage("preventiva", "Preventiva", "preventive", 1, -5)
    administrative = stage("administrativa", "Administrativa", "administrative", 2, 1)
    extrajudicial = stage("extrajudicial", "Extrajudicial", "extrajudicial", 3, 61)
    judicial = stage("judicial", "Judicial", "judicial", 4, 121, cured=False)
    alto = Segment.objects.create(
        organization=org, code="alto", name="Saldo alto", rule="balance >= 5000", priority=10
    )
    bajo = Segment.objects.create(
        organization=org, code="bajo", name="Saldo bajo", rule="balance < 5000", priority=20
    )
    sms = Template.objects.create(
        organization=org, code="recordatorio", name="Recordatorio", channel="sms", body="Hola"
    )
    email = Template.objects.create(
        organization=org, code="aviso", name="Aviso de atraso", channel="email", subject="Aviso", body="Hola"
    )
    admin_alto = Strategy.objects.create(
        organization=org,
        code="admin-alto",
        name="Administrativa saldo alto",
        stage=administrative,
        segment=alto,
    )
    admin_default = Strategy.objects.create(
        organization=org, code="admin", name="Administrativa", stage=administrative
    )
    champion = Variant.objects.create(
        strategy=admin_alto, code="a", name="Campeón", is_champion=True, share=50, position=1
    )
    challenger = Variant.objects.create(strategy=admin_alto, code="b", name="Retador", share=50, position=2)
    default_variant = Variant.objects.create(
        strategy=admin_default, code="unica", name="Única", is_champion=True, share=100, position=1
    )
    for variant in (champion, challenger, default_variant):
        Step.objects.create(
            variant=variant, position=1, name="SMS día 3", anchor="due_date", offset_days=3,
            action="message", channel="sms", template=sms,
        )  # fmt: skip
        Step.objects.create(
            variant=variant, position=2, name="SMS día 10", anchor="due_date", offset_days=10,
            action="message", channel="sms", template=sms,
        )  # fmt: skip
        Step.objects.create(
            variant=variant, position=3, name="Correo día 40", anchor="due_date", offset_days=40,
            action="message", channel="email", template=email,
        )  # fmt: skip
        Step.objects.create(
            variant=variant, position=4, name="Llamada", anchor="stage_entry", offset_days=2,
            action="task", task_kind="call", weekdays="12345",
        )  # fmt: skip
    return Config(
        preventive=preventive,
        administrative=administrative,
        extrajudicial=extrajudicial,
        judicial=judicial,
        alto=alto,
        bajo=bajo,
        admin_alto=admin_alto,
        admin_default=admin_default,
        champion=champion,
        challenger=challenger,
        default_variant=default_variant,
        sms=sms,
        email=email,
    )


def make_case(
    portfolio: Portfolio, name: str, amount: str, due: dt.date, *, as_of: dt.date = AS_OF, mobile: bool = True
) -> Case:
    """A debtor owing one invoice in ``portfolio``, with a mobile, and its case as of ``as_of``."""
    org = portfolio.organization
    debtor = Debtor.objects.create(organization=org, external_id=f"X-{name}", name=name)
    if mobile:
        ContactPoint.objects.create(
            organization=org,
            debtor=debtor,
            kind="mobile",
            value="55 1234 5678",
            normalized=f"+5255{abs(hash(name)) % 10**8:08d}",
            is_primary=True,
        )
    make_document(portfolio, debtor, f"F-{name}", amount, due)
    refresh_cases(organization=org, as_of=as_of, debtor_ids=[debtor.pk])
    return Case.objects.get(portfolio=portfolio, debtor=debtor)


def set_state(case: Case, stage: Stage | None, since: dt.date | None, **extra) -> CaseState:
    state, _ = CaseState.objects.update_or_create(
        case=case,
        defaults={"organization": case.organization, "stage": stage, "stage_entered_on": since, **extra},
    )
    return state


def completed_cycle(org: Organization, as_of: dt.date) -> CycleRun:
    return CycleRun.objects.create(organization=org, as_of=as_of, status="done")


ZERO = Decimal(0)
