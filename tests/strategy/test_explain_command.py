"""``recobro explain CASE --as-of D`` prints the explanation of a case as readable text."""

import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from recobro.portfolio.models import Debtor
from tests.conftest import AS_OF, make_document
from tests.strategy.explain_setup import build_config, make_case


def explain(*args) -> str:
    out = StringIO()
    call_command("explain", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def case(cast):
    build_config(cast.mx)
    return make_case(cast.retail, "Eva", "3500.00", AS_OF - dt.timedelta(days=45))


def test_a_case_is_named_by_its_id(case):
    text = explain(str(case.pk), "--as-of", "2026-03-31")
    assert f"Case {case.pk} — Eva · Crédito tienda, as of 2026-03-31" in text
    assert "→ The case enters Administrativa on 2026-03-31." in text
    assert "✓ Saldo bajo (priority 20): balance < 5000" in text


def test_a_case_is_named_by_portfolio_code_and_debtor_external_id(case):
    text = explain("credito-tienda/X-Eva", "--as-of", "2026-04-10")
    assert "as of 2026-04-10" in text
    assert "dpd: 55" in text


def test_without_a_date_the_organizations_business_date_is_used(cast, case):
    cast.mx.business_date_override = dt.date(2026, 4, 1)
    cast.mx.save()
    assert "as of 2026-04-01" in explain(str(case.pk))


def test_the_same_reference_in_two_organizations_needs_the_organization(cast, case):
    from recobro.portfolio.models import Portfolio

    twin = Portfolio.objects.create(
        organization=cast.co,
        code="credito-tienda",
        name="Crédito",
        creditor="X",
        currency="COP",
        jurisdiction="CO",
    )
    debtor = Debtor.objects.create(organization=cast.co, external_id="X-Eva", name="Eva C.")
    make_document(twin, debtor, "C-1", "100.00", AS_OF)
    from recobro.portfolio.engine import refresh_cases

    refresh_cases(organization=cast.co, as_of=AS_OF)
    with pytest.raises(CommandError, match="say which with --organization"):
        explain("credito-tienda/X-Eva")
    assert "Eva C." in explain(
        "credito-tienda/X-Eva", "--organization", "cobranzas-andinas", "--as-of", "2026-03-31"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["999999"], "There is no case with the id 999999."),
        (["Eva"], "Name the case by its id or as <portfolio code>/<debtor external id>, not “Eva”."),
        (
            ["credito-tienda/nadie"],
            "No case of the debtor “nadie” in a portfolio with the code “credito-tienda”.",
        ),
        (["1", "--as-of", "31/03/2026"], "--as-of must be a date written YYYY-MM-DD, not “31/03/2026”."),
        (["credito-tienda/X-Eva", "--organization", "nada"], "No organization has the code “nada”."),
    ],
)
def test_bad_input_says_what_is_wrong(case, args, message):
    with pytest.raises(CommandError) as error:
        explain(*args)
    assert str(error.value) == message
