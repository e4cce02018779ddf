"""Celery tasks of the strategy engine: thin adapters that call the engines."""

import datetime as dt

from celery import shared_task

from recobro.core.models import Organization
from recobro.strategy.engine import run_cycle


@shared_task(name="recobro.strategy.run_cycle")
def run_cycle_task(organization_id: int, as_of: str | None = None) -> dict:
    """Run one organization's daily cycle for ``as_of`` (ISO date; default: its business
    date). Returns the run's counts."""
    organization = Organization.objects.get(pk=organization_id)
    day = dt.date.fromisoformat(as_of) if as_of else organization.today()
    return run_cycle(organization=organization, as_of=day)
