"""The run as a whole: priority, idempotence, dry run, dates, bad configuration, statement
counts, resuming a failed run, the command and the Celery task."""

import datetime as dt
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from recobro.negotiation.models import PromiseToPay
from recobro.portfolio.models import Case, Debtor, Document
from recobro.strategy.engine import CycleError, run
from recobro.strategy.models import (
    CaseState,
    CycleRun,
    Segment,
    Stage,
    Step,
    StrategySettings,
    Variant,
)
from recobro.strategy.tasks import run_cycle_task
from tests.strategy.conftest import (
    AS_OF,
    OUTPUTS,
    build_strategy_config,
    cycle,
    days,
    new_debtor,
    owes,
    populate,
    snapshot,
)


def test_priority_is_expected_recovery_times_the_stage_weight(cast, config):
    scored = new_debtor(cast, "SCORED", risk_score=Decimal("0.3333"))
    owes(cast, scored, "1234.56", days(-70))  # extrajudicial, weight 1.50
    fallback = new_debtor(cast, "FALLBACK")
    owes(cast, fallback, "1000.00", days(-10))  # bucket 1-30: 0.70
    relapsed = new_debtor(cast, "RELAPSED")
    owes(cast, relapsed, "1000.00", days(-200))  # judicial, weight 0.50; bucket 181-360: 0.10
    early = new_debtor(cast, "EARLY")
    owes(cast, early, "1000.00", days(30))  # in no stage: weight 1
    cycle(cast, days(-1))
    case = Case.objects.get(debtor=relapsed)
    for i in range(2):
        PromiseToPay.objects.create(
            organization=cast.mx,
            case=case,
            amount="10.00",
            currency="MXN",
            promised_on=days(-20 - i),
            made_on=days(-30),
            status="broken",
            resolved_on=days(-20 - i),
            origin="collector",
        )

    cycle(cast, AS_OF)

    def priority(debtor):
        state = CaseState.objects.get(case__debtor=debtor)
        return state.probability, state.expected_recovery, state.priority

    # 1234.56 × 0.3333 = 411.47884… → 411.48; × 1.5 = 617.22
    assert priority(scored) == (Decimal("0.3333"), Decimal("411.48"), Decimal("617.22"))
    assert priority(fallback) == (Decimal("0.7000"), Decimal("700.00"), Decimal("700.00"))
    # 0.10 × 0.8² = 0.064 → 64.00, × 0.5
    assert priority(relapsed) == (Decimal("0.0640"), Decimal("64.00"), Decimal("32.00"))
    assert priority(early) == (Decimal("0.9000"), Decimal("900.00"), Decimal("900.00"))


def test_running_the_same_date_twice_writes_nothing_the_second_time(cast, config):
    populate(cast, 30)
    first = cycle(cast, AS_OF)
    assert first["actions"] > 0 and first["states_written"] == 30
    before = snapshot()

    second = cycle(cast, AS_OF)

    assert snapshot() == before
    for key in ("states_written", "stage_moves", "actions", "messages", "tasks", "tasks_reprioritised"):
        assert second[key] == 0, key
    assert CycleRun.objects.get().attempts == 2


def test_a_dry_run_writes_nothing_and_returns_the_plan(cast, config):
    populate(cast, 30)
    cycle(cast, days(-1))
    before = snapshot()
    case_facts = sorted(Case.objects.values_list("id", "dpd", "as_of"))
    promise = PromiseToPay.objects.create(
        organization=cast.mx,
        case=Case.objects.first(),
        amount="10.00",
        currency="MXN",
        promised_on=days(-1),
        made_on=days(-2),
        origin="collector",
    )

    dry = cycle(cast, AS_OF, dry_run=True)

    assert snapshot() == before
    assert sorted(Case.objects.values_list("id", "dpd", "as_of")) == case_facts
    promise.refresh_from_db()
    assert promise.status == "pending"
    assert not CycleRun.objects.filter(as_of=AS_OF).exists()
    plan = dry["plan"]
    assert sum(plan["stages"].values()) == 30
    assert sum(plan["segments"].values()) == 30
    assert sum(v["cases"] for v in plan["variants"]) == sum(
        n for k, n in plan["stages"].items() if k != "judicial" and k
    )
    assert 0 < len(plan["sample"]) <= 20
    # The real run then does what the dry run said.
    real = cycle(cast, AS_OF)
    for key in ("actions", "messages", "tasks", "stage_moves", "states_written"):
        assert real[key] == dry[key], key
    assert sum(row["done"] for row in plan["steps"]) == real["actions_done"]
    assert sum(plan["channels"].values()) == real["messages"]
    assert sum(plan["tasks"].values()) == real["tasks"]


def test_a_date_after_tomorrow_is_refused_unless_allowed(cast, config):
    cast.mx.business_date_override = AS_OF
    cast.mx.save()
    with pytest.raises(CycleError, match="allow_future"):
        cycle(cast, days(2))
    assert not CycleRun.objects.exists()
    cycle(cast, days(1))  # tomorrow is fine
    cycle(cast, days(2), allow_future=True)


def test_a_date_before_the_last_completed_cycle_is_refused(cast, config):
    cycle(cast, AS_OF)
    with pytest.raises(CycleError, match="earlier date"):
        cycle(cast, days(-1))
    cycle(cast, AS_OF)  # the same date again is a re-run


@pytest.mark.parametrize(
    "breakage, named",
    [
        (lambda c: Segment.objects.filter(pk=c.alto.pk).update(rule="balance >>= 5"), "Segment “alto”"),
        (lambda c: Segment.objects.filter(pk=c.bajo.pk).update(rule="saldo < 5"), "Segment “bajo”"),
        (lambda c: Stage.objects.filter(pk=c.judicial.pk).update(entry_rule="dpd >"), "Stage “judicial”"),
        (
            lambda c: Step.objects.filter(variant=c.admin_b, position=2).update(
                condition="balance between 1"
            ),
            "Step 2 “sms day 4” of strategy “admin”, variant “b”",
        ),
        (lambda c: Variant.objects.filter(pk=c.alto_b.pk).update(share=40), "Strategy “admin-alto”"),
        (
            lambda c: StrategySettings.objects.filter(pk=c.settings.pk).update(
                fallback_probability={"1-30": "1.5"}
            ),
            "bucket “1-30”",
        ),
    ],
)
def test_a_broken_configuration_stops_the_cycle_before_anything_is_written(cast, config, breakage, named):
    populate(cast, 5)
    promise = PromiseToPay.objects.create(
        organization=cast.mx,
        case=Case.objects.create(
            organization=cast.mx, portfolio=cast.retail, debtor=cast.eva, currency="MXN"
        ),
        amount="10.00",
        currency="MXN",
        promised_on=days(-1),
        made_on=days(-2),
        origin="collector",
    )
    breakage(config)
    with pytest.raises(CycleError) as error:
        cycle(cast, AS_OF)
    assert named in error.value.message
    assert not any(model.objects.exists() for model in OUTPUTS)
    promise.refresh_from_db()
    assert promise.status == "pending"
    assert Case.objects.filter(as_of=AS_OF).count() == 0


def test_the_number_of_statements_does_not_grow_with_the_cases(cast, config, monkeypatch):
    monkeypatch.setattr(run, "CHUNK_SIZE", 1_000_000)

    def statements(n, prefix, day):
        populate(cast, n, prefix)
        with CaptureQueriesContext(connection) as queries:
            counts = cycle(cast, day)
        return len(queries), counts

    few, few_counts = statements(3, "A", AS_OF)
    many, many_counts = statements(40, "B", days(1))
    assert many_counts["cases"] > 10 * few_counts["cases"] / 3
    assert many_counts["actions"] > few_counts["actions"]
    assert many == few


def test_each_chunk_runs_the_same_statements(cast, config, monkeypatch):
    populate(cast, 12)
    monkeypatch.setattr(run, "CHUNK_SIZE", 1_000_000)
    with CaptureQueriesContext(connection) as one:
        cycle(cast, AS_OF)
    monkeypatch.setattr(run, "CHUNK_SIZE", 5)
    with CaptureQueriesContext(connection) as several:
        counts = cycle(cast, days(1))
    chunks = counts["chunks"]
    assert chunks >= 3
    per_chunk = (len(several) - len(one)) / (chunks - 1)
    assert per_chunk == int(per_chunk) and per_chunk < 40


@pytest.mark.django_db(transaction=True)
def test_a_failed_run_resumes_from_its_checkpoint_to_the_same_end_state(cast, monkeypatch):
    monkeypatch.setattr(run, "CHUNK_SIZE", 8)
    build_strategy_config(cast.mx)
    populate(cast, 30)
    cycle(cast, days(-1))
    real_chunk = run._Cycle._chunk
    calls = {"n": 0}

    def failing_chunk(self, low, high):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("disk full")
        return real_chunk(self, low, high)

    monkeypatch.setattr(run._Cycle, "_chunk", failing_chunk)
    with pytest.raises(RuntimeError):
        cycle(cast, AS_OF)
    failed = CycleRun.objects.get(as_of=AS_OF)
    assert failed.status == "failed" and "disk full" in failed.error
    chunks = len(run._windows(cast.mx.pk, run.CHUNK_SIZE))
    # In order on SQLite (2 done); on PostgreSQL the other connections finish theirs.
    assert 2 <= len(failed.counts["chunks_done"]) < chunks
    assert failed.checkpoint is not None

    monkeypatch.setattr(run._Cycle, "_chunk", real_chunk)
    resumed = cycle(cast, AS_OF)
    done = CycleRun.objects.get(as_of=AS_OF)
    assert (done.status, done.attempts) == ("done", 2)
    resumed_state = snapshot()

    # The same two days from scratch, uninterrupted.
    for model in OUTPUTS:
        model.objects.all().delete()
    cycle(cast, days(-1))
    straight = cycle(cast, AS_OF)
    assert snapshot() == resumed_state
    assert resumed["cases"] == straight["cases"]
    assert done.counts["summary"]["actions"] == straight["actions"]


def test_the_command_prints_progress_and_the_plan_of_a_dry_run(cast, config):
    populate(cast, 10)
    out = StringIO()
    call_command(
        "cycle", "--as-of", AS_OF.isoformat(), "--organization", cast.mx.slug, "--dry-run", stdout=out
    )
    text = out.getvalue()
    assert "Dry run of the cycle of comercial-norte for 2026-03-31" in text
    assert "Cases per stage:" in text and "Actions per step:" in text and "Sample of cases:" in text
    assert not CaseState.objects.exists()

    out = StringIO()
    call_command("cycle", "--as-of", AS_OF.isoformat(), "--organization", cast.mx.slug, stdout=out)
    assert "Messages queued:" in out.getvalue()
    assert CaseState.objects.count() == 10


def test_the_command_explains_a_refused_date_and_an_unknown_organization(cast, config):
    cast.mx.business_date_override = AS_OF
    cast.mx.save()
    with pytest.raises(CommandError, match="allow-future"):
        call_command(
            "cycle", "--as-of", days(5).isoformat(), "--organization", cast.mx.slug, stdout=StringIO()
        )
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("cycle", "--as-of", "31/03/2026", stdout=StringIO())
    with pytest.raises(CommandError, match="nadie"):
        call_command("cycle", "--organization", "nadie", stdout=StringIO())


def test_the_command_runs_every_organization_on_its_own_business_date(cast, config):
    cast.mx.business_date_override = AS_OF
    cast.mx.save()
    cast.co.business_date_override = days(1)
    cast.co.save()
    out = StringIO()
    call_command("cycle", stdout=out)
    assert set(CycleRun.objects.values_list("organization__slug", "as_of")) == {
        ("comercial-norte", AS_OF),
        ("cobranzas-andinas", days(1)),
    }


def test_the_celery_task_runs_the_cycle(cast, config):
    populate(cast, 3)
    counts = run_cycle_task.delay(cast.mx.pk, AS_OF.isoformat()).get()
    assert counts["cases"] == 3
    assert CycleRun.objects.get().as_of == AS_OF
    assert isinstance(dt.date.fromisoformat(counts["as_of"]), dt.date)
    assert Debtor.objects.count() >= 3 and Document.objects.count() >= 3


def test_a_cycle_works_only_its_own_organization(cast, config):
    populate(cast, 5)
    build_strategy_config(cast.co)
    andean = Debtor.objects.create(organization=cast.co, external_id="CO-1", name="Andino")
    Document.objects.create(
        organization=cast.co,
        portfolio=cast.bank_co,
        debtor=andean,
        external_id="CO-F1",
        due_date=days(-10),
        original_amount="100000.00",
        balance="100000.00",
        currency="COP",
    )
    cycle(cast, AS_OF)
    assert CaseState.objects.filter(organization=cast.co).count() == 0
    assert not Case.objects.filter(organization=cast.co).exists()  # not even its cases refreshed
    assert CaseState.objects.filter(organization=cast.mx).count() == 5
    assert set(CycleRun.objects.values_list("organization__slug", flat=True)) == {"comercial-norte"}


def test_broken_aging_buckets_stop_the_cycle_with_their_reason(cast, config):
    cast.mx.aging_buckets = [{"key": "a", "label": "A", "min": None, "max": 10}]
    cast.mx.save()
    with pytest.raises(CycleError, match="open-ended"):
        cycle(cast, AS_OF)
    assert not CycleRun.objects.exists()
