"""Shared plumbing for benchmarks: their own database, the machine, timers, memory, and the
results page.

Each benchmark runs against a fresh database of its own (``open_database`` /
``close_database``) and writes bench/results/<name>.json through ``write_results``; the
README is rebuilt from every JSON file present, so benchmarks run separately never
overwrite each other.
"""

import datetime as dt
import json
import os
import platform
import resource
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCH_DIR / "results"
DATA_DIR = BENCH_DIR / "data"
README = BENCH_DIR / "README.md"

INTRO = """# Benchmarks

Run them all with `make bench`, or one engine with `make bench-<name>`. Each benchmark makes
its own data, times the set-based engine at full scale and a naive per-row ORM version on a
sample in the same run, and writes `results/<name>.json`; this page is rebuilt from those files.
Set `DATABASE_URL` for PostgreSQL; without it the run uses a fresh SQLite file under bench/data/.
"""


# --- A fresh database per benchmark ------------------------------------------------------------


def _server_params(url: str) -> dict:
    """psycopg connection parameters for the server of ``url``, on its maintenance database."""
    import dj_database_url

    cfg = dj_database_url.parse(url)
    params = {"host": cfg["HOST"], "port": cfg["PORT"], "user": cfg["USER"], "password": cfg["PASSWORD"]}
    return {**{k: v for k, v in params.items() if v}, "dbname": "postgres"}


def open_database(name: str, *, env: dict[str, str] | None = None) -> str | None:
    """Point Django at a fresh database for the benchmark ``name`` and set it up.

    Without ``DATABASE_URL``: a new SQLite file bench/data/<name>.sqlite3 (an older one and
    its WAL files are removed). With it: the database ``recobro_<name>`` on the same
    PostgreSQL server, dropped and created again. ``env`` sets more environment variables
    before Django reads its settings. Returns the original PostgreSQL URL, which
    ``close_database`` needs to drop the database again (None for SQLite).
    """
    os.environ["DJANGO_SETTINGS_MODULE"] = "recobro.settings"
    os.environ.update(env or {})
    url = os.environ.get("DATABASE_URL", "")
    admin_url = None
    if not url:
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        path = DATA_DIR / f"{name}.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        os.environ["SQLITE_PATH"] = str(path)
    else:
        import psycopg

        with psycopg.connect(**_server_params(url), autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS recobro_{name} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE recobro_{name}")
        os.environ["DATABASE_URL"] = f"{url.rsplit('/', 1)[0]}/recobro_{name}"
        admin_url = url
    import django

    django.setup()
    return admin_url


def close_database(name: str, admin_url: str | None, *, keep: bool = False) -> None:
    """Drop the PostgreSQL database ``open_database`` made (unless ``keep``); the SQLite file
    stays until the next run, for a look at the data."""
    if admin_url is None or keep:
        return
    import psycopg
    from django.db import connections

    connections.close_all()
    with psycopg.connect(**_server_params(admin_url), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS recobro_{name} WITH (FORCE)")


# --- The machine and measures ------------------------------------------------------------------


def machine() -> dict:
    mem_kb = 0
    try:
        with open("/proc/meminfo") as fh:
            mem_kb = int(fh.readline().split()[1])
    except OSError:
        pass
    cpu = platform.processor()
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next((ln.split(":", 1)[1].strip() for ln in fh if ln.startswith("model name")), cpu)
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(mem_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def peak_rss_mb() -> float:
    """Peak resident memory of this process (and waited-for children), in MB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return round(max(own, children) / 1024, 1)


@contextmanager
def timed(into: dict, key: str):
    start = time.perf_counter()
    yield
    into[key] = round(time.perf_counter() - start, 2)


def database_label() -> str:
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            return f"PostgreSQL {cursor.fetchone()[0]}"
    import sqlite3

    return f"SQLite {sqlite3.sqlite_version}"


def git_commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
        ).stdout.strip()
    except OSError:
        return ""


def write_results(name: str, database: str, results: dict, summary_rows: list[tuple[str, str, str]]) -> Path:
    """Store one benchmark's results for one database and rebuild the README.

    ``summary_rows`` are (measure, value, target) triples shown in the README table.
    """
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    slug = "postgresql" if database.lower().startswith("postgres") else "sqlite"
    path = RESULTS_DIR / f"{name}-{slug}.json"
    payload = {
        "benchmark": name,
        "database": database,
        "ran_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "commit": git_commit(),
        "machine": machine(),
        "results": results,
        "summary": [list(r) for r in summary_rows],
    }
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    rebuild_readme()
    return path


def rebuild_readme() -> None:
    parts = [INTRO]
    files = sorted(RESULTS_DIR.glob("*.json"))
    if files:
        m = json.loads(files[-1].read_text())["machine"]
        parts.append(
            f"Machine of the latest run: {m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB, "
            f"Python {m['python']}.\n"
        )
    for f in files:
        data = json.loads(f.read_text())
        parts.append(f"\n## {data['benchmark']} on {data['database']}\n")
        parts.append(f"Run {data['ran_at']} at commit `{data['commit']}`.\n")
        parts.append("| measure | result | target |\n|---|---|---|")
        parts.extend(f"| {a} | {b} | {c} |" for a, b, c in data["summary"])
        parts.append("")
    README.write_text("\n".join(parts) + "\n")
