"""Benchmark of the daily cycle: run_cycle over 1,000,000 cases and 3,000,000 documents.

    python bench/bench_cycle.py                  # SQLite, fresh file bench/data/bench_cycle.sqlite3
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/x python bench/bench_cycle.py
                                                 # PostgreSQL: creates and drops recobro_bench_cycle
    python bench/bench_cycle.py --cases 20000    # a quick small run

It makes its own data (bench/cycle_data.py: one organization, 10 segments, 5 stages,
3 strategies with a champion and a challenger each, promises, plans, holds, contact
history), then times:

1. ``run_cycle`` for the business date D, first run (stages entered, segments, variants,
   messages and tasks queued) — the budget: 60 s on PostgreSQL, 180 s on SQLite;
2. the same date again: it must create nothing — the budget: 15 s;
3. the next day, after that day's payments came in (2% of debtors pay their oldest
   document): a normal daily run;
4. a naive per-case ORM cycle for the next day on a sample of cases, in a transaction
   that is rolled back (before 3, so both see the same data): per case it reads the facts
   and replays the decisions with ``recobro.strategy.explain.explain_case`` (the rules
   evaluated in Python with ``rules.evaluate``), then writes the case, its promises, its
   state, its stage change, its actions, messages and tasks one ``.save()`` at a time.
   The ratio is the engine's cases per second over the naive loop's, and the sample's
   decisions of both are compared field by field.

Peak memory is this process's resident set (SQLite runs inside it) and, on PostgreSQL, the
private memory (RssAnon) of the database's backends, sampled while the cycle runs.
"""

import argparse
import datetime as dt
import os
import re
import resource
import sys
import threading
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

import common  # noqa: E402
import cycle_data  # noqa: E402

DATABASE = "bench_cycle"  # bench/data/bench_cycle.sqlite3, or recobro_bench_cycle on PostgreSQL
FULL_CASES = 1_000_000


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--cases", type=int, default=FULL_CASES, help="debtors, one case each (default 1,000,000)"
    )
    parser.add_argument(
        "--docs-per-case", type=int, default=3, help="documents per case on average (default 3)"
    )
    parser.add_argument("--sample", type=int, default=10_000, help="cases in the naive ORM sample")
    parser.add_argument("--seed", type=int, default=cycle_data.SEED, help="seed of the data generator")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database afterwards")
    parser.add_argument("--no-write", action="store_true", help="do not write bench/results (trial runs)")
    return parser.parse_args()


# --- measuring ------------------------------------------------------------------------------


class PhaseClock:
    """The engine's progress callback: when each phase starts, and when each chunk ends."""

    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.marks: list[tuple[str, float]] = []
        self.chunks = 0

    def __call__(self, phase: str, done: int, total: int) -> None:
        now = time.perf_counter() - self.start
        if not self.marks or self.marks[-1][0] != phase:
            self.marks.append((phase, now))
        if phase == "chunks" and done:
            self.chunks = done

    def phases(self, end: float) -> dict[str, float]:
        """Seconds per phase (a phase ends where the next starts); "setup" before the first."""
        out = {"setup": round(self.marks[0][1], 2) if self.marks else round(end, 2)}
        for i, (phase, at) in enumerate(self.marks):
            until = self.marks[i + 1][1] if i + 1 < len(self.marks) else end
            out[phase] = round(out.get(phase, 0) + until - at, 2)
        return out


class BackendMemory:
    """On PostgreSQL, samples the private memory (RssAnon) of the benchmark database's
    backends every 0.2 s while running: the highest sum over backends and the highest one."""

    def __init__(self, url: str | None) -> None:
        self.url = url
        self.peak_total_kb = 0
        self.peak_backend_kb = 0
        self._stop = threading.Event()
        self._thread = None

    def __enter__(self):
        if self.url:
            self._thread = threading.Thread(target=self._sample, name="backend-memory", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _sample(self) -> None:
        import psycopg

        with psycopg.connect(**common._server_params(self.url), autocommit=True) as conn:
            while not self._stop.is_set():
                pids = [
                    row[0]
                    for row in conn.execute(
                        "SELECT pid FROM pg_stat_activity WHERE datname = %s", [f"recobro_{DATABASE}"]
                    ).fetchall()
                ]
                sizes = [_rss_anon_kb(pid) for pid in pids]
                self.peak_total_kb = max(self.peak_total_kb, sum(sizes))
                self.peak_backend_kb = max(self.peak_backend_kb, max(sizes, default=0))
                self._stop.wait(0.2)


def _rss_anon_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("RssAnon:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class StatementClock:
    """Database time per kind of statement ("INSERT INTO strategy_action", "UPDATE
    portfolio_case"…) and of the commits, on every connection the cycle opens (the
    PostgreSQL workers too: each new connection gets the wrapper), summed over connections
    (so on PostgreSQL it may exceed the wall time)."""

    PATTERN = re.compile(
        r"^\s*(CREATE TEMP TABLE|INSERT INTO|UPDATE|DELETE FROM|SELECT|ANALYZE|DROP TABLE IF EXISTS|WITH)"
        r"\s*(?:temp\.)?\"?(\w*)",
        re.IGNORECASE,
    )

    def __init__(self) -> None:
        self.seconds: Counter = Counter()
        self.count: Counter = Counter()
        self.lock = threading.Lock()

    def __call__(self, execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            elapsed = time.perf_counter() - start
            match = self.PATTERN.match(sql)
            label = f"{match.group(1).upper()} {match.group(2)}".strip() if match else sql[:40]
            with self.lock:
                self.seconds[label] += elapsed
                self.count[label] += 1

    def _attach(self, sender, connection, **kwargs) -> None:
        if self not in connection.execute_wrappers:
            connection.execute_wrappers.append(self)
        if "_commit" not in vars(connection):  # COMMIT too: deferred foreign-key checks run there
            commit = connection._commit

            def timed_commit():
                start = time.perf_counter()
                try:
                    return commit()
                finally:
                    with self.lock:
                        self.seconds["COMMIT"] += time.perf_counter() - start
                        self.count["COMMIT"] += 1

            connection._commit = timed_commit

    def __enter__(self):
        from django.db import connections
        from django.db.backends.signals import connection_created

        connection_created.connect(self._attach)
        main = connections["default"]  # the wrapper itself (not the proxy): _commit is set on it
        main.ensure_connection()
        self._attach(None, main)
        return self

    def __exit__(self, *exc) -> None:
        from django.db import connections
        from django.db.backends.signals import connection_created

        connection_created.disconnect(self._attach)
        main = connections["default"]
        if self in main.execute_wrappers:
            main.execute_wrappers.remove(self)
        vars(main).pop("_commit", None)

    def top(self, n: int = 12) -> dict[str, dict]:
        return {
            label: {"s": round(seconds, 2), "statements": self.count[label]}
            for label, seconds in self.seconds.most_common(n)
        }


def cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def table_counts(org) -> dict[str, int]:
    from recobro.channels.models import Message
    from recobro.negotiation.models import PromiseToPay
    from recobro.strategy.models import Action, CaseState, StageTransition, Task

    return {
        "case_states": CaseState.objects.filter(organization=org).count(),
        "stage_transitions": StageTransition.objects.filter(organization=org).count(),
        "actions": Action.objects.filter(organization=org).count(),
        "messages": Message.objects.filter(organization=org).count(),
        "tasks": Task.objects.filter(organization=org).count(),
        "promises_pending": PromiseToPay.objects.filter(organization=org, status="pending").count(),
    }


def timed_cycle(org, as_of: dt.date, admin_url: str | None) -> dict:
    """run_cycle with its wall time, phases, CPU of this process and memory."""
    from recobro.strategy.engine import run_cycle

    clock = PhaseClock()
    cpu = cpu_s()
    with BackendMemory(admin_url) as memory, StatementClock() as statements:
        start = time.perf_counter()
        counts = run_cycle(organization=org, as_of=as_of, progress=clock)
        seconds = time.perf_counter() - start
    return {
        "seconds": round(seconds, 2),
        "python_cpu_s": round(cpu_s() - cpu, 2),
        "phases_s": clock.phases(seconds),
        "statements_s": statements.top(),
        "chunks": clock.chunks,
        "counts": counts,
        "database_peak_private_mb": round(memory.peak_total_kb / 1024, 1) if admin_url else None,
        "database_peak_backend_mb": round(memory.peak_backend_kb / 1024, 1) if admin_url else None,
        "process_peak_rss_mb": common.peak_rss_mb(),
    }


def _slowest(run: dict, n: int = 6) -> str:
    return ", ".join(f"{label} {v['s']} s" for label, v in list(run["statements_s"].items())[:n])


# --- the naive per-case version ---------------------------------------------------------------


def naive_cycle(org, case_ids: list[int], as_of: dt.date) -> dict[int, dict]:
    """What one would write without the engine: the configuration read once, then one case
    at a time: read its facts with the ORM, decide in Python, write with ``.save()``.

    The decisions are the explanation's (``recobro.strategy.explain``: the same semantics,
    written for one case), segment rules evaluated with ``rules.evaluate``; the writes are
    the case's facts, its promises, its state, its stage change, its actions with their
    messages or tasks, and its open tasks' priority. Returns the decisions per case, for
    the comparison with the engine."""
    from django.db.models import Max

    from recobro.channels.models import Message, MessageStatus
    from recobro.negotiation.models import PromiseStatus, PromiseToPay
    from recobro.portfolio.aging import bucket_for, organization_buckets
    from recobro.portfolio.models import OPEN_STATUSES, Case, ContactPoint, Document, Payment
    from recobro.strategy import explain, rules
    from recobro.strategy.explain import StageMove, StepStatus
    from recobro.strategy.models import (
        Action,
        CaseState,
        CycleRun,
        Hold,
        Segment,
        Stage,
        StageTransition,
        Step,
        Strategy,
        StrategySettings,
        Task,
        TaskStatus,
        Variant,
    )

    # The configuration, once.
    buckets = organization_buckets(org)
    settings = StrategySettings.objects.get(organization=org)
    previous = CycleRun.objects.filter(organization=org, status="done", as_of__lt=as_of).aggregate(
        last=Max("as_of")
    )["last"]
    stages = list(Stage.objects.filter(organization=org, is_active=True).order_by("position"))
    segments = [
        (segment, rules.parse(segment.rule))
        for segment in Segment.objects.filter(organization=org, is_active=True).order_by("priority")
    ]
    strategies: dict[int, list] = {}
    for strategy in Strategy.objects.filter(organization=org, is_active=True).select_related("segment"):
        strategies.setdefault(strategy.stage_id, []).append(strategy)
    variants: dict[int, list] = {}
    for variant in Variant.objects.filter(strategy__organization=org):
        variants.setdefault(variant.strategy_id, []).append(variant)
    steps: dict[int, list] = {}
    for step in Step.objects.filter(variant__strategy__organization=org, is_active=True).select_related(
        "template"
    ):
        steps.setdefault(step.variant_id, []).append(step)
    for group in steps.values():
        group.sort(key=lambda s: s.position)

    reasons = {StageMove.ENTER: "rule", StageMove.FORWARD: "rule", StageMove.BACK_CURED: "cured"}
    decisions: dict[int, dict] = {}
    for case_id in case_ids:
        case = Case.objects.select_related("debtor", "portfolio", "organization").get(pk=case_id)
        # Phase 1: promises whose date has passed, then the case's own facts.
        payments = list(
            Payment.objects.filter(
                portfolio_id=case.portfolio_id, debtor_id=case.debtor_id, status="posted", paid_on__lte=as_of
            ).values_list("paid_on", "amount")
        )
        for promise in PromiseToPay.objects.filter(case=case, status=PromiseStatus.PENDING):
            paid = sum((a for d, a in payments if promise.made_on <= d <= promise.promised_on), Decimal(0))
            if paid >= promise.amount:
                promise.status = PromiseStatus.KEPT
            elif promise.promised_on >= as_of:
                continue
            else:
                promise.status = PromiseStatus.PARTLY_KEPT if paid > 0 else PromiseStatus.BROKEN
            promise.paid_amount, promise.resolved_on = paid, as_of
            promise.save()
        docs = list(
            Document.objects.filter(
                portfolio_id=case.portfolio_id, debtor_id=case.debtor_id, status__in=OPEN_STATUSES
            ).exclude(balance=0)
        )
        dues = [d.due_date for d in docs if d.kind != "credit_note"]
        case.balance = sum((d.balance for d in docs), Decimal(0))
        overdue = sum((d.balance for d in docs if d.kind != "credit_note" and d.due_date < as_of), Decimal(0))
        case.overdue_balance = max(Decimal(0), min(overdue, case.balance))
        case.original_amount = sum((d.original_amount for d in docs), Decimal(0))
        case.open_documents = len(docs)
        case.oldest_due_date = min(dues) if dues else None
        case.dpd = max(0, (as_of - case.oldest_due_date).days) if case.oldest_due_date else 0
        case.bucket = bucket_for(case.dpd, buckets)
        case.as_of = as_of
        if not docs:
            case.status, case.balance, case.overdue_balance, case.original_amount = "closed", 0, 0, 0
        case.save()

        # Phases 2-8: facts, stage, segment, strategy, variant, due steps, priority.
        state = (
            CaseState.objects.filter(case=case)
            .select_related("stage", "segment", "strategy", "variant")
            .first()
        )
        holds = list(
            Hold.objects.filter(organization=org, debtor_id=case.debtor_id)
            .effective_on(as_of)
            .select_related("document")
            .order_by("starts_on", "id")
        )
        debtor_holds = [h for h in holds if h.scope == "debtor"]
        document_holds = [
            h for h in holds if h.scope == "document" and h.document.portfolio_id == case.portfolio_id
        ]
        facts, ledger = explain.gather_facts(
            case=case, as_of=as_of, state=state, document_holds=document_holds
        )
        stage = explain.decide_stage(
            case=case,
            as_of=as_of,
            facts=facts,
            oldest_due_date=ledger.oldest_due_date,
            stages=stages,
            state=state,
            previous_cycle=previous,
        )
        facts["stage"] = stage.stage.code if stage.stage is not None else None
        facts["days_in_stage"] = (as_of - stage.entered_on).days if stage.entered_on is not None else None
        segment = None
        if facts["open_documents"]:
            segment = next((seg for seg, rule in segments if rules.evaluate(rule, facts)), None)
        strategy = explain.choose_strategy(
            stage=stage,
            segment=segment,
            strategies=strategies.get(stage.stage.pk, []) if stage.stage is not None else [],
            state=state,
            as_of=as_of,
            previous_cycle=previous,
        )
        variant = explain.choose_variant(
            case=case,
            strategy=strategy,
            variants=variants.get(strategy.strategy.pk, []) if strategy.strategy is not None else [],
            state=state,
        )
        outcomes = []
        if variant.variant is not None:
            variant_steps = steps.get(variant.variant.pk, [])
            done = {
                (a.step_id, a.due_on): a
                for a in Action.objects.filter(case=case, step__in=[s.pk for s in variant_steps])
            }
            outcomes = explain.judge_steps(
                case=case,
                as_of=as_of,
                facts=facts,
                ledger=ledger,
                stage=stage,
                strategy=strategy,
                steps=variant_steps,
                actions=done,
                debtor_holds=debtor_holds,
                contact_points=list(ContactPoint.objects.filter(debtor_id=case.debtor_id).order_by("pk")),
                settings=settings,
            )
        priority = explain.compute_priority(case=case, facts=facts, stage=stage.stage, settings=settings)

        # The writes.
        if state is None:
            state = CaseState(case=case, organization=org)
        if (stage.stage.pk if stage.stage else None) != state.stage_id:
            StageTransition(
                organization=org,
                case=case,
                from_stage_id=state.stage_id,
                to_stage=stage.stage,
                business_date=as_of,
                reason="closed" if stage.move == StageMove.CLOSED else reasons.get(stage.move, "rule"),
            ).save()
        state.stage = stage.stage
        state.stage_entered_on = stage.entered_on
        state.segment = segment
        state.strategy = strategy.strategy
        state.variant = variant.variant
        state.strategy_entered_on = strategy.entered_on
        state.probability = priority.probability
        state.expected_recovery = priority.expected_recovery
        state.priority = priority.priority
        state.as_of = as_of
        state.save()

        actions = []
        for outcome in outcomes:
            recorded = outcome.recorded_today
            if recorded is None:
                continue
            step = outcome.step
            action = Action(
                organization=org,
                case=case,
                step=step,
                variant=state.variant,
                due_on=outcome.due_on,
                business_date=as_of,
                status=recorded[0],
                skip_reason=recorded[1],
            )
            action.save()
            target = ""
            if outcome.status == StepStatus.FIRES and step.action == "message":
                message = Message(
                    organization=org,
                    case=case,
                    debtor=case.debtor,
                    channel=step.channel,
                    contact_point=outcome.contact_point,
                    template=step.template,
                    language=step.template.language,
                    business_date=as_of,
                    status=MessageStatus.QUEUED,
                    idempotency_key=f"cycle:{action.pk}",
                )
                message.save()
                action.message = message
                action.save()
                target = f"{step.channel}:{outcome.contact_point.pk}"
            elif outcome.status == StepStatus.FIRES:
                task = Task(
                    organization=org,
                    case=case,
                    kind=step.task_kind,
                    title=step.name,
                    due_on=as_of,
                    priority=state.priority,
                )
                task.save()
                action.task = task
                action.save()
                target = f"task:{step.task_kind}"
            actions.append((step.pk, outcome.due_on, recorded[0], recorded[1], target))
        for task in Task.objects.filter(case=case, status=TaskStatus.OPEN).exclude(priority=state.priority):
            task.priority = state.priority
            task.save()
        decisions[case_id] = _decision(state, actions)
    return decisions


def _decision(state, actions) -> dict:
    return {
        "stage": state.stage_id,
        "stage_entered_on": state.stage_entered_on,
        "segment": state.segment_id,
        "strategy": state.strategy_id,
        "variant": state.variant_id,
        "strategy_entered_on": state.strategy_entered_on,
        "priority": Decimal(state.priority).quantize(Decimal("0.01")),
        "actions": sorted(actions, key=lambda a: (a[0], a[1])),
    }


def engine_decisions(org, case_ids: list[int], as_of: dt.date) -> dict[int, dict]:
    """The same decisions, as the engine stored them for ``as_of``."""
    from recobro.strategy.models import Action, CaseState

    decisions = {}
    states = {s.case_id: s for s in CaseState.objects.filter(case_id__in=case_ids)}
    actions: dict[int, list] = {}
    rows = Action.objects.filter(case_id__in=case_ids, business_date=as_of).select_related(
        "step", "message", "task"
    )
    for a in rows:
        target = ""
        if a.message_id:
            target = f"{a.message.channel}:{a.message.contact_point_id}"
        elif a.task_id:
            target = f"task:{a.task.kind}"
        actions.setdefault(a.case_id, []).append((a.step_id, a.due_on, a.status, a.skip_reason, target))
    for case_id in case_ids:
        state = states.get(case_id)
        if state is not None:
            decisions[case_id] = _decision(state, actions.get(case_id, []))
    return decisions


def compare(naive: dict[int, dict], engine: dict[int, dict]) -> dict:
    """Cases whose decisions agree, and for each field the disagreements (a few examples)."""
    fields: Counter = Counter()
    examples: dict[str, list] = {}
    same = 0
    for case_id, mine in naive.items():
        theirs = engine.get(case_id)
        if theirs is None:
            fields["no state"] += 1
            examples.setdefault("no state", []).append(case_id)
            continue
        differ = [name for name in mine if mine[name] != theirs[name]]
        same += not differ
        for name in differ:
            fields[name] += 1
            if len(examples.setdefault(name, [])) < 3:
                examples[name].append({"case": case_id, "naive": mine[name], "engine": theirs[name]})
    return {"cases": len(naive), "same": same, "differences": dict(fields), "examples": examples}


# --- the run ----------------------------------------------------------------------------------


def _phases(run: dict) -> str:
    """ "(promises 0.3 s, cases 10.1 s, chunks 57.5 s; 45 s CPU)": the engine's phases and,
    on SQLite (which runs in this process), the CPU seconds — wall time on a shared machine
    also counts other people's work."""
    phases = run["phases_s"]
    text = ", ".join(f"{name} {phases[name]} s" for name in ("promises", "cases", "chunks") if name in phases)
    if run.get("database_peak_private_mb") is None:
        text += f"; {run['python_cpu_s']} s CPU"
    return f"({text})"


def summary_rows(r: dict, database: str) -> list[tuple[str, str, str]]:
    """The README's rows for one run (also rebuilt from a stored JSON's results)."""
    full = r["cases_requested"] >= FULL_CASES
    postgres = database.startswith("PostgreSQL")
    first, again, nxt, data, counts = (
        r["first_run"],
        r["rerun"],
        r["next_day"],
        r["data"],
        r["after_first_run"],
    )
    memory = f"{r['peak_rss_mb']:,} MB"
    if postgres:
        memory += f" + {r['database_peak_private_mb']:,} MB in the database backends"
    messages = counts["messages"] - data["messages_delivered"]  # the history's are not the cycle's
    tasks = counts["tasks"] - data["calls_done"]
    aged = nxt["counts"].get("cases_refreshed", {}).get("updated", 0)
    return [
        (
            "data",
            f"{data['cases']:,} cases, {data['documents']:,} documents, {data['segments']} segments,"
            f" {data['strategies']} strategies × 2 variants, {data['steps']} steps",
            "",
        ),
        (
            f"run_cycle, first run ({counts['case_states']:,} states, {counts['actions']:,} actions,"
            f" {messages:,} messages, {tasks:,} tasks)",
            f"{first['seconds']} s {_phases(first)}",
            ("≤ 60 s" if postgres else "≤ 180 s") if full else "",
        ),
        (
            f"same day again ({sum(r['rerun_new_rows'].values())} new rows)",
            f"{again['seconds']} s {_phases(again)}",
            "≤ 15 s, 0 rows" if full else "0 rows",
        ),
        (
            f"next day, after {r['next_day_payments']:,} payments ({aged:,} cases aged,"
            f" {r['next_day_new_rows']['actions']:,} actions)",
            f"{nxt['seconds']} s {_phases(nxt)}",
            "",
        ),
        (
            f"naive per-case ORM cycle, {r['sample']:,}-case sample ({r['naive_reads_per_case']} reads,"
            f" {r['naive_writes_per_case']} writes per case)",
            f"{r['naive_s']} s ({r['naive_cases_per_s']} cases/s vs {r['engine_cases_per_s']:,} next day)",
            "",
        ),
        ("engine vs naive, cases per second", f"{r['ratio']}×", "≥ 50×"),
        (
            "naive and engine decide the same (sampled cases)",
            f"{r['comparison']['same']:,} of {r['comparison']['cases']:,}",
            "all",
        ),
        ("peak memory", memory, "< 3 GB"),
    ]


def main() -> None:
    args = parse_args()
    admin_url = common.open_database(DATABASE, env={"DEBUG": os.environ.get("DEBUG", "0")})
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import translation

    translation.activate("en")
    from recobro.core.models import Organization
    from recobro.portfolio.models import Case
    from recobro.strategy.engine import run as engine_run

    database = common.database_label()
    day = cycle_data.AS_OF
    next_day = day + dt.timedelta(days=1)
    print(f"{database}: {args.cases:,} cases, {args.cases * args.docs_per_case:,} documents")
    r: dict = {"cases_requested": args.cases, "docs_per_case": args.docs_per_case, "seed": args.seed}
    r["chunk_size"] = engine_run.CHUNK_SIZE
    r["workers"] = engine_run.WORKERS
    try:
        with common.timed(r, "migrate_s"):
            call_command("migrate", verbosity=0)
        with common.timed(r, "generate_s"):
            data = cycle_data.generate(cases=args.cases, docs_per_case=args.docs_per_case, seed=args.seed)
        org = data.organization
        r["data"] = data.counts
        r["generate_timings"] = data.timings
        r["open_cases"] = Case.objects.filter(organization=org, status="open").count()
        print(f"  data generated in {r['generate_s']} s: {r['open_cases']:,} open cases")

        first = timed_cycle(org, day, admin_url)
        r["first_run"] = first
        r["after_first_run"] = after_first = table_counts(org)
        print(f"  (a) run_cycle {day}, first run: {first['seconds']} s {first['phases_s']}")
        print(f"      slowest statements: {_slowest(first)}")
        print(f"      {after_first}")

        again = timed_cycle(org, day, admin_url)
        r["rerun"] = again
        after_again = table_counts(org)
        r["rerun_new_rows"] = {
            k: after_again[k] - after_first[k] for k in after_again if k != "promises_pending"
        }
        print(f"  (b) same day again: {again['seconds']} s, new rows {r['rerun_new_rows']}")
        print(f"      slowest statements: {_slowest(again)}")

        # The next business day: its payments come in, the clock moves.
        r["next_day_payments"] = cycle_data.pay_day(org, next_day)
        Organization.objects.filter(pk=org.pk).update(business_date_override=next_day)
        org.refresh_from_db()
        open_ids = list(
            Case.objects.filter(organization=org, status="open").order_by("pk").values_list("pk", flat=True)
        )
        step = max(1, len(open_ids) // max(1, args.sample))
        sample = open_ids[::step][: args.sample]
        r["sample"] = len(sample)
        statements = Counter()

        def count(execute, sql, params, many, context):
            statements["write" if sql.lstrip()[:6].upper() in ("INSERT", "UPDATE", "DELETE") else "read"] += 1
            return execute(sql, params, many, context)

        with transaction.atomic(), connection.execute_wrapper(count):
            cpu = cpu_s()
            start = time.perf_counter()
            naive = naive_cycle(org, sample, next_day)
            r["naive_s"] = round(time.perf_counter() - start, 2)
            r["naive_python_cpu_s"] = round(cpu_s() - cpu, 2)
            transaction.set_rollback(True)
        r["naive_reads_per_case"] = round(statements["read"] / max(1, len(sample)), 1)
        r["naive_writes_per_case"] = round(statements["write"] / max(1, len(sample)), 1)
        print(
            f"  naive ORM cycle of {len(sample):,} cases for {next_day}: {r['naive_s']} s (rolled back);"
            f" {r['naive_reads_per_case']} reads and {r['naive_writes_per_case']} writes per case"
        )

        before_next = table_counts(org)
        nxt = timed_cycle(org, next_day, admin_url)
        r["next_day"] = nxt
        after_next = table_counts(org)
        r["next_day_new_rows"] = {k: after_next[k] - before_next[k] for k in after_next}
        print(f"  (c) next day {next_day}: {nxt['seconds']} s {nxt['phases_s']}")
        print(f"      slowest statements: {_slowest(nxt)}")
        print(f"      new rows {r['next_day_new_rows']}")

        r["comparison"] = comparison = compare(naive, engine_decisions(org, sample, next_day))
        engine_rate = len(open_ids) / nxt["seconds"] if nxt["seconds"] else None
        naive_rate = len(sample) / r["naive_s"] if r["naive_s"] else None
        r["engine_cases_per_s"] = round(engine_rate) if engine_rate else None
        r["naive_cases_per_s"] = round(naive_rate, 1) if naive_rate else None
        r["ratio"] = round(engine_rate / naive_rate, 1) if engine_rate and naive_rate else None
        print(
            f"  engine {r['engine_cases_per_s']:,} cases/s vs naive {r['naive_cases_per_s']} cases/s:"
            f" {r['ratio']}x; same decisions on {comparison['same']:,} of {comparison['cases']:,} sampled"
        )
        if comparison["differences"]:
            print(f"      differences: {comparison['differences']}")
        r["peak_rss_mb"] = common.peak_rss_mb()
        db_peaks = [x["database_peak_private_mb"] or 0 for x in (first, again, nxt)]
        r["database_peak_private_mb"] = max(db_peaks) if admin_url else None
        print(f"  peak memory: process {r['peak_rss_mb']} MB, database {r['database_peak_private_mb']} MB")
    finally:
        common.close_database(DATABASE, admin_url, keep=args.keep)

    summary = summary_rows(r, database)
    if args.no_write:
        print("  (results not written: --no-write)")
        return
    path = common.write_results("cycle", database, r, summary)
    print(f"  results: {path.relative_to(BENCH_DIR.parent)}")


if __name__ == "__main__":
    main()
