"""The demo's data written as the ERPs of its organizations export it.

- Almacenes Altamira's ERP ("ERP Cumbre") exports customers to Excel with its own headers
  (a mapping profile reads them) and its custom fields as ``attr.region``, ``attr.segment``…
  columns, and documents, contacts and payments as UTF-8 CSV with commas, dot decimals and
  ISO dates under headers Recobro recognises by itself.
- Recaudos del Valle receives its creditors' portfolios from "Sistema Orquídea": CSV with
  semicolons, Windows-1252, "1.234.567,00" amounts, dd/mm/yyyy dates and Spanish headers
  such as "NIT/CC", "Saldo", "Fecha Vencimiento" and "Región"; one mapping profile per kind
  (the debtors' maps ``attr.region`` to "Región", and so on).

Either way the debtors' custom attributes (region, segment, product, city) arrive through
the importer, audited like every other field.

The loader imports these files through the real importer, so the Imports page shows them.
"""

import csv
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from openpyxl import Workbook

from recobro.demo.accounts import CHARGES, HISTORY, LEDGER, RECENT, DocumentRow, OrganizationData, PaymentRow
from recobro.demo.spec import COLOMBIA, MEXICO

YES_NO = {True: "Sí", False: "No"}
KIND_WORDS = {
    "invoice": "Factura",
    "installment": "Cuota",
    "fee": "Gastos",
    "interest": "Interés",
    "credit_note": "Nota de crédito",
}
CONTACT_WORDS = {
    "mobile": "Celular",
    "landline": "Teléfono fijo",
    "email": "Correo",
    "whatsapp": "WhatsApp",
    "address": "Domicilio",
}
METHOD_WORDS = {
    "cash": "Efectivo",
    "deposit": "Depósito",
    "transfer": "Transferencia",
    "card": "Tarjeta",
    "direct_debit": "Domiciliación",
}
CO_METHOD_WORDS = {**METHOD_WORDS, "transfer": "PSE"}
#: The custom attributes of the demo's debtors, and the headers Sistema Orquídea gives them.
ATTRIBUTE_HEADERS = {"region": "Región", "segment": "Segmento", "product": "Producto", "city": "Ciudad"}


@dataclass(frozen=True)
class ProfileSpec:
    """An ``ImportProfile`` the loader creates: how one ERP export maps onto Recobro."""

    name: str
    kind: str
    column_map: dict
    delimiter: str = ","
    encoding: str = "utf-8"
    number_format: str = "dot"
    date_format: str = "iso"


@dataclass(frozen=True)
class ImportFile:
    """One file to import, in order: its kind, portfolio (None for debtors and contacts)
    and the profile that reads it (None when Recobro knows its headers)."""

    kind: str
    path: Path
    portfolio: str | None = None
    profile: str | None = None
    phase: str = ""
    rows: int = 0


@dataclass
class Exporter:
    """Writes one organization's files into ``directory``."""

    data: OrganizationData
    directory: Path
    files: list[ImportFile] = field(default_factory=list)

    # -- helpers ---------------------------------------------------------------------
    def _csv(self, name: str, header: list[str], rows: Iterable[list], delimiter: str, encoding: str) -> Path:
        path = self.directory / name
        # ERPs on Windows end lines with CRLF; the strict codec proves every name fits cp1252.
        with path.open("w", encoding=encoding, errors="strict", newline="") as handle:
            writer = csv.writer(handle, delimiter=delimiter, lineterminator="\r\n")
            writer.writerow(header)
            writer.writerows(rows)
        return path

    def add(self, kind: str, path: Path, rows: int, **kwargs) -> None:
        self.files.append(ImportFile(kind=kind, path=path, rows=rows, **kwargs))


def comma_decimal(amount: Decimal) -> str:
    """1234567 → "1.234.567,00", as Colombian ERPs write amounts."""
    text = f"{abs(amount):,.2f}".replace(",", "_").replace(".", ",").replace("_", ".")
    return f"-{text}" if amount < 0 else text


def dmy(day: dt.date) -> str:
    return day.strftime("%d/%m/%Y")


# --- Almacenes Altamira (Mexico) ------------------------------------------------------------

MX_DEBTOR_PROFILE = ProfileSpec(
    name="ERP Cumbre — clientes (Excel)",
    kind="debtors",
    column_map={
        "external_id": "No. Cliente",
        "name": "Nombre o razón social",
        "kind": "Tipo de persona",
        "tax_id": "RFC / CURP",
        "tax_id_type": "Tipo de clave",
        "is_disputed": "En disputa",
        "do_not_contact": "No contactar",
        "is_deceased": "Finado",
        "is_bankrupt": "Concurso mercantil",
    },
)


def export_mexico(data: OrganizationData, directory: Path) -> list[ImportFile]:
    out = Exporter(data, directory)
    slug, as_of = data.spec.slug, data.as_of

    wb = Workbook(write_only=True)
    sheet = wb.create_sheet("Clientes")
    header = list(MX_DEBTOR_PROFILE.column_map.values()) + [f"attr.{key}" for key in ATTRIBUTE_HEADERS]
    sheet.append(header)
    for d in data.debtors:
        row = [
            d.external_id,
            d.name,
            "Moral" if d.kind == "company" else "Física",
            d.tax_id,
            d.tax_id_type.upper(),
            YES_NO[d.is_disputed],
            YES_NO[d.do_not_contact],
            YES_NO[d.is_deceased],
            YES_NO[d.is_bankrupt],
            *(d.attributes[key] for key in ATTRIBUTE_HEADERS),
        ]
        sheet.append(row)
    path = directory / f"{slug}_clientes_{as_of:%Y%m%d}.xlsx"
    wb.save(path)
    out.add("debtors", path, len(data.debtors), profile=MX_DEBTOR_PROFILE.name)

    contacts = [
        [d.external_id, CONTACT_WORDS[c.kind], c.value, c.label, YES_NO[c.is_primary]]
        for d in data.debtors
        for c in d.contacts
    ]
    header = ["Número Cliente", "Tipo", "Dato", "Etiqueta", "Principal"]
    path = out._csv(f"{slug}_contactos_{as_of:%Y%m%d}.csv", header, contacts, ",", "utf-8")
    out.add("contact_points", path, len(contacts))

    for portfolio in data.spec.portfolios:
        for phase, label in ((LEDGER, "cartera"), (HISTORY, "pagos"), (CHARGES, "cargos"), (RECENT, "pagos")):
            if phase in (LEDGER, CHARGES):
                rows = [_mx_document(d) for d in data.documents_of(portfolio.code, phase)]
                header = [
                    "ID Documento", "Número Cliente", "Tipo", "Folio", "Producto", "Fecha Emisión",
                    "Fecha Vencimiento", "Importe", "Moneda",
                ]  # fmt: skip
                kind = "documents"
            else:
                rows = [_mx_payment(p) for p in data.payments_of(portfolio.code, phase)]
                header = [
                    "ID Pago",
                    "Número Cliente",
                    "Importe",
                    "Moneda",
                    "Fecha de pago",
                    "Forma de pago",
                    "Referencia",
                ]
                kind = "payments"
            if not rows:
                continue
            suffix = "_semana" if phase == RECENT else ""
            name = f"{slug}_{label}_{portfolio.code}{suffix}_{as_of:%Y%m%d}.csv"
            path = out._csv(name, header, rows, ",", "utf-8")
            out.add(kind, path, len(rows), portfolio=portfolio.code, phase=phase)
    return out.files


def _mx_document(d: DocumentRow) -> list:
    return [
        d.external_id, d.debtor, KIND_WORDS[d.kind], d.number, d.product, d.issue_date.isoformat(),
        d.due_date.isoformat(), f"{d.amount:.2f}", "MXN",
    ]  # fmt: skip


def _mx_payment(p: PaymentRow) -> list:
    return [
        p.external_id,
        p.debtor,
        f"{p.amount:.2f}",
        "MXN",
        p.paid_on.isoformat(),
        METHOD_WORDS[p.method],
        p.reference,
    ]


# --- Recaudos del Valle (Colombia) -----------------------------------------------------------

_ORQUIDEA = {"delimiter": ";", "encoding": "cp1252", "number_format": "comma", "date_format": "dmy"}

CO_DEBTOR_PROFILE = ProfileSpec(
    name="Sistema Orquídea — deudores",
    kind="debtors",
    column_map={
        "external_id": "NIT/CC",
        "tax_id_type": "Tipo Doc",
        "tax_id": "Identificación",
        "name": "Nombre Deudor",
        "kind": "Tipo Persona",
        "is_disputed": "Reclamación",
        "do_not_contact": "No Contactar",
        "is_deceased": "Fallecido",
        "is_bankrupt": "Insolvencia",
        **{f"attr.{key}": header for key, header in ATTRIBUTE_HEADERS.items()},
    },
    **_ORQUIDEA,
)
CO_CONTACT_PROFILE = ProfileSpec(
    name="Sistema Orquídea — medios de contacto",
    kind="contact_points",
    column_map={
        "debtor_external_id": "NIT/CC",
        "kind": "Medio",
        "value": "Dato",
        "label": "Detalle",
        "is_primary": "Principal",
    },
    **_ORQUIDEA,
)
CO_DOCUMENT_PROFILE = ProfileSpec(
    name="Sistema Orquídea — cartera asignada",
    kind="documents",
    column_map={
        "debtor_external_id": "NIT/CC",
        "external_id": "Obligación",
        "kind": "Concepto",
        "number": "Número",
        "product": "Producto",
        "issue_date": "Fecha Emisión",
        "due_date": "Fecha Vencimiento",
        "original_amount": "Saldo",  # the balance the creditor assigned: what the agency collects
        "balance": "",
        "currency": "Moneda",
    },
    **_ORQUIDEA,
)
CO_PAYMENT_PROFILE = ProfileSpec(
    name="Sistema Orquídea — recaudos",
    kind="payments",
    column_map={
        "debtor_external_id": "NIT/CC",
        "external_id": "Recibo",
        "amount": "Valor Recaudado",
        "currency": "Moneda",
        "paid_on": "Fecha Pago",
        "method": "Medio de Pago",
        "reference": "Referencia",
    },
    **_ORQUIDEA,
)
CO_KIND_WORDS = {**KIND_WORDS, "fee": "Gastos", "installment": "Cuota", "credit_note": "Nota Crédito"}
CO_CONTACT_WORDS = {**CONTACT_WORDS, "landline": "Fijo", "address": "Dirección"}


def export_colombia(data: OrganizationData, directory: Path) -> list[ImportFile]:
    out = Exporter(data, directory)
    slug, as_of, csv_args = data.spec.slug, data.as_of, (";", "cp1252")

    header = list(CO_DEBTOR_PROFILE.column_map.values())  # ends with the attributes' headers
    rows = []
    for d in data.debtors:
        row = [
            d.external_id,
            d.tax_id_type.upper(),
            d.tax_id,
            d.name,
            "Jurídica" if d.kind == "company" else "Natural",
            "S" if d.is_disputed else "N",
            "S" if d.do_not_contact else "N",
            "S" if d.is_deceased else "N",
            "S" if d.is_bankrupt else "N",
            *(d.attributes[key] for key in ATTRIBUTE_HEADERS),
        ]
        rows.append(row)
    path = out._csv(f"{slug}_deudores_{as_of:%Y%m%d}.csv", header, rows, *csv_args)
    out.add("debtors", path, len(rows), profile=CO_DEBTOR_PROFILE.name)

    contacts = [
        [d.external_id, CO_CONTACT_WORDS[c.kind], c.value, c.label, "S" if c.is_primary else "N"]
        for d in data.debtors
        for c in d.contacts
    ]
    header = list(CO_CONTACT_PROFILE.column_map.values())
    path = out._csv(f"{slug}_contactos_{as_of:%Y%m%d}.csv", header, contacts, *csv_args)
    out.add("contact_points", path, len(contacts), profile=CO_CONTACT_PROFILE.name)

    document_header = [h for h in CO_DOCUMENT_PROFILE.column_map.values() if h]
    payment_header = list(CO_PAYMENT_PROFILE.column_map.values())
    for portfolio in data.spec.portfolios:
        for phase, label in (
            (LEDGER, "asignacion"),
            (HISTORY, "recaudos"),
            (CHARGES, "cargos"),
            (RECENT, "recaudos"),
        ):
            if phase in (LEDGER, CHARGES):
                rows = [_co_document(d) for d in data.documents_of(portfolio.code, phase)]
                header, kind, profile = document_header, "documents", CO_DOCUMENT_PROFILE.name
            else:
                rows = [_co_payment(p) for p in data.payments_of(portfolio.code, phase)]
                header, kind, profile = payment_header, "payments", CO_PAYMENT_PROFILE.name
            if not rows:
                continue
            suffix = "_semana" if phase == RECENT else ""
            name = f"{slug}_{label}_{portfolio.code}{suffix}_{as_of:%Y%m%d}.csv"
            path = out._csv(name, header, rows, *csv_args)
            out.add(kind, path, len(rows), portfolio=portfolio.code, profile=profile, phase=phase)
    return out.files


def _co_document(d: DocumentRow) -> list:
    dates = [dmy(d.issue_date), dmy(d.due_date)]
    return [
        d.debtor,
        d.external_id,
        CO_KIND_WORDS[d.kind],
        d.number,
        d.product,
        *dates,
        comma_decimal(d.amount),
        "COP",
    ]


def _co_payment(p: PaymentRow) -> list:
    return [
        p.debtor,
        p.external_id,
        comma_decimal(p.amount),
        "COP",
        dmy(p.paid_on),
        CO_METHOD_WORDS[p.method],
        p.reference,
    ]


PROFILES: dict[str, tuple[ProfileSpec, ...]] = {
    MEXICO.slug: (MX_DEBTOR_PROFILE,),
    COLOMBIA.slug: (CO_DEBTOR_PROFILE, CO_CONTACT_PROFILE, CO_DOCUMENT_PROFILE, CO_PAYMENT_PROFILE),
}
EXPORTERS = {MEXICO.slug: export_mexico, COLOMBIA.slug: export_colombia}


def export(data: OrganizationData, directory: Path) -> list[ImportFile]:
    """Write ``data`` as its organization's ERP exports it; return the files in import order."""
    directory.mkdir(parents=True, exist_ok=True)
    return EXPORTERS[data.spec.slug](data, directory)
