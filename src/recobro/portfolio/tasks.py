"""Celery tasks of the ledger: thin adapters that call the engines."""

from celery import shared_task
from django.db import transaction

from recobro.core.models import Organization
from recobro.portfolio.engine import refresh_cases
from recobro.portfolio.importers import run_import
from recobro.portfolio.models import ImportJob


@shared_task(name="recobro.portfolio.run_import")
def run_import_task(job_id: int) -> str:
    """Run one import job; returns its final status."""
    job = ImportJob.objects.select_related("organization", "portfolio", "profile", "created_by").get(
        pk=job_id
    )
    return run_import(job).status


@shared_task(name="recobro.portfolio.refresh_cases")
def refresh_cases_task(organization_id: int) -> dict[str, int]:
    """Recompute every case of one organization (after its aging buckets changed); returns
    the engine's counts."""
    return refresh_cases(organization=Organization.objects.get(pk=organization_id))


def refresh_cases_later(organization: Organization) -> None:
    """Enqueue ``refresh_cases_task`` once the current transaction commits (inline when
    Celery is eager, the embedded default)."""
    organization_id = organization.pk
    transaction.on_commit(lambda: refresh_cases_task.delay(organization_id))
