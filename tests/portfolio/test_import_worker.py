"""A large import runs in a real Celery worker process on Redis, and its job shows progress.

Runs when REDIS_URL is set and the tests use PostgreSQL (a second process cannot share the
in-memory SQLite test database); .ci/run sets both for its PostgreSQL pass.
"""

import csv
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from recobro.celery import app
from recobro.portfolio.importers import create_job, start_import
from recobro.portfolio.models import Debtor, ImportJob, ImportStatus

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]

ROWS = 3000


@pytest.fixture
def worker(tmp_path):
    redis_url = os.environ.get("REDIS_URL")
    if not redis_url:
        pytest.skip("needs REDIS_URL (a broker for a real worker)")
    if connection.vendor != "postgresql":
        pytest.skip("a worker process cannot share the in-memory SQLite test database")
    db = connection.settings_dict
    host, port = db["HOST"] or "127.0.0.1", db["PORT"] or 5432
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{host}:{port}/{db['NAME']}",
        "CELERY_BROKER_URL": redis_url,
        "CELERY_TASK_ALWAYS_EAGER": "false",
    }
    app.conf.broker_url = redis_url
    app.conf.task_always_eager = False
    with app.connection_for_write() as conn:  # an empty queue: no task left by an earlier run
        conn.default_channel.queue_purge("celery")
    log = open(tmp_path / "worker.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "recobro",
            "worker",
            "--pool=solo",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    yield proc
    proc.terminate()
    proc.wait(timeout=30)
    log.close()
    app.conf.task_always_eager = True


def write_debtors_csv(path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["external_id", "name", "kind"])
        for i in range(ROWS):
            writer.writerow([f"W-{i:05d}", f"Deudor {i}", "person"])


def test_a_large_file_imports_in_a_worker_and_reports_progress(cast, worker, tmp_path):
    path = tmp_path / "deudores.csv"
    write_debtors_csv(path)
    job = create_job(
        organization=cast.mx,
        kind="debtors",
        file=str(path),
        file_name=path.name,
        actor=cast.ana,
    )
    start_import(job)

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        job = ImportJob.objects.get(pk=job.pk)
        if job.status in (ImportStatus.SUCCEEDED, ImportStatus.FAILED, ImportStatus.REJECTED):
            break
        assert worker.poll() is None, "the worker died"
        time.sleep(0.2)

    assert job.status == ImportStatus.SUCCEEDED, job.message
    assert job.created_count == ROWS
    assert job.processed_rows == job.total_rows == ROWS
    assert Debtor.objects.filter(organization=cast.mx, external_id__startswith="W-").count() == ROWS
