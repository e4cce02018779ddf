"""upsert_rows: the API's door to the same validation and set-based upsert."""

import datetime as dt
from decimal import Decimal

import pytest

from recobro.core.api import create_api_key
from recobro.core.audit import Actor
from recobro.core.models import AuditEntry
from recobro.portfolio.importers import ImportSetupError, RowError, upsert_rows
from recobro.portfolio.models import Case, Debtor, Document, Payment
from tests.conftest import AS_OF


@pytest.fixture
def api_actor(cast):
    key, _secret = create_api_key(
        organization=cast.mx, name="ERP sync", scope="write", actor=Actor.for_user(cast.ana)
    )
    return Actor.for_api_key(key)


@pytest.fixture(autouse=True)
def frozen_clock(cast):
    cast.mx.business_date_override = AS_OF
    cast.mx.save()


def documents(cast, actor, rows, **kwargs):
    return upsert_rows(
        organization=cast.mx, kind="documents", rows=rows, actor=actor, portfolio=cast.retail, **kwargs
    )


def test_json_typed_rows_are_created_then_updated_then_unchanged(cast, api_actor, debtors):
    row = {
        "external_id": "F-1",
        "debtor_external_id": "C-1001",
        "due_date": "2026-03-01",
        "original_amount": 1000.5,
        "balance": "800.25",
        "kind": "invoice",
    }
    first = documents(cast, api_actor, [row])
    assert (first.created, first.updated, first.unchanged, first.errors) == (1, 0, 0, [])
    second = documents(cast, api_actor, [{**row, "balance": 700}])
    assert (second.created, second.updated, second.unchanged) == (0, 1, 0)
    third = documents(cast, api_actor, [{**row, "balance": 700}])
    assert (third.created, third.updated, third.unchanged) == (0, 0, 1)
    document = Document.objects.get(external_id="F-1")
    assert (document.original_amount, document.balance) == (Decimal("1000.50"), Decimal("700.00"))
    assert Case.objects.get(debtor=cast.eva, portfolio=cast.retail).balance == Decimal("700.00")


def test_errors_name_the_row_position_field_and_reason_and_nothing_is_written(cast, api_actor, debtors):
    result = documents(
        cast,
        api_actor,
        [
            {
                "external_id": "F-1",
                "debtor_external_id": "C-1001",
                "due_date": "2026-03-01",
                "original_amount": 10,
            },
            {
                "external_id": "F-2",
                "debtor_external_id": "C-404",
                "due_date": "31/03/2026",
                "original_amount": "x",
            },
        ],
    )
    assert (result.created, result.invalid) == (0, 1)
    assert [(e.row, e.field, e.code) for e in result.errors] == [
        (1, "debtor_external_id", "unknown_debtor"),
        (1, "due_date", "date_format"),
        (1, "original_amount", "not_a_number"),
    ]
    assert not Document.objects.exists()


def test_skip_invalid_writes_the_valid_rows(cast, api_actor, debtors):
    result = documents(
        cast,
        api_actor,
        [
            {
                "external_id": "F-1",
                "debtor_external_id": "C-1001",
                "due_date": "2026-03-01",
                "original_amount": 10,
            },
            {
                "external_id": "F-2",
                "debtor_external_id": "C-1001",
                "due_date": "2026-03-01",
                "original_amount": -1,
            },
        ],
        skip_invalid=True,
    )
    assert (result.created, result.invalid) == (1, 1)
    assert result.errors == [
        RowError(1, "original_amount", "amount_not_positive", result.errors[0].message, "-1"),
    ]


def test_unknown_fields_and_rows_that_are_not_objects_are_errors(cast, api_actor, debtors):
    result = upsert_rows(
        organization=cast.mx,
        kind="debtors",
        rows=[{"external_id": "C-9", "name": "Nadia", "segment": "A"}, ["C-10", "Omar"]],
        actor=api_actor,
    )
    assert [(e.row, e.field, e.code) for e in result.errors] == [
        (0, "segment", "unknown_field"),
        (1, "", "not_an_object"),
    ]
    assert not Debtor.objects.filter(external_id="C-9").exists()


def test_a_field_left_out_keeps_its_value_and_an_empty_one_clears_it(cast, api_actor):
    rows = [{"external_id": "C-1001", "name": "Eva Martínez López", "language": "es"}]
    upsert_rows(organization=cast.mx, kind="debtors", rows=rows, actor=api_actor)
    upsert_rows(
        organization=cast.mx,
        kind="debtors",
        rows=[{"external_id": "C-1001", "name": "Eva M."}],
        actor=api_actor,
    )
    eva = Debtor.objects.get(pk=cast.eva.pk)
    assert (eva.name, eva.language, eva.tax_id) == ("Eva M.", "es", "MALE800101AB1")
    upsert_rows(
        organization=cast.mx,
        kind="debtors",
        rows=[{"external_id": "C-1001", "name": "Eva M.", "language": None, "tax_id": ""}],
        actor=api_actor,
    )
    eva.refresh_from_db()
    assert (eva.language, eva.tax_id, eva.tax_id_type) == ("", "", "")


def test_rows_carrying_different_fields_are_updated_each_with_its_own(cast, api_actor, debtors):
    result = upsert_rows(
        organization=cast.mx,
        kind="debtors",
        rows=[
            {"external_id": "C-1002", "name": "Bruno Díaz", "is_disputed": True},
            {"external_id": "C-1003", "name": "Celia Ruiz", "language": "en"},
        ],
        actor=api_actor,
    )
    assert (result.updated, result.unchanged) == (2, 0)
    bruno, celia = Debtor.objects.get(external_id="C-1002"), Debtor.objects.get(external_id="C-1003")
    assert (bruno.is_disputed, bruno.language, celia.is_disputed, celia.language) == (True, "", False, "en")


def test_api_writes_are_audited_with_the_api_key(cast, api_actor):
    upsert_rows(
        organization=cast.mx, kind="debtors", rows=[{"external_id": "C-9", "name": "Nadia"}], actor=api_actor
    )
    entry = AuditEntry.objects.get(object_type="portfolio.debtor", action="create")
    assert (entry.source, entry.api_key, entry.user) == ("api", api_actor.api_key, None)
    assert entry.context == {"via": "api"}
    assert entry.after["name"] == "Nadia"


def test_api_payments_are_marked_as_coming_from_the_api_and_allocated(cast, api_actor):
    from tests.conftest import make_document

    make_document(cast.retail, cast.eva, "F-1", "100.00", dt.date(2026, 1, 1))
    result = upsert_rows(
        organization=cast.mx,
        kind="payments",
        rows=[
            {"external_id": "P-1", "debtor_external_id": "C-1001", "amount": "60", "paid_on": "2026-03-30"}
        ],
        actor=api_actor,
        portfolio=cast.retail,
    )
    assert result.created == 1
    payment = Payment.objects.get()
    assert (payment.source, payment.unallocated_amount) == ("api", Decimal("0.00"))
    assert Document.objects.get().balance == Decimal("40.00")


def test_a_duplicated_key_within_a_call_reports_both_rows(cast, api_actor):
    result = upsert_rows(
        organization=cast.mx,
        kind="debtors",
        rows=[{"external_id": "C-9", "name": "A"}, {"external_id": "C-9", "name": "B"}],
        actor=api_actor,
    )
    assert sorted((e.row, e.code) for e in result.errors) == [(0, "duplicate"), (1, "duplicate")]


def test_more_rows_than_the_limit_are_refused(cast, api_actor, settings):
    settings.RECOBRO_API_MAX_BULK_ROWS = 2
    with pytest.raises(ImportSetupError, match="more than the 2 a call may carry"):
        upsert_rows(organization=cast.mx, kind="debtors", rows=[{}] * 3, actor=api_actor)


def test_the_number_of_queries_does_not_grow_with_the_rows(
    cast, api_actor, debtors, django_assert_max_num_queries
):
    def rows(n, start=0):
        return [
            {
                "external_id": f"F-{i}",
                "debtor_external_id": "C-1002",
                "due_date": "2026-03-01",
                "original_amount": 10 + i,
            }
            for i in range(start, start + n)
        ]

    documents(cast, api_actor, rows(5))
    with django_assert_max_num_queries(40) as few:
        documents(cast, api_actor, rows(5, 100))
    with django_assert_max_num_queries(len(few.captured_queries)):
        documents(cast, api_actor, rows(500, 1000))
