"""The cycle benchmark's data and naive loop, at a few hundred cases (the full run is
``make bench-cycle``): the data goes through the real cycle, every stage is populated, the
same day twice adds nothing, and the naive per-case loop decides what the engine decides."""

import datetime as dt
import sys
from pathlib import Path

import pytest
from django.db import transaction

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import bench_cycle
import cycle_data

from recobro.portfolio.models import Case
from recobro.strategy.engine import run_cycle
from recobro.strategy.models import CaseState

pytestmark = pytest.mark.django_db


def test_generated_data_runs_through_the_cycle_and_the_naive_loop_decides_like_the_engine():
    data = cycle_data.generate(cases=400, docs_per_case=3, progress=lambda *a: None)
    org = data.organization
    assert data.counts["documents"] == 1200
    assert data.counts["segments"] == 10 and data.counts["variants"] == 6

    day = cycle_data.AS_OF
    run_cycle(organization=org, as_of=day)
    stages = set(CaseState.objects.filter(organization=org).values_list("stage__code", flat=True))
    assert stages >= {"preventiva", "administrativa", "extrajudicial", "judicial", "castigo"}
    first = bench_cycle.table_counts(org)
    assert (
        first["messages"] > data.counts["messages_delivered"] and first["tasks"] > data.counts["calls_done"]
    )

    run_cycle(organization=org, as_of=day)
    assert bench_cycle.table_counts(org) == first

    next_day = day + dt.timedelta(days=1)
    assert cycle_data.pay_day(org, next_day, per_mille=100) > 0
    sample = list(
        Case.objects.filter(organization=org, status="open").order_by("pk").values_list("pk", flat=True)
    )
    sample = sample[::2]  # ~200 cases: ~5 % get a next-day action, so some always do
    with transaction.atomic():
        naive = bench_cycle.naive_cycle(org, sample, next_day)
        transaction.set_rollback(True)
    assert bench_cycle.table_counts(org) == first  # the naive run left nothing behind

    run_cycle(organization=org, as_of=next_day)
    comparison = bench_cycle.compare(naive, bench_cycle.engine_decisions(org, sample, next_day))
    assert comparison["differences"] == {}
    assert comparison["same"] == len(sample)
    assert any(d["actions"] for d in naive.values())
