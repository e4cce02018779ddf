"""Deterministic CSV files for the import benchmark, written as an ERP would export them.

Debtors: external id, name, RFC (valid for python-stdnum), kind. Documents: invoices and
installments of those debtors, due over two years, some partly paid, a few paid or in
dispute, amounts with cents. The same seed and sizes always give the same bytes, so a file
already under bench/data/ is reused.
"""

import csv
import datetime as dt
import random
from pathlib import Path

from stdnum.mx import rfc

FIRST = [
    "Ana", "Luis", "María", "José", "Carmen", "Jorge", "Lucía", "Miguel", "Sofía", "Pedro",
    "Elena", "Raúl", "Patricia", "Andrés", "Gabriela", "Ricardo", "Valeria", "Fernando", "Daniela", "Óscar",
]  # fmt: skip
LAST = [
    "García", "Hernández", "López", "Martínez", "González", "Pérez", "Rodríguez", "Sánchez", "Ramírez",
    "Cruz", "Flores", "Gómez", "Morales", "Vázquez", "Jiménez", "Reyes", "Díaz", "Torres", "Gutiérrez",
    "Ruiz",
]  # fmt: skip
COMPANY = [
    "Comercializadora",
    "Distribuidora",
    "Servicios",
    "Grupo",
    "Abarrotes",
    "Ferretería",
    "Transportes",
]
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
ALNUM = "ABCDEFGHIJKLMNPQRSTUVWXYZ0123456789"
AS_OF = dt.date(2026, 3, 31)


def debtor_id(n: int) -> str:
    return f"CLI-{n:07d}"


def _rfc(rng: random.Random, person: bool) -> str:
    """A random RFC that python-stdnum accepts (it refuses a list of rude four-letter words)."""
    while True:
        letters = "".join(rng.choice(LETTERS) for _ in range(4 if person else 3))
        born = dt.date(1950, 1, 1) + dt.timedelta(days=rng.randrange(365 * 50))
        candidate = f"{letters}{born:%y%m%d}{''.join(rng.choice(ALNUM) for _ in range(3))}"
        if rfc.is_valid(candidate):
            return candidate


def write_debtors(path: Path, count: int, seed: int = 42) -> Path:
    if path.exists():
        return path
    rng = random.Random(seed)
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["external_id", "name", "kind", "tax_id", "tax_id_type"])
        for n in range(1, count + 1):
            person = rng.random() < 0.85
            if person:
                name = f"{rng.choice(FIRST)} {rng.choice(LAST)} {rng.choice(LAST)}"
            else:
                name = f"{rng.choice(COMPANY)} {rng.choice(LAST)} SA de CV"
            out.writerow([debtor_id(n), name, "person" if person else "company", _rfc(rng, person), "rfc"])
    tmp.rename(path)
    return path


def write_documents(path: Path, count: int, debtors: int, seed: int = 7) -> Path:
    if path.exists():
        return path
    rng = random.Random(seed)
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(
            ["external_id", "debtor_external_id", "kind", "number", "issue_date", "due_date",
             "original_amount", "balance", "currency", "status"]
        )  # fmt: skip
        for n in range(1, count + 1):
            due = AS_OF - dt.timedelta(days=rng.randrange(-60, 700))
            cents = rng.randrange(10_000, 5_000_000)
            roll = rng.random()
            if roll < 0.05:
                status, balance = "paid", 0
            elif roll < 0.07:
                status, balance = "disputed", cents
            elif roll < 0.30:
                status, balance = "open", rng.randrange(1, cents)
            else:
                status, balance = "open", cents
            out.writerow(
                [
                    f"DOC-{n:08d}",
                    debtor_id(rng.randrange(1, debtors + 1)),
                    "invoice" if roll < 0.8 else "installment",
                    f"A{n:08d}",
                    (due - dt.timedelta(days=30)).isoformat(),
                    due.isoformat(),
                    f"{cents // 100}.{cents % 100:02d}",
                    f"{balance // 100}.{balance % 100:02d}",
                    "MXN",
                    status,
                ]
            )
    tmp.rename(path)
    return path
