import pytest

from tests.e2e.conftest import login, screenshot

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_supervisor_logs_in_and_reaches_the_back_office(cast, page):
    login(page, "ana")
    assert page.url.rstrip("/") == page.base_url
    screenshot(page, "dashboard")


def test_a_wrong_password_is_refused_with_a_message(cast, page):
    login(page, "ana", "not-her-password")
    assert "/login/" in page.url
    assert page.locator(".errornote, .text-red-600, [role=alert]").count() > 0
