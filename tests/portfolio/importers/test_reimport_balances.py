"""Re-importing an ERP's documents after payments were recorded in Recobro, as worked stories
to the cent: the ERP's balance is the truth for the documents it sends, but it never undoes
what Recobro's payments settled (a balance is held at amount − allocated)."""

import datetime as dt
from decimal import Decimal

import pytest

from recobro.core.audit import Actor
from recobro.core.models import AuditEntry
from recobro.portfolio.importers import upsert_rows
from recobro.portfolio.models import Allocation, Case, Document
from recobro.portfolio.services.payments import record_payment, reverse_payment
from tests.conftest import AS_OF
from tests.portfolio.importers.support import issues, messages

HEADER = "external_id,debtor_external_id,due_date,original_amount,balance\n"
ERP_FILE = HEADER + "F-1,C-1001,2026-01-31,1000.00,1000.00\nF-2,C-1001,2026-02-28,500.00,500.00\n"


@pytest.fixture(autouse=True)
def frozen_clock(cast):
    cast.mx.business_date_override = AS_OF
    cast.mx.save()


def state(external_id: str) -> tuple[str, str]:
    document = Document.objects.get(external_id=external_id)
    return str(document.balance), document.status


def case_balance(cast) -> str:
    return str(Case.objects.get(portfolio=cast.retail, debtor=cast.eva).balance)


@pytest.fixture
def paid_1200(cast, run, debtors):
    """The ERP's file is imported; then Eva pays 1,200.00 at the counter, recorded in Recobro:
    F-1 (due first) is settled, and 200.00 of F-2."""
    job = run("documents", ERP_FILE, portfolio=cast.retail)
    assert job.status == "succeeded"
    payment = record_payment(
        organization=cast.mx,
        portfolio=cast.retail,
        debtor=cast.eva,
        amount=Decimal("1200.00"),
        paid_on=dt.date(2026, 3, 5),
        actor=Actor.for_user(cast.carlos),
    )
    assert (state("F-1"), state("F-2")) == (("0.00", "paid"), ("300.00", "open"))
    assert case_balance(cast) == "300.00"
    return payment


def test_the_same_erp_file_again_does_not_undo_the_payment(cast, run, paid_1200):
    audit = AuditEntry.objects.count()
    job = run("documents", ERP_FILE, portfolio=cast.retail)
    assert (job.status, job.created_count, job.updated_count, job.unchanged_count) == ("succeeded", 0, 0, 2)
    assert (state("F-1"), state("F-2")) == (("0.00", "paid"), ("300.00", "open"))
    assert case_balance(cast) == "300.00"
    assert AuditEntry.objects.count() == audit
    assert sorted(Allocation.objects.values_list("amount", flat=True)) == [
        Decimal("200.00"),
        Decimal("1000.00"),
    ]


def test_a_lower_balance_from_the_erp_is_taken_and_a_higher_one_held(cast, run, paid_1200):
    # The ERP heard of the payment, and of 100.00 more paid at one of its branches.
    job = run("documents", HEADER + "F-2,C-1001,2026-02-28,500.00,200.00\n", portfolio=cast.retail)
    assert job.updated_count == 1
    assert state("F-2") == ("200.00", "open")
    entry = AuditEntry.objects.get(
        action="update", object_type="portfolio.document", context={"import_job": job.pk}
    )
    assert (entry.before["balance"], entry.after["balance"]) == ("300.00", "200.00")
    assert case_balance(cast) == "200.00"
    # Its next export undoes its branch payment: back up to what Recobro's payment left.
    job = run("documents", HEADER + "F-2,C-1001,2026-02-28,500.00,450.00\n", portfolio=cast.retail)
    assert state("F-2") == ("300.00", "open")
    entry = AuditEntry.objects.get(
        action="update", object_type="portfolio.document", context={"import_job": job.pk}
    )
    assert (entry.before["balance"], entry.after["balance"]) == ("200.00", "300.00")


def test_a_row_saying_open_keeps_a_document_the_payments_settled_paid(cast, run, paid_1200):
    content = "external_id,debtor_external_id,due_date,original_amount,balance,status\n"
    content += "F-1,C-1001,2026-01-31,1000.00,1000.00,open\nF-2,C-1001,2026-02-28,500.00,500.00,open\n"
    job = run("documents", content, portfolio=cast.retail)
    assert (job.updated_count, job.unchanged_count) == (0, 2)
    assert (state("F-1"), state("F-2")) == (("0.00", "paid"), ("300.00", "open"))


def test_a_larger_amount_leaves_room_for_a_larger_balance(cast, run, paid_1200):
    # The ERP adds 100.00 of late charges to F-1: what is owed is the amount less the 1,000.00 paid.
    # F-1 is stored as paid, so the row must say it is open again.
    job = run("documents", HEADER + "F-1,C-1001,2026-01-31,1100.00,1100.00\n", portfolio=cast.retail)
    assert issues(job) == [(2, "balance", "paid_with_balance")]
    assert "stored as paid, and a paid document has a balance of 0, not 100.00" in messages(job)
    content = "external_id,debtor_external_id,due_date,original_amount,balance,status\n"
    job = run("documents", content + "F-1,C-1001,2026-01-31,1100.00,1100.00,open\n", portfolio=cast.retail)
    assert job.updated_count == 1
    assert state("F-1") == ("100.00", "open")
    assert case_balance(cast) == "400.00"


def test_an_amount_below_what_the_payments_settled_is_refused(cast, run, paid_1200):
    job = run("documents", HEADER + "F-1,C-1001,2026-01-31,900.00,0.00\n", portfolio=cast.retail)
    assert job.status == "rejected"
    assert issues(job) == [(2, "original_amount", "amount_below_payments")]
    assert "settled 1000.00 of this document, more than its new amount 900.00" in messages(job)
    assert Document.objects.get(external_id="F-1").original_amount == Decimal("1000.00")


def test_after_a_reversal_the_erps_balance_is_taken_whole_again(cast, run, paid_1200):
    reverse_payment(payment=paid_1200, actor=Actor.for_user(cast.ana), reason="Cheque devuelto")
    assert (state("F-1"), state("F-2")) == (("1000.00", "open"), ("500.00", "open"))
    job = run("documents", ERP_FILE, portfolio=cast.retail)
    assert job.unchanged_count == 2
    assert case_balance(cast) == "1500.00"


def test_the_api_holds_the_balance_the_same_way(cast, paid_1200):
    result = upsert_rows(
        organization=cast.mx,
        kind="documents",
        portfolio=cast.retail,
        actor=Actor.system("erp-sync"),
        rows=[
            {
                "external_id": "F-2",
                "debtor_external_id": "C-1001",
                "due_date": "2026-02-28",
                "original_amount": "500.00",
                "balance": "500.00",
            }
        ],
    )
    assert (result.updated, result.unchanged, result.errors) == (0, 1, [])
    assert state("F-2") == ("300.00", "open")
