"""The columns each kind of import expects, and how a file's header row maps onto them.

``FIELDS`` is public: the back-office lists the expected columns from it and builds
mapping profiles with it. Headers match a field's name or one of its usual ERP names
(Spanish or English) ignoring case, accents, spaces and punctuation: "Fecha de
vencimiento", "FECHA_VENCIMIENTO" and "due date" all find ``due_date``.
"""

import functools
import re
from dataclasses import dataclass, field

from django.db.models import TextChoices
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from recobro.portfolio.importers.errors import FileProblem, RowError
from recobro.portfolio.importers.formats import fold
from recobro.portfolio.models import (
    ContactKind,
    DebtorKind,
    DocumentKind,
    DocumentStatus,
    ImportKind,
    PaymentMethod,
    TaxIdType,
)

# Field types.
TEXT = "text"
AMOUNT = "amount"
DECIMAL = "decimal"
DATE = "date"
BOOLEAN = "boolean"
CHOICE = "choice"
CURRENCY = "currency"
DEBTOR = "debtor"  # a debtor's external id, resolved to the debtor
ATTRIBUTE = "attribute"  # a custom attribute: text, stored in the row's ``attributes`` JSON

#: Columns (and mapping keys) named ``attr.<name>`` feed the custom attribute <name>.
ATTRIBUTE_PREFIX = "attr."
ATTRIBUTE_NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")
#: The longest text an attribute holds.
ATTRIBUTE_MAX_LENGTH = 200
#: Kinds whose rows carry custom attributes.
ATTRIBUTE_KINDS = frozenset({ImportKind.DEBTORS})

#: Columns written by ``issues_csv`` next to the original ones; a corrected file re-uploaded
#: with them still in place imports without complaint.
REPORT_COLUMNS = ("recobro_line", "recobro_column", "recobro_reason")

#: The key in ``ImportProfile.column_map`` that lists headers to skip ("*" skips every unknown one).
IGNORE_KEY = "ignore"


@dataclass(frozen=True)
class FieldSpec:
    name: str
    type: str
    required: bool
    help_text: str
    aliases: tuple[str, ...] = ()
    max_length: int | None = None
    choices: type[TextChoices] | None = None
    synonyms: dict[str, str] = field(default_factory=dict)

    def accepted_values(self) -> list[str]:
        return [str(c) for c in self.choices.values] if self.choices else []


def _field(name, type_, required, help_text, aliases=(), **kwargs) -> FieldSpec:
    return FieldSpec(name, type_, required, help_text, tuple(aliases), **kwargs)


_DEBTOR_REF_ALIASES = (
    "debtor",
    "debtor id",
    "customer id",
    "id cliente",
    "codigo cliente",
    "numero cliente",
    "id deudor",
    "deudor",
)

FIELDS: dict[str, tuple[FieldSpec, ...]] = {
    ImportKind.DEBTORS: (
        _field(
            "external_id",
            TEXT,
            True,
            gettext_lazy("The debtor's id in your system (customer number); the key for updates."),
            ("id", "customer id", "id cliente", "codigo cliente", "numero cliente", "id externo"),
            max_length=64,
        ),
        _field(
            "name",
            TEXT,
            True,
            gettext_lazy("Full name or company name."),
            ("nombre", "razon social", "customer name", "nombre cliente", "nombre completo"),
            max_length=200,
        ),
        _field(
            "kind",
            CHOICE,
            False,
            gettext_lazy("person or company (persona, empresa). Default: person."),
            ("type", "tipo", "tipo persona", "tipo de persona"),
            choices=DebtorKind,
            synonyms={
                "persona": "person",
                "fisica": "person",
                "personafisica": "person",
                "natural": "person",
                "personanatural": "person",
                "empresa": "company",
                "moral": "company",
                "personamoral": "company",
                "juridica": "company",
                "personajuridica": "company",
                "sociedad": "company",
            },
        ),
        _field(
            "tax_id",
            TEXT,
            False,
            gettext_lazy(
                "Tax or identity number; checked for its type (RFC, CURP, NIT, CC, RUT, CUIT, RUC, DNI, "
                "CPF, CNPJ). Without a type, the types of the organization's country are tried."
            ),
            (
                "tax id",
                "rfc",
                "nit",
                "rut",
                "cuit",
                "ruc",
                "identificacion",
                "numero identificacion",
                "numero documento",
                "documento identidad",
            ),
            max_length=32,
        ),
        _field(
            "tax_id_type",
            CHOICE,
            False,
            gettext_lazy("rfc, curp, nit, cc, rut, cuit, ruc, dni, cpf, cnpj or other."),
            ("tipo identificacion", "tipo documento identidad", "tipo id"),
            choices=TaxIdType,
            synonyms={"cedula": "cc", "cedulaciudadania": "cc", "ceduladeciudadania": "cc", "cui": "dni"},
        ),
        _field(
            "language",
            TEXT,
            False,
            gettext_lazy("Language for messages, e.g. es or en."),
            ("idioma",),
            max_length=10,
        ),
        _field(
            "timezone",
            TEXT,
            False,
            gettext_lazy("IANA time zone, e.g. America/Bogota; empty uses the organization's."),
            ("zona horaria", "time zone"),
            max_length=64,
        ),
        _field(
            "risk_score",
            DECIMAL,
            False,
            gettext_lazy("Probability of payment, from 0 to 1."),
            ("score", "puntaje"),
        ),
        _field(
            "is_disputed", BOOLEAN, False, gettext_lazy("In dispute: yes or no."), ("disputa", "en disputa")
        ),
        _field("is_deceased", BOOLEAN, False, gettext_lazy("Deceased: yes or no."), ("fallecido",)),
        _field("is_bankrupt", BOOLEAN, False, gettext_lazy("Bankrupt: yes or no."), ("quiebra", "concurso")),
        _field(
            "do_not_contact",
            BOOLEAN,
            False,
            gettext_lazy("Never contact: yes or no."),
            ("no contactar",),
        ),
    ),
    ImportKind.CONTACT_POINTS: (
        _field(
            "debtor_external_id",
            DEBTOR,
            True,
            gettext_lazy("The debtor's external id; the debtor must already exist."),
            _DEBTOR_REF_ALIASES,
            max_length=64,
        ),
        _field(
            "kind",
            CHOICE,
            True,
            gettext_lazy("email, mobile, landline, whatsapp or address."),
            ("type", "tipo", "canal", "medio"),
            choices=ContactKind,
            synonyms={
                "correo": "email",
                "correoelectronico": "email",
                "mail": "email",
                "movil": "mobile",
                "celular": "mobile",
                "cel": "mobile",
                "fijo": "landline",
                "telefono": "landline",
                "telefonofijo": "landline",
                "wa": "whatsapp",
                "direccion": "address",
                "domicilio": "address",
            },
        ),
        _field(
            "value",
            TEXT,
            True,
            gettext_lazy(
                "The email, phone number (stored in E.164; national numbers use the organization's "
                "country) or postal address."
            ),
            ("valor", "contacto", "dato", "email", "telefono", "phone"),
            max_length=300,
        ),
        _field(
            "label",
            TEXT,
            False,
            gettext_lazy("A short label, e.g. work or home."),
            ("etiqueta",),
            max_length=60,
        ),
        _field(
            "is_primary",
            BOOLEAN,
            False,
            gettext_lazy("Primary contact: yes or no."),
            ("principal", "primary"),
        ),
    ),
    ImportKind.DOCUMENTS: (
        _field(
            "external_id",
            TEXT,
            True,
            gettext_lazy("The document's id in your system; the key for updates within the portfolio."),
            ("id", "document id", "id documento", "id externo"),
            max_length=64,
        ),
        _field(
            "debtor_external_id",
            DEBTOR,
            True,
            gettext_lazy("The debtor's external id; the debtor must already exist."),
            _DEBTOR_REF_ALIASES,
            max_length=64,
        ),
        _field(
            "kind",
            CHOICE,
            False,
            gettext_lazy("invoice, installment, fee, interest or credit_note. Default: invoice."),
            ("type", "tipo", "tipo documento", "clase"),
            choices=DocumentKind,
            synonyms={
                "factura": "invoice",
                "cuota": "installment",
                "comision": "fee",
                "gasto": "fee",
                "gastos": "fee",
                "cargo": "fee",
                "interes": "interest",
                "intereses": "interest",
                "notacredito": "credit_note",
                "notadecredito": "credit_note",
                "nc": "credit_note",
                "creditnote": "credit_note",
            },
        ),
        _field(
            "number",
            TEXT,
            False,
            gettext_lazy("The number printed on the document."),
            ("numero", "folio", "numero documento", "numero factura", "invoice number", "document number"),
            max_length=64,
        ),
        _field(
            "product", TEXT, False, gettext_lazy("Product or line of business."), ("producto",), max_length=60
        ),
        _field(
            "issue_date",
            DATE,
            False,
            gettext_lazy("Date of issue."),
            ("fecha emision", "fecha de emision", "issued", "fecha factura"),
        ),
        _field(
            "due_date",
            DATE,
            True,
            gettext_lazy("Due date."),
            ("fecha vencimiento", "fecha de vencimiento", "vencimiento", "due"),
        ),
        _field(
            "original_amount",
            AMOUNT,
            True,
            gettext_lazy("Amount of the document; negative for credit notes."),
            ("amount", "importe", "monto", "monto original", "importe original", "valor", "total"),
        ),
        _field(
            "balance",
            AMOUNT,
            False,
            gettext_lazy(
                "Amount still owed; empty means the whole amount (0 for a paid document). Never more than "
                "the amount less what payments recorded in Recobro settled."
            ),
            ("saldo", "saldo pendiente", "open balance", "saldo actual"),
        ),
        _field(
            "currency",
            CURRENCY,
            False,
            gettext_lazy("ISO code; must be the portfolio's currency. Empty means the portfolio's."),
            ("moneda", "divisa"),
        ),
        _field(
            "status",
            CHOICE,
            False,
            gettext_lazy(
                "open, paid, written_off, disputed, cancelled or refinanced. Default: open. A paid "
                "document's balance is 0."
            ),
            ("estado", "estatus"),
            choices=DocumentStatus,
            synonyms={
                "abierto": "open",
                "abierta": "open",
                "vigente": "open",
                "pendiente": "open",
                "pagado": "paid",
                "pagada": "paid",
                "castigado": "written_off",
                "castigada": "written_off",
                "writeoff": "written_off",
                "disputa": "disputed",
                "endisputa": "disputed",
                "cancelado": "cancelled",
                "cancelada": "cancelled",
                "anulado": "cancelled",
                "anulada": "cancelled",
                "canceled": "cancelled",
                "refinanciado": "refinanced",
                "refinanciada": "refinanced",
            },
        ),
    ),
    ImportKind.PAYMENTS: (
        _field(
            "external_id",
            TEXT,
            True,
            gettext_lazy("The payment's id in your system; a payment is imported once."),
            ("id", "payment id", "id pago", "id externo"),
            max_length=64,
        ),
        _field(
            "debtor_external_id",
            DEBTOR,
            True,
            gettext_lazy("The debtor's external id; the debtor must already exist."),
            _DEBTOR_REF_ALIASES,
            max_length=64,
        ),
        _field(
            "amount",
            AMOUNT,
            True,
            gettext_lazy("Amount paid; more than zero."),
            ("importe", "monto", "valor", "monto pagado", "importe pagado"),
        ),
        _field(
            "currency",
            CURRENCY,
            False,
            gettext_lazy("ISO code; must be the portfolio's currency. Empty means the portfolio's."),
            ("moneda", "divisa"),
        ),
        _field(
            "paid_on",
            DATE,
            True,
            gettext_lazy("Date of payment."),
            ("fecha pago", "fecha de pago", "payment date", "fecha"),
        ),
        _field(
            "method",
            CHOICE,
            False,
            gettext_lazy("transfer, deposit, cash, card, direct_debit, check or other. Default: transfer."),
            ("metodo", "metodo pago", "forma de pago", "medio de pago"),
            choices=PaymentMethod,
            synonyms={
                "transferencia": "transfer",
                "spei": "transfer",
                "pse": "transfer",
                "deposito": "deposit",
                "efectivo": "cash",
                "tarjeta": "card",
                "domiciliacion": "direct_debit",
                "debitoautomatico": "direct_debit",
                "cheque": "check",
                "otro": "other",
            },
        ),
        _field(
            "reference",
            TEXT,
            False,
            gettext_lazy("Bank or receipt reference."),
            ("referencia", "numero operacion", "recibo"),
            max_length=100,
        ),
        _field(
            "notes",
            TEXT,
            False,
            gettext_lazy("Free text."),
            ("notas", "observaciones", "comentario"),
            max_length=2000,
        ),
    ),
}

#: What the back-office shows next to the mapping of a profile.
MAPPING_HELP = gettext_lazy(
    "Map each Recobro field to the header of the column that holds it in your file; fields you "
    "do not map are looked up by their own name and usual names, ignoring case and accents. "
    "Columns the import does not know are an error, so nothing is dropped silently: list them "
    'under "ignore" (or map them to an empty value) to skip them; "*" in "ignore" skips every '
    "unknown column. Mapping a field to an empty value leaves that field out of the import."
)


# --- Custom attributes ---------------------------------------------------------------------


def is_attribute(name: str) -> bool:
    """Whether a field name (or header) names a custom attribute: ``attr.<name>``."""
    return name[:5].lower() == ATTRIBUTE_PREFIX


def attribute_problem(name: str) -> str | None:
    """Why ``name`` cannot be a custom attribute's name, or None when it can."""
    if ATTRIBUTE_NAME.fullmatch(name):
        return None
    return _(
        "“%(name)s” is not a valid attribute name: use 1 to 40 lower-case letters, digits and _, "
        "starting with a letter (e.g. region, segmento_erp)."
    ) % {"name": name}


@functools.cache
def attribute_spec(field_name: str) -> FieldSpec:
    """The field of one custom attribute, ``attr.<name>`` (the name already checked)."""
    return FieldSpec(
        field_name,
        ATTRIBUTE,
        False,
        gettext_lazy("A custom attribute; an empty cell removes it from the debtor."),
        max_length=ATTRIBUTE_MAX_LENGTH,
    )


#: How the back-office and the error messages list the attribute columns.
ATTRIBUTE_HELP = FieldSpec(
    f"{ATTRIBUTE_PREFIX}<name>",
    ATTRIBUTE,
    False,
    gettext_lazy(
        "Custom attributes, one column each, e.g. attr.region or attr.segmento_erp (a name of lower-case "
        "letters, digits and _). Stored as text; an empty cell removes the attribute from the debtor, and "
        "attributes without a column keep their value."
    ),
)


def fields_for(kind: str) -> tuple[FieldSpec, ...]:
    return FIELDS[kind]


def documented_fields(kind: str) -> tuple[FieldSpec, ...]:
    """The fields of a kind as people read them: the fixed ones, then ``attr.<name>``."""
    return FIELDS[kind] + ((ATTRIBUTE_HELP,) if kind in ATTRIBUTE_KINDS else ())


def expected_columns(kind: str) -> str:
    return ", ".join(f"{f.name}{'*' if f.required else ''}" for f in documented_fields(kind))


@dataclass
class ColumnPlan:
    """Which column of the file feeds which field."""

    header: list[str]
    columns: list[tuple[int, FieldSpec]]  # (index in the row, field), in field order
    unnamed: list[int]  # columns with an empty header: any value there is an error
    ignored: list[str]

    @property
    def present(self) -> frozenset[str]:
        return frozenset(spec.name for _, spec in self.columns)

    def header_of(self, field_name: str) -> str:
        for index, spec in self.columns:
            if spec.name == field_name:
                return self.header[index]
        return field_name


def plan_columns(header: list[str], *, kind: str, column_map: dict | None = None) -> ColumnPlan:
    """Match the header row to the kind's fields; raise ``FileProblem`` listing every problem.

    Debtors also take custom attributes: a column headed ``attr.<name>``, or a header the
    profile maps from the key ``attr.<name>``, feeds the attribute <name>."""
    specs = FIELDS[kind]
    names = {spec.name for spec in specs}
    takes_attributes = kind in ATTRIBUTE_KINDS
    column_map = dict(column_map or {})
    ignore_list = column_map.pop(IGNORE_KEY, []) or []
    if isinstance(ignore_list, str):
        ignore_list = [ignore_list]
    problems: list[RowError] = []
    explicit: dict[str, str] = {}
    mapped_attributes: dict[str, str] = {}  # attr.<name> → the header the profile names
    ignored_keys = {fold(h) for h in ignore_list if h != "*"} | {fold(h) for h in REPORT_COLUMNS}
    ignore_all_unknown = "*" in ignore_list
    for key, value in column_map.items():
        if key in names:
            explicit[key] = value or ""
        elif takes_attributes and is_attribute(key):
            attribute = key[len(ATTRIBUTE_PREFIX) :]
            problem = attribute_problem(attribute)
            if problem:
                ignored_keys.add(fold(value or ""))  # one error for the mapping, not another for its column
                problems.append(
                    RowError(
                        0,
                        key,
                        "invalid_attribute",
                        _("The import profile maps “%(key)s”. %(problem)s")
                        % {"key": key, "problem": problem},
                    )
                )
            elif value:
                mapped_attributes[ATTRIBUTE_PREFIX + attribute] = value
            else:
                ignored_keys.add(fold(key))  # mapped to nothing: a column so named is skipped
        elif not value:
            ignored_keys.add(fold(key))
        else:
            problems.append(
                RowError(
                    0,
                    key,
                    "profile_unknown_field",
                    _(
                        "The import profile maps “%(key)s”, which is not a field of this import. "
                        "Fields: %(fields)s."
                    )
                    % {"key": key, "fields": expected_columns(kind)},
                )
            )

    folded = [fold(h or "") for h in header]
    # Columns headed attr.<name>: attributes, never matched to a field by their folded name.
    headed_attributes: dict[str, list[int]] = {}
    if takes_attributes:
        for index, text in enumerate(header):
            text = (text or "").strip()
            if not is_attribute(text) or folded[index] in ignored_keys:
                continue
            attribute = text[len(ATTRIBUTE_PREFIX) :]
            problem = attribute_problem(attribute)
            if problem:
                problems.append(RowError(1, text, "invalid_attribute", problem))
            headed_attributes.setdefault(ATTRIBUTE_PREFIX + attribute, []).append(index)
    attribute_headers = {i for indexes in headed_attributes.values() for i in indexes}
    everywhere: dict[str, list[int]] = {}
    positions: dict[str, list[int]] = {}
    for index, key in enumerate(folded):
        if key:
            everywhere.setdefault(key, []).append(index)
            if index not in attribute_headers:
                positions.setdefault(key, []).append(index)

    columns: list[tuple[int, FieldSpec]] = []
    used: set[int] = set()
    for spec in specs:
        if spec.name in explicit:
            wanted = explicit[spec.name]
            if not wanted and spec.required:
                problems.append(
                    RowError(
                        1,
                        spec.name,
                        "missing_column",
                        _("The import profile leaves out %(field)s, which this import requires.")
                        % {"field": spec.name},
                    )
                )
                continue
            if not wanted:
                continue  # mapped to nothing: leave the field out of this import
            found = positions.get(fold(wanted))
            if not found:
                problems.append(_not_in_file(spec.name, wanted))
                continue
        else:
            found = None
            for candidate in (spec.name, *spec.aliases):
                hits = [i for i in positions.get(fold(candidate), []) if i not in used]
                if hits:
                    found = hits
                    break
            if not found:
                if spec.required:
                    problems.append(
                        RowError(
                            1,
                            spec.name,
                            "missing_column",
                            _(
                                "The required column %(field)s is missing. Name a column “%(field)s” or map "
                                "it in an import profile."
                            )
                            % {"field": spec.name},
                        )
                    )
                continue
        if len(found) > 1:
            problems.append(_duplicate(header[found[0]], len(found)))
            continue
        used.add(found[0])
        columns.append((found[0], spec))

    attributes: list[tuple[int, FieldSpec]] = []
    for name, wanted in mapped_attributes.items():
        found = [i for i in everywhere.get(fold(wanted), []) if i not in used]
        if not found:
            problems.append(_not_in_file(name, wanted))
        elif len(found) > 1:
            problems.append(_duplicate(header[found[0]], len(found)))
        else:
            used.add(found[0])
            attributes.append((found[0], attribute_spec(name)))
    for name, found in headed_attributes.items():
        found = [i for i in found if i not in used]
        if not found or attribute_problem(name[len(ATTRIBUTE_PREFIX) :]):
            continue
        if name in mapped_attributes:
            problems.append(
                RowError(
                    1,
                    header[found[0]],
                    "duplicate_column",
                    _(
                        "%(field)s comes from two columns: “%(mapped)s” (as the import profile maps it) "
                        "and “%(column)s”. Remove one of them."
                    )
                    % {"field": name, "mapped": mapped_attributes[name], "column": header[found[0]]},
                )
            )
        elif len(found) > 1:
            problems.append(_duplicate(header[found[0]], len(found)))
        else:
            used.add(found[0])
            attributes.append((found[0], attribute_spec(name)))
    columns.extend(sorted(attributes, key=lambda pair: pair[1].name))

    unknown = [
        header[i]
        for i, key in enumerate(folded)
        if key
        and i not in used
        and i not in attribute_headers
        and key not in ignored_keys
        and not ignore_all_unknown
    ]
    if unknown:
        problems.append(
            RowError(
                1,
                ", ".join(unknown),
                "unknown_column",
                _(
                    "Unknown columns: %(columns)s. The columns of this import are %(fields)s (* = required). "
                    'Map them in an import profile, or list them under "ignore" to skip them.'
                )
                % {"columns": ", ".join(f"“{c}”" for c in unknown), "fields": expected_columns(kind)},
            )
        )
    if problems:
        raise FileProblem(*problems)
    ignored = [header[i] for i, key in enumerate(folded) if key and i not in used]
    unnamed = [i for i, key in enumerate(folded) if not key]
    return ColumnPlan(header=list(header), columns=columns, unnamed=unnamed, ignored=ignored)


def _not_in_file(field_name: str, column: str) -> RowError:
    return RowError(
        1,
        column,
        "missing_column",
        _("The import profile maps %(field)s to the column “%(column)s”, which is not in the file.")
        % {"field": field_name, "column": column},
    )


def _duplicate(column: str, count: int) -> RowError:
    return RowError(
        1,
        column,
        "duplicate_column",
        ngettext(
            "The column “%(column)s” appears %(count)s time in the header.",
            "The column “%(column)s” appears %(count)s times in the header.",
            count,
        )
        % {"column": column, "count": count},
    )
