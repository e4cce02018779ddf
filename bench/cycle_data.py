"""Data for the cycle benchmark: one organization at full scale, loaded straight into the database.

    generate(cases=1_000_000, docs_per_case=3, seed=20260331) -> Dataset

What it makes (seeded: the same arguments always give the same rows, on both databases):

- one organization ("Cobranza Bench", MXN) with two portfolios: *tarjetas* (product
  ``tarjeta``) and *prestamos* (products ``prestamo`` and ``hogar``);
- ``cases`` debtors, one case each: 12% companies, custom attributes ``region``
  (Norte/Centro/Sur/Occidente), ``segment_erp`` (A/B/C) and ``city``; 60% with a risk
  score; a few flagged disputed, deceased, bankrupt or do-not-contact;
- ``cases × docs_per_case`` documents (pairs of debtors share 2 × docs_per_case, so the
  total is exact): monthly due dates from the debtor's oldest one, spread so that every
  aging bucket and every stage is populated (10% due in more than 5 days — no stage yet —,
  6% due within 5 days — preventive —, then 1-30 … 361-720 days past due); 5% fees and
  interest, a credit note for 1% of debtors, the oldest document disputed for 1.5%, and 5%
  of debtors fully paid (no open case);
- contact points: email for 85% of debtors, mobile for 90%, landline for 10%; 3% opted
  out, 1% of mobiles wrong numbers;
- payments with their allocations for 25% of the open debtors (one or two, within 120
  days, partial or settling a document) and one settling payment per paid-up debtor;
- then the cases, through ``refresh_cases`` (the real case engine);
- the strategy configuration (``build_configuration``): 5 stages, 10 segments, 3
  strategies with a champion and a challenger 50/50, 25 steps (messages on 4 channels and
  tasks, anchored on the due date and on the stage entry, with conditions and weekdays),
  their templates;
- case history, set-based from the cases: pending promises (2%, some already past their
  date so the cycle resolves them), broken promises in the last 90 days (4%, 1.5% twice),
  kept promises, active payment plans (0.6% of cases 31+ days past due), debtor holds
  (0.3%, some awaiting approval or released) and document holds (0.1% of documents),
  messages delivered in the last 60 days (30% of cases) and calls made (5%).

Rows that do not depend on the cases are made in Python and loaded with COPY on
PostgreSQL and ``executemany`` on SQLite; rows that hang off the cases are made with
``INSERT … SELECT`` and a hash of the case id. Nothing goes through the importer (the
import has its own benchmark) and nothing is written one ORM object at a time.
"""

import datetime as dt
import json
import queue
import random
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

AS_OF = dt.date(2026, 3, 31)  # a Tuesday
SEED = 20260331
CURRENCY = "MXN"
CHUNK = 20_000  # debtors generated and loaded at a time (about 60,000 documents)

REGIONS = ("Norte", "Centro", "Sur", "Occidente")
CITIES = {
    "Norte": ("Monterrey", "Chihuahua", "Hermosillo", "Saltillo"),
    "Centro": ("Ciudad de México", "Puebla", "Querétaro", "Toluca"),
    "Sur": ("Mérida", "Oaxaca", "Villahermosa", "Tuxtla Gutiérrez"),
    "Occidente": ("Guadalajara", "Morelia", "León", "Aguascalientes"),
}
ERP_SEGMENTS = ("A", "B", "C")
FIRST = ("Ana", "Luis", "María", "José", "Carmen", "Jorge", "Lucía", "Miguel", "Sofía", "Pedro")
LAST = ("García", "Hernández", "López", "Martínez", "González", "Pérez", "Rodríguez", "Sánchez")
COMPANY = ("Comercializadora", "Distribuidora", "Servicios", "Grupo", "Abarrotes", "Transportes")
#: The JSON text of every combination of custom attributes, made once.
ATTRIBUTES = {
    (region, erp, city): json.dumps({"region": region, "segment_erp": erp, "city": city}, ensure_ascii=False)
    for region, cities in CITIES.items()
    for erp in ERP_SEGMENTS
    for city in cities
}

#: (share of debtors, profile, low, high): the days past due of the oldest document at
#: AS_OF (negative: due in the future). "paid" debtors owe nothing any more.
PROFILES = (
    (0.05, "paid", 30, 400),
    (0.10, "not_due", -45, -6),
    (0.06, "preventive", -5, 0),
    (0.20, "1-30", 1, 30),
    (0.14, "31-60", 31, 60),
    (0.10, "61-90", 61, 90),
    (0.13, "91-180", 91, 180),
    (0.11, "181-360", 181, 360),
    (0.11, "361-720", 361, 720),
)


@dataclass
class Dataset:
    organization: object
    portfolios: dict
    as_of: dt.date
    counts: dict = field(default_factory=dict)
    timings: dict = field(default_factory=dict)


# --- loading --------------------------------------------------------------------------------


def _is_pg() -> bool:
    from django.db import connection

    return connection.vendor == "postgresql"


def load_rows(table: str, columns: tuple[str, ...], rows: Iterable[tuple]) -> int:
    """Write ``rows`` into ``table``: COPY on PostgreSQL, one executemany on SQLite."""
    from django.db import connection

    names = ", ".join(columns)
    count = 0
    with connection.cursor() as cursor:
        if _is_pg():
            with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    count += 1
        else:
            rows = list(rows)
            marks = ", ".join("?" for _ in columns)
            # The raw sqlite3 cursor: Django's wrapper would rewrite %s for every batch.
            cursor.cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)
            count = len(rows)
    return count


def next_id(table: str) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {table}")
        return cursor.fetchone()[0]


def reset_sequences(tables: Iterable[str]) -> None:
    """After explicit ids on PostgreSQL, move each identity sequence past the highest id."""
    from django.db import connection

    if not _is_pg():
        return  # SQLite's AUTOINCREMENT follows explicit ids by itself
    with connection.cursor() as cursor:
        for table in tables:
            highest = f"(SELECT COALESCE(MAX(id), 1) FROM {table})"
            cursor.execute(f"SELECT setval(pg_get_serial_sequence(%s, 'id'), {highest})", [table])


def _money(cents: int) -> str:
    """Cents as decimal text. Exact: a float error of 1e-16 cannot reach a half cent."""
    return f"{cents / 100:.2f}"


#: ISO text of AS_OF + d, for d in DAY_RANGE (a list lookup is ~20x cheaper than date math).
DAY_RANGE = range(-1200, 400)
_DAYS = [(AS_OF + dt.timedelta(days=d)).isoformat() for d in DAY_RANGE]


def _date(offset: int) -> str:
    return _DAYS[offset - DAY_RANGE.start]


def _timestamp(moment: dt.datetime) -> str:
    """An aware UTC datetime as each database stores it (SQLite: naive UTC text)."""
    text = moment.strftime("%Y-%m-%d %H:%M:%S")
    return f"{text}+00:00" if _is_pg() else text


# --- the ledger, in Python ------------------------------------------------------------------

DEBTOR_COLUMNS = (
    "id", "organization_id", "external_id", "kind", "name", "tax_id", "tax_id_type", "payment_reference",
    "attributes", "risk_score", "language", "timezone", "is_disputed", "is_deceased", "is_bankrupt",
    "do_not_contact", "created_at", "updated_at",
)  # fmt: skip
DOCUMENT_COLUMNS = (
    "id", "organization_id", "portfolio_id", "debtor_id", "external_id", "kind", "number", "product",
    "issue_date", "due_date", "original_amount", "balance", "currency", "status", "attributes",
    "created_at", "updated_at",
)  # fmt: skip
CONTACT_COLUMNS = (
    "organization_id", "debtor_id", "kind", "value", "normalized", "label", "is_primary", "verified_at",
    "consent_at", "opted_out_at", "wrong_number", "created_at", "updated_at",
)  # fmt: skip
PAYMENT_COLUMNS = (
    "id", "organization_id", "portfolio_id", "debtor_id", "external_id", "amount", "unallocated_amount",
    "currency", "paid_on", "method", "source", "reference", "status", "notes", "created_at",
)  # fmt: skip
ALLOCATION_COLUMNS = ("organization_id", "payment_id", "document_id", "amount", "created_at")


@dataclass
class _Ids:
    debtor: int
    document: int
    payment: int


class LedgerGenerator:
    """Makes the rows of ``count`` debtors, chunk by chunk, from one seeded random stream."""

    def __init__(self, *, organization_id: int, portfolios: dict, count: int, docs_per_case: int, seed: int):
        self.org = organization_id
        self.portfolios = portfolios  # product -> portfolio id
        self.count = count
        self.docs_per_case = docs_per_case
        self.rng = random.Random(seed)
        self.now = None
        self.counts = {
            "debtors": 0,
            "documents": 0,
            "credit_notes": 0,
            "disputed_documents": 0,
            "paid_documents": 0,
            "contact_points": 0,
            "payments": 0,
            "allocations": 0,
        }
        self._pair_delta = 0

    def _doc_count(self, n: int) -> int:
        """Pairs of debtors share 2 × docs_per_case documents, so the total is exact."""
        if n % 2 == 0:
            return self.docs_per_case - self._pair_delta
        if n == self.count:  # an odd count: the last debtor has no partner
            return self.docs_per_case
        self._pair_delta = self.rng.randrange(self.docs_per_case)
        return self.docs_per_case + self._pair_delta

    def chunks(self, ids: _Ids, now: dt.datetime) -> Iterator[dict[str, list[tuple]]]:
        stamp = _timestamp(now)
        r = self.rng.random
        randint = self.rng.randint
        choice = self.rng.choice
        profiles = []
        acc = 0.0
        for share, name, low, high in PROFILES:
            acc += share
            profiles.append((acc, name, low, high))
        for start in range(1, self.count + 1, CHUNK):
            rows = {"debtors": [], "documents": [], "contacts": [], "payments": [], "allocations": []}
            for n in range(start, min(start + CHUNK, self.count + 1)):
                debtor_id = ids.debtor
                ids.debtor += 1
                company = r() < 0.12
                if company:
                    name = f"{choice(COMPANY)} {choice(LAST)} SA de CV"
                else:
                    name = f"{choice(FIRST)} {choice(LAST)} {choice(LAST)}"
                region = REGIONS[int(r() * 4)]
                attributes = ATTRIBUTES[(region, ERP_SEGMENTS[int(r() * 3)], CITIES[region][int(r() * 4)])]
                score = f"{0.02 + 0.96 * r():.4f}" if r() < 0.6 else None
                flag = r()
                rows["debtors"].append(
                    (
                        debtor_id, self.org, f"C{n:07d}", "company" if company else "person", name, "", "",
                        None, attributes, score, "es", "", flag < 0.005, 0.005 <= flag < 0.006,
                        0.006 <= flag < 0.008, 0.008 <= flag < 0.013, stamp, stamp,
                    )
                )  # fmt: skip
                # Contact points: (kind, value, primary, opted out, wrong number).
                contacts = rows["contacts"]
                if r() < 0.85:
                    contacts.append((debtor_id, "email", f"c{n}@example.com", True, r() < 0.03, False))
                if r() < 0.90:
                    contacts.append(
                        (debtor_id, "mobile", f"+5255{10_000_000 + n:08d}", True, r() < 0.03, r() < 0.01)
                    )
                if r() < 0.10:
                    contacts.append(
                        (debtor_id, "landline", f"+5281{20_000_000 + n:08d}", False, False, False)
                    )
                # Documents.
                pick = r()
                profile = next(p for p in profiles if pick < p[0] or p is profiles[-1])
                _, kind_of_debtor, low, high = profile
                paid_up = kind_of_debtor == "paid"
                oldest_due = -randint(low, high)  # days from AS_OF
                product = "tarjeta" if r() < 0.5 else ("prestamo" if r() < 0.7 else "hogar")
                portfolio_id = self.portfolios[product]
                base_kind = "invoice" if product != "prestamo" else "installment"
                k = self._doc_count(n)
                credit_note = k >= 2 and r() < 0.01
                disputed_first = not paid_up and r() < 0.015
                docs = []  # (cents, row) of the debtor's receivables (not credit notes), oldest first
                for j in range(k):
                    doc_id = ids.document
                    ids.document += 1
                    due = oldest_due + 30 * j
                    if credit_note and j == k - 1:
                        cents = -(1000 + int(r() * 200_000))
                        kind = "credit_note"
                        status = "paid" if paid_up else "open"
                        balance = 0 if paid_up else cents
                        self.counts["credit_notes"] += 1
                    else:
                        cents = int(10 ** (4.3 + 3 * r()))
                        extra = r()
                        kind = "fee" if extra < 0.05 else ("interest" if extra < 0.10 else base_kind)
                        if kind != base_kind:
                            cents = max(100, cents // 10)
                        status = "paid" if paid_up else ("disputed" if disputed_first and j == 0 else "open")
                        balance = 0 if paid_up else cents
                    if status == "disputed":
                        self.counts["disputed_documents"] += 1
                    row = [
                        doc_id, self.org, portfolio_id, debtor_id, f"F{doc_id:08d}", kind, f"{n}-{j + 1}",
                        product, _date(due - 30), _date(due), _money(cents),
                        _money(balance), CURRENCY, status, "{}", stamp, stamp,
                    ]  # fmt: skip
                    rows["documents"].append(row)
                    if kind != "credit_note":
                        docs.append((cents, row))
                # Payments and allocations.
                if paid_up and docs:
                    pay_id = ids.payment
                    ids.payment += 1
                    total = sum(cents for cents, _ in docs)
                    paid_on = -randint(low, high)
                    rows["payments"].append(
                        self._payment(pay_id, portfolio_id, debtor_id, total, paid_on, stamp)
                    )
                    for cents, row in docs:
                        rows["allocations"].append((self.org, pay_id, row[0], _money(cents), stamp))
                    self.counts["paid_documents"] += len(docs)
                elif docs and r() < 0.25:
                    for j in range(min(len(docs), 1 if r() < 0.8 else 2)):
                        cents, row = docs[j]
                        pay_id = ids.payment
                        ids.payment += 1
                        settles = r() < 0.3 and len(docs) > 1
                        amount = cents if settles else max(1, int(cents * (0.1 + 0.8 * r())))
                        paid_on = -min(120, int(r() * 121))
                        rows["payments"].append(
                            self._payment(pay_id, portfolio_id, debtor_id, amount, paid_on, stamp)
                        )
                        rows["allocations"].append((self.org, pay_id, row[0], _money(amount), stamp))
                        row[11] = _money(cents - amount)
                        if settles:
                            row[13] = "paid"
                            self.counts["paid_documents"] += 1
            self.counts["debtors"] += len(rows["debtors"])
            self.counts["documents"] += len(rows["documents"])
            opted_at = {True: stamp, False: None}
            rows["contacts"] = [
                (
                    self.org,
                    debtor,
                    kind,
                    value,
                    value,
                    "",
                    primary,
                    None,
                    None,
                    opted_at[opted],
                    wrong,
                    stamp,
                    stamp,
                )
                for debtor, kind, value, primary, opted, wrong in rows["contacts"]
            ]
            self.counts["contact_points"] += len(rows["contacts"])
            self.counts["payments"] += len(rows["payments"])
            self.counts["allocations"] += len(rows["allocations"])
            yield rows

    def _payment(self, pay_id, portfolio_id, debtor_id, cents, paid_on, stamp) -> tuple:
        method = ("transfer", "deposit", "card", "cash")[pay_id % 4]
        return (
            pay_id, self.org, portfolio_id, debtor_id, f"P{pay_id:08d}", _money(cents), "0.00", CURRENCY,
            _date(paid_on), method, "import", "", "posted", "", stamp,
        )  # fmt: skip


# --- the organization and its ledger ------------------------------------------------------


def create_organization(as_of: dt.date = AS_OF):
    from recobro.core.models import Organization
    from recobro.portfolio.models import Portfolio

    org = Organization.objects.create(
        name="Cobranza Bench",
        slug="cobranza-bench",
        country="MX",
        timezone="America/Mexico_City",
        currency=CURRENCY,
        locale="es-MX",
        payment_reference_prefix=98,
        business_date_override=as_of,
    )
    tarjetas = Portfolio.objects.create(
        organization=org, code="tarjetas", name="Tarjetas", creditor="Banco Bench", currency=CURRENCY,
        jurisdiction="MX",
    )  # fmt: skip
    prestamos = Portfolio.objects.create(
        organization=org, code="prestamos", name="Préstamos y hogar", creditor="Banco Bench",
        currency=CURRENCY, jurisdiction="MX", allocation_order="waterfall",
    )  # fmt: skip
    return org, {"tarjeta": tarjetas.pk, "prestamo": prestamos.pk, "hogar": prestamos.pk}


def load_ledger(org, portfolios: dict, *, cases: int, docs_per_case: int, seed: int) -> dict:
    """Debtors, contact points, documents, payments and allocations, chunk by chunk."""
    from django.db import connection, transaction
    from django.utils import timezone

    from recobro.portfolio.models import Allocation, ContactPoint, Debtor, Document, Payment

    tables = {
        "debtors": (Debtor._meta.db_table, DEBTOR_COLUMNS),
        "contacts": (ContactPoint._meta.db_table, CONTACT_COLUMNS),
        "documents": (Document._meta.db_table, DOCUMENT_COLUMNS),
        "payments": (Payment._meta.db_table, PAYMENT_COLUMNS),
        "allocations": (Allocation._meta.db_table, ALLOCATION_COLUMNS),
    }
    ids = _Ids(
        debtor=next_id(tables["debtors"][0]),
        document=next_id(tables["documents"][0]),
        payment=next_id(tables["payments"][0]),
    )
    generator = LedgerGenerator(
        organization_id=org.pk, portfolios=portfolios, count=cases, docs_per_case=docs_per_case, seed=seed
    )
    sqlite_sync = None
    replica = _is_pg() and _is_superuser()
    if not _is_pg() and not connection.in_atomic_block:  # (the pragma is refused inside one)
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA synchronous")
            sqlite_sync = cursor.fetchone()[0]
            cursor.execute("PRAGMA synchronous = OFF")  # a throw-away benchmark database
    # The rows are made in a second thread while the previous chunk is written (the
    # database works while Python makes rows). On PostgreSQL, as a superuser, foreign keys
    # are not checked row by row (session_replication_role = replica, as pg_restore
    # --disable-triggers does): the generator's ids are consistent by construction, and
    # the SQLite load, which checks them, runs the same generator.
    chunks: queue.Queue = queue.Queue(maxsize=2)
    stop = threading.Event()
    failure: list[BaseException] = []

    def produce() -> None:
        try:
            for rows in generator.chunks(ids, timezone.now()):
                while not stop.is_set():
                    try:
                        chunks.put(rows, timeout=0.5)
                        break
                    except queue.Full:
                        continue
        except BaseException as error:  # handed to the writing thread
            failure.append(error)
        finally:
            chunks.put(None)

    producer = threading.Thread(target=produce, name="cycle-data", daemon=True)
    producer.start()
    waited = loaded = 0.0
    try:
        while True:
            start = time.perf_counter()
            rows = chunks.get()
            waited += time.perf_counter() - start
            if rows is None:
                break
            start = time.perf_counter()
            with transaction.atomic(), connection.cursor() as cursor:
                if replica:
                    cursor.execute("SET LOCAL session_replication_role = replica")
                for key in ("debtors", "contacts", "documents", "payments", "allocations"):
                    table, columns = tables[key]
                    load_rows(table, columns, rows[key])
                if replica:  # back to normal before the commit (or a caller's transaction goes on)
                    cursor.execute("SET LOCAL session_replication_role = DEFAULT")
            loaded += time.perf_counter() - start
        if failure:
            raise failure[0]
    finally:
        stop.set()
        if sqlite_sync is not None:
            with connection.cursor() as cursor:
                cursor.execute(f"PRAGMA synchronous = {int(sqlite_sync)}")
    reset_sequences([tables["debtors"][0], tables["documents"][0], tables["payments"][0]])
    start = time.perf_counter()
    analyze()
    timings = {"rows_written_s": round(loaded, 2), "waiting_for_rows_s": round(waited, 2)}
    timings["analyze_s"] = round(time.perf_counter() - start, 2)
    return dict(generator.counts), timings


def _is_superuser() -> bool:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        row = cursor.fetchone()
    return bool(row and row[0])


def analyze() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


# --- the strategy configuration -----------------------------------------------------------

TEMPLATES = (
    # code, channel, name, subject, body
    ("recordatorio", "email", "Recordatorio de vencimiento", "Tu pago vence pronto",
     "Hola {{ debtor.name }}, tu saldo de {{ case.balance }} vence el {{ case.oldest_due_date }}."),
    ("recordatorio", "sms", "Recordatorio de vencimiento", "",
     "Cobranza Bench: tu pago de {{ case.balance }} vence pronto. Paga en {{ portal.link }}"),
    ("recordatorio", "whatsapp", "Recordatorio de vencimiento", "",
     "Hola {{ debtor.name }}, te recordamos tu pago de {{ case.balance }}."),
    ("vence-hoy", "email", "Vence hoy", "Tu pago vence hoy",
     "Hola {{ debtor.name }}, hoy vence tu pago de {{ case.balance }}."),
    ("aviso-atraso", "email", "Aviso de atraso", "Tu cuenta tiene un saldo vencido",
     "Hola {{ debtor.name }}, tu cuenta tiene {{ case.dpd }} días de atraso."),
    ("aviso-atraso", "sms", "Aviso de atraso", "",
     "Cobranza Bench: tu cuenta tiene {{ case.dpd }} días de atraso. Paga en {{ portal.link }}"),
    ("aviso-atraso", "whatsapp", "Aviso de atraso", "",
     "Hola {{ debtor.name }}, tu cuenta tiene un saldo vencido de {{ case.overdue_balance }}."),
    ("aviso-atraso", "voice", "Aviso de atraso", "",
     "Le llamamos de Cobranza Bench por un saldo vencido de {{ case.overdue_balance }}."),
    ("prejuridico", "email", "Aviso prejurídico", "Último aviso antes de acciones legales",
     "{{ debtor.name }}, tu cuenta pasará a cobranza jurídica si no regularizas tu saldo."),
    ("prejuridico", "sms", "Aviso prejurídico", "",
     "Cobranza Bench: último aviso antes de cobranza jurídica. Paga en {{ portal.link }}"),
)  # fmt: skip

STAGES = (
    # code, name, kind, position, entry_offset, entry_rule, exits_when_cured, priority_weight
    ("preventiva", "Preventiva", "preventive", 1, -5, "", True, "0.50"),
    ("administrativa", "Administrativa", "administrative", 2, 1, "", True, "1.00"),
    ("extrajudicial", "Extrajudicial", "extrajudicial", 3, 61, "", True, "1.50"),
    ("judicial", "Judicial", "judicial", 4, 181, "balance >= 5000", False, "2.00"),
    ("castigo", "Castigo", "write_off", 5, 361, "", False, "0.20"),
)

SEGMENTS = (
    # code, name, rule (priority = position × 10)
    ("promesas-rotas", "Promesas rotas", "broken_promises_90d >= 2"),
    ("pago-reciente", "Pagó hace poco", "payments_30d >= 1 and dpd <= 30"),
    ("alto-valor-temprano", "Alto valor temprano", "dpd between 1 and 30 and balance >= 50000"),
    ("tarjeta-norte", "Tarjeta, región Norte", 'product == "tarjeta" and attr.region == "Norte"'),
    ("riesgo-alto", "Riesgo alto", "score < 0.3"),
    ("empresas", "Empresas", 'debtor_type == "company" and balance >= 20000'),
    ("prestamos-vencidos", "Préstamos vencidos", 'product in ("prestamo", "hogar") and dpd >= 31'),
    ("erp-a-o-sur", "Segmento A del ERP o región Sur", 'attr.segment_erp == "A" or region == "Sur"'),
    ("saldo-bajo", "Saldo bajo", "balance < 1000"),
    ("resto", "Resto", "balance > 0"),
)

#: strategy code -> (name, stage code, {variant code: (name, champion, [steps])}); a step is
#: (name, anchor, offset, action, channel or task kind, template code, condition, weekdays).
STRATEGIES = {
    "preventiva": (
        "Preventiva",
        "preventiva",
        {
            "a": ("Campeona", True, [
                ("Recordatorio 5 días antes", "due_date", -5, "message", "email", "recordatorio", "", ""),
                ("SMS 1 día antes", "due_date", -1, "message", "sms", "recordatorio", "", ""),
                ("Vence hoy", "due_date", 0, "message", "email", "vence-hoy", "", ""),
                ("Bienvenida a preventiva", "stage_entry", 0, "message", "email", "recordatorio", "", ""),
            ]),
            "b": ("Retadora WhatsApp", False, [
                ("WhatsApp 3 días antes", "due_date", -3, "message", "whatsapp", "recordatorio", "", ""),
                ("Correo 1 día antes", "due_date", -1, "message", "email", "recordatorio", "", ""),
                ("Entrada a preventiva", "stage_entry", 0, "message", "whatsapp", "recordatorio", "", ""),
            ]),
        },
    ),
    "temprana": (
        "Cobranza temprana",
        "administrativa",
        {
            "a": ("Campeona", True, [
                ("Aviso de atraso", "stage_entry", 0, "message", "email", "aviso-atraso", "", ""),
                ("SMS día 7", "due_date", 7, "message", "sms", "aviso-atraso", "", ""),
                ("Llamada día 15", "due_date", 15, "task", "call", "", "balance >= 5000", "12345"),
                ("Correo día 25", "due_date", 25, "message", "email", "aviso-atraso", "", ""),
                ("WhatsApp a los 10 días en etapa", "stage_entry", 10, "message", "whatsapp", "aviso-atraso",
                 "", "12345"),
            ]),
            "b": ("Retadora", False, [
                ("WhatsApp de atraso", "stage_entry", 0, "message", "whatsapp", "aviso-atraso", "", ""),
                ("Llamada día 10", "due_date", 10, "task", "call", "", "balance >= 2000", ""),
                ("SMS día 20", "due_date", 20, "message", "sms", "aviso-atraso", "", "246"),
                ("Llamada automática día 28", "due_date", 28, "message", "voice", "aviso-atraso", "", ""),
            ]),
        },
    ),
    "prejuridica": (
        "Prejurídica",
        "extrajudicial",
        {
            "a": ("Campeona", True, [
                ("Aviso prejurídico", "stage_entry", 0, "message", "email", "prejuridico", "", ""),
                ("Llamada de negociación", "stage_entry", 3, "task", "call", "", "", "12345"),
                ("SMS prejurídico", "stage_entry", 10, "message", "sms", "prejuridico", "", ""),
                ("Visita", "stage_entry", 20, "task", "visit", "", "balance >= 20000", ""),
                ("Revisión del caso", "stage_entry", 45, "task", "review", "", "", ""),
            ]),
            "b": ("Retadora con agencia", False, [
                ("SMS prejurídico", "stage_entry", 0, "message", "sms", "prejuridico", "", ""),
                ("Llamada de negociación", "stage_entry", 2, "task", "call", "", "", ""),
                ("Correo prejurídico", "stage_entry", 15, "message", "email", "prejuridico", "", ""),
                ("Asignación a agencia", "stage_entry", 30, "task", "agency_assignment", "",
                 "balance < 20000", ""),
            ]),
        },
    ),
}  # fmt: skip


def configuration_document() -> dict:
    """The configuration as the YAML document of docs/strategy.md ("Configuration document")."""
    return {
        "version": 1,
        "settings": {"catch_up_days": 7, "payment_stop_days": 5, "long_hold_days": 30},
        "templates": [
            {"code": c, "channel": ch, "language": "es", "name": n, "subject": s, "body": b}
            for c, ch, n, s, b in TEMPLATES
        ],
        "segments": [
            {"code": code, "name": name, "priority": 10 * (i + 1), "rule": rule}
            for i, (code, name, rule) in enumerate(SEGMENTS)
        ],
        "stages": [
            {
                "code": code,
                "name": name,
                "kind": kind,
                "position": position,
                "entry_offset": offset,
                "entry_rule": rule,
                "exits_when_cured": cured,
                "priority_weight": weight,
            }
            for code, name, kind, position, offset, rule, cured, weight in STAGES
        ],
        "strategies": [
            {
                "code": code,
                "name": name,
                "stage": stage,
                "segment": None,
                "variants": [
                    {
                        "code": vcode,
                        "name": vname,
                        "champion": champion,
                        "share": 50,
                        "steps": [_step(*step) for step in steps],
                    }
                    for vcode, (vname, champion, steps) in variants.items()
                ],
            }
            for code, (name, stage, variants) in STRATEGIES.items()
        ],
    }


def _step(name, anchor, offset, action, what, template, condition, weekdays) -> dict:
    step = {"name": name, "anchor": anchor, "offset_days": offset, "weekdays": weekdays, "action": action}
    if action == "message":
        step.update(channel=what, template=template)
    else:
        step["task_kind"] = what
    step["condition"] = condition
    return step


def build_configuration(org) -> dict:
    """Import the configuration document, as `recobro strategy import` does (validated whole)."""
    import yaml

    from recobro.core.audit import Actor
    from recobro.strategy.yaml_io import import_configuration

    doc = configuration_document()
    text = yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)
    import_configuration(organization=org, text=text, actor=Actor.system("bench"))
    return {
        "stages": len(doc["stages"]),
        "segments": len(doc["segments"]),
        "strategies": len(doc["strategies"]),
        "variants": sum(len(s["variants"]) for s in doc["strategies"]),
        "steps": sum(len(v["steps"]) for s in doc["strategies"] for v in s["variants"]),
        "templates": len(doc["templates"]),
    }


# --- case history, set-based --------------------------------------------------------------


def _hash(column: str, salt: int, modulo: int) -> str:
    """A repeatable scramble of an id into 0..modulo-1 (BIGINT arithmetic on both databases)."""
    return f"((({column} * 2654435761 + {salt}) %% 4294967296) %% {modulo})"


def _day(days_sql: str) -> str:
    """AS_OF plus an integer SQL expression of days, as a date."""
    if _is_pg():
        return f"(DATE '{AS_OF.isoformat()}' + CAST({days_sql} AS INTEGER))"
    return f"date('{AS_OF.isoformat()}', ({days_sql}) || ' days')"


def _moment(days_sql: str, hour: int) -> str:
    """AS_OF plus days at an hour (UTC), as each database stores a datetime."""
    if _is_pg():
        return f"CAST({_day(days_sql)} + TIME '{hour:02d}:00' AS TIMESTAMP) AT TIME ZONE 'UTC'"
    return f"({_day(days_sql)} || ' {hour:02d}:00:00')"


def _now_sql() -> str:
    return "CURRENT_TIMESTAMP"


def _money_sql(expr: str) -> str:
    """A money expression rounded to cents, typed for the column."""
    if _is_pg():
        return f"CAST(ROUND({expr}, 2) AS NUMERIC(18, 2))"
    return f"ROUND({expr}, 2)"


def load_history(org) -> dict:
    """Promises, plans, holds, delivered messages and calls, from the cases, set-based."""
    from django.db import connection, transaction

    from recobro.channels.models import Message, Template
    from recobro.negotiation.models import PaymentPlan, PromiseToPay
    from recobro.portfolio.models import Case, Document
    from recobro.strategy.models import Hold, Task

    case, promise, plan = Case._meta.db_table, PromiseToPay._meta.db_table, PaymentPlan._meta.db_table
    hold, document = Hold._meta.db_table, Document._meta.db_table
    message, task = Message._meta.db_table, Task._meta.db_table
    template = Template.objects.get(organization=org, code="recordatorio", channel="email")
    now = _now_sql()
    counts = {}
    promise_cols = (
        "organization_id, case_id, amount, currency, promised_on, made_on, status, paid_amount, resolved_on,"
        " origin, notes, created_at"
    )
    open_cases = f"FROM {case} c WHERE c.organization_id = %s AND c.status = 'open' AND c.balance > 0"
    amount = _money_sql("c.balance / 3")
    h = _hash("c.debtor_id", 11, 1000)
    with transaction.atomic(), connection.cursor() as cursor:

        def run(key: str, sql: str, params: list) -> None:
            cursor.execute(sql, params)
            counts[key] = counts.get(key, 0) + cursor.rowcount

        # Pending promises: 2% due today or in the next 10 days, 0.4% already past their date
        # (the cycle's first phase resolves them).
        run(
            "promises_pending",
            f"INSERT INTO {promise} ({promise_cols}) SELECT %s, c.id, {amount}, c.currency,"
            f" {_day(f'{h} %% 11')}, {_day(f'-1 - {h} %% 7')}, 'pending', 0, NULL, 'collector', '', {now}"
            f" {open_cases} AND {h} < 20",
            [org.pk, org.pk],
        )
        run(
            "promises_pending",
            f"INSERT INTO {promise} ({promise_cols}) SELECT %s, c.id, {amount}, c.currency,"
            f" {_day(f'-1 - {h} %% 3')}, {_day(f'-8 - {h} %% 3')}, 'pending', 0, NULL, 'portal', '', {now}"
            f" {open_cases} AND {h} >= 20 AND {h} < 24",
            [org.pk, org.pk],
        )
        # Broken in the last 90 days: 4% once, the first 1.5% of them twice.
        run(
            "promises_broken",
            f"INSERT INTO {promise} ({promise_cols}) SELECT %s, c.id, {amount}, c.currency,"
            f" {_day(f'-2 - {h} %% 80')}, {_day(f'-9 - {h} %% 80')}, 'broken', 0, {_day(f'-1 - {h} %% 80')},"
            f" 'collector', '', {now} {open_cases} AND {h} >= 24 AND {h} < 64",
            [org.pk, org.pk],
        )
        run(
            "promises_broken",
            f"INSERT INTO {promise} ({promise_cols}) SELECT %s, c.id, {amount}, c.currency,"
            f" {_day(f'-3 - {h} %% 60')}, {_day(f'-5 - {h} %% 60')}, 'broken', 0, {_day(f'-2 - {h} %% 60')},"
            f" 'bot', '', {now} {open_cases} AND {h} >= 24 AND {h} < 39",
            [org.pk, org.pk],
        )
        run(
            "promises_kept",
            f"INSERT INTO {promise} ({promise_cols}) SELECT %s, c.id, {amount}, c.currency,"
            f" {_day(f'-5 - {h} %% 100')}, {_day(f'-12 - {h} %% 100')}, 'kept', {amount},"
            f" {_day(f'-5 - {h} %% 100')}, 'portal', '', {now} {open_cases} AND {h} >= 64 AND {h} < 84",
            [org.pk, org.pk],
        )
        # Active payment plans: 0.6% of the cases 31+ days past due.
        h2 = _hash("c.debtor_id", 23, 1000)
        run(
            "plans_active",
            f"INSERT INTO {plan} (organization_id, case_id, status, total_amount, down_payment, installments,"
            f" first_due_on, starts_on, ends_on, notes, created_at)"
            f" SELECT %s, c.id, 'active', c.balance, 0, 6, {_day(f'25 - {h2} %% 60')},"
            f" {_day(f'-5 - {h2} %% 60')}, NULL, '', {now} {open_cases} AND c.dpd >= 31 AND {h2} < 6",
            [org.pk, org.pk],
        )
        # Debtor holds: 0.3% of cases; of those a third without end awaiting approval, a
        # sixth released, the rest effective (some backdated, some ending soon).
        h3 = _hash("c.debtor_id", 37, 3000)
        hold_cols = (
            "organization_id, scope, debtor_id, document_id, reason, note, starts_on, ends_on,"
            " needs_approval, released_at, created_at"
        )
        run(
            "holds_debtor",
            f"INSERT INTO {hold} ({hold_cols}) SELECT %s, 'debtor', c.debtor_id, NULL,"
            f" CASE WHEN {h3} %% 3 = 0 THEN 'negotiation' WHEN {h3} %% 3 = 1 THEN 'complaint'"
            " ELSE 'hardship' END,"
            f" '', {_day(f'-({h3} %% 20)')},"
            f" CASE WHEN {h3} %% 3 = 0 THEN NULL ELSE {_day(f'1 + {h3} %% 15')} END,"
            f" {h3} %% 3 = 0 AND {h3} %% 2 = 0,"
            f" CASE WHEN {h3} %% 6 = 1 THEN {now} ELSE NULL END, {now}"
            f" {open_cases} AND {h3} < 9",
            [org.pk, org.pk],
        )
        hd = _hash("d.id", 41, 1000)
        run(
            "holds_document",
            f"INSERT INTO {hold} ({hold_cols}) SELECT %s, 'document', d.debtor_id, d.id, 'dispute', '',"
            f" {_day(f'-({hd} %% 30)')}, NULL, false, NULL, {now}"
            f" FROM {document} d WHERE d.organization_id = %s AND d.status = 'open'"
            f" AND d.kind <> 'credit_note' AND {hd} < 1",
            [org.pk, org.pk],
        )
        # Contact history: 30% of cases had a message delivered in the last 60 days, 5% a call.
        h4 = _hash("c.debtor_id", 53, 100)
        run(
            "messages_delivered",
            f"INSERT INTO {message} (organization_id, case_id, debtor_id, channel, contact_point_id,"
            f" template_id, language, business_date, scheduled_for, status, subject, body, provider,"
            f" provider_id, cost, compliance_decision, idempotency_key, created_at, sent_at,"
            f" status_changed_at)"
            f" SELECT %s, c.id, c.debtor_id, 'email', NULL, %s, 'es', {_day(f'-1 - {h4} %% 60')}, NULL,"
            f" 'delivered', '', '', 'sandbox', '', NULL, NULL, 'history:' || CAST(c.id AS TEXT), {now},"
            f" {_moment(f'-1 - {h4} %% 60', 15)}, {_moment(f'-1 - {h4} %% 60', 16)}"
            f" {open_cases} AND {h4} < 30",
            [org.pk, template.pk, org.pk],
        )
        h5 = _hash("c.debtor_id", 67, 100)
        run(
            "calls_done",
            f"INSERT INTO {task} (organization_id, case_id, kind, title, status, due_on, priority, result,"
            f" notes, created_at, completed_at)"
            f" SELECT %s, c.id, 'call', 'Llamada de seguimiento', 'done', {_day(f'-1 - {h5} %% 40')}, 0,"
            f" 'no_answer', '', {now}, {_moment(f'-1 - {h5} %% 40', 18)} {open_cases} AND {h5} < 5",
            [org.pk, org.pk],
        )
    analyze()
    return counts


def pay_day(org, day: dt.date, *, per_mille: int = 20) -> int:
    """The payments of one business day: ``per_mille`` ‰ of the debtors with something open pay
    their oldest open document in full (payment, allocation, document settled), set-based.
    Some cases close, some are cured, the rest owe less; their facts change at the next cycle."""
    from django.db import connection, transaction
    from django.utils import timezone

    from recobro.portfolio import dialect
    from recobro.portfolio.models import Allocation, Document, Payment

    document, payment, allocation = Document._meta.db_table, Payment._meta.db_table, Allocation._meta.db_table
    scratch = "bench_day_payments"
    day_sql = f"DATE '{day.isoformat()}'" if _is_pg() else f"'{day.isoformat()}'"
    key = f"'DAY-{day.isoformat()}-' || CAST(t.document_id AS TEXT)"
    now = timezone.now()
    salt = day.toordinal() % 1000
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(dialect.drop_temp_table(scratch))
        cursor.execute(
            f"{dialect.create_temp_table_as(scratch)}"
            f" SELECT id AS document_id, debtor_id, portfolio_id, balance FROM ("
            f"  SELECT d.id, d.debtor_id, d.portfolio_id, d.balance, ROW_NUMBER() OVER ("
            f"   PARTITION BY d.portfolio_id, d.debtor_id ORDER BY d.due_date, d.id) AS rn"
            f"  FROM {document} d WHERE d.organization_id = %s AND d.status = 'open'"
            f"  AND d.kind <> 'credit_note' AND d.balance > 0 AND {_hash('d.debtor_id', salt, 1000)} < %s"
            f" ) x WHERE rn = 1",
            [org.pk, per_mille],
        )
        cursor.execute(
            f"INSERT INTO {payment} (organization_id, portfolio_id, debtor_id, external_id, amount,"
            f" unallocated_amount, currency, paid_on, method, source, reference, status, notes, created_at)"
            f" SELECT %s, t.portfolio_id, t.debtor_id, {key}, t.balance, 0, %s, {day_sql}, 'transfer',"
            f" 'import', '', 'posted', '', %s FROM {scratch} t",
            [org.pk, CURRENCY, now],
        )
        paid = cursor.rowcount
        cursor.execute(
            f"INSERT INTO {allocation} (organization_id, payment_id, document_id, amount, created_at)"
            f" SELECT %s, p.id, t.document_id, t.balance, %s FROM {scratch} t"
            f" JOIN {payment} p ON p.portfolio_id = t.portfolio_id AND p.external_id = {key}",
            [org.pk, now],
        )
        cursor.execute(
            f"UPDATE {document} SET balance = 0, status = 'paid', updated_at = %s"
            f" WHERE id IN (SELECT document_id FROM {scratch})",
            [now],
        )
        cursor.execute(dialect.drop_temp_table(scratch))
    return paid


# --- everything ---------------------------------------------------------------------------


def generate(*, cases: int = 1_000_000, docs_per_case: int = 3, seed: int = SEED, progress=print) -> Dataset:
    """The whole data set in an empty (migrated) database; returns the organization and counts."""
    from recobro.portfolio.engine import refresh_cases

    timings: dict = {}

    def step(name: str, start: float) -> float:
        now = time.perf_counter()
        timings[name] = round(now - start, 2)
        return now

    t = time.perf_counter()
    org, portfolios = create_organization()
    counts, ledger_timings = load_ledger(org, portfolios, cases=cases, docs_per_case=docs_per_case, seed=seed)
    t = step("ledger_s", t)
    timings.update(ledger_timings)
    progress(
        f"  ledger: {counts['debtors']:,} debtors, {counts['documents']:,} documents,"
        f" {counts['contact_points']:,} contact points, {counts['payments']:,} payments"
        f" in {timings['ledger_s']} s"
    )
    refreshed = refresh_cases(organization=org, as_of=AS_OF)
    counts["cases"] = refreshed["created"]
    t = step("refresh_cases_s", t)
    counts.update(build_configuration(org))
    counts.update(load_history(org))
    t = step("configuration_and_history_s", t)
    progress(
        f"  cases {counts['cases']:,} in {timings['refresh_cases_s']} s; configuration and history in"
        f" {timings['configuration_and_history_s']} s"
    )
    return Dataset(organization=org, portfolios=portfolios, as_of=AS_OF, counts=counts, timings=timings)


__all__ = ["AS_OF", "Dataset", "build_configuration", "configuration_document", "generate"]
