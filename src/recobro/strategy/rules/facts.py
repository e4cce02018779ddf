"""The catalogue of case facts a rule may name: name, type, label and one-line help.

The catalogue is data: the rule editor's help panel lists it, the parser checks names and
types against it, and the cycle engine maps each name to a column of its facts table (the
engine owns that table; ``to_sql`` only asks it "which SQL expression reads fact X").

Every fact may be null on a given case (no due date, never paid, no score…); rules follow
SQL's three-valued logic, so a comparison with a null fact is unknown, never true.

Custom attributes: ``attr.<name>`` reads the debtor's custom attribute ``<name>`` as text.
Only JSON strings are values: an absent key, a JSON null and any non-string value (a
number, true/false, a list, an object) read as null, identically in SQL and in Python.
"""

import enum
import re
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class FactType(enum.StrEnum):
    INT = "int"
    DECIMAL = "decimal"
    TEXT = "text"
    BOOL = "bool"

    @property
    def is_numeric(self) -> bool:
        return self in (FactType.INT, FactType.DECIMAL)


@dataclass(frozen=True)
class Fact:
    name: str
    type: FactType
    label: str | Promise
    help: str | Promise
    #: Decimal places of a money fact; None when not fixed.
    places: int | None = None
    #: For ``attr.<name>``: the attribute's name (the fact reads the column of "attr").
    attribute: str | None = None

    @property
    def column_key(self) -> str:
        """The key the engine's column mapping is asked for."""
        return ATTRIBUTES_KEY if self.attribute is not None else self.name


#: The key under which the engine maps its JSON column of custom attributes, and under which
#: ``evaluate`` expects the attributes dict.
ATTRIBUTES_KEY = "attr"
ATTRIBUTE_PREFIX = "attr."
ATTRIBUTE_NAME_RE = re.compile(r"[a-z][a-z0-9_]{0,39}")

_INT, _DEC, _TEXT, _BOOL = FactType.INT, FactType.DECIMAL, FactType.TEXT, FactType.BOOL

CATALOGUE: tuple[Fact, ...] = (
    Fact(
        "dpd", _INT, _("days past due"), _("Days since the oldest open due date; 0 when nothing is overdue.")
    ),
    Fact(
        "days_to_due",
        _INT,
        _("days to due date"),
        _("Oldest open due date minus today: negative when overdue, empty when there is no due date."),
    ),
    Fact("open_documents", _INT, _("open documents"), _("How many documents of the case are still open.")),
    Fact(
        "broken_promises_90d",
        _INT,
        _("broken promises (90 days)"),
        _("Promises to pay broken in the last 90 days."),
    ),
    Fact("payments_30d", _INT, _("payments (30 days)"), _("Payments received in the last 30 days.")),
    Fact(
        "days_since_last_payment",
        _INT,
        _("days since last payment"),
        _("Days since the last payment; empty if the debtor never paid."),
    ),
    Fact(
        "days_since_last_contact",
        _INT,
        _("days since last contact"),
        _("Days since the last contact with the debtor; empty if never contacted."),
    ),
    Fact(
        "days_in_stage",
        _INT,
        _("days in stage"),
        _("Days since the case entered its current stage; empty if it has no stage."),
    ),
    Fact("balance", _DEC, _("balance"), _("Open balance of the case."), places=2),
    Fact("overdue_balance", _DEC, _("overdue balance"), _("Part of the balance already past due."), places=2),
    Fact(
        "original_amount",
        _DEC,
        _("original amount"),
        _("Original amount of the case's open documents."),
        places=2,
    ),
    Fact("paid_amount_30d", _DEC, _("paid in 30 days"), _("Amount paid in the last 30 days."), places=2),
    Fact(
        "score",
        _DEC,
        _("risk score"),
        _("Probability of payment from 0 to 1; empty when the debtor has no score."),
    ),
    Fact("bucket", _TEXT, _("aging bucket"), _('Key of the aging bucket, e.g. "1-30".')),
    Fact("stage", _TEXT, _("stage"), _('Code of the current stage, e.g. "administrative".')),
    Fact("product", _TEXT, _("product"), _('Product of the case, e.g. "tarjeta".')),
    Fact("region", _TEXT, _("region"), _("Region of the debtor.")),
    Fact("debtor_type", _TEXT, _("debtor type"), _('"person" or "company".')),
    Fact("portfolio", _TEXT, _("portfolio"), _("Code of the case's portfolio.")),
    Fact("currency", _TEXT, _("currency"), _('Currency code of the case, e.g. "MXN".')),
    Fact("active_plan", _BOOL, _("active payment plan"), _("The case has a payment plan in force.")),
    Fact("promise_pending", _BOOL, _("promise pending"), _("A promise to pay is waiting for its date.")),
    Fact("disputed", _BOOL, _("disputed"), _("The debtor disputes the debt.")),
    Fact(
        "payment_in_transit",
        _BOOL,
        _("payment in transit"),
        _("A payment was announced or initiated but has not settled yet."),
    ),
)

FACTS: dict[str, Fact] = {fact.name: fact for fact in CATALOGUE}

#: The help panel's entry for custom attributes.
ATTRIBUTE_HELP = Fact(
    "attr.<name>",
    _TEXT,
    _("custom attribute"),
    _('A custom attribute of the debtor, as text, e.g. attr.region == "Norte"; empty when absent.'),
)

TYPE_LABELS = {
    FactType.INT: _("a whole number"),
    FactType.DECIMAL: _("a number"),
    FactType.TEXT: _("text"),
    FactType.BOOL: _("true or false"),
}


def get_fact(name: str) -> Fact | None:
    """The fact called ``name`` (``attr.<name>`` included), or None if there is none."""
    fact = FACTS.get(name)
    if fact is not None:
        return fact
    if name.startswith(ATTRIBUTE_PREFIX):
        attribute = name[len(ATTRIBUTE_PREFIX) :]
        if ATTRIBUTE_NAME_RE.fullmatch(attribute):
            return Fact(name, _TEXT, attribute, ATTRIBUTE_HELP.help, attribute=attribute)
    return None


def help_entries() -> list[dict[str, str]]:
    """The rule editor's help panel: one entry per fact, then custom attributes, translated."""
    return [
        {
            "name": fact.name,
            "type": str(TYPE_LABELS[fact.type]),
            "label": str(fact.label),
            "help": str(fact.help),
        }
        for fact in (*CATALOGUE, ATTRIBUTE_HELP)
    ]
