"""The simulator (strategy/simulation): seeded days of deliveries, collectors, payments and cycles.

Comercial del Norte runs the strategy of tests/strategy/conftest.py over two dozen debtors
whose invoices fall due from 10 days ahead to 150 days ago; its clock starts on AS_OF.
"""

import datetime as dt
from decimal import Decimal
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from recobro.channels.models import Message, MessageStatus, Template
from recobro.core.models import AuditEntry, Organization
from recobro.negotiation.models import PromiseOrigin, PromiseToPay
from recobro.portfolio.engine import refresh_cases
from recobro.portfolio.models import Allocation, Case, ContactPoint, Document, Payment
from recobro.strategy.models import Action, CaseState, CycleRun, CycleStatus, Task, TaskStatus
from recobro.strategy.simulation import SimulationError, model, real_today, simulate
from recobro.strategy.simulation import day as routine
from tests.strategy.conftest import AS_OF, days, new_debtor, owes

SEED = 7


def build_portfolio(cast, n: int = 24, *, prefix: str = "S", late: int = 0) -> None:
    """``n`` debtors with one invoice each, due from 10 days ahead to ~150 days ago, and
    ``late`` debtors with a poor score whose invoices fall due in the coming days (most of
    them will not pay in time and enter the administrative strategy)."""
    for i in range(n):
        debtor = new_debtor(cast, f"{prefix}-{i:03d}", email=f"{prefix.lower()}{i}@example.com")
        amount = "8000.00" if i % 3 == 0 else "2500.00"
        owes(cast, debtor, amount, days(10 - i * 7))
    for i in range(late):
        debtor = new_debtor(cast, f"{prefix}-L{i:02d}", risk_score=Decimal("0.05"))
        owes(cast, debtor, "2500.00", days(2 + i % 8))
    refresh_cases(organization=cast.mx, as_of=AS_OF)


@pytest.fixture
def world(cast, config):
    cast.mx.business_date_override = AS_OF
    cast.mx.save(update_fields=["business_date_override"])
    build_portfolio(cast, late=16)
    return cast


def history(org: Organization) -> dict:
    """Everything a simulation decided, named by stable keys (not by database ids)."""
    return {
        "payments": sorted(
            Payment.objects.filter(organization=org).values_list(
                "debtor__external_id", "paid_on", "amount", "method", "source", "external_id"
            )
        ),
        "messages": sorted(
            Message.objects.filter(organization=org).values_list(
                "debtor__external_id", "channel", "business_date", "status", "sent_at"
            )
        ),
        "tasks": sorted(
            Task.objects.filter(organization=org).values_list(
                "case__debtor__external_id",
                "kind",
                "due_on",
                "status",
                "result",
                "completed_at",
                "assigned_to",
            ),
            key=str,
        ),
        "promises": sorted(
            PromiseToPay.objects.filter(organization=org).values_list(
                "case__debtor__external_id", "amount", "made_on", "promised_on", "status"
            )
        ),
        "states": sorted(
            CaseState.objects.filter(organization=org).values_list(
                "case__debtor__external_id", "stage__code", "segment__code", "variant__code"
            ),
            key=str,
        ),
        "documents": sorted(
            Document.objects.filter(organization=org).values_list("external_id", "due_date", "balance")
        ),
    }


class _Rollback(Exception):
    pass


def simulate_and_forget(org: Organization, **kwargs) -> tuple[dict, object]:
    """Run a simulation inside a savepoint, note what it did, then undo it."""
    try:
        with transaction.atomic():
            summary = simulate(organization=org, **kwargs)
            seen = history(org)
            raise _Rollback
    except _Rollback:
        pass
    org.refresh_from_db()
    return seen, summary


def test_the_clock_moves_day_by_day_and_the_cycle_runs_for_each_day(world):
    summary = simulate(organization=world.mx, days=10, seed=SEED)
    world.mx.refresh_from_db()
    # The start date had no cycle yet: it is simulated first; then ten more days.
    assert [r.day for r in summary.days] == [days(i) for i in range(11)]
    assert (summary.start, summary.end) == (AS_OF, days(10))
    assert world.mx.business_date_override == days(10) and not summary.clock_released
    done = CycleRun.objects.filter(organization=world.mx, status=CycleStatus.DONE)
    assert sorted(done.values_list("as_of", flat=True)) == [days(i) for i in range(11)]
    assert AuditEntry.objects.filter(organization=world.mx, object_type="strategy.simulation").count() == 1
    # Going on later starts after the last day with a completed cycle.
    more = simulate(organization=world.mx, days=2, seed=SEED)
    assert [r.day for r in more.days] == [days(11), days(12)]


def test_debtors_pay_through_the_ledger_and_messages_and_tasks_are_worked(world):
    summary = simulate(organization=world.mx, days=30, seed=SEED)
    payments = Payment.objects.filter(organization=world.mx)
    assert summary.total("payments") == payments.count() > 5
    assert summary.total("paid_amount") == sum(p.amount for p in payments)
    for p in payments:
        assert p.external_id == f"SIM-{p.paid_on:%Y%m%d}-{p.debtor.external_id}"
        assert p.source in {"bank", "manual", "gateway"}
        assert p.reference == (p.debtor.payment_reference or "")
    # Allocated by the ledger: documents settled, cases refreshed, everything audited.
    assert Allocation.objects.filter(organization=world.mx).exists()
    assert Document.objects.filter(organization=world.mx, status="paid").exists()
    assert AuditEntry.objects.filter(organization=world.mx, object_type="portfolio.payment").count() >= (
        payments.count()
    )
    # The outbox went out through the simulated provider, on the day after it was queued.
    sent = Message.objects.filter(organization=world.mx, status__in=["delivered", "read"])
    assert sent.exists() and all(m.provider == "simulator" and m.sent_at for m in sent)
    for m in sent:
        local = m.sent_at.astimezone(ZoneInfo(world.mx.timezone)).date()
        assert m.business_date < local <= m.business_date + dt.timedelta(days=2)
    assert summary.total("delivered") + summary.total("read") == sent.count()
    # Collectors worked their tasks; reached debtors promised; promises were then resolved.
    worked = Task.objects.filter(organization=world.mx, status=TaskStatus.DONE)
    assert worked.exists() and all(t.result in routine.TASK_RESULTS and t.completed_at for t in worked)
    assert {t.assigned_to for t in worked if t.case.portfolio == world.retail} == {world.carlos}
    assert summary.total("tasks_worked") == worked.count()
    promises = PromiseToPay.objects.filter(organization=world.mx)
    assert promises.exists() and all(p.origin == PromiseOrigin.COLLECTOR for p in promises)
    assert promises.exclude(status="pending").exists()
    assert summary.total("promises") == promises.count()
    assert set(summary.promises_by_status) <= {"pending", "kept", "partly_kept", "broken"}


def test_both_variants_of_a_strategy_work_cases_and_their_results_are_compared(world):
    summary = simulate(organization=world.mx, days=30, seed=SEED)
    by_name = {(v.strategy, v.variant): v for v in summary.variants}
    assert {("admin", "A"), ("admin", "B")} <= set(by_name)
    champion, challenger = by_name[("admin", "A")], by_name[("admin", "B")]
    assert champion.champion and not challenger.champion and champion.share == challenger.share == 50
    assert champion.cases > 0 and challenger.cases > 0
    assert champion.messages > 0 and challenger.messages > 0
    total_paid = sum((v.paid for v in summary.variants), Decimal(0))
    assert 0 < total_paid <= summary.total("paid_amount")
    assert all(0 <= v.payer_rate <= 1 and v.payers <= v.cases for v in summary.variants)


def test_the_same_seed_and_data_give_the_same_history(world):
    first, first_summary = simulate_and_forget(world.mx, days=25, seed=SEED)
    again, again_summary = simulate_and_forget(world.mx, days=25, seed=SEED)
    assert first["payments"] and first["tasks"] and first["messages"]
    assert first == again
    assert [r.counts for r in first_summary.days] == [r.counts for r in again_summary.days]
    other, _summary = simulate_and_forget(world.mx, days=25, seed=SEED + 1)
    assert other["payments"] != first["payments"]


def test_an_interrupted_day_is_finished_on_the_next_run_without_duplicates(world):
    straight, _summary = simulate_and_forget(world.mx, days=8, seed=SEED)
    simulate(organization=world.mx, days=4, seed=SEED)
    # Day 5 starts and dies before its cycle: the clock, deliveries, tasks and payments are in.
    world.mx.business_date_override = days(5)
    world.mx.save(update_fields=["business_date_override"])
    counts = routine.DayCounts()
    routine.deliver_messages(organization=world.mx, day=days(5), seed=SEED, counts=counts)
    cases = routine.open_cases(organization=world.mx, day=days(5))
    routine.work_tasks(organization=world.mx, day=days(5), seed=SEED, cases=cases, counts=counts)
    cases = routine.open_cases(organization=world.mx, day=days(5))
    routine.pay(organization=world.mx, day=days(5), seed=SEED, cases=cases, counts=counts)
    resumed = simulate(organization=world.mx, days=3, seed=SEED)
    assert resumed.days[0].day == days(5)  # its cycle had not run: the day is finished first
    assert history(world.mx) == straight


def test_a_message_to_an_opted_out_contact_point_fails_without_being_sent(world):
    simulate(organization=world.mx, days=0, seed=SEED)  # the start day
    # Two emails queued for two debtors, whatever variants the case ids drew (the hash
    # depends on ids, which differ between databases and test orders).
    template = Template.objects.filter(organization=world.mx, channel="email").first()
    emails = ContactPoint.objects.filter(organization=world.mx, kind="email").order_by("pk")[:2]
    blocked, wrong = (
        Message.objects.create(
            organization=world.mx,
            case=Case.objects.get(debtor_id=point.debtor_id),
            debtor_id=point.debtor_id,
            channel="email",
            contact_point=point,
            template=template,
            business_date=AS_OF,
            idempotency_key=f"test:{point.pk}",
        )
        for point in emails
    )
    ContactPoint.objects.filter(pk=blocked.contact_point_id).update(
        opted_out_at=dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    )
    ContactPoint.objects.filter(pk=wrong.contact_point_id).update(wrong_number=True)
    simulate(organization=world.mx, days=1, seed=SEED)
    for message in (blocked, wrong):
        message.refresh_from_db()
        assert message.status == MessageStatus.FAILED and message.sent_at is None
        assert message.provider == "simulator"


def test_accounts_that_keep_buying_get_next_months_document_and_blocked_ones_do_not(world):
    blocked = new_debtor(world, "BLOQ")
    owes(world, blocked, "3000.00", days(-100))
    owes(world, blocked, "3000.00", days(-40))  # a month of history inside the window
    current = []
    for i in range(12):
        debtor = new_debtor(world, f"AL-{i:02d}")
        owes(world, debtor, "1000.00", days(25))
        current.append(debtor)
    refresh_cases(organization=world.mx, as_of=AS_OF)
    counts = routine.DayCounts()
    # Next month's due date is days(25) + 1 month = May 25; it is issued 21 days before.
    issue_day = dt.date(2026, 5, 4)
    routine.bill(organization=world.mx, day=issue_day - dt.timedelta(days=1), seed=SEED, counts=counts)
    new = Document.objects.filter(organization=world.mx, external_id__startswith="SIM-202605-AL-")
    assert not new.exists()
    counts = routine.DayCounts()
    world.mx.business_date_override = issue_day
    world.mx.save(update_fields=["business_date_override"])
    routine.bill(organization=world.mx, day=issue_day, seed=SEED, counts=counts)
    assert counts.documents == new.count() >= 8  # 85 % keep buying
    for document in new:
        assert document.due_date == dt.date(2026, 5, 25) and document.issue_date == issue_day
        assert (
            Decimal("700") <= document.original_amount <= Decimal("1300")
            and document.original_amount % 10 == 0
        )
    assert not Document.objects.filter(debtor=blocked, external_id__startswith="SIM-").exists()
    # Issued once: the next day finds the new document and adds nothing.
    again = routine.DayCounts()
    routine.bill(organization=world.mx, day=issue_day + dt.timedelta(days=1), seed=SEED, counts=again)
    assert again.documents == 0
    assert Case.objects.get(debtor=current[0], portfolio=world.retail).open_documents >= 1


def test_deliveries_and_payments_take_the_same_queries_for_few_or_many_cases(cast, config, monkeypatch):
    monkeypatch.setattr(model, "payment_probability", lambda case: 1.0)  # everybody pays

    def day_queries(prefix: str, n: int, day: dt.date) -> int:
        build_portfolio(cast, n, prefix=prefix)
        cast.mx.business_date_override = day
        cast.mx.save(update_fields=["business_date_override"])
        for case in Case.objects.filter(debtor__external_id__startswith=f"{prefix}-").select_related(
            "debtor"
        ):
            Message.objects.create(
                organization=cast.mx,
                case=case,
                debtor=case.debtor,
                channel="sms",
                contact_point=case.debtor.contact_points.first(),
                template=config.sms,
                business_date=day - dt.timedelta(days=1),
                idempotency_key=f"test:{case.pk}",
            )
        with CaptureQueriesContext(connection) as queries:
            counts = routine.DayCounts()
            routine.deliver_messages(organization=cast.mx, day=day, seed=SEED, counts=counts)
            cases = routine.open_cases(organization=cast.mx, day=day)
            routine.pay(organization=cast.mx, day=day, seed=SEED, cases=cases, counts=counts)
        assert counts.delivered + counts.read + counts.failed == n
        assert counts.payments == len(cases) >= n
        return len(queries)

    few = day_queries("F", 3, days(1))
    many = day_queries("M", 15, days(2))
    assert few == many


def test_bad_input_is_refused(world):
    with pytest.raises(SimulationError, match="whole number"):
        simulate(organization=world.mx, days=-1, seed=SEED)
    with pytest.raises(SimulationError, match="more than"):
        simulate(organization=world.mx, days=100_000, seed=SEED)
    CycleRun.objects.create(organization=world.mx, as_of=days(5), status=CycleStatus.DONE)
    with pytest.raises(SimulationError, match="cannot rewrite history"):
        simulate(organization=world.mx, days=3, seed=SEED)


def test_a_simulation_that_reaches_the_real_date_gives_the_clock_back(cast, config):
    today = real_today(cast.mx)
    cast.mx.business_date_override = today - dt.timedelta(days=3)
    cast.mx.save(update_fields=["business_date_override"])
    debtor = new_debtor(cast, "HOY")
    owes(cast, debtor, "2000.00", today - dt.timedelta(days=20))
    refresh_cases(organization=cast.mx, as_of=today - dt.timedelta(days=3))
    summary = simulate(organization=cast.mx, days=3, seed=SEED)
    cast.mx.refresh_from_db()
    assert summary.clock_released and summary.end == today
    assert cast.mx.business_date_override is None and cast.mx.today() == today
    assert CycleRun.objects.filter(organization=cast.mx, as_of=today, status=CycleStatus.DONE).exists()


def test_the_command_prints_each_day_and_a_summary(world):
    out = StringIO()
    call_command("simulate", days=3, seed=SEED, organization="comercial-norte", stdout=out)
    text = out.getvalue()
    for i in range(4):
        assert days(i).isoformat() in text
    assert "Payments:" in text and "Champion and challengers" in text
    assert "stays frozen on 2026-04-03" in text
    assert Action.objects.filter(organization=world.mx).exists()


def test_the_command_names_the_organizations_when_it_cannot_tell(world):
    with pytest.raises(CommandError, match="comercial-norte"):
        call_command("simulate", days=1, stdout=StringIO())
    with pytest.raises(CommandError, match="no organization 'nope'"):
        call_command("simulate", days=1, organization="nope", stdout=StringIO())
    with pytest.raises(CommandError, match="--days"):
        call_command("simulate", days=-2, organization="comercial-norte", stdout=StringIO())
