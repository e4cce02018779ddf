"""Re-running a completed date redoes only the debtors whose inputs changed since its pass
started: nothing changed, a handful of statements and no write; a payment, that debtor's case
and nothing else; a configuration change, every case."""

import re
from decimal import Decimal

from django.db import connection
from django.test.utils import CaptureQueriesContext

from recobro.negotiation.models import PromiseToPay
from recobro.negotiation.services import cancel_promise
from recobro.portfolio.models import Case
from recobro.portfolio.services.payments import record_payment
from recobro.strategy.models import CaseState, CycleRun, Segment, StageTransition
from tests.strategy.conftest import AS_OF, cycle, days, new_debtor, owes, populate, snapshot

WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE)\b[^\"]*\"?(\w+)", re.IGNORECASE)


def _writes(queries) -> set[str]:
    """Tables written by the captured statements."""
    tables = set()
    for query in queries:
        match = WRITE.match(query["sql"])
        if match:
            tables.add(match.group(2))
    return tables


def test_a_rerun_after_no_change_writes_nothing_in_a_few_statements(cast, config):
    populate(cast, 30)
    cycle(cast, AS_OF)
    before = snapshot()

    with CaptureQueriesContext(connection) as queries:
        again = cycle(cast, AS_OF)

    assert snapshot() == before
    assert again["debtors_changed"] == 0 and again["cases"] == 0
    for key in ("states_written", "stage_moves", "actions", "messages", "tasks", "tasks_reprioritised"):
        assert again[key] == 0, key
    assert _writes(queries) <= {CycleRun._meta.db_table}
    assert len(queries) <= 25, [q["sql"][:80] for q in queries]
    run = CycleRun.objects.get()
    assert (run.status, run.attempts) == ("done", 2)


def test_a_payment_after_the_run_is_picked_up_by_a_rerun_for_that_case_only(cast, config):
    populate(cast, 30)
    payer = new_debtor(cast, "PAYER")
    owes(cast, payer, "1500.00", days(-10))
    cycle(cast, AS_OF)
    case = Case.objects.get(debtor=payer)
    state = CaseState.objects.get(case=case)
    assert state.stage_id == config.administrative.pk
    others = sorted(CaseState.objects.exclude(case=case).values_list())
    first_pass = CycleRun.objects.get().pass_started_at

    record_payment(
        organization=cast.mx,
        portfolio=case.portfolio,
        debtor=payer,
        amount=Decimal("1500.00"),
        paid_on=AS_OF,
        actor=cast.actor(),
    )
    again = cycle(cast, AS_OF)

    assert again["debtors_changed"] == 1 and again["cases"] == 1
    assert again["states_written"] == 1 and again["stage_moves"] == 1
    state.refresh_from_db()
    assert state.stage_id is None
    move = StageTransition.objects.get(case=case, business_date=AS_OF, to_stage=None)
    assert (move.from_stage_id, move.reason) == (config.administrative.pk, "closed")
    assert sorted(CaseState.objects.exclude(case=case).values_list()) == others
    # The re-run moved the pass forward: run again, nothing is left to do.
    run = CycleRun.objects.get()
    assert run.pass_started_at > first_pass
    assert cycle(cast, AS_OF)["debtors_changed"] == 0


def test_a_change_that_leaves_only_an_audit_entry_is_picked_up(cast, config):
    """A cancelled promise has no timestamp of its own: the audit log names it."""
    debtor = new_debtor(cast, "PROMISER")
    owes(cast, debtor, "900.00", days(-3))
    cycle(cast, days(-1))
    case = Case.objects.get(debtor=debtor)
    promise = PromiseToPay.objects.create(
        organization=cast.mx,
        case=case,
        amount="100.00",
        currency="MXN",
        promised_on=days(5),
        made_on=days(-1),
        origin="collector",
    )
    cycle(cast, AS_OF)
    cancel_promise(promise=promise, actor=cast.actor(cast.ana), as_of=AS_OF)

    again = cycle(cast, AS_OF)

    assert (again["debtors_changed"], again["cases"]) == (1, 1)


def test_a_configuration_change_makes_the_rerun_process_every_case(cast, config):
    populate(cast, 30)
    first = cycle(cast, AS_OF)
    Segment.objects.filter(pk=config.alto.pk).update(rule="balance >= 4000")

    again = cycle(cast, AS_OF)

    assert again["debtors_changed"] is None
    assert again["cases"] == first["cases"] == 30
    assert again["states_written"] > 0  # cases between 4000 and 5000 changed segment


def test_an_incremental_rerun_ends_where_a_full_pass_would(cast, config):
    populate(cast, 30)
    cycle(cast, AS_OF)
    case = Case.objects.filter(status="open").order_by("pk")[5]
    record_payment(
        organization=cast.mx,
        portfolio=case.portfolio,
        debtor=case.debtor,
        amount=Decimal("100.00"),
        paid_on=AS_OF,
        actor=cast.actor(),
    )
    cycle(cast, AS_OF)
    incremental = snapshot()

    CycleRun.objects.update(pass_started_at=None)  # forget the pass: the next run is full
    full = cycle(cast, AS_OF)

    assert full["debtors_changed"] is None and full["cases"] == 30
    assert snapshot() == incremental
    for key in ("states_written", "stage_moves", "actions", "messages", "tasks", "tasks_reprioritised"):
        assert full[key] == 0, key
