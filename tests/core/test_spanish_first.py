"""Recobro speaks Spanish first: the default language, complete for what users read."""

import subprocess

import pytest
from django.conf import settings as project_settings
from django.utils import translation

from recobro.portfolio.importers import upsert_rows


def test_spanish_is_the_default_language():
    import recobro.settings as module

    assert module.LANGUAGE_CODE == "es"
    assert [code for code, _ in project_settings.LANGUAGES] == ["es", "en"]


def test_the_spanish_catalogue_has_no_untranslated_or_fuzzy_entries():
    po = project_settings.LOCALE_PATHS[0] / "es" / "LC_MESSAGES" / "django.po"
    try:
        untranslated = subprocess.run(
            ["msgattrib", "--untranslated", "--no-obsolete", str(po)], capture_output=True, text=True
        ).stdout
        fuzzy = subprocess.run(["msgattrib", "--only-fuzzy", str(po)], capture_output=True, text=True).stdout
    except FileNotFoundError:
        pytest.skip("GNU gettext (msgattrib) is not installed")
    assert untranslated.count("msgid ") <= 1, untranslated[:2000]  # the header only
    assert fuzzy.count("msgid ") == 0, fuzzy[:2000]


def test_a_spanish_user_reads_import_errors_in_spanish(cast):
    with translation.override("es"):
        result = upsert_rows(
            organization=cast.mx,
            kind="documents",
            portfolio=cast.retail,
            actor=cast.actor(),
            rows=[
                {
                    "external_id": "F-1",
                    "debtor_external_id": "NO-EXISTE",
                    "due_date": "2026-01-31",
                    "original_amount": "100.00",
                    "balance": "100.00",
                    "currency": "MXN",
                }
            ],
        )
    assert result.errors
    message = result.errors[0].message
    with translation.override("en"):
        english = (
            upsert_rows(
                organization=cast.mx,
                kind="documents",
                portfolio=cast.retail,
                actor=cast.actor(),
                rows=[
                    {
                        "external_id": "F-1",
                        "debtor_external_id": "NO-EXISTE",
                        "due_date": "2026-01-31",
                        "original_amount": "100.00",
                        "balance": "100.00",
                        "currency": "MXN",
                    }
                ],
            )
            .errors[0]
            .message
        )
    assert message != english


def test_the_back_office_speaks_spanish_by_default_and_english_on_request(cast, client):
    client.force_login(cast.ana)
    spanish = client.get("/", HTTP_ACCEPT_LANGUAGE="es-MX").content.decode()
    english = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Cartera" in spanish or "Deudores" in spanish
    assert "Debtors" in english
