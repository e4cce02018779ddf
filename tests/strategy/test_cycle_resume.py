"""A cycle killed with SIGKILL in the middle, run again, ends where an uninterrupted run ends.

The cycle runs in a real subprocess (``recobro cycle``) that kills itself after a few chunks
(a test-only environment variable) with a tiny chunk size. The subprocess must see the test's
data: on PostgreSQL it connects to the test database (the test commits its data); the SQLite
test database lives in memory, so it is copied to a file for the subprocess (SQLITE_PATH, which
the settings read) and copied back afterwards.
"""

import os
import signal
import sqlite3
import subprocess
import sys

import pytest
from django.db import connection

from recobro.strategy.engine.run import KILL_AFTER_CHUNKS_ENV
from recobro.strategy.models import CycleRun
from tests.strategy.conftest import AS_OF, OUTPUTS, build_strategy_config, cycle, days, populate, snapshot

pytestmark = pytest.mark.django_db(transaction=True)

CHUNK_SIZE = 6


class Subprocess:
    def __init__(self, tmp_path):
        self.env = {**os.environ, "RECOBRO_CYCLE_CHUNK_SIZE": str(CHUNK_SIZE)}
        self.env.pop(KILL_AFTER_CHUNKS_ENV, None)
        db = connection.settings_dict
        self.sqlite = connection.vendor == "sqlite"
        if self.sqlite:
            self.path = tmp_path / "cycle.sqlite3"
            self.env.pop("DATABASE_URL", None)
            self.env["SQLITE_PATH"] = str(self.path)
        else:
            password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
            host, port = db["HOST"] or "127.0.0.1", db["PORT"] or 5432
            self.env["DATABASE_URL"] = f"postgres://{db['USER']}{password}@{host}:{port}/{db['NAME']}"

    def cycle(self, *args: str, kill_after: int | None = None) -> subprocess.CompletedProcess:
        env = dict(self.env)
        if kill_after:
            env[KILL_AFTER_CHUNKS_ENV] = str(kill_after)
        if self.sqlite:
            connection.ensure_connection()
            target = sqlite3.connect(self.path)
            connection.connection.backup(target)
            target.close()
        result = subprocess.run(
            [sys.executable, "-m", "recobro.cli", "cycle", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if self.sqlite:
            source = sqlite3.connect(self.path)
            source.backup(connection.connection)
            source.close()
        return result


def test_a_cycle_killed_in_the_middle_resumes_to_the_state_of_an_uninterrupted_run(cast, tmp_path):
    build_strategy_config(cast.mx)
    populate(cast, 48)
    cycle(cast, days(-1))
    process = Subprocess(tmp_path)
    args = ("--as-of", AS_OF.isoformat(), "--organization", cast.mx.slug)

    killed = process.cycle(*args, kill_after=2)

    assert killed.returncode == -signal.SIGKILL, killed.stderr
    run = CycleRun.objects.get(as_of=AS_OF)
    assert run.status == "running"
    chunks_done = len(run.counts["chunks_done"])
    assert 2 <= chunks_done < 8, run.counts["chunks_done"]

    resumed = process.cycle(*args)

    assert resumed.returncode == 0, resumed.stderr
    run.refresh_from_db()
    assert (run.status, run.attempts) == ("done", 2)
    assert f"{cast.mx.slug} " in resumed.stdout and AS_OF.isoformat() in resumed.stdout
    after_resume = snapshot()
    assert after_resume["actions"] and after_resume["messages"] and after_resume["tasks"]
    for action_id, key in run_keys():
        assert key == f"cycle:{action_id}"

    # The same data, the same two days, without interruption.
    for model in OUTPUTS:
        model.objects.all().delete()
    cycle(cast, days(-1))
    cycle(cast, AS_OF)
    assert snapshot() == after_resume


def run_keys():
    from recobro.strategy.models import Action

    return Action.objects.filter(message__isnull=False).values_list("id", "message__idempotency_key")
