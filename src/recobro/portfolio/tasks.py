"""Celery tasks of the ledger: thin adapters that call the engines."""

from celery import shared_task

from recobro.portfolio.importers import run_import
from recobro.portfolio.models import ImportJob


@shared_task(name="recobro.portfolio.run_import")
def run_import_task(job_id: int) -> str:
    """Run one import job; returns its final status."""
    job = ImportJob.objects.select_related("organization", "portfolio", "profile", "created_by").get(
        pk=job_id
    )
    return run_import(job).status
