"""Benchmark of the import engine: 300,000 debtors, then 1,000,000 documents, from CSV.

    python bench/bench_import.py              # SQLite, fresh file bench/data/bench_import.sqlite3
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/x python bench/bench_import.py
                                              # PostgreSQL: creates and drops recobro_bench_import
    python bench/bench_import.py --scale 0.05 # a quick small run

It writes its own CSV files under bench/data/ (deterministic seed; reused when present),
then times, with the real engine (create_job + run_import, as `recobro import` runs it):

1. importing the debtors file (upsert, audit, payment references);
2. importing the documents file (stream, validate, stage, set-based upsert, audit, and the
   refresh of the affected cases) — the budget: 60 s on PostgreSQL, 150 s on SQLite;
3. refresh_cases over the whole organization — the budget: 20 s on PostgreSQL;
4. importing the same documents file again (every row unchanged, nothing written);
5. a naive per-row ORM import of a 10,000-row sample (get_or_create / save and an audit
   row per document) and the ratio of rows per second.

Peak memory is the process's resident set (the budget: under 2 GB).
"""

import argparse
import csv
import datetime as dt
import logging
import os
import resource
import sys
import time
from contextlib import contextmanager
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

import common  # noqa: E402
import import_data  # noqa: E402

#: The benchmark's own database: bench/data/bench_import.sqlite3, or recobro_bench_import.
DATABASE = "bench_import"
FULL_DEBTORS = 300_000
FULL_DOCUMENTS = 1_000_000


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the full size (1.0 = 300k/1M)")
    parser.add_argument("--sample", type=int, default=10_000, help="rows in the naive ORM sample")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database afterwards")
    parser.add_argument("--no-write", action="store_true", help="do not write bench/results (trial runs)")
    return parser.parse_args()


# --- the runs ---------------------------------------------------------------------------------


def backend_cpu_s() -> float:
    """CPU seconds used so far by this connection's PostgreSQL backend (same machine), else 0.

    With other work on the machine, wall time is not the engine's alone: the CPU seconds of
    this process plus its backend say what the import cost."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return 0.0
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def own_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@contextmanager
def measured(into: dict, key: str):
    """Wall seconds under ``key``; CPU seconds of this process and of its backend beside it."""
    cpu, backend, start = own_cpu_s(), backend_cpu_s(), time.perf_counter()
    yield
    into[key] = round(time.perf_counter() - start, 2)
    into[key.replace("_s", "_python_cpu_s")] = round(own_cpu_s() - cpu, 2)
    if backend_cpu_s():
        into[key.replace("_s", "_database_cpu_s")] = round(backend_cpu_s() - backend, 2)


def import_file(org, kind: str, path: Path, portfolio=None, user=None):
    from recobro.core.audit import Actor
    from recobro.core.models import AuditSource
    from recobro.portfolio.importers import create_job, run_import

    job = create_job(
        organization=org,
        kind=kind,
        file=path,
        file_name=path.name,
        actor=Actor(source=AuditSource.IMPORT, user=user, label="bench"),
        portfolio=portfolio,
    )
    job = run_import(job)
    if job.status != "succeeded":
        issues = list(job.issues.values_list("line", "column", "message")[:5])
        raise SystemExit(f"{kind} import {job.status}: {job.message} {issues}")
    return job


def naive_import(org, portfolio, path: Path, sample: int) -> int:
    """What one would write without the engine: per row, find the debtor, get_or_create the
    document, save it, write its audit entry — in one transaction, as the engine does."""
    from decimal import Decimal

    from django.db import transaction

    from recobro.core import audit
    from recobro.core.audit import Actor
    from recobro.core.models import AuditAction, AuditSource
    from recobro.portfolio.models import Debtor, Document

    actor = Actor(source=AuditSource.IMPORT, label="bench naive")
    done = 0
    with path.open(newline="", encoding="utf-8") as fh, transaction.atomic():
        for row in csv.DictReader(fh):
            if done >= sample:
                break
            debtor = Debtor.objects.get(organization=org, external_id=row["debtor_external_id"])
            values = {
                "organization": org,
                "debtor": debtor,
                "kind": row["kind"],
                "number": row["number"],
                "issue_date": dt.date.fromisoformat(row["issue_date"]),
                "due_date": dt.date.fromisoformat(row["due_date"]),
                "original_amount": Decimal(row["original_amount"]),
                "balance": Decimal(row["balance"]),
                "currency": row["currency"],
                "status": row["status"],
            }
            document, created = Document.objects.get_or_create(
                portfolio=portfolio, external_id=row["external_id"], defaults=values
            )
            before = None
            if not created:
                before = audit.snapshot(document)
                for name, value in values.items():
                    setattr(document, name, value)
                document.save()
            audit.record(
                organization=org,
                actor=actor,
                action=AuditAction.CREATE if created else AuditAction.UPDATE,
                obj=document,
                before=before,
                after=audit.snapshot(document),
            )
            done += 1
    return done


def main() -> None:
    args = parse_args()
    admin_url = common.open_database(
        DATABASE,
        env={
            "DEBUG": os.environ.get("DEBUG", "0"),  # no query log kept in memory
            "RECOBRO_VAR_DIR": str(common.DATA_DIR / "var"),  # the stored copies of the files
        },
    )
    from django.core.management import call_command
    from django.utils import translation

    translation.activate("en")
    logging.basicConfig(format="  %(message)s")
    logging.getLogger("recobro.portfolio.importers").setLevel(logging.INFO)

    from recobro.core.models import Organization
    from recobro.portfolio.engine import refresh_cases
    from recobro.portfolio.models import Case, Document, Portfolio

    n_debtors = max(100, round(FULL_DEBTORS * args.scale))
    n_documents = max(300, round(FULL_DOCUMENTS * args.scale))
    label = common.database_label()
    print(f"{label}: {n_debtors:,} debtors, {n_documents:,} documents")
    t: dict = {}
    try:
        call_command("migrate", verbosity=0)
        common.DATA_DIR.mkdir(parents=True, exist_ok=True)
        with common.timed(t, "generate_files_s"):
            debtors_csv = import_data.write_debtors(common.DATA_DIR / f"debtors-{n_debtors}.csv", n_debtors)
            documents_csv = import_data.write_documents(
                common.DATA_DIR / f"documents-{n_documents}-{n_debtors}.csv", n_documents, n_debtors
            )
        org = Organization.objects.create(
            name="Bench",
            slug="bench",
            country="MX",
            timezone="America/Mexico_City",
            currency="MXN",
            locale="es-MX",
            payment_reference_prefix=99,
            business_date_override=import_data.AS_OF,
        )
        portfolio = Portfolio.objects.create(
            organization=org,
            code="cartera",
            name="Cartera",
            creditor="Bench",
            currency="MXN",
            jurisdiction="MX",
        )
        naive_portfolio = Portfolio.objects.create(
            organization=org, code="naive", name="Naive", creditor="Bench", currency="MXN", jurisdiction="MX"
        )
        print("importing debtors…", flush=True)
        with measured(t, "import_debtors_s"):
            debtors_job = import_file(org, "debtors", debtors_csv)
        print(f"  {t['import_debtors_s']} s, created {debtors_job.created_count:,}", flush=True)
        print("importing documents…", flush=True)
        with measured(t, "import_documents_s"):
            documents_job = import_file(org, "documents", documents_csv, portfolio)
        print(
            f"  {t['import_documents_s']} s, created {documents_job.created_count:,};"
            f" CPU: Python {t['import_documents_python_cpu_s']} s,"
            f" database {t.get('import_documents_database_cpu_s', '-')} s",
            flush=True,
        )
        cases = Case.objects.filter(portfolio=portfolio).count()
        with measured(t, "refresh_cases_all_s"):
            refresh = refresh_cases(organization=org)
        print(f"refresh_cases over all: {t['refresh_cases_all_s']} s ({refresh})", flush=True)
        with measured(t, "reimport_documents_s"):
            again = import_file(org, "documents", documents_csv, portfolio)
        print(
            f"same documents again: {t['reimport_documents_s']} s, unchanged {again.unchanged_count:,}",
            flush=True,
        )
        assert again.created_count == again.updated_count == 0, "a second import must change nothing"

        start = time.perf_counter()
        naive_rows = naive_import(org, naive_portfolio, documents_csv, args.sample)
        t["naive_sample_s"] = round(time.perf_counter() - start, 2)
        naive_rate = naive_rows / max(t["naive_sample_s"], 1e-9)
        engine_rate = n_documents / max(t["import_documents_s"], 1e-9)
        ratio = engine_rate / naive_rate
        print(f"naive ORM: {naive_rows:,} rows in {t['naive_sample_s']} s ({naive_rate:,.0f} rows/s); "
              f"engine {engine_rate:,.0f} rows/s: {ratio:.1f}× faster")  # fmt: skip
        peak = common.peak_rss_mb()
        print(f"peak memory: {peak:,.0f} MB")

        results = {
            "debtors": n_debtors,
            "documents": n_documents,
            "cases": cases,
            "documents_stored": Document.objects.filter(portfolio=portfolio).count(),
            "documents_file_mb": round(documents_csv.stat().st_size / 1024 / 1024, 1),
            **t,
            "engine_rows_per_s": round(engine_rate),
            "naive_rows": naive_rows,
            "naive_rows_per_s": round(naive_rate),
            "ratio": round(ratio, 1),
            "peak_rss_mb": peak,
        }
        postgres = label.lower().startswith("postgres")
        budget = "≤ 60 s" if postgres else "≤ 150 s"
        summary = [
            (f"import {n_debtors:,} debtors (CSV)", f"{t['import_debtors_s']} s", ""),
            (
                f"import {n_documents:,} documents (CSV), cases refreshed",
                f"{t['import_documents_s']} s",
                budget,
            ),
            ("refresh_cases over every case", f"{t['refresh_cases_all_s']} s", "≤ 20 s" if postgres else ""),
            ("same documents file again (all unchanged)", f"{t['reimport_documents_s']} s", ""),
            (
                f"naive per-row ORM import ({naive_rows:,} rows)",
                f"{naive_rate:,.0f} rows/s vs {engine_rate:,.0f}: {ratio:.0f}× slower",
                "",
            ),
            ("peak memory", f"{peak:,.0f} MB", "< 2,048 MB"),
        ]
        if args.scale != 1.0:
            summary.insert(0, ("scale", f"{args.scale}", "1.0 for the budgets"))
        if not args.no_write:
            path = common.write_results("import", label, results, summary)
            print(f"results: {path}")
    finally:
        common.close_database(DATABASE, admin_url, keep=args.keep)


if __name__ == "__main__":
    main()
