"""The strategy, outbox and negotiation lists render with their rows, keep collectors to
their portfolios, and issue a fixed number of queries however many rows they show."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from recobro.channels.models import Message, Template
from recobro.negotiation.models import PaymentPlan, PromiseToPay
from recobro.portfolio.engine import refresh_cases
from recobro.portfolio.models import Case, Debtor
from recobro.strategy.models import Action, CycleRun, Hold, Stage, StageTransition, Step, Task
from tests.backoffice.conftest import client_for
from tests.backoffice.strategy_helpers import configure
from tests.conftest import AS_OF, make_document

LISTS = [
    "strategy_strategy",
    "strategy_segment",
    "strategy_stage",
    "channels_template",
    "strategy_hold",
    "strategy_task",
    "strategy_action",
    "strategy_stagetransition",
    "strategy_cyclerun",
    "channels_message",
    "negotiation_promisetopay",
    "negotiation_paymentplan",
]


def grow(cast, n: int, start: int, portfolio=None) -> None:
    """n debtors with a case each, and for each case every kind of row the lists show."""
    portfolio = portfolio or cast.retail
    org = cast.mx
    step = Step.objects.get(name="Llamada")
    message_step = Step.objects.get(name="Correo de aviso")
    template = Template.objects.get(code="aviso")
    stage = Stage.objects.get(code="administrativa")
    for i in range(start, start + n):
        debtor = Debtor.objects.create(organization=org, external_id=f"N-{i}", name=f"Deudor {i}")
        make_document(portfolio, debtor, f"N-{i}", "100.00", AS_OF - dt.timedelta(days=10 + i))
    refresh_cases(organization=org, as_of=AS_OF)
    for i in range(start, start + n):
        case = Case.objects.get(debtor__external_id=f"N-{i}")
        task = Task.objects.create(
            organization=org, case=case, kind="call", title=f"Llamar {i}", due_on=AS_OF, priority=Decimal(i)
        )
        Action.objects.create(
            organization=org,
            case=case,
            step=step,
            variant=step.variant,
            due_on=AS_OF,
            business_date=AS_OF,
            status="done",
            task=task,
        )
        message = Message.objects.create(
            organization=org,
            case=case,
            debtor=case.debtor,
            channel="email",
            template=template,
            business_date=AS_OF,
            idempotency_key=f"test:{i}",
        )
        Action.objects.create(
            organization=org,
            case=case,
            step=message_step,
            variant=message_step.variant,
            due_on=AS_OF,
            business_date=AS_OF,
            status="done",
            message=message,
        )
        StageTransition.objects.create(
            organization=org, case=case, to_stage=stage, business_date=AS_OF, reason="rule"
        )
        Hold.objects.create(
            organization=org, scope="debtor", debtor=case.debtor, reason="dispute", starts_on=AS_OF
        )
        PromiseToPay.objects.create(
            organization=org,
            case=case,
            amount=Decimal("50.00"),
            currency="MXN",
            promised_on=AS_OF + dt.timedelta(days=5),
            made_on=AS_OF,
            origin="collector",
        )
        PaymentPlan.objects.create(
            organization=org,
            case=case,
            total_amount=Decimal("100.00"),
            installments=2,
            first_due_on=AS_OF + dt.timedelta(days=30),
            starts_on=AS_OF,
        )
    CycleRun.objects.get_or_create(organization=org, as_of=AS_OF - dt.timedelta(days=start))


@pytest.fixture
def rows(cast, ledger):
    configure(cast)
    grow(cast, 2, 0)
    return cast


@pytest.mark.parametrize("name", LISTS)
def test_each_list_renders_for_ana(ana, rows, name):
    response = ana.get(reverse(f"admin:{name}_changelist"))
    assert response.status_code == 200


def test_the_lists_show_their_rows(ana, rows):
    def page(name):
        return ana.get(reverse(f"admin:{name}_changelist")).content.decode()

    assert "Administrativa saldo alto" in page("strategy_strategy") and "Retador 20%" in page(
        "strategy_strategy"
    )
    assert "balance &gt;= 50000" in page("strategy_segment")
    assert "Preventiva" in page("strategy_stage")
    assert "Aviso de mora" in page("channels_template")
    assert "Deudor 1" in page("strategy_hold")
    assert "Llamar 1" in page("strategy_task")
    assert "Deudor 0" in page("channels_message")
    assert "$50.00" in page("negotiation_promisetopay")


def test_a_collector_sees_only_the_rows_of_his_portfolios(rows, cast):
    grow(cast, 1, 50, portfolio=cast.loans)  # Diana's
    carlos = client_for(cast.carlos)
    for name in [
        "strategy_hold",
        "strategy_task",
        "channels_message",
        "negotiation_promisetopay",
        "strategy_action",
    ]:
        page = carlos.get(reverse(f"admin:{name}_changelist")).content.decode()
        assert "Deudor 1" in page or name == "strategy_action", name
        assert "Deudor 50" not in page, name
    diana = client_for(cast.diana)
    page = diana.get(reverse("admin:strategy_hold_changelist")).content.decode()
    assert "Deudor 50" in page and "Deudor 1<" not in page


def test_cycle_runs_are_for_supervisors_and_auditors(rows, cast):
    assert client_for(cast.carlos).get(reverse("admin:strategy_cyclerun_changelist")).status_code == 403
    assert client_for(cast.auditor).get(reverse("admin:strategy_cyclerun_changelist")).status_code == 200


def test_the_sidebar_shows_the_strategy_sections(ana, rows, cast):
    page = ana.get("/").content.decode()
    for name in ["strategy_strategy", "strategy_hold", "channels_message", "negotiation_promisetopay"]:
        assert reverse(f"admin:{name}_changelist") in page
    collector = client_for(cast.carlos).get("/").content.decode()
    assert reverse("admin:strategy_task_changelist") in collector
    assert reverse("admin:strategy_cyclerun_changelist") not in collector


def count(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


# Session, user, memberships, one per filter that lists rows (portfolios, templates, stages,
# segments, template languages), the page's count and its rows, plus one prefetch of the
# variants on the strategies list: pinned so that a query per row shows up at once.
@pytest.mark.parametrize(
    ("name", "user", "expected"),
    [
        ("strategy_strategy", "ana", 8),
        ("strategy_segment", "ana", 5),
        ("strategy_stage", "ana", 5),
        ("channels_template", "ana", 6),
        ("strategy_hold", "ana", 5),
        ("strategy_hold", "carlos", 5),
        ("strategy_task", "ana", 6),
        ("strategy_task", "carlos", 6),
        ("strategy_action", "ana", 6),
        ("strategy_stagetransition", "ana", 6),
        ("channels_message", "ana", 7),
        ("channels_message", "carlos", 7),
        ("negotiation_promisetopay", "ana", 6),
        ("negotiation_paymentplan", "carlos", 6),
    ],
)
def test_list_query_counts_are_pinned_and_do_not_grow_with_rows(rows, cast, name, user, expected):
    client = client_for(getattr(cast, user))
    url = reverse(f"admin:{name}_changelist")
    few = count(client, url)
    grow(cast, 20, 10)
    many = count(client, url)
    assert (few, many) == (expected, expected)
