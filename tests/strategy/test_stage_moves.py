"""A person moves a case to another stage, with a reason; the case's history shows it."""

import datetime as dt

import pytest

from recobro.core.models import AuditEntry
from recobro.portfolio.models import Case
from recobro.strategy.models import CaseState, Stage, StageTransition, StrategySettings
from recobro.strategy.services import StrategyError
from recobro.strategy.services.stages import move_case_stage
from tests.conftest import AS_OF
from tests.strategy.config_sample import make_case


@pytest.fixture
def stages(cast):
    def stage(code, position, offset, active=True):
        return Stage.objects.create(
            organization=cast.mx,
            code=code,
            name=code.title(),
            kind="administrative",
            position=position,
            entry_offset=offset,
            is_active=active,
        )

    return stage("administrativa", 1, 1), stage("judicial", 2, 121), stage("vieja", 3, 400, active=False)


def test_a_manual_move_updates_the_state_and_writes_history(cast, stages):
    administrative, judicial, _old = stages
    case, _document = make_case(cast)
    CaseState.objects.create(
        case=case, organization=cast.mx, stage=administrative, stage_entered_on=AS_OF - dt.timedelta(days=40)
    )
    transition = move_case_stage(
        case=case,
        stage=judicial,
        reason_note="  Demanda presentada  ",
        actor=cast.actor(cast.ana),
        as_of=AS_OF,
    )
    state = CaseState.objects.get(case=case)
    assert state.stage == judicial and state.stage_entered_on == AS_OF
    assert (transition.from_stage, transition.to_stage) == (administrative, judicial)
    assert transition.reason == "manual" and transition.note == "Demanda presentada"
    assert transition.user == cast.ana and transition.business_date == AS_OF
    assert list(StageTransition.objects.filter(case=case)) == [transition]
    types = set(AuditEntry.objects.filter(organization=cast.mx).values_list("object_type", flat=True))
    assert {"strategy.casestate", "strategy.stagetransition"} <= types


def test_a_case_without_state_gets_one(cast, stages):
    case, _document = make_case(cast)
    transition = move_case_stage(
        case=case, stage=stages[0], reason_note="Revisión", actor=cast.actor(cast.carlos), as_of=AS_OF
    )
    assert transition.from_stage is None
    assert CaseState.objects.get(case=case).stage == stages[0]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"reason_note": " "}, "a reason is required"),
        ({"as_of": AS_OF + dt.timedelta(days=1)}, "after the business date"),
        ({"stage": "inactive"}, "is inactive"),
        ({"stage": "same"}, "already in stage"),
        ({"user": "auditor"}, "read-only"),
        ({"user": "diana"}, "not in your portfolios"),
    ],
)
def test_bad_moves_are_refused_and_change_nothing(cast, stages, change, message):
    administrative, judicial, old = stages
    case, _document = make_case(cast)
    CaseState.objects.create(case=case, organization=cast.mx, stage=administrative, stage_entered_on=AS_OF)
    kwargs = {
        "case": case,
        "stage": judicial,
        "reason_note": "Motivo",
        "actor": cast.actor(getattr(cast, change.pop("user", "ana"))),
        "as_of": AS_OF,
    }
    stage = change.pop("stage", None)
    if stage:
        kwargs["stage"] = old if stage == "inactive" else administrative
    kwargs.update(change)
    with pytest.raises(StrategyError, match=message):
        move_case_stage(**kwargs)
    assert CaseState.objects.get(case=case).stage == administrative
    assert not StageTransition.objects.exists()


def test_a_closed_case_or_another_organizations_stage_is_refused(cast, stages):
    case, _document = make_case(cast)
    Case.objects.filter(pk=case.pk).update(status="closed", balance=0, overdue_balance=0, open_documents=0)
    case.refresh_from_db()
    with pytest.raises(StrategyError, match="closed"):
        move_case_stage(case=case, stage=stages[1], reason_note="x", actor=cast.actor(), as_of=AS_OF)
    foreign = Stage.objects.create(
        organization=cast.co, code="x", name="X", kind="judicial", position=1, entry_offset=1
    )
    with pytest.raises(StrategyError, match="another organization"):
        move_case_stage(case=case, stage=foreign, reason_note="x", actor=cast.actor(), as_of=AS_OF)


# --- The moved stage is kept (pinned) for manual_stage_days ------------------------------------


def test_a_manual_move_pins_the_stage_for_the_settings_days_and_audits_it(cast, stages):
    administrative, judicial, _old = stages
    case, _document = make_case(cast)
    CaseState.objects.create(
        case=case, organization=cast.mx, stage=administrative, stage_entered_on=AS_OF - dt.timedelta(days=40)
    )
    move_case_stage(case=case, stage=judicial, reason_note="Demanda", actor=cast.actor(cast.ana), as_of=AS_OF)
    # Without settings: the model's default, 30 days.
    assert CaseState.objects.get(case=case).stage_pinned_until == AS_OF + dt.timedelta(days=30)
    entry = AuditEntry.objects.get(
        object_type="strategy.casestate", object_id=str(CaseState.objects.get(case=case).pk)
    )
    assert entry.before["stage_pinned_until"] is None
    assert entry.after["stage_pinned_until"] == (AS_OF + dt.timedelta(days=30)).isoformat()
    # The organization's setting wins; a later move pins again from its own date.
    StrategySettings.objects.create(organization=cast.mx, manual_stage_days=7)
    earlier = AS_OF - dt.timedelta(days=3)
    move_case_stage(case=case, stage=administrative, reason_note="Error", actor=cast.actor(), as_of=earlier)
    assert CaseState.objects.get(case=case).stage_pinned_until == earlier + dt.timedelta(days=7)


def test_zero_days_keep_the_stage_for_the_day_of_the_move_only(cast, stages):
    StrategySettings.objects.create(organization=cast.mx, manual_stage_days=0)
    case, _document = make_case(cast)
    move_case_stage(case=case, stage=stages[1], reason_note="Revisión", actor=cast.actor(), as_of=AS_OF)
    assert CaseState.objects.get(case=case).stage_pinned_until == AS_OF


def test_the_case_panel_shows_until_when_the_stage_is_kept(cast, stages):
    from django.urls import reverse

    from tests.backoffice.conftest import client_for

    case, _document = make_case(cast)
    ana = client_for(cast.ana)
    url = reverse("strategy-case-move-stage", args=[case.pk])
    response = ana.post(url, {"stage": stages[1].pk, "reason_note": "Demanda presentada"}, follow=True)
    page = response.content.decode()
    kept = "30/04/2026"  # AS_OF + 30 days, in es-MX's date format
    assert kept in page.split('id="case-state"')[1].split("</dl>")[0]  # the state card's pin row
    assert CaseState.objects.get(case=case).stage_pinned_until == dt.date(2026, 4, 30)
    # Once the pin has ended, the panel no longer shows it.
    CaseState.objects.filter(case=case).update(stage_pinned_until=AS_OF - dt.timedelta(days=1))
    page = ana.get(reverse("admin:portfolio_case_change", args=[case.pk])).content.decode()
    assert "30/03/2026" not in page.split('id="case-state"')[1].split("</dl>")[0]
