"""When the daily cycle runs by itself: each organization's cycle at its local morning.

- With a Celery broker, beat runs ``run_due_cycles_task`` every 15 minutes
  (``settings.CELERY_BEAT_SCHEDULE``); it enqueues ``run_cycle_task`` for each due organization.
- In the embedded default (no broker: tasks run inline), the serving process starts an
  ``EmbeddedScheduler``, a daemon thread that calls the same ``run_due_cycles`` every few
  minutes, so the day's cycle runs with no worker and no beat.

An organization is *due* when its local time has passed its cycle hour
(``StrategySettings.cycle_hour``; the model default when it has no settings yet) and its
cycle for today's local date has not completed. Not due: an organization whose clock is
frozen (``business_date_override``: the simulator moves that clock and runs its cycles), one
whose cycle for today is running and started less than ``RUNNING_GRACE`` ago (another
process is at it; an older running cycle was killed and is resumed by running it again),
and one that already ran a cycle for a later date (a simulation went ahead of the real
date; history is not rewritten, so it waits until the real date catches up).
"""

import datetime as dt
import logging
import os
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection
from kombu.exceptions import OperationalError as BrokerError

from recobro.core import clock
from recobro.core.models import Organization
from recobro.strategy.engine.config import CycleError
from recobro.strategy.models import CycleRun, CycleStatus, StrategySettings

#: What one organization's cycle may fail with and the others must survive: its
#: configuration or date refused, the database, or the broker. Anything else is a bug.
CYCLE_FAILURES = (CycleError, DatabaseError, BrokerError)

logger = logging.getLogger(__name__)

#: A cycle marked running for longer than this is taken for dead and run again (it resumes
#: from its checkpoint). The full benchmark cycle (1,000,000 cases) takes about a minute.
RUNNING_GRACE = dt.timedelta(minutes=30)

#: How often the embedded scheduler looks for due cycles, and how long it waits after the
#: server starts before it looks the first time.
EMBEDDED_INTERVAL_SECONDS = 300
EMBEDDED_STARTUP_DELAY_SECONDS = 10

#: Management commands that serve the site (the embedded scheduler runs only in them).
SERVING_COMMANDS = frozenset({"runserver"})


@dataclass(frozen=True)
class DueCycle:
    """An organization whose cycle for ``as_of`` (its local date) should run now."""

    organization_id: int
    slug: str
    as_of: dt.date


def due_cycles(*, at: dt.datetime | None = None) -> list[DueCycle]:
    """The organizations whose daily cycle is due at the instant ``at`` (default: now).

    Three queries, whatever the number of organizations.
    """
    at = at or clock.now()
    if at.tzinfo is None:
        raise ValueError(f"at must be an aware datetime, not {at!r}")
    default_hour = StrategySettings._meta.get_field("cycle_hour").default
    hours = dict(StrategySettings.objects.values_list("organization_id", "cycle_hour"))
    candidates = []
    for organization in Organization.objects.filter(business_date_override__isnull=True).order_by("pk"):
        local = at.astimezone(ZoneInfo(organization.timezone))
        if local.hour >= hours.get(organization.pk, default_hour):
            candidates.append(DueCycle(organization.pk, organization.slug, local.date()))
    if not candidates:
        return []
    local_dates = {c.organization_id: c.as_of for c in candidates}
    busy = set()
    for organization_id, as_of, status, started_at in CycleRun.objects.filter(
        organization_id__in=list(local_dates), as_of__gte=min(local_dates.values())
    ).values_list("organization_id", "as_of", "status", "started_at"):
        today = local_dates[organization_id]
        if as_of == today and (
            status == CycleStatus.DONE or (status == CycleStatus.RUNNING and started_at >= at - RUNNING_GRACE)
        ):
            busy.add(organization_id)
        elif as_of > today and status == CycleStatus.DONE:
            busy.add(organization_id)  # a simulation ran ahead of the real date: wait for it
    return [c for c in candidates if c.organization_id not in busy]


def _enqueue_cycle(due: DueCycle) -> None:
    from recobro.strategy.tasks import run_cycle_task

    run_cycle_task.delay(due.organization_id, due.as_of.isoformat())


def run_due_cycles(
    *, at: dt.datetime | None = None, enqueue: Callable[[DueCycle], None] | None = None
) -> list[DueCycle]:
    """Enqueue ``run_cycle_task`` for every due organization; returns what it enqueued.

    Without a broker the task runs inline, one organization after the other; one
    organization's failure is logged and does not keep the others from their cycle.
    """
    enqueue = enqueue or _enqueue_cycle
    started = []
    for due in due_cycles(at=at):
        try:
            enqueue(due)
        except CYCLE_FAILURES:
            logger.exception("daily cycle of %s for %s failed", due.slug, due.as_of)
        else:
            started.append(due)
    return started


# --- The embedded scheduler ---------------------------------------------------------------------


class EmbeddedScheduler:
    """A daemon thread that calls ``run_due_cycles`` every ``interval`` seconds."""

    def __init__(
        self,
        *,
        interval: float = EMBEDDED_INTERVAL_SECONDS,
        startup_delay: float = EMBEDDED_STARTUP_DELAY_SECONDS,
        tick: Callable[[], object] | None = None,
    ):
        self.interval = interval
        self.startup_delay = startup_delay
        self.tick = tick or run_due_cycles
        self.ticks = 0
        self._stop = threading.Event()
        self.thread: threading.Thread | None = None

    def start(self) -> "EmbeddedScheduler":
        self.thread = threading.Thread(target=self._loop, name="recobro-cycle-scheduler", daemon=True)
        self.thread.start()
        return self

    def stop(self, timeout: float | None = None) -> None:
        self._stop.set()
        if self.thread is not None:
            self.thread.join(timeout)

    def is_alive(self) -> bool:
        return self.thread is not None and self.thread.is_alive()

    def _loop(self) -> None:
        if self._stop.wait(self.startup_delay):
            return
        while True:
            try:
                self.tick()
            except CYCLE_FAILURES:
                # The database may be missing or locked for a moment; try again next time.
                logger.exception("the embedded cycle scheduler could not look for due cycles")
            finally:
                self.ticks += 1
                close_old_connections()
                connection.close()
            if self._stop.wait(self.interval):
                return


def is_serving_process(argv: Sequence[str], environ: Mapping[str, str]) -> bool:
    """Whether this process serves the site: ``runserver --noreload``, or the child that
    ``runserver`` starts when it reloads on changes (``RUN_MAIN=true``; its parent only
    watches files)."""
    if len(argv) < 2 or argv[1] not in SERVING_COMMANDS:
        return False
    return environ.get("RUN_MAIN") == "true" or "--noreload" in argv


def embedded_scheduler_wanted(argv: Sequence[str], environ: Mapping[str, str]) -> bool:
    """On when configured (``RECOBRO_EMBEDDED_SCHEDULER``), with no broker (beat does it
    then), in the serving process only."""
    return (
        bool(getattr(settings, "RECOBRO_EMBEDDED_SCHEDULER", True))
        and bool(settings.CELERY_TASK_ALWAYS_EAGER)
        and is_serving_process(argv, environ)
    )


_scheduler: EmbeddedScheduler | None = None
_scheduler_lock = threading.Lock()


def start_embedded_scheduler(
    argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None, **kwargs
) -> EmbeddedScheduler | None:
    """Start the embedded scheduler once per process when it is wanted (called from
    ``StrategyConfig.ready``); returns it, or None when it is not wanted."""
    global _scheduler
    argv = sys.argv if argv is None else argv
    environ = os.environ if environ is None else environ
    if not embedded_scheduler_wanted(argv, environ):
        return None
    with _scheduler_lock:
        if _scheduler is None or not _scheduler.is_alive():
            _scheduler = EmbeddedScheduler(**kwargs).start()
            logger.info("embedded cycle scheduler started (every %s s)", _scheduler.interval)
        return _scheduler


def stop_embedded_scheduler(timeout: float | None = None) -> None:
    global _scheduler
    with _scheduler_lock:
        if _scheduler is not None:
            _scheduler.stop(timeout)
            _scheduler = None
