"""The case page's strategy panel as Ana uses it: read why Eva's case is where it is, ask
what the cycle will do two days later (htmx, no page load), then move the case to the
judicial stage with a reason and find the move in the stage history."""

import datetime as dt

import pytest
from playwright.sync_api import expect

from recobro.strategy.models import CaseState, StageTransition
from tests.conftest import AS_OF
from tests.e2e.conftest import login, screenshot
from tests.strategy.explain_setup import build_config, completed_cycle, make_case, set_state

pytestmark = pytest.mark.django_db(transaction=True)
expect.set_options(timeout=15_000)


@pytest.fixture
def case(cast):
    cast.mx.business_date_override = AS_OF
    cast.mx.save(update_fields=["business_date_override"])
    config = build_config(cast.mx)
    case = make_case(cast.retail, "Eva", "3500.00", AS_OF - dt.timedelta(days=45))
    # The cycle of AS_OF put the case in the administrative stage and its default strategy.
    set_state(
        case, config.administrative, AS_OF, segment=config.bajo, strategy=config.admin_default,
        variant=config.default_variant, strategy_entered_on=AS_OF, as_of=AS_OF,
    )  # fmt: skip
    completed_cycle(cast.mx, AS_OF)
    return case, config


def test_ana_reads_the_explanation_explains_another_date_and_moves_the_case(case, page):
    case, config = case
    login(page, "ana")
    page.goto(f"{page.base_url}/portfolio/case/{case.pk}/change/")

    panel = page.locator("#case-strategy")
    expect(panel).to_be_visible()
    explanation = page.locator("#case-explanation")
    expect(explanation).to_have_attribute("data-as-of", "2026-03-31")
    expect(page.locator("#case-state")).to_contain_text("Administrativa")
    expect(page.locator("#explain-stage-reason")).to_contain_text("Administrativa")
    expect(page.locator("#explain-segment")).to_contain_text("balance >= 5000: balance es 3500.00")
    expect(page.locator("#explain-segment-result")).to_contain_text("Saldo bajo")
    call = explanation.locator("tr", has_text="Llamada")
    expect(call).to_have_attribute("data-status", "not_yet_due")
    screenshot(page, "case-strategy-panel")

    # Two days later the call falls due: the explanation is swapped in place by htmx.
    page.locator("#explain-form input[name=as_of]").fill("2026-04-02")
    with page.expect_response(lambda r: "/strategy/explain/" in r.url):
        page.locator("#explain-form button[type=submit]").click()
    expect(page.locator("#case-explanation")).to_have_attribute("data-as-of", "2026-04-02")
    expect(page.locator("#case-explanation tr", has_text="Llamada")).to_have_attribute("data-status", "fires")
    assert page.url.endswith(f"/portfolio/case/{case.pk}/change/")  # no navigation
    screenshot(page, "case-strategy-explain-date")

    # Move the case to the judicial stage with a reason.
    form = page.locator("#move-stage-form")
    form.locator("select[name=stage]").select_option(label="Judicial")
    form.locator("textarea[name=reason_note]").fill("Demanda presentada el 30/03")
    form.locator("button[type=submit]").click()
    expect(page.locator("#stage-history")).to_contain_text("Demanda presentada el 30/03")
    expect(page.locator("#case-state")).to_contain_text("Judicial")
    screenshot(page, "case-strategy-after-move")

    transition = StageTransition.objects.get(case=case)
    assert (transition.to_stage_id, transition.reason) == (config.judicial.pk, "manual")
    assert CaseState.objects.get(case=case).stage_id == config.judicial.pk
