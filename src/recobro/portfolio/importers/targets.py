"""What each kind of import writes: its table, key, columns, what an update may change,
and its rows as audit JSON and as COPY text."""

import datetime as dt
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from recobro.core.audit import Actor
from recobro.core.models import AuditSource
from recobro.portfolio.importers.fields import ATTRIBUTE_PREFIX
from recobro.portfolio.models import (
    ContactPoint,
    Debtor,
    Document,
    ImportKind,
    Payment,
    PaymentSource,
    PaymentStatus,
)

# Column types in the staging table.
TEXT, MONEY, SCORE, DATE, BOOL, ID = "text", "money", "score", "date", "bool", "id"
#: A JSON object staged as a merge patch (RFC 7396) of the stored one: the keys it names are
#: set, those it names with null removed, the others kept.
PATCH = "patch"


@dataclass(frozen=True)
class Target:
    """How one kind of row is keyed, staged, compared, written and audited."""

    kind: str
    model: type
    scope: str  # organization_id or portfolio_id
    key: tuple[str, ...]
    columns: tuple[tuple[str, str], ...]  # (column, type) staged and inserted, in staging order
    updates: dict[str, tuple[str, ...]]  # field → columns it updates when the field is present
    # (``ATTRIBUTE_PREFIX`` stands for every ``attr.<name>`` field)
    frozen: tuple[str, ...] = ()  # columns an import may not change
    constants: dict[str, str] = field(default_factory=dict)  # extra insert columns: SQL per vendor key
    touch: bool = True  # has updated_at
    repr_sql: str = ""

    @property
    def table(self) -> str:
        return self.model._meta.db_table

    @property
    def column_names(self) -> list[str]:
        return [name for name, _type in self.columns]

    @property
    def types(self) -> dict[str, str]:
        return dict(self.columns)

    def update_columns(self, present: Iterable[str]) -> list[str]:
        wanted: list[str] = []
        for name in present:
            if name.startswith(ATTRIBUTE_PREFIX):
                name = ATTRIBUTE_PREFIX
            for column in self.updates.get(name, ()):
                if column not in wanted and column not in self.key and column not in self.frozen:
                    wanted.append(column)
        return [c for c in self.column_names if c in wanted]


TARGETS: dict[str, Target] = {
    ImportKind.DEBTORS: Target(
        kind=ImportKind.DEBTORS,
        model=Debtor,
        scope="organization_id",
        key=("external_id",),
        columns=(
            ("external_id", TEXT),
            ("name", TEXT),
            ("kind", TEXT),
            ("tax_id", TEXT),
            ("tax_id_type", TEXT),
            ("language", TEXT),
            ("timezone", TEXT),
            ("risk_score", SCORE),
            ("is_disputed", BOOL),
            ("is_deceased", BOOL),
            ("is_bankrupt", BOOL),
            ("do_not_contact", BOOL),
            ("attributes", PATCH),
        ),
        updates={
            "name": ("name",),
            "kind": ("kind",),
            "tax_id": ("tax_id", "tax_id_type"),
            "tax_id_type": ("tax_id_type",),
            "language": ("language",),
            "timezone": ("timezone",),
            "risk_score": ("risk_score",),
            "is_disputed": ("is_disputed",),
            "is_deceased": ("is_deceased",),
            "is_bankrupt": ("is_bankrupt",),
            "do_not_contact": ("do_not_contact",),
            ATTRIBUTE_PREFIX: ("attributes",),
        },
        repr_sql="s.name",
    ),
    ImportKind.CONTACT_POINTS: Target(
        kind=ImportKind.CONTACT_POINTS,
        model=ContactPoint,
        scope="organization_id",
        key=("debtor_id", "kind", "normalized"),
        columns=(
            ("debtor_id", ID),
            ("kind", TEXT),
            ("value", TEXT),
            ("normalized", TEXT),
            ("label", TEXT),
            ("is_primary", BOOL),
        ),
        updates={"value": ("value",), "label": ("label",), "is_primary": ("is_primary",)},
        constants={"wrong_number": "false"},
        repr_sql="s.kind || ': ' || s.normalized",
    ),
    ImportKind.DOCUMENTS: Target(
        kind=ImportKind.DOCUMENTS,
        model=Document,
        scope="portfolio_id",
        key=("external_id",),
        columns=(
            ("external_id", TEXT),
            ("debtor_id", ID),
            ("kind", TEXT),
            ("number", TEXT),
            ("product", TEXT),
            ("issue_date", DATE),
            ("due_date", DATE),
            ("original_amount", MONEY),
            ("balance", MONEY),
            ("currency", TEXT),
            ("status", TEXT),
        ),
        updates={
            "debtor_external_id": ("debtor_id",),
            "kind": ("kind",),
            "number": ("number",),
            "product": ("product",),
            "issue_date": ("issue_date",),
            "due_date": ("due_date",),
            "original_amount": ("original_amount",),
            "balance": ("balance",),
            "currency": ("currency",),
            "status": ("status",),
        },
        constants={"attributes": "json"},
        repr_sql="COALESCE(NULLIF(s.number, ''), s.external_id)",
    ),
    ImportKind.PAYMENTS: Target(
        kind=ImportKind.PAYMENTS,
        model=Payment,
        scope="portfolio_id",
        key=("external_id",),
        columns=(
            ("external_id", TEXT),
            ("debtor_id", ID),
            ("amount", MONEY),
            ("currency", TEXT),
            ("paid_on", DATE),
            ("method", TEXT),
            ("reference", TEXT),
            ("notes", TEXT),
        ),
        updates={"method": ("method",), "reference": ("reference",), "notes": ("notes",)},
        frozen=("debtor_id", "amount", "currency", "paid_on"),
        constants={
            "unallocated_amount": "s.amount",
            "status": f"'{PaymentStatus.POSTED}'",
            "source": "source",
        },
        touch=False,
        repr_sql="",  # built per vendor: amount currency date
    ),
}


def _money_json(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def _score_json(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.4f}"


def _date_json(value: dt.date | None) -> str | None:
    return None if value is None else value.isoformat()


def _patch_json(value: str | None) -> dict:
    """A staged patch as the object a new row gets: its keys without the removals."""
    if not value:
        return {}
    return {key: text for key, text in json.loads(value).items() if text is not None}


_TO_JSON = {MONEY: _money_json, SCORE: _score_json, DATE: _date_json, PATCH: _patch_json}


def record_json(target: Target) -> Callable[[tuple], str]:
    """A function from a clean row to the audit log's "after" of its creation, built in
    Python (on PostgreSQL, in the reading thread, beside the database's work) as the
    entries written field by field store it: Decimals and dates as text."""
    names = target.column_names
    converters = [(i, _TO_JSON[type_]) for i, (_n, type_) in enumerate(target.columns) if type_ in _TO_JSON]
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode

    def encode(record: tuple) -> str:
        values = list(record)
        for i, convert in converters:
            values[i] = convert(values[i])
        return dumps(dict(zip(names, values, strict=True)))

    return encode


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_value(value) -> str:
    if value is None:
        return "\\N"
    kind = type(value)
    if kind is str:
        return value.translate(_COPY_ESCAPES)
    if kind is bool:
        return "t" if value else "f"
    if kind is dt.date:
        return value.isoformat()
    return str(value)  # int, Decimal


def copy_text(rows: Iterable[tuple]) -> str:
    """Staged rows in PostgreSQL's COPY text format, so the thread that reads the file
    pays for the formatting and the writing thread only sends the text."""
    return "".join("\t".join(map(_copy_value, row)) + "\n" for row in rows)


def payment_source_for(actor: Actor) -> str:
    return {AuditSource.API: PaymentSource.API, AuditSource.IMPORT: PaymentSource.IMPORT}.get(
        actor.source, PaymentSource.MANUAL
    )
