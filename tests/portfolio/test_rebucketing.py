"""New aging buckets: the settings page enqueues refresh_cases_task once the change commits;
the task (eager here) puts every case in its new bucket."""

from unittest import mock

from django.urls import reverse
from django.utils import translation

from recobro.portfolio import tasks
from recobro.portfolio.models import Case
from tests.backoffice.conftest import client_for
from tests.backoffice.conftest import ledger as ledger  # the fixture
from tests.conftest import make_user

THREE_BUCKETS = [("", "Al corriente", "", "0"), ("", "1-90", "1", "90"), ("", "Más de 90", "91", "")]


def settings_form(buckets) -> dict:
    data = {
        "name": "Comercial del Norte",
        "country": "MX",
        "timezone": "America/Mexico_City",
        "currency": "MXN",
        "locale": "es-MX",
        "aging_buckets-count": str(len(buckets)),
    }
    for i, (key, label, low, high) in enumerate(buckets):
        data |= {
            f"aging_buckets-{i}-key": key,
            f"aging_buckets-{i}-label": label,
            f"aging_buckets-{i}-min": low,
            f"aging_buckets-{i}-max": high,
        }
    return data


def post_buckets(cast, buckets, capture, execute: bool):
    client = client_for(make_user("beatriz", cast.mx, "admin"))
    url = reverse("admin:core_organization_change", args=[cast.mx.pk])
    with translation.override("en"), capture(execute=execute) as callbacks:
        response = client.post(url, settings_form(buckets), follow=True, HTTP_ACCEPT_LANGUAGE="en")
    return response, callbacks


def test_new_buckets_enqueue_the_refresh_after_commit_and_say_so(
    cast,
    ledger,
    django_capture_on_commit_callbacks,
):
    with mock.patch.object(tasks.refresh_cases_task, "delay") as delay:
        response, callbacks = post_buckets(cast, THREE_BUCKETS, django_capture_on_commit_callbacks, False)
        assert response.status_code == 200
        delay.assert_not_called()  # nothing is enqueued before the change commits
        assert Case.objects.get(debtor=ledger.pedro).bucket == "181-360"  # not moved yet
        for callback in callbacks:
            callback()
        delay.assert_called_once_with(cast.mx.pk)
    shown = [str(m) for m in response.context["messages"]]
    assert any("being recomputed" in m for m in shown), shown


def test_the_task_runs_eagerly_and_moves_the_cases(cast, ledger, django_capture_on_commit_callbacks):
    post_buckets(cast, THREE_BUCKETS, django_capture_on_commit_callbacks, True)
    assert Case.objects.get(debtor=ledger.pedro).bucket == "91+"
    assert Case.objects.get(debtor=ledger.eva).bucket == "1-90"


def test_unchanged_buckets_enqueue_nothing(cast, ledger, django_capture_on_commit_callbacks):
    current = [
        (
            b["key"],
            b["label"],
            "" if b["min"] is None else str(b["min"]),
            "" if b["max"] is None else str(b["max"]),
        )
        for b in cast.mx.aging_buckets
    ]
    with mock.patch.object(tasks.refresh_cases_task, "delay") as delay:
        post_buckets(cast, current, django_capture_on_commit_callbacks, True)
    delay.assert_not_called()


def test_the_task_refreshes_one_organization_and_returns_the_counts(cast, ledger):
    cast.mx.aging_buckets = [
        {"key": "current", "label": "Al corriente", "min": None, "max": 0},
        {"key": "1+", "label": "Vencido", "min": 1, "max": None},
    ]
    cast.mx.save()
    counts = tasks.refresh_cases_task.delay(cast.mx.pk).get()
    assert counts["updated"] >= 2
    assert set(Case.objects.filter(organization=cast.mx).values_list("bucket", flat=True)) == {"1+"}
    assert Case.objects.get(debtor=ledger.camila).bucket != "1+"  # the other organization is left alone
