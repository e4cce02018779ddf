"""The daily cycle runs by itself at each organization's local morning (strategy/schedule.py)."""

import datetime as dt
import threading
import time

import pytest
from django.db import OperationalError
from kombu.exceptions import OperationalError as BrokerError

from recobro.strategy import schedule
from recobro.strategy.models import CycleRun, CycleStatus, StrategySettings
from recobro.strategy.schedule import DueCycle, due_cycles, run_due_cycles

UTC = dt.UTC
# 11:30 UTC is 05:30 in Mexico City (UTC-6) and 06:30 in Bogotá (UTC-5).
MORNING = dt.datetime(2026, 3, 31, 11, 30, tzinfo=UTC)
DAY = dt.date(2026, 3, 31)


def due_slugs(at):
    return {(d.slug, d.as_of) for d in due_cycles(at=at)}


def test_an_organization_is_due_once_its_local_time_passes_the_cycle_hour(cast):
    assert due_slugs(MORNING) == {("cobranzas-andinas", DAY)}
    assert due_slugs(MORNING + dt.timedelta(minutes=30)) == {
        ("cobranzas-andinas", DAY),
        ("comercial-norte", DAY),
    }
    assert due_slugs(MORNING - dt.timedelta(hours=1)) == set()


def test_the_cycle_hour_comes_from_the_organizations_settings(cast):
    StrategySettings.objects.create(organization=cast.co, cycle_hour=9)
    StrategySettings.objects.create(organization=cast.mx, cycle_hour=5)
    assert due_slugs(MORNING) == {("comercial-norte", DAY)}
    assert ("cobranzas-andinas", DAY) in due_slugs(dt.datetime(2026, 3, 31, 14, 0, tzinfo=UTC))


def test_the_date_is_the_organizations_local_date(cast):
    # 03:00 UTC on April 1st is still March 31st, 21:00 and 22:00, in Mexico and Colombia.
    late = dt.datetime(2026, 4, 1, 3, 0, tzinfo=UTC)
    assert due_slugs(late) == {("comercial-norte", DAY), ("cobranzas-andinas", DAY)}


def test_a_completed_cycle_for_today_is_not_run_again_but_yesterdays_does_not_count(cast):
    CycleRun.objects.create(organization=cast.co, as_of=DAY, status=CycleStatus.DONE)
    CycleRun.objects.create(organization=cast.mx, as_of=DAY - dt.timedelta(days=1), status=CycleStatus.DONE)
    assert due_slugs(MORNING + dt.timedelta(hours=1)) == {("comercial-norte", DAY)}


def test_a_running_cycle_is_left_alone_until_it_looks_dead_and_a_failed_one_is_retried(cast):
    run = CycleRun.objects.create(organization=cast.co, as_of=DAY, status=CycleStatus.RUNNING)
    CycleRun.objects.filter(pk=run.pk).update(started_at=MORNING - dt.timedelta(minutes=5))
    assert due_slugs(MORNING) == set()
    later = MORNING + schedule.RUNNING_GRACE
    assert ("cobranzas-andinas", DAY) in due_slugs(later)
    CycleRun.objects.filter(pk=run.pk).update(status=CycleStatus.FAILED, started_at=MORNING)
    assert ("cobranzas-andinas", DAY) in due_slugs(MORNING)


def test_an_organization_whose_clock_is_frozen_belongs_to_the_simulator(cast):
    cast.co.business_date_override = DAY
    cast.co.save(update_fields=["business_date_override"])
    assert due_slugs(MORNING + dt.timedelta(hours=1)) == {("comercial-norte", DAY)}


def test_selection_takes_a_fixed_number_of_queries(cast, django_assert_num_queries):
    with django_assert_num_queries(3):
        due_cycles(at=MORNING + dt.timedelta(hours=1))


def test_a_naive_instant_is_refused(cast):
    with pytest.raises(ValueError, match="aware"):
        due_cycles(at=dt.datetime(2026, 3, 31, 12, 0))


def test_run_due_cycles_enqueues_each_due_organization_and_survives_one_failure(cast):
    seen = []

    def enqueue(due: DueCycle):
        seen.append(due.slug)
        if due.slug == "cobranzas-andinas":
            raise BrokerError("broker down")

    started = run_due_cycles(at=MORNING + dt.timedelta(hours=1), enqueue=enqueue)
    assert sorted(seen) == ["cobranzas-andinas", "comercial-norte"]
    assert [d.slug for d in started] == ["comercial-norte"]


def test_run_due_cycles_enqueues_the_cycle_task_with_the_local_date(cast, monkeypatch):
    calls = []

    class FakeTask:
        @staticmethod
        def delay(*args):
            calls.append(args)

    import recobro.strategy.tasks as tasks

    monkeypatch.setattr(tasks, "run_cycle_task", FakeTask)
    run_due_cycles(at=MORNING)
    assert calls == [(cast.co.pk, "2026-03-31")]


# --- The embedded scheduler ----------------------------------------------------------------------

SERVING = ["recobro", "runserver", "127.0.0.1:8000", "--noreload"]


@pytest.fixture
def embedded(settings):
    settings.RECOBRO_EMBEDDED_SCHEDULER = True
    settings.CELERY_TASK_ALWAYS_EAGER = True
    yield settings
    schedule.stop_embedded_scheduler(timeout=5)


@pytest.mark.parametrize(
    ("argv", "environ", "wanted"),
    [
        (SERVING, {}, True),
        (["recobro", "runserver"], {"RUN_MAIN": "true"}, True),  # the autoreloader's child
        (["recobro", "runserver"], {}, False),  # the autoreloader's parent only watches files
        (["recobro", "migrate"], {}, False),
        (["recobro", "load_demo"], {"RUN_MAIN": "true"}, False),
        (["pytest"], {}, False),
        (["recobro"], {}, False),
    ],
)
def test_the_embedded_scheduler_runs_only_in_the_serving_process(embedded, argv, environ, wanted):
    assert schedule.embedded_scheduler_wanted(argv, environ) is wanted


def test_the_embedded_scheduler_is_off_with_a_broker_or_when_turned_off(embedded):
    embedded.CELERY_TASK_ALWAYS_EAGER = False  # a broker: beat runs run_due_cycles_task
    assert not schedule.embedded_scheduler_wanted(SERVING, {})
    assert schedule.start_embedded_scheduler(SERVING, {}) is None
    embedded.CELERY_TASK_ALWAYS_EAGER = True
    embedded.RECOBRO_EMBEDDED_SCHEDULER = False
    assert schedule.start_embedded_scheduler(SERVING, {}) is None


def test_the_embedded_scheduler_starts_once_and_ticks_until_stopped(embedded):
    ticked = threading.Event()
    ticks = []

    def tick():
        ticks.append(time.monotonic())
        if len(ticks) == 1:
            raise OperationalError("database is locked")  # logged; the loop goes on
        ticked.set()

    first = schedule.start_embedded_scheduler(SERVING, {}, interval=0.01, startup_delay=0, tick=tick)
    assert first is not None and first.is_alive() and first.thread.daemon
    assert schedule.start_embedded_scheduler(SERVING, {}, tick=tick) is first
    assert ticked.wait(5) and len(ticks) >= 2
    schedule.stop_embedded_scheduler(timeout=5)
    assert not first.is_alive()


def test_not_started_when_not_serving(embedded):
    assert schedule.start_embedded_scheduler(["recobro", "migrate"], {}) is None
    assert schedule._scheduler is None


def test_beat_runs_the_due_cycles_task_every_15_minutes(settings):
    from recobro.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["strategy-run-due-cycles"]
    assert entry["schedule"] == 15 * 60
    app.loader.import_default_modules()
    assert entry["task"] in app.tasks


def test_the_beat_task_runs_each_due_cycle_inline_without_a_broker(cast, monkeypatch):
    from recobro.core import clock
    from recobro.strategy.tasks import run_due_cycles_task

    monkeypatch.setattr(clock, "now", lambda: MORNING + dt.timedelta(hours=1))
    assert sorted(run_due_cycles_task()) == ["cobranzas-andinas:2026-03-31", "comercial-norte:2026-03-31"]
    runs = CycleRun.objects.filter(as_of=DAY, status=CycleStatus.DONE)
    assert set(runs.values_list("organization__slug", flat=True)) == {"cobranzas-andinas", "comercial-norte"}
    assert run_due_cycles_task() == []  # done for today


def test_an_organization_simulated_ahead_of_the_real_date_waits_for_it(cast):
    CycleRun.objects.create(organization=cast.co, as_of=DAY + dt.timedelta(days=30), status=CycleStatus.DONE)
    CycleRun.objects.create(organization=cast.mx, as_of=DAY + dt.timedelta(days=1), status=CycleStatus.FAILED)
    assert due_slugs(MORNING + dt.timedelta(hours=1)) == {("comercial-norte", DAY)}
