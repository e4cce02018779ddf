"""Benchmark of the case engine: refresh_cases over 300,000 debtors and 1,000,000 documents.

    python bench/bench_cases.py              # SQLite, fresh file bench/data/bench_cases.sqlite3
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/x python bench/bench_cases.py
                                             # PostgreSQL: creates and drops recobro_bench_cases
    python bench/bench_cases.py --scale 0.02 # a quick small run

It makes its own data with set-based INSERT … SELECT (one portfolio, documents due over
every aging bucket, credit notes, paid and disputed documents, payments), then times:

1. refresh_cases over everything, first run (every case created);
2. the same again (nothing changed: nothing written);
3. the next business day (every open case ages: every case rewritten);
4. a naive per-case ORM refresh of a 10,000-case sample, and the ratio per case;
5. for orientation, the aging report and allocate_payments of stored payments.

The naive run writes the same facts as the engine: a last refresh_cases after it must
find nothing to update, and the benchmark checks that it does.
"""

import argparse
import datetime as dt
import sys
import time
from decimal import Decimal
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

import common  # noqa: E402

AS_OF = dt.date(2026, 3, 31)
#: The benchmark's own database: bench/data/bench_cases.sqlite3, or recobro_bench_cases.
DATABASE = "bench_cases"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the full size (1.0 = 300k/1M)")
    parser.add_argument("--sample", type=int, default=10_000, help="cases in the naive ORM sample")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database afterwards")
    parser.add_argument("--no-write", action="store_true", help="do not write bench/results (trial runs)")
    return parser.parse_args()


# --- data -----------------------------------------------------------------------------------


def series(n_param: str) -> str:
    """Rows i = 1..n as a FROM source, set-based on both databases."""
    from recobro.portfolio import dialect

    if dialect.is_postgresql():
        return f"generate_series(CAST(1 AS BIGINT), {n_param}) AS s(i)"
    return (
        f"(WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {n_param})"
        " SELECT i FROM s) s"
    )


def day_offset(days_sql: str) -> str:
    """AS_OF plus an integer expression of days, as a date."""
    from recobro.portfolio import dialect

    if dialect.is_postgresql():
        return f"(DATE '{AS_OF.isoformat()}' + CAST({days_sql} AS INTEGER))"
    return f"date('{AS_OF.isoformat()}', ({days_sql}) || ' days')"


def generate(n_debtors: int, n_documents: int, n_payments: int) -> tuple:
    """Organization, portfolio, debtors, documents and payments, all set-based."""
    from django.db import connection
    from django.utils import timezone

    from recobro.core.models import Organization
    from recobro.portfolio.models import Debtor, Document, Payment, Portfolio

    org = Organization.objects.create(
        name="Bench",
        slug="bench",
        country="MX",
        timezone="America/Mexico_City",
        currency="MXN",
        locale="es-MX",
        payment_reference_prefix=99,
        business_date_override=AS_OF,
    )
    portfolio = Portfolio.objects.create(
        organization=org, code="bench", name="Bench", creditor="Bench", currency="MXN", jurisdiction="MX"
    )
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {Debtor._meta.db_table} (organization_id, external_id, kind, name, tax_id,"
            " tax_id_type, attributes, language, timezone, is_disputed, is_deceased, is_bankrupt,"
            " do_not_contact, created_at, updated_at)"
            " SELECT %s, 'D' || CAST(i AS TEXT), 'person', 'Debtor ' || CAST(i AS TEXT), '', '', '{}',"
            f" '', '', false, false, false, false, %s, %s FROM {series('%s')}",
            [org.pk, now, now, n_debtors],
        )
        cursor.execute(f"SELECT MIN(id) FROM {Debtor._meta.db_table} WHERE organization_id = %s", [org.pk])
        first_debtor = cursor.fetchone()[0]
        # Document i belongs to debtor i mod n (so 3-4 documents each); due dates spread from
        # 720 days before AS_OF to 60 days after, over every bucket; 2% are credit notes,
        # 5% fees, 5% interest; 10% are paid, 20% partly paid, 2% disputed.
        h = "((i * 7919) %% 10007)"  # a cheap, repeatable scramble of i
        kind = (
            "CASE WHEN i %% 50 = 0 THEN 'credit_note' WHEN i %% 20 = 1 THEN 'fee'"
            " WHEN i %% 20 = 2 THEN 'interest' WHEN i %% 3 = 0 THEN 'installment' ELSE 'invoice' END"
        )
        cents = f"(1000 + ({h} * 37) %% 500000)"
        sign = "CASE WHEN i %% 50 = 0 THEN -1 ELSE 1 END"
        original = f"({sign} * {cents} / 100.0)"
        open_cents = f"CASE WHEN {h} %% 10 = 0 THEN 0 WHEN {h} %% 5 = 1 THEN {cents} / 2 ELSE {cents} END"
        balance = f"({sign} * {open_cents} / 100.0)"
        status = f"CASE WHEN {h} %% 10 = 0 THEN 'paid' WHEN {h} %% 50 = 3 THEN 'disputed' ELSE 'open' END"
        due = day_offset(f"60 - ({h} * 13 + i) %% 781")
        cursor.execute(
            f"INSERT INTO {Document._meta.db_table} (organization_id, portfolio_id, debtor_id, external_id,"
            " kind, number, product, issue_date, due_date, original_amount, balance, currency, status,"
            " attributes, created_at, updated_at)"
            f" SELECT %s, %s, %s + (i %% %s), 'F' || CAST(i AS TEXT), {kind}, 'F' || CAST(i AS TEXT), '',"
            f" NULL, {due}, {original}, {balance}, 'MXN', {status}, '{{}}', %s, %s FROM {series('%s')}",
            [org.pk, portfolio.pk, first_debtor, n_debtors, now, now, n_documents],
        )
        # Payments: one for each of the first n_payments debtors, half of them already
        # allocated elsewhere (unallocated 0), the rest waiting for allocate_payments.
        paid_on = day_offset("-(i %% 90)")
        cursor.execute(
            f"INSERT INTO {Payment._meta.db_table} (organization_id, portfolio_id, debtor_id, external_id,"
            " amount, unallocated_amount, currency, paid_on, method, source, reference, status, notes,"
            " created_at)"
            f" SELECT %s, %s, %s + i - 1, 'P' || CAST(i AS TEXT), 150.25,"
            f" CASE WHEN i %% 2 = 0 THEN 0 ELSE 150.25 END, 'MXN', {paid_on}, 'transfer', 'import', '',"
            f" 'posted', '', %s FROM {series('%s')}",
            [org.pk, portfolio.pk, first_debtor, now, n_payments],
        )
        cursor.execute("ANALYZE", [])
    return org, portfolio


# --- the naive per-case version ---------------------------------------------------------------


def naive_refresh(org, portfolio, debtor_ids: list[int], as_of: dt.date) -> int:
    """What one would write without the engine: per case, read its documents, compute, save."""
    from django.db.models import Max

    from recobro.core.money import round_money
    from recobro.portfolio.aging import bucket_for, organization_buckets
    from recobro.portfolio.models import OPEN_STATUSES, Case, Document, Payment

    buckets = organization_buckets(org)
    for debtor_id in debtor_ids:
        docs = list(
            Document.objects.filter(
                portfolio=portfolio, debtor_id=debtor_id, status__in=OPEN_STATUSES
            ).exclude(balance=0)
        )
        last = Payment.objects.filter(portfolio=portfolio, debtor_id=debtor_id, status="posted").aggregate(
            m=Max("paid_on")
        )["m"]
        if not docs:
            Case.objects.filter(portfolio=portfolio, debtor_id=debtor_id, status="open").update(
                status="closed", balance=0, overdue_balance=0, original_amount=0, open_documents=0
            )
            continue
        balance = round_money(sum(d.balance for d in docs), "MXN")
        dues = [d.due_date for d in docs if d.kind != "credit_note"]
        oldest = min(dues) if dues else None
        gross = sum((d.balance for d in docs if d.kind != "credit_note" and d.due_date < as_of), Decimal(0))
        overdue = max(Decimal(0), min(gross, balance)) if balance > 0 else Decimal(0)
        dpd = max(0, (as_of - oldest).days) if oldest else 0
        Case.objects.update_or_create(
            portfolio=portfolio,
            debtor_id=debtor_id,
            defaults={
                "organization": org,
                "currency": "MXN",
                "status": "open",
                "balance": balance,
                "overdue_balance": overdue,
                "original_amount": sum(d.original_amount for d in docs),
                "open_documents": len(docs),
                "oldest_due_date": oldest,
                "dpd": dpd,
                "bucket": bucket_for(dpd, buckets),
                "last_payment_on": last,
                "as_of": as_of,
            },
        )
    return len(debtor_ids)


# --- the run ----------------------------------------------------------------------------------


def main() -> None:
    args = parse_args()
    admin_url = common.open_database(DATABASE)
    from django.core.management import call_command

    from recobro.core.audit import Actor
    from recobro.portfolio import engine
    from recobro.portfolio.engine import refresh_cases
    from recobro.portfolio.models import Case, Debtor, Document, Payment
    from recobro.portfolio.queries import aging_report
    from recobro.portfolio.services.payments import allocate_payments

    n_debtors = max(10, int(300_000 * args.scale))
    n_documents = max(30, int(1_000_000 * args.scale))
    n_payments = max(10, int(100_000 * args.scale))
    sample = min(args.sample, n_debtors)
    database = common.database_label()
    print(f"{database}: {n_debtors:,} debtors, {n_documents:,} documents, {n_payments:,} payments")

    r: dict = {
        "debtors": n_debtors,
        "documents": n_documents,
        "payments": n_payments,
        "chunk_size": engine.CHUNK_SIZE,
        "sample": sample,
    }
    try:
        with common.timed(r, "migrate_s"):
            call_command("migrate", verbosity=0)
        with common.timed(r, "generate_s"):
            org, portfolio = generate(n_debtors, n_documents, n_payments)
        print(f"  data generated in {r['generate_s']} s")

        start = time.perf_counter()
        first = refresh_cases(organization=org, as_of=AS_OF)
        r["refresh_first_s"] = round(time.perf_counter() - start, 2)
        r["refresh_first"] = first
        r["cases_open"] = Case.objects.filter(organization=org, status="open").count()
        print(f"  refresh_cases, first run: {r['refresh_first_s']} s {first}")

        with common.timed(r, "refresh_again_s"):
            again = refresh_cases(organization=org, as_of=AS_OF)
        r["refresh_again"] = again
        print(f"  refresh_cases, nothing changed: {r['refresh_again_s']} s {again}")

        next_day = AS_OF + dt.timedelta(days=1)
        with common.timed(r, "refresh_next_day_s"):
            aged = refresh_cases(organization=org, as_of=next_day)
        r["refresh_next_day"] = aged
        print(f"  refresh_cases, next day: {r['refresh_next_day_s']} s {aged}")

        debtor_ids = list(
            Debtor.objects.filter(organization=org).order_by("pk").values_list("pk", flat=True)[:sample]
        )
        with common.timed(r, "naive_sample_s"):
            naive_refresh(org, portfolio, debtor_ids, next_day)
        check = refresh_cases(organization=org, as_of=next_day, debtor_ids=debtor_ids)
        r["naive_matches_engine"] = check["updated"] == 0 and check["created"] == 0
        per_case_engine = r["refresh_first_s"] / max(1, first["created"])
        per_case_naive = r["naive_sample_s"] / max(1, sample)
        r["naive_per_case_ms"] = round(per_case_naive * 1000, 3)
        r["engine_per_case_ms"] = round(per_case_engine * 1000, 4)
        r["ratio"] = round(per_case_naive / per_case_engine, 1) if per_case_engine else None
        print(
            f"  naive ORM, {sample:,} cases: {r['naive_sample_s']} s;"
            f" engine is {r['ratio']}x faster per case; same facts: {r['naive_matches_engine']}"
        )

        with common.timed(r, "aging_report_s"):
            report = aging_report(organization=org, as_of=next_day)
        r["aging_report_rows"] = len(report.rows)

        waiting = list(
            Payment.objects.filter(organization=org, unallocated_amount__gt=0).values_list("pk", flat=True)
        )
        with common.timed(r, "allocate_payments_s"):
            r["allocations_written"] = allocate_payments(
                organization=org, payment_ids=waiting, actor=Actor.system("bench")
            )
        r["payments_allocated"] = len(waiting)
        print(
            f"  aging report {r['aging_report_s']} s; allocate_payments of {len(waiting):,} payments:"
            f" {r['allocate_payments_s']} s"
        )
        r["documents_open"] = Document.objects.filter(organization=org, status="open").count()
        r["peak_rss_mb"] = common.peak_rss_mb()
        print(f"  peak memory {r['peak_rss_mb']} MB")
    finally:
        common.close_database(DATABASE, admin_url, keep=args.keep)

    full = args.scale >= 1.0
    target = "≤ 20 s on PostgreSQL" if database.startswith("PostgreSQL") else "(recorded)"
    summary = [
        ("data", f"{n_debtors:,} debtors, {n_documents:,} documents, {n_payments:,} payments", ""),
        (
            f"refresh_cases, first run ({first['created']:,} cases created)",
            f"{r['refresh_first_s']} s",
            target if full else "",
        ),
        ("refresh_cases again, nothing changed (0 rows written)", f"{r['refresh_again_s']} s", ""),
        (
            f"refresh_cases next day ({aged['updated']:,} cases aged)",
            f"{r['refresh_next_day_s']} s",
            "",
        ),
        (
            f"naive per-case ORM, {sample:,}-case sample",
            f"{r['naive_sample_s']} s ({r['naive_per_case_ms']} ms/case)",
            "",
        ),
        ("engine vs naive, per case", f"{r['ratio']}× faster", ""),
        ("naive and engine give the same facts", "yes" if r["naive_matches_engine"] else "NO", "yes"),
        ("aging report over all open documents", f"{r['aging_report_s']} s", ""),
        (
            f"allocate_payments, {r['payments_allocated']:,} stored payments",
            f"{r['allocate_payments_s']} s",
            "",
        ),
        ("peak memory", f"{r['peak_rss_mb']} MB", "< 2 GB"),
    ]
    if args.no_write:
        print("  (results not written: --no-write)")
        return
    path = common.write_results("cases", database, r, summary)
    print(f"  results: {path.relative_to(BENCH_DIR.parent)}")


if __name__ == "__main__":
    main()
