"""Promises and plans in the back-office go through the negotiation services."""

import datetime as dt

from django.urls import reverse

from recobro.negotiation.models import PaymentPlan, PromiseToPay
from recobro.portfolio.models import Case
from tests.backoffice.conftest import client_for
from tests.conftest import AS_OF


def test_a_collector_records_a_promise_from_the_case(cast, ledger):
    case = Case.objects.get(debtor=ledger.eva)
    carlos = client_for(cast.carlos)
    url = reverse("admin:negotiation_promisetopay_add") + f"?case={case.pk}"
    assert carlos.get(url).status_code == 200
    response = carlos.post(url, {"amount": "500.00", "promised_on": AS_OF + dt.timedelta(days=3)})
    assert response.status_code == 302
    promise = PromiseToPay.objects.get()
    assert (promise.case, promise.origin, promise.created_by) == (case, "collector", cast.carlos)
    response = carlos.post(url, {"amount": "500.00", "promised_on": AS_OF + dt.timedelta(days=3)})
    assert "ya tiene una promesa pendiente" in response.content.decode()
    assert carlos.get(reverse("admin:negotiation_promisetopay_cancel", args=[promise.pk])).status_code == 302
    promise.refresh_from_db()
    assert promise.status == "cancelled"


def test_a_promise_by_debtor_id_and_its_errors(cast, ledger):
    ana = client_for(cast.ana)
    url = reverse("admin:negotiation_promisetopay_add")
    response = ana.post(
        url, {"debtor": "C-1001", "amount": "100", "promised_on": AS_OF - dt.timedelta(days=1)}
    )
    assert "o posterior" in response.content.decode()
    response = ana.post(url, {"debtor": "NOPE", "amount": "100", "promised_on": AS_OF})
    assert "Ninguno de sus casos abiertos" in response.content.decode()
    assert ana.post(url, {"debtor": "C-1001", "amount": "100", "promised_on": AS_OF}).status_code == 302
    assert PromiseToPay.objects.count() == 1


def test_a_plan_is_proposed_by_a_collector_and_approved_by_a_supervisor(cast, ledger):
    case = Case.objects.get(debtor=ledger.eva)
    carlos = client_for(cast.carlos)
    url = reverse("admin:negotiation_paymentplan_add") + f"?case={case.pk}"
    data = {"total_amount": "3000.00", "down_payment": "500.00", "installments": "5", "first_due_on": AS_OF}
    assert carlos.post(url, data).status_code == 302
    plan = PaymentPlan.objects.get()
    assert plan.status == "proposed"
    assert carlos.get(reverse("admin:negotiation_paymentplan_approve", args=[plan.pk])).status_code == 403
    assert (
        client_for(cast.ana).get(reverse("admin:negotiation_paymentplan_approve", args=[plan.pk])).status_code
        == 302
    )
    plan.refresh_from_db()
    assert plan.status == "active" and plan.approved_by == cast.ana


def test_the_auditor_reads_and_other_collectors_do_not_find_the_case(cast, ledger):
    case = Case.objects.get(debtor=ledger.eva)
    auditor = client_for(cast.auditor)
    assert auditor.get(reverse("admin:negotiation_promisetopay_changelist")).status_code == 200
    assert auditor.get(reverse("admin:negotiation_promisetopay_add")).status_code == 403
    diana = client_for(cast.diana)
    assert diana.get(reverse("admin:negotiation_promisetopay_add") + f"?case={case.pk}").status_code == 404
