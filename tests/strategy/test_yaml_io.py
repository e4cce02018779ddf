"""The configuration document: export, import, round trip, every problem with its path,
nothing half-written."""

import pytest

from recobro.channels.models import Template
from recobro.core.models import AuditEntry
from recobro.strategy.models import Segment, Stage, Step, Strategy, StrategySettings, Variant
from recobro.strategy.services import ConfigurationError
from recobro.strategy.yaml_io import export_configuration, import_configuration
from tests.strategy.config_sample import SAMPLE


def load(cast, text, org=None, **kwargs):
    return import_configuration(organization=org or cast.mx, text=text, actor=cast.actor(), **kwargs)


def problems(cast, text, org=None) -> list[str]:
    with pytest.raises(ConfigurationError) as error:
        load(cast, text, org)
    return [str(p) for p in error.value.problems]


def rows(org) -> dict:
    """Everything a configuration writes, to compare before and after a refused import."""
    return {
        "settings": list(StrategySettings.objects.filter(organization=org).values()),
        "templates": list(Template.objects.filter(organization=org).values().order_by("pk")),
        "segments": list(Segment.objects.filter(organization=org).values().order_by("pk")),
        "stages": list(Stage.objects.filter(organization=org).values().order_by("pk")),
        "strategies": list(Strategy.objects.filter(organization=org).values().order_by("pk")),
        "variants": list(Variant.objects.filter(strategy__organization=org).values().order_by("pk")),
        "steps": list(Step.objects.filter(variant__strategy__organization=org).values().order_by("pk")),
        "audit": AuditEntry.objects.filter(organization=org).count(),
    }


@pytest.fixture
def configured(cast):
    load(cast, SAMPLE)
    return cast


def test_an_import_creates_everything_and_the_export_gives_the_same_text_back(cast):
    summary = load(cast, SAMPLE)
    assert summary.by_kind()["step"]["create"] == 4
    assert (summary.created, summary.updated, summary.deactivated) == (16, 0, 0)
    created = AuditEntry.objects.filter(organization=cast.mx, action="create")
    assert created.count() == 16 and created.filter(object_type="strategy.strategysettings").exists()
    assert export_configuration(cast.mx) == SAMPLE
    settings = StrategySettings.objects.get(organization=cast.mx)
    assert settings.cycle_hour == 7 and str(settings.broken_promise_factor) == "0.750"
    call = Step.objects.get(name="Llamada")
    assert (call.action, call.task_kind, call.condition, call.template) == (
        "task",
        "call",
        "balance >= 1000",
        None,
    )
    assert Step.objects.get(name="Correo de aviso").template == Template.objects.get(code="aviso")
    assert Variant.objects.get(code="retador").share == 20


def test_export_import_export_is_stable_and_a_second_import_changes_nothing(configured):
    text = export_configuration(configured.mx)
    before = rows(configured.mx)
    summary = load(configured, text)
    assert summary.changes == [] and summary.unchanged == 16
    assert export_configuration(configured.mx) == text
    assert rows(configured.mx) == before


def test_a_document_copies_to_another_organization(configured):
    load(configured, export_configuration(configured.mx), org=configured.co)
    assert export_configuration(configured.co) == export_configuration(configured.mx)
    assert Segment.objects.filter(organization=configured.co).count() == 2


def test_an_unknown_key_is_reported_with_its_path_and_nothing_is_written(cast):
    text = SAMPLE.replace("            channel: email\n", "            chanel: email\n")
    assert problems(cast, text) == [
        "strategies[1].variants[0].steps[0]: unknown key 'chanel' (did you mean 'channel'?)"
    ]
    assert rows(cast.mx) == rows(cast.co) | {"audit": 0}
    assert not Segment.objects.exists()


def test_every_problem_is_reported_at_once(cast):
    text = (
        SAMPLE.replace("rule: balance >= 50000", "rule: balanse >= 50000")
        .replace("priority: 20", "priority: 10")
        .replace("share: 20", "share: 30")
        .replace("template: aviso", "template: avisos")
        .replace(
            "task_kind: call\n            condition: balance", "task_kind: ''\n            condition: balance"
        )
        .replace("weekdays: '123456'", "weekdays: '1289'")
    )
    found = problems(cast, text)
    assert found == [
        "segments[0].rule: Unknown fact 'balanse' at line 1, column 1. Did you mean 'balance'?",
        "segments[1].priority: priority 10 is already used by segments[0]; each segment needs its own.",
        "strategies[1].variants[0].steps[0].template: there is no template with the code 'avisos'.",
        "strategies[1].variants[0].steps[1].weekdays: '1289' is not a set of ISO weekday digits "
        "(1 = Monday … 7 = Sunday, e.g. 12345).",
        "strategies[1].variants[0].steps[1].task_kind: a task step needs a task kind "
        "(call, visit, review, legal_referral, agency_assignment).",
        "strategies[1].variants: the shares of the variants sum to 110 (80 + 30); they must sum to 100.",
    ]


def test_a_failing_import_leaves_a_configured_organization_as_it_was(configured):
    before = rows(configured.mx)
    text = SAMPLE.replace("champion: false", "champion: true").replace("name: Recordatorio\n", "name: Otro\n")
    assert problems(configured, text) == [
        "strategies[1].variants: a strategy needs exactly one champion variant; it has 2 (campeon, retador)."
    ]
    assert rows(configured.mx) == before


def test_a_problem_found_while_writing_rolls_everything_back(configured):
    """Two strategies that swap stage and segment cannot be written; the template renamed
    earlier in the same document is not left behind."""
    before = rows(configured.mx)
    first, second = "stage: preventiva\n    segment: null", "stage: administrativa\n    segment: saldo-alto"
    text = (
        SAMPLE.replace("name: Recordatorio\n", "name: Recordatorio nuevo\n")
        .replace(first, "@@")
        .replace(second, first)
        .replace("@@", second)
    )
    found = problems(configured, text)
    assert len(found) == 1 and "swap their stages and segments" in found[0]
    assert rows(configured.mx) == before


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ("share: 80", "share: '80%'"),
            "strategies[1].variants[0].share: must be a whole number, not text ('80%')",
        ),
        (("    name: Saldo alto\n", ""), "segments[0]: missing key 'name'"),
        (("version: 1", "version: 2"), "version: version 2 is not supported; this Recobro reads version 1."),
        (
            ("stages:", "etapas:"),
            "unknown key 'etapas'; the keys here are: version, settings, templates, segments, stages, "
            "strategies",
        ),
        (
            ("active: true\nsegments:", "active: yes please\nsegments:"),
            "templates[1].active: must be true or false",
        ),
        (("cycle_hour: 7", "cycle_hour: 24"), "settings.cycle_hour: 24 is out of range (0 to 23)."),
        (
            ("broken_promise_factor: '0.750'", "broken_promise_factor: '1.5'"),
            "settings.broken_promise_factor: 1.5",
        ),
        (
            ("    360+: '0.05'\n", ""),
            "settings.fallback_probability: a probability is needed for every aging bucket",
        ),
        (
            ("stage: preventiva\n", "stage: temprana\n"),
            "strategies[0].stage: there is no stage with the code 'temprana'.",
        ),
        (
            ("channel: sms\n            template", "channel: fax\n            template"),
            "steps[0].channel: 'fax' is not one of",
        ),
        (("kind: preventive", "kind: early"), "stages[0].kind: 'early' is not one of"),
        (
            (
                "entry_rule: ''\n    exits_when_cured: true\n    priority_weight: '0.50'",
                "entry_rule: dpd >\n    exits_when_cured: true\n    priority_weight: '0.50'",
            ),
            "stages[0].entry_rule: ",
        ),
        (("condition: balance >= 1000", "condition: balance >= 'mil'"), "steps[1].condition: "),
        (("stop_on: [payment]", "stop_on: [payment, rain]"), "steps[0].stop_on: 'rain' is not one of"),
    ],
)
def test_each_bad_document_gets_a_clear_error(cast, change, expected):
    old, new = change
    assert old in SAMPLE
    found = problems(cast, SAMPLE.replace(old, new, 1))
    assert any(expected in p for p in found), found
    assert not Segment.objects.exists()


def test_a_rule_error_says_where_in_the_rule(cast):
    found = problems(
        cast, SAMPLE.replace("rule: balance >= 50000", "rule: balance >= 5000 and dpd betwen 1 and 3")
    )
    assert len(found) == 1
    assert found[0].startswith("segments[0].rule: ") and "'betwen' at line 1, column 25" in found[0]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("version: 1\nsettings: {}\ntemplates: [\n", "not valid YAML at line 4, column 1"),
        ("version: 1\nversion: 1\n", "the key 'version' is repeated"),
        ("- 1\n- 2\n", "the document must be a mapping"),
        ("a: &x [1]\nb: *x\n", "aliases"),
        ("version: 1\nsettings: !!python/object:object {}\n", "not valid YAML"),
    ],
)
def test_text_that_is_not_a_safe_yaml_mapping_is_refused(cast, text, expected):
    found = problems(cast, text)
    assert any(expected in p for p in found), found


def test_objects_left_out_are_deactivated_never_deleted(configured):
    text = (
        SAMPLE.replace(
            "  - code: tarjeta\n    name: Tarjeta\n    priority: 20\n"
            '    rule: product in ("tarjeta") and dpd between 1 and 90\n'
            "    description: Clientes de tarjeta\n    active: true\n",
            "",
        )
        .replace("share: 80", "share: 100")
        .split("      - code: retador\n")[0]
    )
    text = text.replace(
        "          - name: Llamada\n            anchor: stage_entry\n            offset_days: 5\n"
        "            weekdays: '123456'\n            action: task\n            task_kind: call\n"
        "            condition: balance >= 1000\n"
        "            stop_on: [payment, promise, dispute, plan, in_transit]\n            active: true\n",
        "",
    )
    summary = load(configured, text)
    assert {(c.kind, c.label) for c in summary.changes if c.op == "deactivate"} == {
        ("segment", "tarjeta"),
        ("variant", "administrativa-alto / retador"),
        ("step", "administrativa-alto / campeon: Llamada"),
    }
    tarjeta = Segment.objects.get(code="tarjeta")
    assert not tarjeta.is_active and tarjeta.priority == 11
    # The variant left out is retired: it keeps its share and its steps as they were.
    retador = Variant.objects.get(code="retador")
    assert (retador.is_active, retador.share, retador.is_champion) == (False, 20, False)
    assert Step.objects.get(name="Llamada inmediata").is_active
    assert not Step.objects.get(name="Llamada").is_active
    assert Step.objects.count() == 4
    # The export lists what was deactivated, and importing it again changes nothing.
    exported = export_configuration(configured.mx)
    assert "code: tarjeta" in exported
    assert (
        "      - code: retador\n        name: Retador\n        champion: false\n        share: 20\n"
        in exported
    )
    assert (
        "        share: 20\n        active: false\n        steps:\n          - name: Llamada inmediata"
        in exported
    )
    assert load(configured, exported).changes == []
    assert export_configuration(configured.mx) == exported


RETIRED = SAMPLE.replace("share: 80", "share: 100").replace(
    "        share: 20\n        active: true", "        share: 20\n        active: false"
)


def test_a_variant_is_retired_and_brought_back_with_active(configured):
    retador = Variant.objects.get(code="retador")
    summary = load(configured, RETIRED)
    assert [(c.kind, c.label, c.op, c.fields) for c in summary.changes] == [
        ("variant", "administrativa-alto / campeon", "update", {"share": (80, 100)}),
        ("variant", "administrativa-alto / retador", "update", {"is_active": (True, False)}),
    ]
    retador.refresh_from_db()
    assert (retador.is_active, retador.share, retador.position) == (False, 20, 2)
    entry = AuditEntry.objects.get(object_type="strategy.variant", object_id=str(retador.pk), action="update")
    assert entry.before["is_active"] is True and entry.after["is_active"] is False
    assert export_configuration(configured.mx) == RETIRED  # the round trip is exact
    assert load(configured, RETIRED).changes == []
    # Brought back: the shares of the active variants must again sum to 100.
    back = RETIRED.replace("active: false", "active: true")
    assert problems(configured, back) == [
        "strategies[1].variants: the shares of the variants sum to 120 (100 + 20); they must sum to 100."
    ]
    load(configured, SAMPLE)
    retador.refresh_from_db()
    assert retador.is_active and retador.share == 20


def test_a_variant_without_active_is_active(cast):
    load(cast, SAMPLE.replace("        active: true\n        steps:", "        steps:"))
    assert Variant.objects.filter(is_active=True).count() == 3
    assert export_configuration(cast.mx) == SAMPLE


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            # Only the active variants' shares count: 80 + a retired 20 is not enough.
            ("        share: 20\n        active: true", "        share: 20\n        active: false"),
            ["strategies[1].variants: the shares of the variants sum to 80 (80); they must sum to 100."],
        ),
        (
            # The champion cannot be retired: another variant must take its place first.
            ("        share: 80\n        active: true", "        share: 80\n        active: false"),
            [
                "strategies[1].variants[0].champion: a retired variant cannot be the champion; make another "
                "variant the champion first.",
                "strategies[1].variants: the shares of the variants sum to 20 (20); they must sum to 100.",
                "strategies[1].variants: a strategy needs exactly one champion variant; it has 0 (—).",
            ],
        ),
        (
            ("        share: 100\n        active: true", "        share: 100\n        active: false"),
            [
                "strategies[0].variants[0].champion: a retired variant cannot be the champion; make another "
                "variant the champion first.",
                "strategies[0].variants: a strategy needs at least one active variant (its champion).",
            ],
        ),
        (
            ("        share: 20\n        active: true", "        share: 20\n        active: 'no'"),
            ["strategies[1].variants[1].active: must be true or false, not text ('no')"],
        ),
    ],
)
def test_shares_and_the_champion_count_among_active_variants(configured, change, expected):
    old, new = change
    assert old in SAMPLE
    assert problems(configured, SAMPLE.replace(old, new, 1)) == expected


def test_a_retired_variants_steps_may_send_an_inactive_template(configured):
    # The challenger's call becomes a letter with a template that is retired too.
    old_letter = (
        "  - code: carta-vieja\n    channel: letter\n    language: es\n    name: Carta vieja\n"
        "    subject: ''\n    body: Estimado cliente\n    active: false\n"
    )
    text = RETIRED.replace("  - code: recordatorio\n", old_letter + "  - code: recordatorio\n", 1).replace(
        "            action: task\n            task_kind: call\n            condition: ''\n"
        "            stop_on: [payment]\n",
        "            action: message\n            channel: letter\n            template: carta-vieja\n"
        "            condition: ''\n            stop_on: [payment]\n",
    )
    assert "template: carta-vieja" in text
    load(configured, text)
    assert Step.objects.get(name="Llamada inmediata").template.code == "carta-vieja"
    assert export_configuration(configured.mx) == text
    # The same step on an active variant is refused.
    head, tail = text.split("  - code: administrativa-alto\n")
    active = (
        head
        + "  - code: administrativa-alto\n"
        + tail.replace("share: 100", "share: 80", 1).replace(
            "        share: 20\n        active: false", "        share: 20\n        active: true"
        )
    )
    assert problems(configured, active) == [
        "strategies[1].variants[1].steps[0].template: template carta-vieja (letter, es) is inactive; "
        "an active step needs an active template."
    ]


def test_a_new_strategy_takes_the_stage_and_segment_of_one_left_out(configured):
    """Only active strategies are unique per stage and segment: the one left out is retired
    and keeps its row; the new one takes its place in the same import."""
    old = Strategy.objects.get(code="preventiva-general")
    text = SAMPLE.replace("code: preventiva-general", "code: preventiva-nueva")
    summary = load(configured, text)
    assert ("strategy", "preventiva-general", "deactivate") in {
        (c.kind, c.label, c.op) for c in summary.changes
    }
    old.refresh_from_db()
    new = Strategy.objects.get(code="preventiva-nueva")
    assert not old.is_active and new.is_active
    assert (old.stage_id, old.segment_id) == (new.stage_id, new.segment_id)
    # Both are in the export; importing it again changes nothing.
    exported = export_configuration(configured.mx)
    assert "code: preventiva-general" in exported and "code: preventiva-nueva" in exported
    assert load(configured, exported).changes == []


def _two_strategies(first_active: bool, second_active: bool) -> str:
    """The sample with a second strategy for administrativa / saldo-alto."""
    head, body = SAMPLE.split("  - code: administrativa-alto\n")
    marker = "    segment: saldo-alto\n    description: ''\n    active: true\n"
    assert marker in body

    def strategy(code, active):
        return f"  - code: {code}\n" + body.replace(marker, marker.replace("true", str(active).lower()))

    return (
        head
        + strategy("administrativa-alto", first_active)
        + strategy("administrativa-alto-2024", second_active)
    )


def _pair(configured) -> set:
    return set(
        Strategy.objects.filter(stage__code="administrativa", segment__code="saldo-alto").values_list(
            "code", "is_active"
        )
    )


def test_a_retired_and_an_active_strategy_may_share_a_stage_and_segment(configured):
    text = _two_strategies(True, False)
    load(configured, text)
    assert _pair(configured) == {("administrativa-alto", True), ("administrativa-alto-2024", False)}
    assert export_configuration(configured.mx) == text
    assert load(configured, text).changes == []
    # Two active ones are still refused.
    assert problems(configured, _two_strategies(True, True)) == [
        "strategies[2].segment: stage and segment administrativa / saldo-alto already have a strategy "
        "(strategies[1]); a case must know which one applies."
    ]
    # Swapping which of the two is active works in one import.
    load(configured, _two_strategies(False, True))
    assert _pair(configured) == {("administrativa-alto", False), ("administrativa-alto-2024", True)}
    assert export_configuration(configured.mx) == _two_strategies(False, True)


def test_manual_stage_days_round_trip_and_are_checked(cast):
    load(cast, SAMPLE)
    assert StrategySettings.objects.get(organization=cast.mx).manual_stage_days == 15
    assert "  manual_stage_days: 15\n" in export_configuration(cast.mx)
    load(cast, SAMPLE.replace("  manual_stage_days: 15\n", ""))  # left out: the model default
    assert StrategySettings.objects.get(organization=cast.mx).manual_stage_days == 30
    assert problems(cast, SAMPLE.replace("manual_stage_days: 15", "manual_stage_days: -1")) == [
        "settings.manual_stage_days: -1 is out of range (0 to 32767)."
    ]
    assert problems(cast, SAMPLE.replace("manual_stage_days: 15", "manual_stage_days: '15d'")) == [
        "settings.manual_stage_days: must be a whole number, not text ('15d')"
    ]


@pytest.mark.parametrize(
    "body",
    [
        "Línea con espacio al final \nsegunda línea\n",
        "  sangría inicial\n\tcon tabulador\n",
        "sin salto final\nsegunda",
        "Windows\r\nlíneas\r\n",
        "# no es un comentario: {{ x }} - [y] & *z",
        "yes",
        "",
    ],
)
def test_tricky_texts_survive_the_round_trip(cast, body):
    load(cast, SAMPLE)
    Template.objects.filter(code="aviso").update(body=body or "x", subject="null", name="123")
    Segment.objects.filter(code="tarjeta").update(description=body, name="no")
    text = export_configuration(cast.mx)
    assert load(cast, text).changes == []
    assert export_configuration(cast.mx) == text
    assert Template.objects.get(code="aviso").body == (body or "x")
