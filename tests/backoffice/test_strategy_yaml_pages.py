"""Download and upload the configuration document in the back-office: the upload shows
every change (or every problem) before anything is applied."""

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from recobro.strategy.models import Segment
from recobro.strategy.yaml_io import export_configuration
from tests.backoffice.conftest import client_for
from tests.backoffice.strategy_helpers import configure, form_data
from tests.strategy.config_sample import SAMPLE

UPLOAD = "admin:strategy_strategy_upload_yaml"


def test_the_download_is_the_organizations_document(ana, cast, ledger):
    configure(cast)
    response = ana.get(reverse("admin:strategy_strategy_download_yaml"))
    assert response.status_code == 200
    assert (
        response["Content-Disposition"] == 'attachment; filename="comercial-norte-estrategia-2026-03-31.yaml"'
    )
    assert response.content.decode() == SAMPLE
    assert (
        reverse("admin:strategy_strategy_download_yaml")
        in ana.get(reverse("admin:strategy_strategy_changelist")).content.decode()
    )


def test_an_upload_is_previewed_then_applied_on_confirmation(ana, cast, ledger):
    upload = SimpleUploadedFile("estrategia.yaml", SAMPLE.encode(), content_type="application/x-yaml")
    response = ana.post(reverse(UPLOAD), {"file": upload})
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="import-preview"' in page and "saldo-alto" in page
    assert not Segment.objects.exists()  # nothing yet
    confirm = form_data(response, "import-confirm")
    response = ana.post(reverse(UPLOAD), confirm)
    assert response.status_code == 302
    assert Segment.objects.filter(organization=cast.mx).count() == 2
    assert export_configuration(cast.mx) == SAMPLE


def test_an_upload_with_problems_lists_them_and_changes_nothing(ana, cast, ledger):
    text = SAMPLE.replace("share: 20", "share: 25").replace(
        "            channel: email\n", "            chanel: email\n"
    )
    response = ana.post(reverse(UPLOAD), {"text": text})
    page = response.content.decode()
    assert 'id="import-problems"' in page
    assert "strategies[1].variants[0].steps[0]" in page and "chanel" in page
    assert 'id="import-confirm"' not in page
    assert not Segment.objects.exists()


def test_a_confirmation_after_the_configuration_changed_shows_the_preview_again(ana, cast, ledger):
    configure(cast)
    response = ana.post(reverse(UPLOAD), {"text": SAMPLE.replace("priority: 20", "priority: 25")})
    confirm = form_data(response, "import-confirm")
    Segment.objects.filter(code="tarjeta").update(name="Cambiado mientras tanto")
    response = ana.post(reverse(UPLOAD), confirm)
    assert response.status_code == 200 and 'id="import-preview"' in response.content.decode()
    assert Segment.objects.get(code="tarjeta").priority == 20


def test_the_same_document_has_nothing_to_apply(ana, cast, ledger):
    configure(cast)
    response = ana.post(reverse(UPLOAD), {"text": SAMPLE})
    assert 'id="import-nothing"' in response.content.decode()


def test_only_managers_upload_and_everyone_downloads(cast, ledger):
    configure(cast)
    for user in (cast.carlos, cast.auditor):
        client = client_for(user)
        assert client.get(reverse(UPLOAD)).status_code == 403
        assert (
            client.post(reverse(UPLOAD), {"text": SAMPLE.replace("priority: 20", "priority: 21")}).status_code
            == 403
        )
        assert client.get(reverse("admin:strategy_strategy_download_yaml")).status_code == 200
    assert Segment.objects.get(code="tarjeta").priority == 20


def test_an_upload_that_is_not_text_is_refused(ana, cast, ledger):
    upload = SimpleUploadedFile(
        "estrategia.yaml", b"\xff\xfe\x00binary", content_type="application/octet-stream"
    )
    response = ana.post(reverse(UPLOAD), {"file": upload})
    assert "no es texto UTF-8" in response.content.decode()
