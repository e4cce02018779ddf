from recobro.core.tenancy import membership_for
from recobro.portfolio.models import Case, Debtor, Portfolio
from tests.conftest import make_document


def test_a_collector_sees_only_the_portfolios_assigned_to_them(cast):
    assert list(Portfolio.objects.for_user(cast.carlos)) == [cast.retail]
    assert list(Portfolio.objects.for_user(cast.diana)) == [cast.loans]


def test_a_supervisor_sees_every_portfolio_of_their_organization_and_none_of_another(cast):
    assert set(Portfolio.objects.for_user(cast.ana)) == {cast.retail, cast.loans}
    assert not Portfolio.objects.for_user(cast.ana).filter(organization=cast.co).exists()


def test_diana_sees_nothing_of_carlos_debtors(cast):
    make_document(cast.retail, cast.eva, "F-1", "100.00", cast.mx.today())
    Case.objects.create(organization=cast.mx, portfolio=cast.retail, debtor=cast.eva, currency="MXN")
    assert list(Debtor.objects.for_user(cast.carlos)) == [cast.eva]
    assert list(Debtor.objects.for_user(cast.diana)) == []
    assert list(Case.objects.for_user(cast.diana)) == []


def test_a_user_without_membership_sees_nothing(cast, django_user_model):
    stranger = django_user_model.objects.create_user("mallory", password="x")
    assert membership_for(stranger) is None
    assert not Portfolio.objects.for_user(stranger).exists()
