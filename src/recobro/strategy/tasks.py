"""Celery tasks of the strategy engine: thin adapters that call the engines."""

import datetime as dt

from celery import shared_task

from recobro.core.models import Organization
from recobro.strategy.engine import run_cycle
from recobro.strategy.schedule import run_due_cycles


@shared_task(name="recobro.strategy.run_cycle")
def run_cycle_task(organization_id: int, as_of: str | None = None) -> dict:
    """Run one organization's daily cycle for ``as_of`` (ISO date; default: its business
    date). Returns the run's counts."""
    organization = Organization.objects.get(pk=organization_id)
    day = dt.date.fromisoformat(as_of) if as_of else organization.today()
    return run_cycle(organization=organization, as_of=day)


@shared_task(name="recobro.strategy.run_due_cycles")
def run_due_cycles_task() -> list[str]:
    """Beat runs this every 15 minutes: enqueue the cycle of every organization whose local
    cycle hour has passed and whose cycle for today has not completed (``schedule``)."""
    return [f"{due.slug}:{due.as_of.isoformat()}" for due in run_due_cycles()]
