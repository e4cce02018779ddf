"""The case page's strategy panel: where the case stands, its history, holds, actions, tasks,
the cycle's explanation for a chosen date, and the managers' forms — tenant-scoped."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from recobro.core.models import AuditEntry
from recobro.strategy.models import Action, CaseState, Hold, StageTransition, Step, Task
from tests.backoffice.conftest import client_for
from tests.conftest import AS_OF
from tests.strategy.explain_setup import build_config, set_state

DAY = dt.timedelta(days=1)


@pytest.fixture
def config(cast, ledger):
    return build_config(cast.mx)


@pytest.fixture
def case(ledger, config):
    """Eva's case on Carlos' portfolio: 3,200.50 open, 45 days past due, paid 300.00 two days ago."""
    return ledger.eva.cases.get()


def page_of(client, case) -> str:
    response = client.get(reverse("admin:portfolio_case_change", args=[case.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_the_case_page_explains_the_cycle_for_the_business_date(ana, case):
    page = page_of(ana, case)
    assert 'id="case-strategy"' in page
    assert 'data-as-of="2026-03-31"' in page
    assert "El ciclo diario todavía no ha ubicado este caso en la estrategia." in page
    # Each stage's entry test, each segment's trace, the strategy and the variant.
    assert "día 45 ≥ 61" in page
    assert "El caso entra en Administrativa el 2026-03-31." in page
    assert "balance &gt;= 5000: balance es 3200.50 → no" in page
    assert "Segmento: Saldo bajo" in page
    assert "Número de sorteo del caso en esta estrategia:" in page
    assert "Aún no vence: vence el 2026-04-02, dentro de 2 días." in page


def test_the_panel_shows_state_history_holds_actions_and_open_tasks(ana, cast, case, config):
    set_state(
        case, config.administrative, AS_OF - 44 * DAY, segment=config.bajo, strategy=config.admin_default,
        variant=config.default_variant, strategy_entered_on=AS_OF - 44 * DAY,
        expected_recovery=Decimal("1600.25"), priority=Decimal("1600.25"), probability=Decimal("0.5"),
        as_of=AS_OF,
    )  # fmt: skip
    StageTransition.objects.create(
        organization=cast.mx, case=case, from_stage=config.preventive, to_stage=config.administrative,
        business_date=AS_OF - 44 * DAY, reason="rule",
    )  # fmt: skip
    Hold.objects.create(
        organization=cast.mx, scope="debtor", debtor=case.debtor, reason="complaint", note="Queja PROFECO",
        starts_on=AS_OF - DAY, ends_on=AS_OF + 3 * DAY,
    )  # fmt: skip
    sms = Step.objects.get(variant=config.default_variant, position=1)
    Action.objects.create(
        organization=cast.mx, case=case, step=sms, variant=config.default_variant, due_on=AS_OF - 42 * DAY,
        business_date=AS_OF - 42 * DAY, status="skipped", skip_reason="no_contact_point",
    )  # fmt: skip
    Task.objects.create(organization=cast.mx, case=case, kind="call", title="Llamar a Eva", due_on=AS_OF)
    page = page_of(ana, case)
    assert "Saldo bajo" in page and "Única" in page
    assert "desde el 15/02/2026" in page  # in stage since (es-MX date format)
    assert "$1,600.25" in page
    assert "Regla de entrada" in page  # the transition's reason
    assert "Queja PROFECO" in page and "Vigente" in page
    assert "Sin medio de contacto utilizable para el canal" in page  # the action's skip reason
    assert "Llamar a Eva" in page
    # The debtor is on hold: the steps wait.
    assert "la gestión del deudor está suspendida" in page


def test_explain_for_another_date_returns_the_fragment_for_htmx_and_a_page_otherwise(ana, case):
    url = reverse("strategy-case-explain", args=[case.pk])
    fragment = ana.get(url, {"as_of": "2026-04-02"}, HTTP_HX_REQUEST="true").content.decode()
    assert fragment.lstrip().startswith('<div id="case-explanation" data-as-of="2026-04-02"')
    assert "<html" not in fragment
    page = ana.get(url, {"as_of": "2026-04-02"}).content.decode()
    assert "<html" in page and 'data-as-of="2026-04-02"' in page
    # A date that does not parse says so and explains the business date instead.
    bad = ana.get(url, {"as_of": "mañana"}, HTTP_HX_REQUEST="true").content.decode()
    assert 'data-as-of="2026-03-31"' in bad
    assert "Enter a valid date." in bad or "Introduzca una fecha válida." in bad


def test_collectors_see_only_their_portfolios_cases(cast, case):
    carlos = client_for(cast.carlos)
    diana = client_for(cast.diana)
    explain_url = reverse("strategy-case-explain", args=[case.pk])
    assert carlos.get(explain_url).status_code == 200
    assert diana.get(explain_url).status_code == 404
    assert client_for(cast.oscar).get(explain_url).status_code == 404  # another organization
    assert diana.get(reverse("admin:portfolio_case_change", args=[case.pk])).status_code in (302, 404)


def test_only_managers_move_cases_and_auditors_only_read(cast, case, config):
    carlos, auditor = client_for(cast.carlos), client_for(cast.auditor)
    page = page_of(carlos, case)
    assert 'id="move-stage-form"' not in page
    assert reverse("strategy-case-place-hold", args=[case.pk]) in page  # collectors may place holds
    move_url = reverse("strategy-case-move-stage", args=[case.pk])
    data = {"stage": config.judicial.pk, "reason_note": "Demanda"}
    assert carlos.post(move_url, data).status_code == 403
    page = page_of(auditor, case)
    assert 'id="move-stage-form"' not in page
    assert reverse("strategy-case-place-hold", args=[case.pk]) not in page
    assert auditor.post(move_url, data).status_code == 403
    assert auditor.post(reverse("strategy-case-place-hold", args=[case.pk]), {}).status_code == 403
    assert not StageTransition.objects.exists()


def test_a_supervisor_moves_a_case_with_a_reason(ana, cast, case, config):
    assert 'id="move-stage-form"' in page_of(ana, case)
    url = reverse("strategy-case-move-stage", args=[case.pk])
    response = ana.post(url, {"stage": config.judicial.pk, "reason_note": "  "})
    assert response.status_code == 200
    assert "This field is required." in response.content.decode() or "Este campo es obligatorio." in (
        response.content.decode()
    )
    response = ana.post(url, {"stage": config.judicial.pk, "reason_note": "Demanda presentada"})
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:portfolio_case_change", args=[case.pk])
    transition = StageTransition.objects.get(case=case)
    assert (transition.to_stage, transition.reason, transition.note, transition.user) == (
        config.judicial,
        "manual",
        "Demanda presentada",
        cast.ana,
    )
    assert CaseState.objects.get(case=case).stage_entered_on == AS_OF
    page = page_of(ana, case)
    assert "Demanda presentada" in page and "ana" in page
    # The service refuses a move to the stage the case is in, and the form says why.
    again = ana.post(url, {"stage": config.judicial.pk, "reason_note": "Otra vez"}).content.decode()
    assert "already in stage" in again or "ya está en la etapa" in again


def test_a_hold_placed_from_the_case_page_is_audited_and_pauses_the_steps(ana, cast, case):
    url = reverse("strategy-case-place-hold", args=[case.pk])
    assert ana.get(url).status_code == 200
    response = ana.post(
        url,
        {
            "scope": "debtor",
            "reason": "hardship",
            "note": "Huracán",
            "starts_on": "2026-03-29",
            "ends_on": "",
        },
    )
    assert response.status_code == 302
    hold = Hold.objects.get(debtor=case.debtor)
    assert (hold.reason, hold.starts_on, hold.ends_on, hold.needs_approval) == (
        "hardship",
        dt.date(2026, 3, 29),
        None,
        False,
    )
    entry = AuditEntry.objects.get(object_id=str(hold.pk), object_type__icontains="hold")
    assert (entry.action, entry.user) == ("create", cast.ana)
    assert "Huracán" in page_of(ana, case)


def test_a_collectors_open_ended_hold_waits_for_approval(cast, case):
    carlos = client_for(cast.carlos)
    response = carlos.post(
        reverse("strategy-case-place-hold", args=[case.pk]),
        {"scope": "debtor", "reason": "negotiation", "starts_on": "2026-03-31"},
    )
    assert response.status_code == 302
    assert Hold.objects.get(debtor=case.debtor).needs_approval


def test_a_document_hold_needs_its_document(ana, case):
    url = reverse("strategy-case-place-hold", args=[case.pk])
    page = ana.post(
        url, {"scope": "document", "reason": "dispute", "starts_on": "2026-03-31"}
    ).content.decode()
    assert "Choose the document the hold is for." in page or "Elija el documento" in page
    document = case.portfolio.documents.get(external_id="F-1001")
    response = ana.post(
        url, {"scope": "document", "document": document.pk, "reason": "dispute", "starts_on": "2026-03-31"}
    )
    assert response.status_code == 302
    assert Hold.objects.get().document == document


def test_the_case_page_reads_a_fixed_number_of_queries(ana, cast, case, config):
    with CaptureQueriesContext(connection) as first:
        page_of(ana, case)
    for n in range(10):
        Task.objects.create(organization=cast.mx, case=case, kind="call", title=f"Tarea {n}", due_on=AS_OF)
        Hold.objects.create(
            organization=cast.mx, scope="debtor", debtor=case.debtor, reason="other", starts_on=AS_OF,
            ends_on=AS_OF,
        )  # fmt: skip
    with CaptureQueriesContext(connection) as second:
        page_of(ana, case)
    assert len(second) == len(first)
