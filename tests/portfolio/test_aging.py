import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from recobro.core.models import DEFAULT_AGING_BUCKETS
from recobro.portfolio.aging import bucket_case_sql, bucket_for, validate_buckets
from recobro.portfolio.exports import aging_report_csv, aging_report_xlsx, excel_date_format
from recobro.portfolio.models import Debtor, Document, Portfolio
from recobro.portfolio.queries import aging_report, percentages
from tests.conftest import AS_OF, make_document


@pytest.fixture(autouse=True)
def in_english():
    """Messages are asserted in their English source text (Spanish is the default language)."""
    with translation.override("en"):
        yield


def days(n: int) -> dt.date:
    return AS_OF + dt.timedelta(days=n)


def b(key, low, high):
    return {"key": key, "label": key.title(), "min": low, "max": high}


# --- validate_buckets ---------------------------------------------------------------------


def test_the_default_buckets_are_valid():
    assert validate_buckets(DEFAULT_AGING_BUCKETS) == DEFAULT_AGING_BUCKETS


@pytest.mark.parametrize(
    ("buckets", "message"),
    [
        ([], "non-empty list"),
        ("current", "non-empty list"),
        ([b("a", None, 0), b("a", 1, None)], "'a' is used twice"),
        ([b("a", None, 10), b("b", 5, None)], "'a' \\(to 10\\) and 'b' \\(from 5\\) overlap"),
        (
            [b("a", None, 10), b("b", 12, None)],
            "Gap between aging buckets 'a' \\(to 10\\) and 'b' \\(from 12\\)",
        ),
        ([b("a", 0, 10), b("b", 11, 20), b("c", -5, None)], "not sorted: 'c'"),
        ([b("a", 1, 10), b("b", 11, None)], "first aging bucket \\('a'\\) must start open or at day 0"),
        ([b("a", None, 0), b("b", 1, 30)], "last aging bucket \\('b'\\) must be open-ended"),
        ([b("a", None, None), b("b", 1, None)], "'a' is open-ended, so no bucket may follow it"),
        ([b("a", None, 0), b("b", None, None)], "Only the first aging bucket may start open; 'b'"),
        ([b("a", None, 0), b("b", 30, 1), b("c", 31, None)], "'b' starts at 30, after its end 1"),
        ([b("a", None, 0), {"key": "", "min": 1, "max": None}], "Aging bucket 2 has no key"),
        ([b("a", None, 0), b("b", 1.5, None)], "Aging bucket 2: min must be a whole number"),
        ([b("a" * 21, None, None)], "longer than 20 characters"),
        (["x"], "must be an object"),
    ],
)
def test_a_broken_configuration_is_refused_with_a_clear_message(buckets, message):
    with pytest.raises(ValidationError, match=message):
        validate_buckets(buckets)


def test_bounds_typed_as_text_are_read_as_numbers_and_labels_default_to_keys():
    assert validate_buckets(
        [{"key": "a", "min": None, "max": "0"}, {"key": "b", "min": "1", "max": None}]
    ) == [
        {"key": "a", "label": "a", "min": None, "max": 0},
        {"key": "b", "label": "b", "min": 1, "max": None},
    ]


@pytest.mark.parametrize(
    ("dpd", "key"),
    [
        (-10, "current"),
        (0, "current"),
        (1, "1-30"),
        (30, "1-30"),
        (31, "31-60"),
        (360, "181-360"),
        (361, "360+"),
    ],
)
def test_bucket_for_the_default_buckets(dpd, key):
    assert bucket_for(dpd, DEFAULT_AGING_BUCKETS) == key


def test_the_first_bucket_also_takes_days_below_its_start():
    buckets = validate_buckets([b("soon", -7, 0), b("late", 1, None)])
    assert bucket_for(-30, buckets) == "soon"


# --- Python and SQL agree ------------------------------------------------------------------


@st.composite
def bucket_configs(draw):
    cuts = sorted(draw(st.sets(st.integers(-40, 400), max_size=8)))
    first_min = draw(st.one_of(st.none(), st.integers(-60, min([0, *cuts]))))
    bounds = [first_min, *(c + 1 for c in cuts)]
    highs = [*cuts, None]
    return [b(f"k{i}", low, high) for i, (low, high) in enumerate(zip(bounds, highs, strict=True))]


def sql_buckets(buckets, values: list[int]) -> list[str]:
    case, params = bucket_case_sql(buckets, "v.column1")
    rows = ", ".join("(%s)" for _ in values)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {case} FROM (VALUES {rows}) AS v", [*params, *values])
        return [row[0] for row in cursor.fetchall()]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(config=bucket_configs(), values=st.lists(st.integers(-100, 1000), min_size=1, max_size=30))
def test_python_and_sql_put_every_dpd_in_the_same_bucket(db, config, values):
    buckets = validate_buckets(config)
    assert sql_buckets(buckets, values) == [bucket_for(v, buckets) for v in values]


# --- percentages ----------------------------------------------------------------------------


def test_shares_are_rounded_by_largest_remainder_to_sum_exactly_100():
    assert percentages([Decimal(1), Decimal(1), Decimal(1)], Decimal(3)) == [
        Decimal("33.34"),
        Decimal("33.33"),
        Decimal("33.33"),
    ]
    assert percentages([Decimal(0), Decimal(5)], Decimal(0)) == [Decimal("0.00"), Decimal("0.00")]


@given(st.lists(st.decimals(min_value=-1000, max_value=100000, places=2), min_size=1, max_size=9))
def test_shares_always_sum_to_100_when_there_is_a_balance(parts):
    total = sum(parts, Decimal(0))
    shares = percentages(parts, total)
    if total:
        assert sum(shares) == Decimal("100.00")
        for part, share in zip(parts, shares, strict=True):
            assert abs(share - part * 100 / total) < Decimal("0.01")
    else:
        assert set(shares) == {Decimal("0.00")}


# --- the aging report ---------------------------------------------------------------------


@pytest.fixture
def ledger(cast):
    """Eva and Bob owe in the retail portfolio; Eva also in loans; a paid and a cancelled
    document, and a document of another organization, must not count."""
    bob = Debtor.objects.create(organization=cast.mx, external_id="C-2", name="Bob")
    make_document(cast.retail, cast.eva, "F-1", "1000.00", days(10))  # current
    make_document(cast.retail, cast.eva, "F-2", "500.00", days(-15))  # 1-30
    make_document(cast.retail, cast.eva, "NC-1", "-100.00", days(-200), kind="credit_note")  # current
    make_document(cast.retail, bob, "F-3", "250.25", days(-20))  # 1-30
    make_document(cast.retail, bob, "F-4", "749.75", days(-400))  # 360+
    disputed = make_document(cast.retail, bob, "F-5", "100.00", days(-45))  # 31-60
    Document.objects.filter(pk=disputed.pk).update(status="disputed")
    paid = make_document(cast.retail, bob, "F-6", "999.00", days(-45), balance="0.00")
    Document.objects.filter(pk=paid.pk).update(status="paid")
    cancelled = make_document(cast.retail, bob, "F-7", "999.00", days(-45))
    Document.objects.filter(pk=cancelled.pk).update(status="cancelled")
    make_document(cast.loans, cast.eva, "P-1", "300.00", days(-61))  # 61-90
    andres = Debtor.objects.create(organization=cast.co, external_id="CO-1", name="Andrés")
    make_document(cast.bank_co, andres, "T-1", "150000.00", days(-70))
    return cast


def test_the_aging_report_counts_documents_debtors_and_balances_per_portfolio_and_bucket(ledger):
    report = aging_report(organization=ledger.mx, as_of=AS_OF)

    assert [t.portfolio for t in report.totals] == ["Crédito tienda", "Préstamos personales"]
    retail = ledger.retail.pk
    lines = {r.bucket: (r.documents, r.debtors, r.balance, r.share) for r in report.rows_for(retail)}
    assert lines == {
        "current": (2, 1, Decimal("900.00"), Decimal("36.00")),
        "1-30": (2, 2, Decimal("750.25"), Decimal("30.01")),
        "31-60": (1, 1, Decimal("100.00"), Decimal("4.00")),
        "61-90": (0, 0, Decimal("0.00"), Decimal("0.00")),
        "91-180": (0, 0, Decimal("0.00"), Decimal("0.00")),
        "181-360": (0, 0, Decimal("0.00"), Decimal("0.00")),
        "360+": (1, 1, Decimal("749.75"), Decimal("29.99")),
    }
    total = report.total_for(retail)
    assert (total.documents, total.debtors, total.balance, total.share) == (
        6,
        2,
        Decimal("2500.00"),
        Decimal("100.00"),
    )
    assert sum(r.share for r in report.rows_for(retail)) == Decimal("100.00")
    assert report.row(ledger.loans.pk, "61-90").balance == Decimal("300.00")
    assert report.rows_for(retail)[0].label == "Current"


def test_the_aging_report_is_right_without_refreshed_cases_and_at_any_date(ledger):
    later = aging_report(organization=ledger.mx, as_of=days(20))
    assert later.row(ledger.retail.pk, "1-30").balance == Decimal("1000.00")  # F-1 is now 10 days late
    assert later.row(ledger.retail.pk, "31-60").balance == Decimal("750.25")
    assert later.row(ledger.retail.pk, "61-90").balance == Decimal("100.00")


def test_the_aging_report_of_one_portfolio(ledger):
    report = aging_report(organization=ledger.mx, as_of=AS_OF, portfolio=ledger.loans)
    assert {r.portfolio_id for r in report.rows} == {ledger.loans.pk}
    assert report.total_for(ledger.loans.pk).balance == Decimal("300.00")


def test_an_empty_portfolio_asked_for_gets_zero_lines(cast):
    report = aging_report(organization=cast.mx, as_of=AS_OF, portfolio=cast.retail)
    assert len(report.rows) == len(DEFAULT_AGING_BUCKETS)
    assert report.total_for(cast.retail.pk).share == Decimal("0.00")


def test_a_portfolio_of_another_organization_is_refused(ledger):
    with pytest.raises(ValueError, match="another organization"):
        aging_report(organization=ledger.mx, as_of=AS_OF, portfolio=ledger.bank_co)


def test_the_aging_report_uses_the_organizations_buckets(ledger):
    ledger.mx.aging_buckets = [b("al-dia", None, 0), b("vencido", 1, None)]
    ledger.mx.save()
    report = aging_report(organization=ledger.mx, as_of=AS_OF)
    assert [(r.bucket, r.balance) for r in report.rows_for(ledger.retail.pk)] == [
        ("al-dia", Decimal("900.00")),
        ("vencido", Decimal("1600.00")),
    ]


def test_the_aging_report_takes_a_constant_number_of_queries(ledger, django_assert_max_num_queries):
    with django_assert_max_num_queries(3):
        aging_report(organization=ledger.mx, as_of=AS_OF)


# --- exports --------------------------------------------------------------------------------


def test_the_xlsx_has_numbers_with_formats_and_a_real_date(ledger):
    clp = Portfolio.objects.create(
        organization=ledger.mx,
        code="cl",
        name="=HYPERLINK(1)",
        creditor="x",
        currency="CLP",
        jurisdiction="CL",
    )
    make_document(clp, ledger.eva, "CL-1", "15000", days(-5))
    report = aging_report(organization=ledger.mx, as_of=AS_OF)

    sheet = load_workbook(io.BytesIO(aging_report_xlsx(report, "en-US"))).active

    values = list(sheet.iter_rows(values_only=True))
    header = values[4]
    assert header == (
        "Portfolio",
        "Currency",
        "Bucket",
        "Aging",
        "Documents",
        "Debtors",
        "Open balance",
        "Share of balance (%)",
    )
    assert values[0][0].startswith("Aging report as of")
    assert sheet["B3"].value == dt.datetime(2026, 3, 31) and sheet["B3"].number_format == "mm/dd/yyyy"
    row = next(
        r for r in sheet.iter_rows(min_row=6) if r[0].value == "Crédito tienda" and r[2].value == "1-30"
    )
    assert row[6].value == 750.25 and row[6].number_format == "#,##0.00"
    assert row[7].value == 30.01 and row[7].number_format == "0.00"
    clp_row = next(
        r for r in sheet.iter_rows(min_row=6) if r[0].value == "=HYPERLINK(1)" and r[2].value == "1-30"
    )
    assert clp_row[0].data_type == "s"  # a name that looks like a formula stays text
    assert clp_row[6].value == 15000 and clp_row[6].number_format == "#,##0"
    totals = [r for r in sheet.iter_rows(min_row=6, values_only=True) if r[3] == "Total"]
    assert [t[6] for t in totals] == [15000, 2500, 300]  # by portfolio name


def test_dates_in_the_xlsx_follow_the_locale():
    assert excel_date_format("es-MX") == "dd/mm/yyyy"
    assert excel_date_format("en-US") == "mm/dd/yyyy"


def test_the_csv_has_plain_numbers_iso_dates_and_total_lines(ledger):
    ledger.mx.aging_buckets = [
        b("al-dia", None, 0),
        {"key": "vencido", "label": "=1+1", "min": 1, "max": None},
    ]
    ledger.mx.save()
    report = aging_report(organization=ledger.mx, as_of=AS_OF)

    rows = list(csv.reader(io.StringIO(aging_report_csv(report))))

    assert rows[0] == [
        "As of",
        "Portfolio",
        "Currency",
        "Bucket",
        "Aging",
        "Documents",
        "Debtors",
        "Open balance",
        "Share of balance (%)",
    ]
    assert rows[1] == ["2026-03-31", "Crédito tienda", "MXN", "al-dia", "Al-Dia", "2", "1", "900.00", "36.00"]
    assert rows[2] == [
        "2026-03-31",
        "Crédito tienda",
        "MXN",
        "vencido",
        "'=1+1",
        "4",
        "2",
        "1600.00",
        "64.00",
    ]
    assert rows[3] == ["2026-03-31", "Crédito tienda", "MXN", "", "Total", "6", "2", "2500.00", "100.00"]
    assert len(rows) == 7
