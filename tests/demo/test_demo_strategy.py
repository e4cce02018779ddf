"""The demo's collection strategies (demo/strategies/*.yaml) and its simulated past."""

import datetime as dt
from io import StringIO
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command

from recobro.channels.models import Message, Template
from recobro.core.models import Organization
from recobro.demo import simulation as demo_simulation
from recobro.demo.load import load_demo
from recobro.demo.spec import DEMO_SLUGS
from recobro.negotiation.models import PromiseToPay
from recobro.portfolio.models import Payment
from recobro.strategy import engine
from recobro.strategy.models import (
    Action,
    CycleRun,
    CycleStatus,
    Segment,
    Stage,
    Step,
    Strategy,
    Task,
    Variant,
)
from recobro.strategy.simulation import real_today
from recobro.strategy.yaml_io import import_configuration
from tests.demo.test_load_demo import row_counts

SCALE = 0.05
DAYS = 12
STRATEGIES = Path(demo_simulation.__file__).parent / "strategies"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.mark.parametrize("slug", DEMO_SLUGS)
def test_each_demo_organization_has_a_strategy_document(slug):
    assert (STRATEGIES / f"{slug}.yaml").is_file()
    assert sorted(p.stem for p in STRATEGIES.glob("*.yaml")) == sorted(DEMO_SLUGS)


@pytest.mark.parametrize("slug", DEMO_SLUGS)
def test_the_demo_strategies_import_cleanly_and_a_second_import_changes_nothing(cast, slug):
    org, actor = (
        (cast.mx, cast.actor()) if slug.startswith("almacenes") else (cast.co, cast.actor(cast.oscar))
    )
    text = demo_simulation.strategy_document(slug)
    first = import_configuration(organization=org, text=text, actor=actor)
    assert first.created > 50
    again = import_configuration(organization=org, text=text, actor=actor)
    assert again.created == again.updated == again.deactivated == 0

    stages = Stage.objects.filter(organization=org)
    assert sorted(stages.values_list("kind", flat=True)) == sorted(
        ["preventive", "administrative", "extrajudicial", "judicial", "write_off"]
    )
    assert Segment.objects.filter(organization=org, is_active=True).count() == 5
    templates = Template.objects.filter(organization=org)
    assert set(templates.values_list("channel", flat=True)) == {"email", "sms", "whatsapp", "letter"}
    for template in templates:
        assert template.language == "es" and "{{ debtor.name }}" in template.body
        assert "{{ case.balance }}" in template.body or "{{ case.overdue_balance }}" in template.body
        if template.channel == "sms":
            assert len(template.body) <= 320  # two SMS at most, before the variables are filled
    # Champion against challenger in the default strategies of the first three stages.
    for kind in ("preventive", "administrative", "extrajudicial"):
        default = Strategy.objects.get(organization=org, stage__kind=kind, segment=None)
        variants = Variant.objects.filter(strategy=default)
        assert variants.count() == 2 and sum(v.share for v in variants) == 100
        assert [v.is_champion for v in variants.order_by("position")] == [True, False]
    # Collectors get calls; the extrajudicial stage refers cases to the lawyers.
    steps = Step.objects.filter(variant__strategy__organization=org)
    assert steps.filter(task_kind="call").count() >= 5
    assert steps.filter(task_kind="legal_referral", variant__strategy__stage__kind="extrajudicial").exists()
    assert steps.filter(task_kind="agency_assignment").exists()


def test_the_documents_use_only_the_attributes_the_demo_debtors_have():
    from recobro.demo.accounts import CO_CARD_SEGMENTS, SEGMENTS

    known_segments = {s for values in SEGMENTS.values() for s in values} | set(CO_CARD_SEGMENTS) | {"pyme"}
    for path in STRATEGIES.glob("*.yaml"):
        document = yaml.safe_load(path.read_text())
        rules = " ".join(s["rule"] for s in document["segments"])
        for name in ("region", "segment", "product", "city"):
            rules = rules.replace(f"attr.{name}", "")
        assert "attr." not in rules, path.name
        for segment in document["segments"]:
            for word in ("preferente", "oro", "platino"):
                if f'"{word}"' in segment["rule"]:
                    assert word in known_segments


@pytest.fixture
def simulated(db, tmp_path):
    return load_demo(scale=SCALE, directory=tmp_path, days=DAYS)


def test_a_short_simulation_gives_the_demo_payments_messages_promises_and_both_variants(simulated):
    for slug in DEMO_SLUGS:
        org = Organization.objects.get(slug=slug)
        today = real_today(org)
        # Built DAYS days ago and simulated up to today: the clock is the real one again.
        assert org.business_date_override is None and org.today() == today
        runs = CycleRun.objects.filter(organization=org, status=CycleStatus.DONE)
        assert sorted(runs.values_list("as_of", flat=True)) == [
            today - dt.timedelta(days=DAYS - i) for i in range(DAYS + 1)
        ]
        assert Payment.objects.filter(organization=org, external_id__startswith="SIM-").count() > 5
        assert Message.objects.filter(organization=org, status__in=["delivered", "read"]).exists()
        assert Task.objects.filter(organization=org, status="done").exists()
        assert PromiseToPay.objects.filter(organization=org).exists()
        # Champion and challenger of a default strategy both worked cases.
        both = [
            strategy.code
            for strategy in Strategy.objects.filter(organization=org, segment=None)
            if Action.objects.filter(variant__strategy=strategy, status="done")
            .values("variant")
            .distinct()
            .count()
            == 2
        ]
        assert both, slug


def test_loading_again_neither_duplicates_nor_simulates_again(simulated, tmp_path):
    before = row_counts()
    runs = CycleRun.objects.count()
    load_demo(scale=SCALE, directory=tmp_path, days=DAYS)
    assert row_counts() == before and CycleRun.objects.count() == runs


def test_an_interrupted_simulation_is_resumed_and_ends_on_today(db, tmp_path, monkeypatch):
    real_run_cycle = engine.run_cycle
    calls = []

    def dies_on_the_fifth_day(**kwargs):
        calls.append(kwargs["as_of"])
        if len(calls) == 5:
            raise RuntimeError("killed in the middle of make demo")
        return real_run_cycle(**kwargs)

    monkeypatch.setattr(engine, "run_cycle", dies_on_the_fifth_day)
    with pytest.raises(RuntimeError, match="killed"):
        load_demo(scale=SCALE, directory=tmp_path, days=DAYS)
    org = Organization.objects.get(slug=DEMO_SLUGS[0])
    assert org.business_date_override == real_today(org) - dt.timedelta(days=DAYS - 4)

    monkeypatch.setattr(engine, "run_cycle", real_run_cycle)
    load_demo(scale=SCALE, directory=tmp_path, days=DAYS)
    for slug in DEMO_SLUGS:
        org = Organization.objects.get(slug=slug)
        assert org.business_date_override is None
        done = CycleRun.objects.filter(organization=org, status=CycleStatus.DONE)
        assert done.count() == DAYS + 1 and done.filter(as_of=real_today(org)).exists()


def test_a_reset_drops_the_simulated_demo_and_builds_it_again(simulated, tmp_path):
    old = set(Organization.objects.values_list("pk", flat=True))
    load_demo(scale=SCALE, directory=tmp_path, days=2, reset=True)
    assert not old & set(Organization.objects.values_list("pk", flat=True))
    assert CycleRun.objects.filter(status=CycleStatus.DONE).count() == 2 * 3


def test_without_days_the_demo_gets_its_strategy_but_no_simulated_past(db, tmp_path):
    load_demo(scale=SCALE, directory=tmp_path)
    for slug in DEMO_SLUGS:
        org = Organization.objects.get(slug=slug)
        assert Stage.objects.filter(organization=org).count() == 5
        assert org.business_date_override is None and not CycleRun.objects.filter(organization=org).exists()


def test_the_command_simulates_the_days_it_is_given(db, tmp_path, settings):
    settings.VAR_DIR = tmp_path
    out = StringIO()
    call_command("load_demo", scale=SCALE, days=3, stdout=out)
    text = out.getvalue()
    assert "Simulating 3 days of Almacenes Altamira" in text
    assert "Simulating 3 days of Recaudos del Valle" in text
    assert CycleRun.objects.filter(status=CycleStatus.DONE).count() == 2 * 4
