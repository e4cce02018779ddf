"""The demo's files look like the ERP exports they stand for."""

import csv
import datetime as dt
import re
from decimal import Decimal
from io import StringIO

from openpyxl import load_workbook

from recobro.demo.accounts import generate_organization
from recobro.demo.files import PROFILES, comma_decimal, export
from recobro.demo.spec import COLOMBIA, MEXICO

AS_OF = dt.date(2026, 11, 22)


def test_comma_decimal_writes_amounts_as_colombian_erps_do():
    assert comma_decimal(Decimal("1234567")) == "1.234.567,00"
    assert comma_decimal(Decimal("-12300")) == "-12.300,00"
    assert comma_decimal(Decimal("0.5")) == "0,50"


def test_colombian_files_are_semicolon_cp1252_with_comma_decimals_and_day_first_dates(tmp_path):
    data = generate_organization(COLOMBIA, seed=3, as_of=AS_OF, scale=0.05)
    files = export(data, tmp_path)
    assert [f.kind for f in files[:2]] == ["debtors", "contact_points"]
    assert all(f.profile for f in files)  # every Orquídea file is read with a mapping profile
    debtors = list(csv.reader(StringIO(files[0].path.read_bytes().decode("cp1252")), delimiter=";"))
    assert debtors[0][-4:] == ["Región", "Segmento", "Producto", "Ciudad"]
    debtor_profile = next(p for p in PROFILES[COLOMBIA.slug] if p.kind == "debtors")
    assert debtor_profile.column_map["attr.region"] == "Región"
    documents = next(f for f in files if f.kind == "documents")
    raw = documents.path.read_bytes()
    assert b"\r\n" in raw
    rows = list(csv.reader(StringIO(raw.decode("cp1252"), newline=""), delimiter=";"))
    header = rows[0]
    assert {"NIT/CC", "Saldo", "Fecha Vencimiento"} <= set(header)
    profile = next(p for p in PROFILES[COLOMBIA.slug] if p.kind == "documents")
    assert (profile.delimiter, profile.encoding, profile.number_format, profile.date_format) == (
        ";",
        "cp1252",
        "comma",
        "dmy",
    )
    first = dict(zip(header, rows[1], strict=True))
    assert re.fullmatch(r"\d{1,3}(\.\d{3})+,00", first["Saldo"])  # monthly amounts are thousands of pesos
    day, month, year = first["Fecha Vencimiento"].split("/")
    assert dt.date(int(year), int(month), int(day)) <= AS_OF + dt.timedelta(days=40)
    expected = {d.external_id: d for d in data.documents_of(documents.portfolio, "ledger")}
    amounts = {r[header.index("Obligación")]: r[header.index("Saldo")] for r in rows[1:]}
    assert amounts == {key: comma_decimal(d.amount) for key, d in expected.items()}


def test_mexican_customers_are_an_excel_workbook_and_the_rest_plain_csv(tmp_path):
    data = generate_organization(MEXICO, seed=3, as_of=AS_OF, scale=0.05)
    files = export(data, tmp_path)
    workbook = load_workbook(files[0].path, read_only=True)
    rows = list(workbook.active.iter_rows(values_only=True))
    assert rows[0][0] == "No. Cliente" and len(rows) == len(data.debtors) + 1
    assert rows[0][-4:] == ("attr.region", "attr.segment", "attr.product", "attr.city")
    assert {r[2] for r in rows[1:]} <= {"Física", "Moral"}
    payments = next(f for f in files if f.kind == "payments")
    text = payments.path.read_text("utf-8")
    header, first = text.splitlines()[:2]
    assert header.split(",")[:3] == ["ID Pago", "Número Cliente", "Importe"]
    amount = first.split(",")[2]
    assert Decimal(amount) > 0 and amount.count(".") == 1 and len(amount.split(".")[1]) == 2
    assert all(f.profile is None for f in files[1:])  # Recobro knows these headers by itself
