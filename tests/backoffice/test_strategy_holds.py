"""Holds in the back-office: placed through the service (long ones of collectors wait),
approved by supervisors, released."""

import datetime as dt

from django.urls import reverse

from recobro.strategy.models import Hold
from tests.backoffice.conftest import client_for
from tests.conftest import AS_OF


def place(client, **data):
    values = {
        "debtor": "C-1001",
        "scope": "debtor",
        "reason": "dispute",
        "note": "Reclamo",
        "starts_on": AS_OF,
    }
    values.update(data)
    return client.post(reverse("admin:strategy_hold_add"), values)


def test_a_collectors_open_hold_waits_and_a_supervisor_approves_it(cast, ledger):
    carlos = client_for(cast.carlos)
    response = place(carlos, starts_on=(AS_OF - dt.timedelta(days=3)).isoformat())
    assert response.status_code == 302
    hold = Hold.objects.get()
    assert hold.needs_approval and hold.starts_on == AS_OF - dt.timedelta(days=3)
    approve = reverse("admin:strategy_hold_approve", args=[hold.pk])
    assert carlos.get(approve).status_code == 403
    ana = client_for(cast.ana)
    assert ana.get(approve).status_code == 302
    hold.refresh_from_db()
    assert not hold.needs_approval and hold.approved_by == cast.ana
    assert ana.get(reverse("admin:strategy_hold_release", args=[hold.pk])).status_code == 302
    hold.refresh_from_db()
    assert hold.released_by == cast.ana


def test_a_document_hold_and_form_errors(cast, ledger):
    ana = client_for(cast.ana)
    response = place(ana, scope="document", document="F-9999")
    assert "no tiene ningún documento con el número F-9999" in response.content.decode()
    response = place(ana, ends_on=(AS_OF - dt.timedelta(days=1)).isoformat())
    assert "antes de empezar" in response.content.decode()
    assert not Hold.objects.exists()
    assert place(ana, scope="document", document="F-1001", ends_on=AS_OF.isoformat()).status_code == 302
    assert Hold.objects.get().document.number == "F-1001"


def test_holds_from_the_debtor_page_and_bulk_approval(cast, ledger):
    carlos = client_for(cast.carlos)
    url = reverse("admin:strategy_hold_add") + f"?debtor={ledger.eva.pk}"
    assert carlos.get(url).status_code == 200
    for _ in range(2):
        carlos.post(url, {"scope": "debtor", "reason": "hardship", "starts_on": AS_OF})
    assert Hold.objects.filter(needs_approval=True).count() == 2
    ana = client_for(cast.ana)
    ids = [str(pk) for pk in Hold.objects.values_list("pk", flat=True)]
    response = ana.post(
        reverse("admin:strategy_hold_changelist"), {"action": "approve_selected", "_selected_action": ids}
    )
    assert response.status_code == 302
    assert not Hold.objects.filter(needs_approval=True).exists()


def test_the_auditor_and_other_collectors_cannot_place_holds_on_eva(cast, ledger):
    assert client_for(cast.auditor).get(reverse("admin:strategy_hold_add")).status_code == 403
    response = place(client_for(cast.diana))
    assert "Ninguno de sus deudores" in response.content.decode()
    assert not Hold.objects.exists()
