"""``recobro strategy export|import``: the configuration document from the command line."""

import io

import pytest
from django.core.management import CommandError, call_command

from recobro.core.models import AuditEntry
from recobro.strategy.models import Segment
from recobro.strategy.yaml_io import export_configuration
from tests.strategy.config_sample import SAMPLE


def run(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("strategy", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_import_then_export_through_files(cast, tmp_path):
    source = tmp_path / "estrategia.yaml"
    source.write_text(SAMPLE, encoding="utf-8")
    out, _err = run("import", str(source), "--organization", "comercial-norte")
    assert "create segment saldo-alto" in out
    assert "imported: 16 created, 0 updated, 0 deactivated, 0 unchanged" in out
    entry = AuditEntry.objects.filter(object_type="strategy.segment").first()
    assert entry.source == "import" and entry.actor_label.startswith("command line")
    target = tmp_path / "copia.yaml"
    run("export", str(target), "--organization", "comercial-norte")
    assert target.read_text(encoding="utf-8") == SAMPLE
    out, _err = run("export", "-", "--organization", "comercial-norte")
    assert out == SAMPLE


def test_a_dry_run_changes_nothing(cast, tmp_path):
    source = tmp_path / "estrategia.yaml"
    source.write_text(SAMPLE, encoding="utf-8")
    out, _err = run("import", str(source), "--organization", "comercial-norte", "--dry-run")
    assert "Dry run, nothing changed: 16 created" in out
    assert not Segment.objects.exists()


def test_problems_are_printed_with_their_paths_and_nothing_is_written(cast, tmp_path):
    source = tmp_path / "estrategia.yaml"
    source.write_text(SAMPLE.replace("share: 20", "share: 25").replace("anchor: due_date", "ancla: due_date"))
    err = io.StringIO()
    with pytest.raises(CommandError, match="2 problem"):
        call_command("strategy", "import", str(source), "--organization", "comercial-norte", stderr=err)
    assert "strategies[0].variants[0].steps[0]: unknown key 'ancla'" in err.getvalue()
    assert "strategies[0].variants[0].steps[0]: missing key 'anchor'" in err.getvalue()
    assert not Segment.objects.exists()
    assert export_configuration(cast.mx).count("code:") == 0


def test_the_organization_must_be_named_when_there_are_several(cast, tmp_path):
    with pytest.raises(CommandError, match="several organizations"):
        run("export", str(tmp_path / "x.yaml"))
    with pytest.raises(CommandError, match="No organization has the code “nadie”"):
        run("export", str(tmp_path / "x.yaml"), "--organization", "nadie")
    with pytest.raises(CommandError, match="There is no file"):
        run("import", str(tmp_path / "missing.yaml"), "--organization", "comercial-norte")
