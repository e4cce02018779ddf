"""The configuration services the back-office uses: one object at a time, checked against
the whole configuration, written through the same upsert as the YAML import."""

import dataclasses
from decimal import Decimal

import pytest

from recobro.core.models import AuditEntry
from recobro.strategy.models import Segment, Stage, Step, Strategy, Variant
from recobro.strategy.services import ConfigurationError, StrategyError
from recobro.strategy.services.configuration import (
    check_change,
    save_segment,
    save_settings,
    save_stage,
    save_strategy,
    save_template,
    save_variant,
)
from recobro.strategy.services.specs import (
    SegmentSpec,
    StageSpec,
    StepSpec,
    StrategySpec,
    VariantSpec,
    load_configuration,
)
from recobro.strategy.yaml_io import export_configuration, import_configuration
from tests.strategy.config_sample import SAMPLE


@pytest.fixture
def configured(cast):
    import_configuration(organization=cast.mx, text=SAMPLE, actor=cast.actor())
    return cast


def problems_of(error) -> list[str]:
    return [str(p) for p in error.value.problems]


def test_configuration_errors_are_strategy_errors():
    assert issubclass(ConfigurationError, StrategyError)


def test_a_new_segment_is_validated_and_saved(configured):
    spec = SegmentSpec(code="mora-larga", name="Mora larga", priority=30, rule="dpd > 90")
    segment = save_segment(organization=configured.mx, actor=configured.actor(), spec=spec)
    assert (segment.code, segment.priority, segment.is_active) == ("mora-larga", 30, True)
    entry = AuditEntry.objects.get(object_type="strategy.segment", object_id=str(segment.pk))
    assert entry.action == "create" and entry.context == {"via": "back-office"}


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (
            SegmentSpec(code="x", name="X", priority=20, rule="dpd > 1"),
            "segments[2].priority: priority 20 is already used by segments[1]; each segment needs its own.",
        ),
        (
            SegmentSpec(code="x", name="X", priority=30, rule="dpd >> 1"),
            "segments[2].rule: ",
        ),
        (SegmentSpec(code="no valid", name="X", priority=30, rule="dpd > 1"), "segments[2].code: 'no valid'"),
    ],
)
def test_a_bad_segment_is_refused_and_nothing_is_written(configured, spec, expected):
    with pytest.raises(ConfigurationError) as error:
        save_segment(organization=configured.mx, actor=configured.actor(), spec=spec)
    assert problems_of(error)[0].startswith(expected)
    assert Segment.objects.count() == 2


def test_a_stage_move_of_position_is_checked(configured):
    spec = StageSpec(code="judicial", name="Judicial", kind="judicial", position=2, entry_offset=121)
    with pytest.raises(ConfigurationError, match="position 2 is already used"):
        save_stage(organization=configured.mx, actor=configured.actor(), spec=spec)
    stage = save_stage(
        organization=configured.mx, actor=configured.actor(), spec=dataclasses.replace(spec, position=3)
    )
    assert stage.position == 3


def test_problems_the_configuration_already_had_do_not_block_other_edits(configured):
    """A rule stored before the rule language changed stays reported where it is, but
    editing a stage is not the stage's fault."""
    Segment.objects.filter(code="tarjeta").update(rule="dpd >> 2")
    spec = StageSpec(code="judicial", name="Judicial", kind="judicial", position=3, entry_offset=121)
    save_stage(organization=configured.mx, actor=configured.actor(), spec=spec)
    problems = check_change(
        organization=configured.mx,
        edit=lambda c: c.put_segment(
            SegmentSpec(code="tarjeta", name="Tarjeta", priority=20, rule="dpd >>> 2")
        ),
    )
    assert [p.where for p in problems] == ["segments[1].rule"]


def test_a_strategy_keeps_its_variants_steps_on_the_strategy_page(configured):
    spec = StrategySpec(
        code="administrativa-alto",
        name="Saldo alto",
        stage="administrativa",
        segment="saldo-alto",
        variants=[
            VariantSpec(code="campeon", name="Campeón", champion=True, share=50),
            VariantSpec(code="retador", name="Retador", champion=False, share=30),
            VariantSpec(code="nuevo", name="Nuevo", champion=False, share=20),
        ],
    )
    strategy = save_strategy(organization=configured.mx, actor=configured.actor(), spec=spec)
    assert strategy.name == "Saldo alto"
    assert list(strategy.variants.order_by("position").values_list("code", "share")) == [
        ("campeon", 50),
        ("retador", 30),
        ("nuevo", 20),
    ]
    assert Step.objects.filter(variant__strategy=strategy).count() == 3


def test_the_champion_can_change_hands(configured):
    spec = load_configuration(configured.mx).strategy("administrativa-alto")
    spec.variants[0].champion, spec.variants[1].champion = False, True
    save_strategy(organization=configured.mx, actor=configured.actor(), spec=spec)
    assert Variant.objects.get(code="retador").is_champion
    assert not Variant.objects.get(strategy__code="administrativa-alto", code="campeon").is_champion


def test_save_variant_keeps_a_renamed_step_and_checks_templates(configured):
    config = load_configuration(configured.mx)
    variant = config.strategy("administrativa-alto").variants[0]
    call = Step.objects.get(name="Llamada")
    variant.steps[1].name = "Llamada de cobranza"
    saved = save_variant(
        organization=configured.mx, actor=configured.actor(), strategy="administrativa-alto", spec=variant
    )
    call.refresh_from_db()
    assert call.name == "Llamada de cobranza" and call.variant == saved
    variant.steps.append(
        StepSpec(
            name="WhatsApp",
            anchor="stage_entry",
            offset_days=3,
            action="message",
            channel="whatsapp",
            template="aviso",
        )
    )
    with pytest.raises(ConfigurationError) as error:
        save_variant(
            organization=configured.mx, actor=configured.actor(), strategy="administrativa-alto", spec=variant
        )
    assert problems_of(error) == [
        "strategies[1].variants[0].steps[2].template: "
        "template 'aviso' has no whatsapp version (it exists for email)."
    ]


def test_a_template_in_use_cannot_be_deactivated_but_an_unused_one_can(configured):
    config = load_configuration(configured.mx)
    aviso = next(t for t in config.templates if t.code == "aviso")
    with pytest.raises(ConfigurationError, match="an active step needs an active template"):
        save_template(
            organization=configured.mx,
            actor=configured.actor(),
            spec=dataclasses.replace(aviso, active=False),
        )
    spare = dataclasses.replace(aviso, code="aviso-2", active=False)
    assert not save_template(organization=configured.mx, actor=configured.actor(), spec=spare).is_active


def test_settings_are_checked_against_the_organizations_buckets(configured):
    config = load_configuration(configured.mx)
    settings = dataclasses.replace(
        config.settings, fallback_probability={"current": Decimal("0.9"), "x": Decimal("2")}
    )
    with pytest.raises(ConfigurationError) as error:
        save_settings(organization=configured.mx, actor=configured.actor(), spec=settings)
    found = problems_of(error)
    assert any("'x' is not an aging bucket" in p for p in found)
    assert any("missing: 1-30" in p for p in found)
    good = dataclasses.replace(config.settings, cycle_hour=5)
    assert save_settings(organization=configured.mx, actor=configured.actor(), spec=good).cycle_hour == 5


def test_an_active_strategy_needs_an_active_stage(configured):
    config = load_configuration(configured.mx)
    stage = next(s for s in config.stages if s.code == "preventiva")
    with pytest.raises(ConfigurationError, match="an active strategy needs an active stage"):
        save_stage(
            organization=configured.mx,
            actor=configured.actor(),
            spec=dataclasses.replace(stage, active=False),
        )
    assert Stage.objects.get(code="preventiva").is_active
    assert Strategy.objects.filter(is_active=True).count() == 2


def test_an_organization_with_its_own_buckets_gets_default_probabilities_for_them(cast):
    cast.mx.aging_buckets = [
        {"key": "al-dia", "label": "Al día", "min": None, "max": 0},
        {"key": "1-15", "label": "1-15", "min": 1, "max": 15},
        {"key": "16-90", "label": "16-90", "min": 16, "max": 90},
        {"key": "91+", "label": "91+", "min": 91, "max": None},
    ]
    cast.mx.save(update_fields=["aging_buckets"])
    probabilities = load_configuration(cast.mx).settings.fallback_probability
    assert probabilities == {
        "al-dia": Decimal("0.90"),
        "1-15": Decimal("0.70"),
        "16-90": Decimal("0.70"),
        "91+": Decimal("0.20"),
    }
    text = export_configuration(cast.mx)
    assert (
        import_configuration(organization=cast.mx, text=text, actor=cast.actor()).created == 1
    )  # the settings
    assert export_configuration(cast.mx) == text


def test_manual_stage_days_are_saved_and_checked(configured):
    config = load_configuration(configured.mx)
    assert config.settings.manual_stage_days == 15
    saved = save_settings(
        organization=configured.mx,
        actor=configured.actor(),
        spec=dataclasses.replace(config.settings, manual_stage_days=45),
    )
    assert saved.manual_stage_days == 45
    entry = AuditEntry.objects.filter(object_type="strategy.strategysettings", action="update").latest("id")
    assert (entry.before["manual_stage_days"], entry.after["manual_stage_days"]) == (15, 45)
    with pytest.raises(ConfigurationError) as error:
        save_settings(
            organization=configured.mx,
            actor=configured.actor(),
            spec=dataclasses.replace(config.settings, manual_stage_days=40000),
        )
    assert problems_of(error) == ["settings.manual_stage_days: 40000 is out of range (0 to 32767)."]


def test_a_variant_retired_on_the_strategy_page_keeps_its_share_and_steps(configured):
    spec = load_configuration(configured.mx).strategy("administrativa-alto")
    spec.variants[0].share = 100
    spec.variants[1].active = False
    save_strategy(organization=configured.mx, actor=configured.actor(), spec=spec)
    retador = Variant.objects.get(code="retador")
    assert (retador.is_active, retador.share, retador.is_champion) == (False, 20, False)
    assert retador.steps.get().is_active
    # Editing the retired variant's steps leaves it retired.
    variant = load_configuration(configured.mx).strategy("administrativa-alto").variants[1]
    assert not variant.active
    variant.steps[0].offset_days = 2
    save_variant(
        organization=configured.mx, actor=configured.actor(), strategy="administrativa-alto", spec=variant
    )
    retador.refresh_from_db()
    assert not retador.is_active and retador.steps.get().offset_days == 2
    # Retiring the champion is refused: another active variant must be the champion.
    spec = load_configuration(configured.mx).strategy("administrativa-alto")
    spec.variants[0].active, spec.variants[1].active, spec.variants[1].share = False, True, 100
    with pytest.raises(ConfigurationError) as error:
        save_strategy(organization=configured.mx, actor=configured.actor(), spec=spec)
    assert problems_of(error) == [
        "strategies[1].variants[0].champion: a retired variant cannot be the champion; make another variant "
        "the champion first.",
        "strategies[1].variants: a strategy needs exactly one champion variant; it has 0 (—).",
    ]


def test_a_retired_strategy_may_share_its_stage_and_segment_with_an_active_one(configured):
    current = load_configuration(configured.mx).strategy("administrativa-alto")
    draft = dataclasses.replace(current, code="administrativa-alto-2027", active=False)
    save_strategy(organization=configured.mx, actor=configured.actor(), spec=draft, keep_steps=False)
    with pytest.raises(ConfigurationError, match="already have a strategy"):
        save_strategy(
            organization=configured.mx,
            actor=configured.actor(),
            spec=dataclasses.replace(draft, active=True),
            keep_steps=False,
        )
    # Retire the current one, then the draft takes over.
    save_strategy(
        organization=configured.mx, actor=configured.actor(), spec=dataclasses.replace(current, active=False)
    )
    save_strategy(
        organization=configured.mx,
        actor=configured.actor(),
        spec=dataclasses.replace(draft, active=True),
        keep_steps=False,
    )
    assert set(
        Strategy.objects.filter(stage__code="administrativa", segment__code="saldo-alto").values_list(
            "code", "is_active"
        )
    ) == {("administrativa-alto", False), ("administrativa-alto-2027", True)}
