"""Holds pause the strategy for a debtor or a document; long ones wait for a supervisor."""

import datetime as dt

import pytest

from recobro.core.models import AuditEntry
from recobro.portfolio.models import Debtor
from recobro.strategy.models import Hold, StrategySettings
from recobro.strategy.services import StrategyError
from recobro.strategy.services.holds import approve_hold, place_hold, release_hold
from tests.conftest import AS_OF
from tests.strategy.config_sample import make_case


@pytest.fixture
def eva_case(cast):
    return make_case(cast)


def hold(cast, user, **kwargs):
    values = {
        "organization": cast.mx,
        "actor": cast.actor(user),
        "scope": "debtor",
        "debtor": cast.eva,
        "reason": "dispute",
        "note": "Reclama cargo no reconocido",
        "starts_on": AS_OF,
    }
    values.update(kwargs)
    return place_hold(**values)


def test_a_supervisors_hold_is_approved_at_once_and_can_be_backdated(cast, eva_case):
    placed = hold(cast, cast.ana, starts_on=AS_OF - dt.timedelta(days=10), ends_on=None)
    assert not placed.needs_approval
    assert placed.approved_by == cast.ana
    assert placed.created_by == cast.ana
    assert list(Hold.objects.effective_on(AS_OF - dt.timedelta(days=5))) == [placed]
    entry = AuditEntry.objects.get(object_type="strategy.hold", object_id=str(placed.pk))
    assert entry.action == "create" and entry.user == cast.ana


def test_a_collectors_short_hold_pauses_at_once(cast, eva_case):
    placed = hold(cast, cast.carlos, ends_on=AS_OF + dt.timedelta(days=29))  # 30 days: the limit
    assert not placed.needs_approval
    assert placed.approved_by is None
    assert list(Hold.objects.effective_on(AS_OF)) == [placed]


@pytest.mark.parametrize("ends_in", [30, None])
def test_a_collectors_long_or_open_hold_waits_for_a_supervisor(cast, eva_case, ends_in):
    ends_on = None if ends_in is None else AS_OF + dt.timedelta(days=ends_in)  # 31 days
    placed = hold(cast, cast.carlos, ends_on=ends_on)
    assert placed.needs_approval
    assert not Hold.objects.effective_on(AS_OF).exists()
    with pytest.raises(StrategyError, match="administrator or a supervisor"):
        approve_hold(hold=placed, actor=cast.actor(cast.carlos))
    approved = approve_hold(hold=placed, actor=cast.actor(cast.ana))
    assert not approved.needs_approval and approved.approved_by == cast.ana
    assert list(Hold.objects.effective_on(AS_OF)) == [approved]
    with pytest.raises(StrategyError, match="not waiting"):
        approve_hold(hold=approved, actor=cast.actor(cast.ana))


def test_the_long_hold_limit_comes_from_the_settings(cast, eva_case):
    StrategySettings.objects.create(organization=cast.mx, long_hold_days=5)
    assert hold(cast, cast.carlos, ends_on=AS_OF + dt.timedelta(days=5)).needs_approval
    assert not hold(cast, cast.carlos, ends_on=AS_OF + dt.timedelta(days=4)).needs_approval


def test_a_document_hold_names_a_document_of_the_debtor(cast, eva_case):
    _case, document = eva_case
    placed = hold(cast, cast.ana, scope="document", document=document)
    assert placed.document == document
    pedro = Debtor.objects.create(organization=cast.mx, external_id="P-1", name="Pedro")
    with pytest.raises(StrategyError, match="is not Pedro's"):
        hold(cast, cast.ana, scope="document", debtor=pedro, document=document)
    with pytest.raises(StrategyError, match="needs the document"):
        hold(cast, cast.ana, scope="document")
    with pytest.raises(StrategyError, match="covers all the debtor's documents"):
        hold(cast, cast.ana, scope="debtor", document=document)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"ends_on": AS_OF - dt.timedelta(days=1)}, "ends .* before it starts"),
        ({"reason": "vacation"}, "Unknown hold reason 'vacation'"),
        ({"scope": "portfolio"}, "Unknown hold scope 'portfolio'"),
    ],
)
def test_bad_holds_are_refused_and_nothing_is_written(cast, eva_case, kwargs, message):
    with pytest.raises(StrategyError, match=message):
        hold(cast, cast.ana, **kwargs)
    assert not Hold.objects.exists()
    assert not AuditEntry.objects.filter(object_type="strategy.hold").exists()


def test_the_auditor_and_other_portfolios_collectors_cannot_place_holds(cast, eva_case):
    with pytest.raises(StrategyError, match="read-only"):
        hold(cast, cast.auditor)
    with pytest.raises(StrategyError, match="not in your portfolios"):
        hold(cast, cast.diana)
    with pytest.raises(StrategyError, match="not a member"):
        hold(cast, cast.oscar)
    other = Debtor.objects.create(organization=cast.co, external_id="X", name="Camila")
    with pytest.raises(StrategyError, match="another organization"):
        hold(cast, cast.ana, debtor=other)
    assert not Hold.objects.exists()


def test_releasing_a_hold_ends_it_now_and_is_audited(cast, eva_case):
    placed = hold(cast, cast.carlos, ends_on=AS_OF + dt.timedelta(days=3))
    released = release_hold(hold=placed, actor=cast.actor(cast.carlos), note="Aclarado")
    assert released.released_at is not None and released.released_by == cast.carlos
    assert released.note.endswith("Aclarado")
    assert not Hold.objects.effective_on(AS_OF).exists()
    with pytest.raises(StrategyError, match="already released"):
        release_hold(hold=released, actor=cast.actor(cast.ana))
    with pytest.raises(StrategyError, match="released"):
        approve_hold(hold=released, actor=cast.actor(cast.ana))
    actions = list(
        AuditEntry.objects.filter(object_type="strategy.hold").order_by("id").values_list("action", flat=True)
    )
    assert actions == ["create", "update"]
