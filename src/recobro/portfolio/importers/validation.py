"""Row validation: from raw cells (text from a CSV, typed values from Excel or JSON) to the
clean values a row of the ledger holds, or the reasons it cannot be imported.

Runs in Python over chunks of rows, so everything here is per row and cheap: the debtor of
a document is found in a dict loaded once per job, not with a query per row.
"""

import datetime as dt
import json
import zoneinfo
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from typing import Any

from django.db import connection
from django.utils.translation import gettext as _
from stdnum.ar import cuit
from stdnum.br import cnpj, cpf
from stdnum.cl import rut
from stdnum.co import nit
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.mx import curp, rfc
from stdnum.pe import cui, ruc

from recobro.core.money import MONEY_DECIMAL_PLACES, MONEY_MAX_DIGITS, minor_units
from recobro.portfolio.contacts import ContactValueError, normalize_contact
from recobro.portfolio.importers.fields import (
    AMOUNT,
    ATTRIBUTE,
    ATTRIBUTE_PREFIX,
    BOOLEAN,
    CHOICE,
    CURRENCY,
    DATE,
    DEBTOR,
    DECIMAL,
    FIELDS,
    TEXT,
    FieldSpec,
    attribute_spec,
    is_attribute,
)
from recobro.portfolio.importers.formats import (
    ValueProblem,
    date_from_cell,
    fold,
    is_formula,
    number_from_cell,
    parse_amount,
    parse_boolean,
    parse_date,
)
from recobro.portfolio.models import (
    DateFormat,
    Debtor,
    DocumentKind,
    DocumentStatus,
    ImportKind,
    NumberFormat,
    TaxIdType,
)

#: (field name, code, message, value as received)
Problem = tuple[str, str, str, str]

_MONEY_LIMIT = Decimal(10) ** (MONEY_MAX_DIGITS - MONEY_DECIMAL_PLACES)

#: A row's custom attributes as staged: a JSON merge patch (RFC 7396) of name → text, where
#: null (an empty cell) removes the attribute. Sorted, so equal rows stage equal text.
_attributes_json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode


# --- Tax ids -------------------------------------------------------------------------


class _ColombianCedula:
    """Cédula de ciudadanía: 3 to 10 digits, no check digit (python-stdnum has no module)."""

    @staticmethod
    def compact(number: str) -> str:
        return "".join(ch for ch in number if ch not in " .-")

    @classmethod
    def validate(cls, number: str) -> str:
        number = cls.compact(number)
        if not number.isdigit() or not 3 <= len(number) <= 10 or number.startswith("0"):
            raise StdnumError()
        return number


TAX_ID_CHECKS = {
    TaxIdType.RFC: rfc,
    TaxIdType.CURP: curp,
    TaxIdType.NIT: nit,
    TaxIdType.CC: _ColombianCedula,
    TaxIdType.RUT: rut,
    TaxIdType.CUIT: cuit,
    TaxIdType.RUC: ruc,
    TaxIdType.DNI: cui,
    TaxIdType.CPF: cpf,
    TaxIdType.CNPJ: cnpj,
}

#: The tax id types tried, in order, when a row has a tax id but no type.
COUNTRY_TAX_ID_TYPES = {
    "MX": (TaxIdType.RFC, TaxIdType.CURP),
    "CO": (TaxIdType.CC, TaxIdType.NIT),
    "CL": (TaxIdType.RUT,),
    "AR": (TaxIdType.CUIT,),
    "PE": (TaxIdType.RUC, TaxIdType.DNI),
    "BR": (TaxIdType.CPF, TaxIdType.CNPJ),
}


def check_tax_id(value: str, tax_id_type: str, country: str) -> tuple[str, str]:
    """Return (compact number, type); raise ``ValueProblem`` naming the types tried."""
    if tax_id_type == TaxIdType.OTHER:
        return value, tax_id_type
    if tax_id_type:
        candidates: tuple[str, ...] = (tax_id_type,)
    else:
        candidates = COUNTRY_TAX_ID_TYPES.get(country.upper(), ())
        if country.upper() == "CO" and "-" in value:
            candidates = (TaxIdType.NIT, TaxIdType.CC)  # "900123456-8": the dash sets off a NIT's check digit
        if not candidates:
            return value, TaxIdType.OTHER
    for candidate in candidates:
        module = TAX_ID_CHECKS[candidate]
        try:
            return module.validate(value), str(candidate)
        except (StdnumError, ValueError):
            continue
    names = " / ".join(str(TaxIdType(c).label) for c in candidates)
    raise ValueProblem(
        "invalid_tax_id", _("“%(value)s” is not a valid %(types)s.") % {"value": value, "types": names}
    )


# --- Debtors by external id ------------------------------------------------------------


class DebtorLookup:
    """External id → debtor id for one organization: loaded whole for a file, or for the
    ids a batch of API rows names."""

    def __init__(self, organization):
        self.organization = organization
        self.ids: dict[str, int] = {}

    def load_all(self) -> "DebtorLookup":
        # 300,000 pairs: a plain cursor builds the dict in a third of the ORM's time.
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT external_id, id FROM {Debtor._meta.db_table} WHERE organization_id = %s",
                [self.organization.pk],
            )
            self.ids = dict(cursor.fetchall())
        return self

    def load(self, external_ids: Iterable[str]) -> "DebtorLookup":
        wanted = sorted({e for e in external_ids if e and e not in self.ids})
        for start in range(0, len(wanted), 2000):
            chunk = wanted[start : start + 2000]
            self.ids.update(
                Debtor.objects.filter(organization=self.organization, external_id__in=chunk).values_list(
                    "external_id", "id"
                )
            )
        return self


# --- Cells to values ---------------------------------------------------------------------


def cell_text(cell: Any) -> str:
    if cell is None:
        return ""
    if type(cell) is str:
        return cell.strip()
    if isinstance(cell, bool):
        return "true" if cell else "false"
    if isinstance(cell, float):
        return str(int(cell)) if cell.is_integer() else str(number_from_cell(cell))
    if isinstance(cell, dt.datetime):
        return cell.date().isoformat() if cell.time() == dt.time() else cell.isoformat()
    if isinstance(cell, dt.date):
        return cell.isoformat()
    return str(cell).strip()


#: A clean row: the values of ``upsert.TARGETS[kind].columns``, in that order.
Record = tuple

_SIGNS = frozenset("=@+-")


class RowValidator:
    """Validates rows of one kind for one organization (and portfolio), for one set of
    fields present. Built once per file (or per shape of API row), then called per row."""

    def __init__(
        self,
        *,
        organization,
        kind: str,
        portfolio=None,
        present: Iterable[str],
        debtors: DebtorLookup,
        number_format: str = NumberFormat.DOT_DECIMAL,
        date_format: str = DateFormat.ISO,
    ):
        self.organization = organization
        self.kind = kind
        self.portfolio = portfolio
        self.currency = (portfolio.currency if portfolio is not None else organization.currency).upper()
        self.decimals = minor_units(self.currency)
        self.quantum = Decimal(1).scaleb(-self.decimals)
        self.country = (organization.country or "").upper()
        self.today = organization.today()
        self.debtors = debtors
        self.number_format = number_format
        self.date_format = date_format
        self.present = frozenset(present)
        self.specs = [spec for spec in FIELDS[kind] if spec.name in self.present]
        #: Custom attributes (debtors): (field name ``attr.<name>``, <name>), sorted.
        self.attributes = [(n, n[len(ATTRIBUTE_PREFIX) :]) for n in sorted(self.present) if is_attribute(n)]
        self.specs += [attribute_spec(field_name) for field_name, _name in self.attributes]
        self.names = [spec.name for spec in self.specs]
        self.fields = [(spec.name, self._reader(spec), spec.required) for spec in self.specs]
        self.absent_required = [s.name for s in FIELDS[kind] if s.required and s.name not in self.present]
        self._finish = {
            ImportKind.DEBTORS: self._finish_debtor,
            ImportKind.CONTACT_POINTS: self._finish_contact_point,
            ImportKind.DOCUMENTS: self._finish_document,
            ImportKind.PAYMENTS: self._finish_payment,
        }[kind]

    def validate(self, row: dict[str, Any]) -> tuple[Record | None, list[Problem]]:
        """Validate a row given as field name → value (the API's rows)."""
        return self.check([row.get(name) for name in self.names])

    def check(self, cells: Sequence[Any]) -> tuple[Record | None, list[Problem]]:
        """Validate the raw cells of one row, in the order of ``self.names``."""
        values: dict[str, Any] = {}
        problems: list[Problem] = []
        for (name, read, required), cell in zip(self.fields, cells, strict=True):
            if type(cell) is str:
                cell = cell.strip()
                if not cell:
                    cell = None
                elif cell[0] in _SIGNS and is_formula(cell):
                    problems.append(
                        (
                            name,
                            "formula",
                            _(
                                "The cell holds a formula (it starts with “%(char)s”); formulas are not "
                                "imported, for safety. Paste the value instead."
                            )
                            % {"char": cell[0]},
                            cell[:300],
                        )
                    )
                    continue
            if cell is None:
                if required:
                    problems.append((name, "required", _("A value is required."), ""))
                else:
                    values[name] = None
                continue
            try:
                values[name] = read(cell)
            except ValueProblem as problem:
                problems.append((name, problem.code, problem.message, cell_text(cell)[:300]))
        for name in self.absent_required:
            problems.append((name, "required", _("A value is required."), ""))
        if problems:
            return None, problems
        return self._finish(values, problems)

    # --- readers per field type

    def _reader(self, spec: FieldSpec) -> Callable[[Any], Any]:
        if spec.type in (TEXT, ATTRIBUTE):
            return self._text_reader(spec)
        if spec.type == AMOUNT:
            return self._read_amount
        if spec.type == DECIMAL:
            return self._read_amount
        if spec.type == DATE:
            return self._read_date
        if spec.type == BOOLEAN:
            return self._read_boolean
        if spec.type == CHOICE:
            return self._choice_reader(spec)
        if spec.type == CURRENCY:
            return self._read_currency
        if spec.type == DEBTOR:
            return self._read_debtor
        raise AssertionError(spec.type)

    @staticmethod
    def _text_reader(spec: FieldSpec) -> Callable[[Any], str]:
        limit = spec.max_length

        def read(cell: Any) -> str:
            text = cell if type(cell) is str else cell_text(cell)
            if limit and len(text) > limit:
                raise ValueProblem(
                    "too_long",
                    _("Too long: %(length)s characters, at most %(limit)s.")
                    % {"length": len(text), "limit": limit},
                )
            return text

        return read

    def _read_amount(self, cell: Any) -> Decimal:
        if type(cell) is str:
            return parse_amount(cell, self.number_format)
        if isinstance(cell, bool):
            raise ValueProblem("not_a_number", _("“%(value)s” is not a number.") % {"value": cell})
        if isinstance(cell, int | float):
            return number_from_cell(cell)
        if isinstance(cell, Decimal):
            return cell
        raise ValueProblem("not_a_number", _("“%(value)s” is not a number.") % {"value": cell})

    def _read_date(self, cell: Any) -> dt.date:
        if type(cell) is str:
            return parse_date(cell, self.date_format)
        if isinstance(cell, dt.date):
            return date_from_cell(cell)
        raise ValueProblem("date_format", _("“%(value)s” is not a date.") % {"value": cell_text(cell)})

    @staticmethod
    def _read_boolean(cell: Any) -> bool:
        if isinstance(cell, bool):
            return cell
        if isinstance(cell, int) and cell in (0, 1):
            return bool(cell)
        return parse_boolean(cell_text(cell))

    @staticmethod
    def _choice_reader(spec: FieldSpec) -> Callable[[Any], str]:
        lookup = {fold(str(value)): str(value) for value in spec.choices.values}
        lookup.update({fold(str(label)): str(value) for value, label in spec.choices.choices})
        lookup.update(spec.synonyms)
        accepted = ", ".join(spec.accepted_values())

        seen: dict[Any, str] = {}  # a column holds a handful of distinct spellings: fold each once

        def read(cell: Any) -> str:
            try:
                return seen[cell]
            except (KeyError, TypeError):
                pass
            text = cell_text(cell)
            try:
                value = seen[cell] = lookup[fold(text)]
                return value
            except KeyError:
                raise ValueProblem(
                    "unknown_choice",
                    _("“%(value)s” is not a known %(field)s; use one of: %(accepted)s.")
                    % {"value": text, "field": spec.name, "accepted": accepted},
                ) from None

        return read

    def _read_currency(self, cell: Any) -> str:
        if cell == self.currency:
            return cell
        code = cell_text(cell).upper()
        if code != self.currency:
            raise ValueProblem(
                "currency_mismatch",
                _("The currency %(currency)s does not match the portfolio's currency, %(expected)s.")
                % {"currency": code, "expected": self.currency},
            )
        return code

    def _read_debtor(self, cell: Any) -> int:
        external_id = cell if type(cell) is str else cell_text(cell)
        debtor_id = self.debtors.ids.get(external_id)
        if debtor_id is None:
            raise ValueProblem(
                "unknown_debtor",
                _("No debtor has the external id “%(value)s”; import the debtors first.")
                % {"value": external_id},
            )
        return debtor_id

    # --- money rules

    def _money(self, name: str, value: Decimal, problems: list[Problem]) -> bool:
        if not value.is_finite() or not -_MONEY_LIMIT < value < _MONEY_LIMIT:
            problems.append(
                (
                    name,
                    "amount_too_large",
                    _("The amount %(value)s is too large.") % {"value": value},
                    str(value),
                )
            )
            return False
        if value.quantize(self.quantum) != value:
            problems.append(
                (
                    name,
                    "too_many_decimals",
                    _("%(value)s has more decimals than %(currency)s allows (%(decimals)s).")
                    % {"value": value, "currency": self.currency, "decimals": self.decimals},
                    str(value),
                )
            )
            return False
        return True

    # --- whole rows, per kind

    def _finish_debtor(self, v: dict[str, Any], problems: list[Problem]):
        tax_id = v.get("tax_id") or ""
        tax_id_type = v.get("tax_id_type") or ""
        if tax_id:
            try:
                tax_id, tax_id_type = check_tax_id(tax_id, tax_id_type, self.country)
            except ValueProblem as problem:
                problems.append(("tax_id", problem.code, problem.message, tax_id))
        timezone = v.get("timezone") or ""
        if timezone and timezone not in _time_zones():
            problems.append(
                (
                    "timezone",
                    "unknown_timezone",
                    _("“%(value)s” is not a time zone.") % {"value": timezone},
                    timezone,
                )
            )
        risk_score = v.get("risk_score")
        if risk_score is not None and not (0 <= risk_score <= 1 and risk_score == round(risk_score, 4)):
            problems.append(
                (
                    "risk_score",
                    "out_of_range",
                    _("The risk score must be between 0 and 1, with at most 4 decimals."),
                    str(risk_score),
                )
            )
        if problems:
            return None, problems
        attributes = None
        if self.attributes:
            attributes = _attributes_json({name: v.get(field_name) for field_name, name in self.attributes})
        return (
            v["external_id"],
            v["name"],
            v.get("kind") or "person",
            tax_id,
            tax_id_type,
            v.get("language") or "",
            timezone,
            risk_score,
            bool(v.get("is_disputed")),
            bool(v.get("is_deceased")),
            bool(v.get("is_bankrupt")),
            bool(v.get("do_not_contact")),
            attributes,
        ), problems

    def _finish_contact_point(self, v: dict[str, Any], problems: list[Problem]):
        kind = v["kind"]
        value = v["value"]
        try:
            normalized = normalize_contact(kind, value, self.country)
        except ContactValueError as error:
            problems.append(("value", error.code, error.message, value))
        if problems:
            return None, problems
        return (
            v["debtor_external_id"],
            kind,
            value,
            normalized,
            v.get("label") or "",
            bool(v.get("is_primary")),
        ), problems

    def _finish_document(self, v: dict[str, Any], problems: list[Problem]):
        kind = v.get("kind") or DocumentKind.INVOICE
        status = v.get("status") or DocumentStatus.OPEN
        original = v["original_amount"]
        balance = v.get("balance")
        ok = self._money("original_amount", original, problems)
        ok = (balance is None or self._money("balance", balance, problems)) and ok
        if ok:
            if balance is None:
                # The whole amount is owed, unless the document is paid.
                balance = Decimal(0) if status == DocumentStatus.PAID else original
            if status == DocumentStatus.PAID and balance != 0:
                problems.append(
                    (
                        "balance",
                        "paid_with_balance",
                        _(
                            "A paid document has a balance of 0, not %(balance)s: send balance 0, or the "
                            "status that goes with what is still owed (open, disputed…)."
                        )
                        % {"balance": balance},
                        str(balance),
                    )
                )
            if kind == DocumentKind.CREDIT_NOTE:
                if original >= 0:
                    problems.append(
                        (
                            "original_amount",
                            "credit_note_sign",
                            _("A credit note's amount must be negative."),
                            str(original),
                        )
                    )
                elif not original <= balance <= 0:
                    problems.append(
                        (
                            "balance",
                            "balance_out_of_range",
                            _("A credit note's balance must be between its amount (%(amount)s) and zero.")
                            % {"amount": original},
                            str(balance),
                        )
                    )
            elif original <= 0:
                problems.append(
                    (
                        "original_amount",
                        "amount_not_positive",
                        _("The amount must be more than zero (only credit notes are negative)."),
                        str(original),
                    )
                )
            elif not 0 <= balance <= original:
                problems.append(
                    (
                        "balance",
                        "balance_out_of_range",
                        _("The balance must be between zero and the document's amount (%(amount)s).")
                        % {"amount": original},
                        str(balance),
                    )
                )
        if problems:
            return None, problems
        return (
            v["external_id"],
            v["debtor_external_id"],
            kind,
            v.get("number") or "",
            v.get("product") or "",
            v.get("issue_date"),
            v["due_date"],
            original,
            balance,
            self.currency,
            status,
        ), problems

    def _finish_payment(self, v: dict[str, Any], problems: list[Problem]):
        amount = v["amount"]
        if self._money("amount", amount, problems) and amount <= 0:
            problems.append(
                ("amount", "amount_not_positive", _("The amount must be more than zero."), str(amount))
            )
        paid_on = v["paid_on"]
        if paid_on > self.today:
            problems.append(
                (
                    "paid_on",
                    "future_date",
                    _("The payment date %(date)s is after today (%(today)s).")
                    % {"date": paid_on.isoformat(), "today": self.today.isoformat()},
                    paid_on.isoformat(),
                )
            )
        if problems:
            return None, problems
        return (
            v["external_id"],
            v["debtor_external_id"],
            amount,
            self.currency,
            paid_on,
            v.get("method") or "transfer",
            v.get("reference") or "",
            v.get("notes") or "",
        ), problems


_ZONES: set[str] = set()


def _time_zones() -> set[str]:
    if not _ZONES:
        _ZONES.update(zoneinfo.available_timezones())
    return _ZONES
