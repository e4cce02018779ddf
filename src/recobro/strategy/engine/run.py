"""``run_cycle``: the daily cycle of one organization for one business date.

Phase 1 (promises, then case facts) runs as its own engines do; phases 2–8 run per chunk of
debtor ids (every case of a debtor in the same chunk), each chunk in one transaction with a
fixed list of statements (scratch tables FACTS → DECISIONS → DUE, then the writes), and the
CycleRun row records each chunk done in the same transaction. Killed at any point and run
again for the same date, a run skips the chunks already done and redoes the rest, so the end
state is that of an uninterrupted run. Every write is guarded by "differs" or "not yet
there", so running a date again changes only what its inputs changed; and a re-run of a
completed date redoes only the debtors with an input written since its pass started
(``changes``): when nothing changed it runs a few statements and writes nothing. On
PostgreSQL, outside a transaction, chunks run on several connections at once."""

from __future__ import annotations

import datetime as dt
import logging
import os
import signal
import threading
from collections import Counter, defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from recobro.core.clock import now
from recobro.negotiation.engine import resolve_promises
from recobro.negotiation.models import PromiseStatus
from recobro.portfolio import dialect
from recobro.portfolio.engine import refresh_cases
from recobro.strategy.models import CycleRun, CycleStatus, StageTransition

from . import assignment, changes, facts, priority, stages, steps
from . import sql as q
from .config import CycleError, load_config
from .context import DECISIONS, DUE, FACTS, CycleContext
from .facts import CASE, MESSAGE, STATE, TASK

TRANSITION = StageTransition._meta.db_table
logger = logging.getLogger(__name__)

#: Debtor ids per chunk. A chunk is ~20 statements in one transaction: its facts (one join of
#: the cases with their debtors, states and history aggregates), decisions, the state and
#: transition writes, due steps and their inserts. 50,000 ids keep each statement's scratch
#: tables in a few MB and row locks on at most 50,000 states until the chunk commits; a
#: smaller chunk costs ~20 more statements (~20 ms) for each 50,000 cases.
CHUNK_SIZE = int(
    os.environ.get("RECOBRO_CYCLE_CHUNK_SIZE") or getattr(settings, "RECOBRO_CYCLE_CHUNK_SIZE", 0) or 50_000
)

#: Chunks of a run made outside any transaction go to this many connections on PostgreSQL.
WORKERS = int(getattr(settings, "RECOBRO_CYCLE_WORKERS", 0) or min(4, os.cpu_count() or 1))

#: A re-run with more changed debtors than this goes over every debtor id window instead of
#: lists of ids (a window reads its debtors' rows by range, cheaper than a long id list).
INCREMENTAL_LIMIT = 200_000

#: Cases in the dry run's sample.
SAMPLE_SIZE = 20

#: Test hook: the process kills itself (SIGKILL) once this many chunks have committed, so
#: tests can check that a run killed in the middle resumes to the same end state.
KILL_AFTER_CHUNKS_ENV = "RECOBRO_TEST_CYCLE_KILL_AFTER_CHUNKS"

Progress = Callable[[str, int, int], None]

_STATE_COLUMNS = (
    ("stage_id", "new_stage_id"),
    ("stage_entered_on", "new_stage_entered_on"),
    ("segment_id", "new_segment_id"),
    ("strategy_id", "new_strategy_id"),
    ("variant_id", "new_variant_id"),
    ("strategy_entered_on", "new_strategy_entered_on"),
)


def run_cycle(
    *,
    organization,
    as_of: dt.date,
    dry_run: bool = False,
    allow_future: bool = False,
    progress: Progress | None = None,
) -> dict:
    """Run the daily cycle of ``organization`` for ``as_of`` (docs/strategy.md).

    Returns counts; a dry run also returns ``plan`` (cases per stage, segment and variant,
    actions per step and channel, a sample of cases with their decisions) and writes nothing.
    Raises ``CycleError`` before writing anything for a date beyond the organization's
    tomorrow (unless ``allow_future``), a date before its last completed cycle, or a broken
    configuration. ``progress(phase, done, total)`` is called as the run advances.
    """
    if isinstance(as_of, dt.datetime) or not isinstance(as_of, dt.date):
        raise TypeError(f"as_of must be a date, not {as_of!r}")
    tomorrow = organization.today() + dt.timedelta(days=1)
    if as_of > tomorrow and not allow_future:
        raise CycleError(
            _(
                "%(date)s is after %(organization)s's tomorrow (%(tomorrow)s): a cycle for a future "
                "date needs allow_future (--allow-future)."
            )
            % {"date": as_of.isoformat(), "organization": organization, "tomorrow": tomorrow.isoformat()}
        )
    runs = CycleRun.objects.filter(organization=organization, status=CycleStatus.DONE)
    last_done = runs.aggregate(last=Max("as_of"))["last"]
    if last_done is not None and as_of < last_done:
        raise CycleError(
            _(
                "%(organization)s already completed the cycle of %(last)s: a cycle for an earlier date "
                "(%(date)s) would rewrite history."
            )
            % {"organization": organization, "last": last_done.isoformat(), "date": as_of.isoformat()}
        )
    config = load_config(organization)
    ctx = CycleContext(
        organization_id=organization.pk,
        timezone=organization.timezone,
        as_of=as_of,
        previous=runs.filter(as_of__lt=as_of).aggregate(last=Max("as_of"))["last"],
        config=config,
        vendor=connection.vendor,
    )
    cycle = _Cycle(ctx, dry_run=dry_run, progress=progress)
    cycle.compile()  # every rule compiles before anything is written
    if dry_run:
        with transaction.atomic():
            counts = cycle.run(organization, None)
            transaction.set_rollback(True)
        return counts
    run, since = _start(organization, as_of, changes.fingerprint(organization, config))
    try:
        counts = cycle.run(organization, run, since=since)
    except BaseException as error:
        _fail(run, error)
        raise
    return counts


def _start(organization, as_of: dt.date, fingerprint: str) -> tuple[CycleRun, dt.datetime | None]:
    """The CycleRun of the date and, for a re-run of a completed pass, the moment since which
    changed debtors are redone (None: a full pass).

    A new date starts a full pass; a running or failed one resumes its pass (its chunks done
    are kept; a failed re-run is re-run); a completed one is re-run over the debtors changed
    since its pass started, unless the configuration changed since (then a full pass again).
    ``pass_started_at`` is when the pass the results stand on started (its first attempt)."""
    started = now()
    with transaction.atomic():
        run, created = CycleRun.objects.select_for_update().get_or_create(
            organization=organization,
            as_of=as_of,
            defaults={"pass_started_at": started, "counts": {"config": fingerprint}},
        )
        if created:
            return run, None
        counts = run.counts or {}
        rerun = run.status == CycleStatus.DONE or counts.get("incremental")
        if rerun and run.pass_started_at is not None and counts.get("config") == fingerprint:
            since = run.pass_started_at
            run.counts = {"config": fingerprint, "incremental": True}
            run.checkpoint = None
        elif rerun or not counts.get("chunks_done"):
            since = None  # from the start: a full pass
            run.pass_started_at = started
            run.counts = {"config": fingerprint}
            run.checkpoint = None
        else:
            since = None  # resumed: the pass started with its first attempt
        run.status = CycleStatus.RUNNING
        run.attempts += 1
        run.error = ""
        run.finished_at = None
        run.save(
            update_fields=[
                "status",
                "attempts",
                "error",
                "finished_at",
                "counts",
                "checkpoint",
                "pass_started_at",
            ]
        )
    return run, since


def _fail(run: CycleRun, error: BaseException) -> None:
    try:
        if connection.in_atomic_block:
            return  # the caller's transaction rolls everything back, this too
        CycleRun.objects.filter(pk=run.pk).update(
            status=CycleStatus.FAILED, error=f"{type(error).__name__}: {error}"[:5000]
        )
    except DatabaseError:  # the original error is re-raised by the caller either way
        logger.exception("cycle run %s: could not record the failure", run.pk)


def _windows(organization_id: int, size: int) -> list[tuple[int, int]]:
    """[low, high) debtor id windows aligned on multiples of ``size`` (the same on a resumed
    run), over the debtors that have cases."""
    cases = f"FROM {CASE} WHERE organization_id = %s"
    with connection.cursor() as cursor:
        # Two subqueries: each walks the debtor index to its end (one SELECT with both scans).
        cursor.execute(
            f"SELECT (SELECT MIN(debtor_id) {cases}), (SELECT MAX(debtor_id) {cases})",
            [organization_id, organization_id],
        )
        low, high = cursor.fetchone()
    if low is None:
        return []
    start = (low // size) * size
    return [(w, w + size) for w in range(start, high + 1, size)]


class _Cycle:
    def __init__(self, ctx: CycleContext, *, dry_run: bool, progress: Progress | None):
        self.ctx = ctx
        self.dry_run = dry_run
        self.progress = progress or (lambda phase, done, total: None)
        self.lock = threading.Lock()
        self.committed = 0
        self.kill_after = int(os.environ.get(KILL_AFTER_CHUNKS_ENV) or 0)
        self.sample: list[dict] = []
        self.plan_counts: Counter = Counter()
        self.sequences: dict[str, str] = {}
        self.totals: dict = {}
        self.finished = 0

    # --- statements -------------------------------------------------------------------

    def compile(self) -> None:
        """Build every statement once (rules compile here: a broken one fails now)."""
        if self.ctx.postgresql:
            self.sequences = _sequences()
        self._statements(0, 0, now())

    def _decisions_sql(self) -> tuple[str, list]:
        ctx = self.ctx
        fence = ctx.fence()
        target, target_params = stages.target_sql(ctx, "f")
        level_a = f"SELECT f.*, {target} AS target_stage_id FROM {FACTS} f {fence}"
        new_stage, new_stage_params = stages.new_stage_sql(ctx, "a")
        level_b = f"SELECT a.*, {new_stage} AS new_stage_id FROM ({level_a}) a {fence}"
        stage_columns, stage_params = stages.stage_columns_sql(ctx, "b")
        probability, probability_params = priority.probability_sql(ctx, "b")
        weight, weight_params = stages.weight_sql(ctx, "b.new_stage_id")
        level_c = (
            f"SELECT b.*, {', '.join(stage_columns)}, {probability} AS probability_e4, {weight} AS weight_e2"
            f" FROM ({level_b}) b {fence}"
        )
        days = q.days_between(q.date_param(), "c.new_stage_entered_on")
        level_d = (
            f"SELECT c.*, CASE WHEN c.new_stage_id IS NOT NULL THEN {days} END AS new_days_in_stage,"
            f" CAST({priority.expected_cents_sql('c')} AS BIGINT) AS expected_cents"
            f" FROM ({level_c}) c {fence}"
        )
        segment, segment_params = assignment.segment_sql(ctx, "x")
        level_e = f"SELECT x.*, {segment} AS new_segment_id FROM ({level_d}) x {fence}"
        strategy, strategy_params = assignment.strategy_sql(ctx, "e")
        level_f = (
            f"SELECT e.*, {strategy} AS new_strategy_id,"
            f" CAST({priority.priority_cents_sql('e', 'e.weight_e2')} AS BIGINT) AS priority_cents"
            f" FROM ({level_e}) e {fence}"
        )
        variant_columns, variant_params = assignment.variant_columns_sql(ctx, "g")
        sql = f"SELECT g.*, {', '.join(variant_columns)} FROM ({level_f}) g"
        params = [
            *variant_params,
            *strategy_params,
            *segment_params,
            ctx.as_of,
            *stage_params,
            *probability_params,
            *weight_params,
            *new_stage_params,
            *target_params,
        ]
        return sql, params

    def _statements(self, low: int, high: int, stamp, ids=None) -> dict[str, list[tuple[str, list]]]:
        ctx = self.ctx
        facts_select, facts_params = facts.facts_sql(ctx, low, high, ids)
        decisions_select, decisions_params = self._decisions_sql()
        due_select, due_params = steps.due_sql(ctx)
        org = ctx.organization_id
        date = q.date_param()

        differs = " OR ".join(
            [q.is_distinct(f"d.{new}", f"d.old_{column}") for column, new in _STATE_COLUMNS]
            + [
                "d.probability_e4 <> d.old_probability_e4",
                "d.expected_cents <> d.old_expected_cents",
                "d.priority_cents <> d.old_priority_cents",
            ]
        )
        probability = (
            "CAST(d.probability_e4 / 10000.0 AS NUMERIC(5, 4))"
            if ctx.postgresql
            else "(d.probability_e4 / 10000.0)"
        )
        values = {
            **{column: f"d.{new}" for column, new in _STATE_COLUMNS},
            "probability": probability,
            "expected_recovery": q.money("d.expected_cents"),
            "priority": q.money("d.priority_cents"),
        }
        update_state = (
            f"UPDATE {STATE} SET "
            + ", ".join(f"{column} = {value}" for column, value in values.items())
            + f", as_of = {date} FROM {DECISIONS} d WHERE {STATE}.case_id = d.case_id AND d.has_state = TRUE"
            f" AND ({differs})"
        )
        insert_state = (
            f"INSERT INTO {STATE} (case_id, organization_id, {', '.join(values)}, as_of)"
            f" SELECT d.case_id, %s, {', '.join(values.values())}, {date} FROM {DECISIONS} d"
            f" WHERE d.has_state = FALSE"
        )
        transitions = (
            f"INSERT INTO {TRANSITION} (organization_id, case_id, from_stage_id, to_stage_id, business_date,"
            f" reason, note, user_id, created_at)"
            f" SELECT %s, d.case_id, d.old_stage_id, d.new_stage_id, {date}, d.transition_reason,"
            f" '', NULL, %s"
            f" FROM {DECISIONS} d WHERE d.transition_reason IS NOT NULL"
        )
        task_priority = (
            f"UPDATE {TASK} SET priority = {q.money('d.priority_cents')} FROM {DECISIONS} d"
            f" WHERE {TASK}.case_id = d.case_id AND {TASK}.status = 'open'"
            f" AND {q.cents(f'{TASK}.priority')} <> d.priority_cents"
        )
        return {
            "facts": [
                (dialect.drop_temp_table(FACTS), []),
                (f"{dialect.create_temp_table_as(FACTS)} {facts_select}", facts_params),
                *facts.document_hold_sql(ctx),
            ],
            "decisions": [
                (dialect.drop_temp_table(DECISIONS), []),
                (f"{dialect.create_temp_table_as(DECISIONS)} {decisions_select}", decisions_params),
            ],
            "state": [(update_state, [ctx.as_of]), (insert_state, [org, ctx.as_of])],
            "transitions": [(transitions, [org, ctx.as_of, stamp])],
            "due": [
                (dialect.drop_temp_table(DUE), []),
                (f"{dialect.create_temp_table_as(DUE)} {due_select}", due_params),
                *steps.id_sql(ctx, self.sequences),
            ],
            "inserts": steps.insert_sql(ctx, stamp),
            "task_priority": [(task_priority, [])],
        }

    # --- the run ----------------------------------------------------------------------

    def run(self, organization, run: CycleRun | None, since: dt.datetime | None = None) -> dict:
        """The run's phases; ``since``: only the debtors with an input written since then."""
        ctx = self.ctx
        attempt_started = now()
        debtors = None if since is None else changes.dirty_debtors(ctx.organization_id, since)
        if debtors is not None and len(debtors) > INCREMENTAL_LIMIT:
            debtors = None  # many changes: by windows, every debtor (unchanged ones write nothing)
        self.progress("promises", 0, 1)
        if debtors == []:
            outcomes = (PromiseStatus.KEPT, PromiseStatus.PARTLY_KEPT, PromiseStatus.BROKEN)
            promises = {**{str(s): 0 for s in outcomes}, "updated": 0}
            refreshed = {"created": 0, "updated": 0, "closed": 0, "chunks": 0}
        else:
            promises = resolve_promises(organization=organization, as_of=ctx.as_of, debtor_ids=debtors)
            self.progress("cases", 0, 1)
            refreshed = refresh_cases(organization=organization, as_of=ctx.as_of, debtor_ids=debtors)
        done = set()
        if debtors is not None:
            windows = [
                (ids[0], ids[-1] + 1, ids)
                for ids in (debtors[i : i + CHUNK_SIZE] for i in range(0, len(debtors), CHUNK_SIZE))
            ]
        else:
            windows = _windows(ctx.organization_id, CHUNK_SIZE)
            if run is not None:
                done = {int(w) for w in (run.counts or {}).get("chunks_done", [])}
        if run is not None and windows:
            CycleRun.objects.filter(pk=run.pk).update(phase="chunks")
        todo = [w for w in windows if w[0] not in done]
        total = len(windows)
        self.finished = total - len(todo)
        self.progress("chunks", self.finished, total)
        parallel = (
            WORKERS > 1
            and len(todo) > 1
            and ctx.postgresql
            and not connection.in_atomic_block
            and not self.dry_run
        )
        if parallel:
            with ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="cycle") as pool:
                futures = [pool.submit(self._chunk_on_own_connection, w, run, total) for w in todo]
                try:
                    for future in futures:
                        future.result()
                except BaseException:
                    for future in futures:  # a failed chunk stops the run: no new chunk starts
                        future.cancel()
                    raise
        else:
            for window in todo:
                self._chunk_in_transaction(window, run, total)

        if run is not None:
            run.refresh_from_db()
            counts = _summary(run.counts.get("totals", {}), ctx, promises, refreshed, total, dry_run=False)
            counts["debtors_changed"] = None if since is None or debtors is None else len(debtors)
            done_fields = {"status": CycleStatus.DONE, "phase": "done", "finished_at": now()}
            if since is not None:
                # Every debtor changed before this attempt started has now been redone.
                done_fields["pass_started_at"] = attempt_started
            state = {k: v for k, v in run.counts.items() if k != "incremental"}
            CycleRun.objects.filter(pk=run.pk).update(**done_fields, counts={**state, "summary": counts})
            return counts
        counts = _summary(self.totals, ctx, promises, refreshed, total, dry_run=True)
        counts["plan"] = self._plan(counts)
        return counts

    def _chunk_on_own_connection(self, window, run, total) -> None:
        try:
            self._chunk_in_transaction(window, run, total)
        finally:
            connection.close()

    def _chunk_in_transaction(self, window, run, total) -> None:
        with transaction.atomic():
            counts = self._chunk(*window)
            if run is not None:
                _checkpoint(run, window, counts)
            else:
                self.totals = _add(self.totals, counts)
        with self.lock:
            self.finished += 1
            self.committed += 1
            self.progress("chunks", self.finished, total)
            if self.kill_after and self.committed >= self.kill_after:
                os.kill(os.getpid(), signal.SIGKILL)

    def _chunk(self, low: int, high: int, ids: list[int] | None = None) -> dict:
        """Phases 2–8 for the cases of the debtors with ids in [low, high) (and in ``ids``, when
        given); the caller holds the transaction."""
        counts: dict = {}
        statements = self._statements(low, high, now(), ids)
        with connection.cursor() as cursor, dialect.bulk_settings(cursor):
            if self.ctx.postgresql:
                # Two runs of one organization at once (a scheduler and a person) take turns
                # per chunk: the second reads what the first committed and writes nothing twice.
                # SQLite's write transactions are serial already.
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_lock_key(self.ctx.organization_id, low)])
            for sql, params in statements["facts"] + statements["decisions"]:
                cursor.execute(sql, params)
            written = 0
            for sql, params in statements["state"]:
                cursor.execute(sql, params)
                written += cursor.rowcount
            counts["states_written"] = written
            cursor.execute(*statements["transitions"][0])
            counts["stage_moves"] = cursor.rowcount
            for sql, params in statements["due"]:
                cursor.execute(sql, params)
            for name, (sql, params) in zip(
                ("messages", "tasks", "actions"), statements["inserts"], strict=True
            ):
                cursor.execute(sql, params)
                counts[name] = cursor.rowcount
            cursor.execute(*statements["task_priority"][0])
            counts["tasks_reprioritised"] = cursor.rowcount
            cursor.execute(f"SELECT COUNT(*) FROM {DECISIONS}")
            counts["cases"] = cursor.fetchone()[0]
            cursor.execute(steps.counts_sql())
            by_step: dict = defaultdict(dict)
            for step_id, reason, n in cursor.fetchall():
                by_step[str(step_id)][reason or "done"] = n
            counts["steps"] = dict(by_step)
            if self.dry_run:
                self._plan_chunk(cursor)
            for table in (FACTS, DECISIONS, DUE):
                cursor.execute(dialect.drop_temp_table(table), [])
        return counts

    # --- dry run plan -----------------------------------------------------------------

    def _plan_chunk(self, cursor) -> None:
        cursor.execute(
            f"SELECT new_stage_id, new_segment_id, new_strategy_id, new_variant_id, COUNT(*) FROM {DECISIONS}"
            f" WHERE {stages.case_open(DECISIONS)} GROUP BY new_stage_id, new_segment_id, new_strategy_id,"
            f" new_variant_id"
        )
        for stage_id, segment_id, strategy_id, variant_id, n in cursor.fetchall():
            self.plan_counts[(stage_id, segment_id, strategy_id, variant_id)] += n
        wanted = SAMPLE_SIZE - len(self.sample)
        if wanted <= 0:
            return
        cursor.execute(
            f"SELECT d.case_id, d.old_stage_id, d.new_stage_id, d.transition_reason, d.new_segment_id,"
            f" d.new_strategy_id, d.new_variant_id, d.priority_cents FROM {DECISIONS} d"
            f" ORDER BY CASE WHEN d.transition_reason IS NOT NULL"
            f" OR EXISTS (SELECT 1 FROM {DUE} x WHERE x.case_id = d.case_id) THEN 0 ELSE 1 END, d.case_id"
            f" LIMIT {int(wanted)}"
        )
        rows = cursor.fetchall()
        if not rows:
            return
        clause, params = dialect.id_in("x.case_id", [r[0] for r in rows])
        cursor.execute(
            f"SELECT x.case_id, x.step_id, x.due_on, x.skip_reason, x.contact_point_id FROM {DUE} x"
            f" WHERE {clause} ORDER BY x.case_id, x.position",
            params,
        )
        actions = defaultdict(list)
        for case_id, step_id, due_on, reason, contact_point_id in cursor.fetchall():
            actions[case_id].append((step_id, due_on, reason, contact_point_id))
        config = self.ctx.config
        step_by_id = {s.id: s for s in config.steps}
        for case_id, old_stage, new_stage, reason, segment_id, strategy_id, variant_id, cents in rows:
            self.sample.append(
                {
                    "case_id": case_id,
                    "stage": _code(config.stages, new_stage),
                    "from_stage": _code(config.stages, old_stage) if reason else None,
                    "stage_move": reason,
                    "segment": _code(config.segments, segment_id),
                    "strategy": _code(config.strategies, strategy_id),
                    "variant": _variant_code(config, variant_id),
                    "priority": f"{cents / 100:.2f}" if cents is not None else None,
                    "actions": [
                        {
                            "step": step_by_id[step_id].name if step_id in step_by_id else step_id,
                            "channel": step_by_id[step_id].channel if step_id in step_by_id else "",
                            "task_kind": step_by_id[step_id].task_kind if step_id in step_by_id else "",
                            "due_on": str(due_on),
                            "status": "done" if not reason else "skipped",
                            "reason": reason or "",
                            "contact_point_id": contact_point_id,
                        }
                        for step_id, due_on, reason, contact_point_id in actions.get(case_id, [])
                    ],
                }
            )

    def _plan(self, counts: dict) -> dict:
        config = self.ctx.config
        per_stage: Counter = Counter()
        per_segment: Counter = Counter()
        per_variant: Counter = Counter()
        for (stage_id, segment_id, strategy_id, variant_id), n in self.plan_counts.items():
            per_stage[_code(config.stages, stage_id)] += n
            per_segment[_code(config.segments, segment_id)] += n
            if variant_id is not None:
                per_variant[(_code(config.strategies, strategy_id), _variant_code(config, variant_id))] += n
        step_rows = []
        channels: Counter = Counter()
        task_kinds: Counter = Counter()
        for step in config.steps:
            outcome = counts["steps"].get(str(step.id), {})
            if not outcome:
                continue
            done = outcome.get("done", 0)
            strategy, variant = _step_owner(config, step)
            step_rows.append(
                {
                    "strategy": strategy,
                    "variant": variant,
                    "position": step.position,
                    "step": step.name,
                    "action": step.action,
                    "channel": step.channel,
                    "task_kind": step.task_kind,
                    "done": done,
                    "skipped": {k: v for k, v in outcome.items() if k != "done"},
                }
            )
            if step.channel:
                channels[step.channel] += done
            else:
                task_kinds[step.task_kind] += done
        return {
            "stages": dict(per_stage),
            "segments": dict(per_segment),
            "variants": [
                {"strategy": strategy, "variant": variant, "cases": n}
                for (strategy, variant), n in sorted(
                    per_variant.items(), key=lambda i: (str(i[0][0]), str(i[0][1]))
                )
            ],
            "steps": step_rows,
            "channels": dict(channels),
            "tasks": dict(task_kinds),
            "sample": self.sample,
        }


def _lock_key(organization_id: int, low: int) -> int:
    """A bigint advisory lock key for one organization's chunk (negative: a range of keys
    nothing else in Recobro uses)."""
    return -((organization_id % 2_000_000) * 4_000_000_000 + low % 4_000_000_000) - 1


def _code(items, item_id):
    if item_id is None:
        return None
    return next((i.code for i in items if i.id == item_id), str(item_id))


def _variant_code(config, variant_id):
    if variant_id is None:
        return None
    for strategy in config.strategies:
        for variant in strategy.variants:
            if variant.id == variant_id:
                return variant.code
    return str(variant_id)


def _step_owner(config, step) -> tuple[str, str]:
    for strategy in config.strategies:
        for variant in strategy.variants:
            if variant.id == step.variant_id:
                return strategy.code, variant.code
    return "", ""


def _sequences() -> dict[str, str]:
    names = {}
    with connection.cursor() as cursor:
        for table in (steps.ACTION, MESSAGE, TASK):
            cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
            names[table] = cursor.fetchone()[0]
    return names


def _add(totals: dict, counts: dict) -> dict:
    result = dict(totals)
    for key, value in counts.items():
        if key == "steps":
            steps_total = {k: dict(v) for k, v in result.get("steps", {}).items()}
            for step_id, outcome in value.items():
                target = steps_total.setdefault(step_id, {})
                for reason, n in outcome.items():
                    target[reason] = target.get(reason, 0) + n
            result["steps"] = steps_total
        else:
            result[key] = result.get(key, 0) + value
    return result


def _checkpoint(run: CycleRun, window: tuple, counts: dict) -> None:
    """Record the chunk as done, in the chunk's own transaction. A re-run's chunks (lists of
    changed debtors) only add their counts: a failed re-run is re-run whole."""
    locked = CycleRun.objects.select_for_update().only("counts", "checkpoint").get(pk=run.pk)
    state = dict(locked.counts or {})
    state["totals"] = _add(state.get("totals", {}), counts)
    if len(window) > 2:
        CycleRun.objects.filter(pk=run.pk).update(counts=state)
        return
    state["chunks_done"] = sorted({*state.get("chunks_done", []), window[0]})
    CycleRun.objects.filter(pk=run.pk).update(
        counts=state, checkpoint=max(window[1] - 1, locked.checkpoint or 0)
    )


def _summary(
    totals: dict, ctx: CycleContext, promises: dict, refreshed: dict, chunks: int, *, dry_run: bool
) -> dict:
    by_reason: Counter = Counter()
    done = 0
    for outcome in totals.get("steps", {}).values():
        for reason, n in outcome.items():
            if reason == "done":
                done += n
            else:
                by_reason[reason] += n
    return {
        "as_of": ctx.as_of.isoformat(),
        "dry_run": dry_run,
        "promises": promises,
        "cases_refreshed": refreshed,
        "chunks": chunks,
        "cases": totals.get("cases", 0),
        "states_written": totals.get("states_written", 0),
        "stage_moves": totals.get("stage_moves", 0),
        "actions": totals.get("actions", 0),
        "actions_done": done,
        "actions_skipped": sum(by_reason.values()),
        "skipped": dict(by_reason),
        "messages": totals.get("messages", 0),
        "tasks": totals.get("tasks", 0),
        "tasks_reprioritised": totals.get("tasks_reprioritised", 0),
        "steps": totals.get("steps", {}),
    }
