"""Organization settings: own organization only; aging buckets edited as a table."""

from django.urls import reverse

from recobro.core.models import AuditEntry
from recobro.portfolio.models import Case
from tests.backoffice.conftest import client_for
from tests.conftest import make_user


def settings_form(buckets: list[tuple[str, str, str, str]], **extra) -> dict:
    data = {
        "name": "Comercial del Norte",
        "country": "MX",
        "timezone": "America/Mexico_City",
        "currency": "MXN",
        "locale": "es-MX",
        "aging_buckets-count": str(len(buckets) + 1),
        **extra,
    }
    for i, (key, label, low, high) in enumerate(buckets):
        data.update(
            {
                f"aging_buckets-{i}-key": key,
                f"aging_buckets-{i}-label": label,
                f"aging_buckets-{i}-min": low,
                f"aging_buckets-{i}-max": high,
            }
        )
    return data


def test_an_administrator_edits_the_buckets_as_a_table(cast):
    client = client_for(make_user("beatriz", cast.mx, "admin"))
    page = client.get(reverse("admin:core_organization_change", args=[cast.mx.pk])).content.decode()
    assert 'name="aging_buckets-0-label" value="Current"' in page
    assert 'name="aging_buckets-6-min" value="361"' in page
    assert 'name="aging_buckets-9-label" value=""' in page  # room for three more


def test_a_supervisor_reads_the_buckets_as_a_table(ana, cast):
    page = ana.get(reverse("admin:core_organization_change", args=[cast.mx.pk])).content.decode()
    assert "aging-buckets-table" in page
    assert '<td class="pr-6 py-1">Over 360</td>' in page
    assert 'name="aging_buckets-0-label"' not in page


def test_an_administrator_sets_new_buckets_and_cases_move_into_them(
    cast, ledger, django_capture_on_commit_callbacks
):
    client = client_for(make_user("beatriz", cast.mx, "admin"))
    buckets = [("", "Al corriente", "", "0"), ("", "1-90", "1", "90"), ("", "Más de 90", "91", "")]
    url = reverse("admin:core_organization_change", args=[cast.mx.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, settings_form(buckets))
    assert response.status_code == 302, response.context["adminform"].form.errors
    cast.mx.refresh_from_db()
    assert cast.mx.aging_buckets == [
        {"key": "current", "label": "Al corriente", "min": None, "max": 0},
        {"key": "1-90", "label": "1-90", "min": 1, "max": 90},
        {"key": "91+", "label": "Más de 90", "min": 91, "max": None},
    ]
    assert Case.objects.get(debtor=ledger.pedro).bucket == "91+"
    entry = AuditEntry.objects.get(object_type="core.organization", action="update")
    assert entry.after["aging_buckets"][0]["label"] == "Al corriente"


def test_a_gap_between_buckets_is_explained_on_the_form(cast):
    client = client_for(make_user("beatriz", cast.mx, "admin"))
    buckets = [("", "Al corriente", "", "0"), ("", "5-90", "5", "90"), ("", "Más", "91", "")]
    url = reverse("admin:core_organization_change", args=[cast.mx.pk])
    response = client.post(url, settings_form(buckets))
    assert response.status_code == 200
    [message] = response.context["adminform"].form.errors["aging_buckets"]
    assert "5-90" in message
    cast.mx.refresh_from_db()
    assert len(cast.mx.aging_buckets) == 7


def test_a_supervisor_reads_the_settings_but_cannot_change_them(ana, cast):
    url = reverse("admin:core_organization_change", args=[cast.mx.pk])
    response = ana.post(url, settings_form([("current", "Todo", "", "")]))
    assert response.status_code == 403


def test_bad_timezone_currency_and_locale_are_refused(cast):
    client = client_for(make_user("beatriz", cast.mx, "admin"))
    url = reverse("admin:core_organization_change", args=[cast.mx.pk])
    buckets = [
        (b["key"], b["label"], b["min"] or "", b["max"] if b["max"] is not None else "")
        for b in cast.mx.aging_buckets
    ]
    data = settings_form(buckets, timezone="Mars/Olympus", currency="XYZ", locale="zz-ZZ")
    errors = client.post(url, data).context["adminform"].form.errors
    assert {"timezone", "currency", "locale"} <= set(errors)
