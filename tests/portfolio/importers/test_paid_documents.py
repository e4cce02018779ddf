"""A paid document has a balance of 0: rows that say otherwise are refused, with their line,
column and reason, and the database refuses them too."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from recobro.core.models import AuditEntry
from recobro.portfolio.models import Document
from tests.conftest import AS_OF, make_document
from tests.portfolio.importers.support import issues, messages

HEADER = "external_id,debtor_external_id,due_date,original_amount,balance,status\n"


@pytest.fixture(autouse=True)
def frozen_clock(cast):
    cast.mx.business_date_override = AS_OF
    cast.mx.save()


def test_a_paid_row_with_a_balance_is_refused_naming_line_and_column(cast, run, debtors):
    job = run(
        "documents",
        HEADER + "F-1,C-1001,2026-03-01,1000.00,0,pagado\nF-2,C-1001,2026-03-01,1000.00,250.00,pagado\n",
        portfolio=cast.retail,
    )
    assert job.status == "rejected"
    assert issues(job) == [(3, "balance", "paid_with_balance")]
    assert "A paid document has a balance of 0, not 250.00" in messages(job)
    assert not Document.objects.exists()


def test_a_paid_row_without_a_balance_is_stored_with_balance_0(cast, run, debtors):
    job = run(
        "documents",
        "external_id,debtor_external_id,due_date,original_amount,status\nF-1,C-1001,2026-03-01,1000.00,paid\n",
        portfolio=cast.retail,
    )
    assert job.status == "succeeded"
    assert (Document.objects.get().status, Document.objects.get().balance) == ("paid", Decimal("0.00"))
    job = run("documents", HEADER + "F-2,C-1001,2026-03-01,500.00,,paid\n", portfolio=cast.retail)
    assert Document.objects.get(external_id="F-2").balance == 0


def test_a_balance_for_a_document_stored_as_paid_is_refused_without_the_status(cast, run, debtors):
    run("documents", HEADER + "F-1,C-1001,2026-03-01,1000.00,0,paid\n", portfolio=cast.retail)
    job = run(
        "documents",
        "external_id,debtor_external_id,due_date,original_amount,balance\nF-1,C-1001,2026-03-01,1000.00,400.00\n",
        portfolio=cast.retail,
    )
    assert job.status == "rejected"
    assert issues(job) == [(2, "balance", "paid_with_balance")]
    assert "stored as paid" in messages(job)
    job = run("documents", HEADER + "F-1,C-1001,2026-03-01,1000.00,400.00,open\n", portfolio=cast.retail)
    assert job.status == "succeeded"
    assert (Document.objects.get().status, Document.objects.get().balance) == ("open", Decimal("400.00"))


def test_paid_without_the_balance_for_a_document_that_still_owes_is_refused(cast, run, debtors):
    make_document(cast.retail, cast.eva, "F-1", "1000.00", AS_OF)
    job = run(
        "documents",
        "external_id,debtor_external_id,due_date,original_amount,status\nF-1,C-1001,2026-03-31,1000.00,paid\n",
        portfolio=cast.retail,
    )
    assert issues(job) == [(2, "status", "paid_with_balance")]
    assert "stored balance is 1000.00" in messages(job)
    assert Document.objects.get().status == "open"
    assert not AuditEntry.objects.filter(action="update").exists()


def test_the_api_refuses_a_paid_document_with_a_balance(cast, debtors):
    from recobro.core.audit import Actor
    from recobro.portfolio.importers import upsert_rows

    result = upsert_rows(
        organization=cast.mx,
        kind="documents",
        portfolio=cast.retail,
        actor=Actor.system("test"),
        rows=[
            {
                "external_id": "F-1",
                "debtor_external_id": "C-1001",
                "due_date": "2026-03-01",
                "original_amount": "1000.00",
                "balance": "10.00",
                "status": "paid",
            }
        ],
    )
    assert [(e.row, e.field, e.code) for e in result.errors] == [(0, "balance", "paid_with_balance")]
    assert not Document.objects.exists()


def test_the_database_refuses_a_paid_document_with_a_balance(cast):
    document = make_document(cast.retail, cast.eva, "F-1", "1000.00", AS_OF)
    with pytest.raises(IntegrityError), transaction.atomic():
        Document.objects.filter(pk=document.pk).update(status="paid")
    Document.objects.filter(pk=document.pk).update(status="paid", balance=0)
    assert Document.objects.get().status == "paid"
