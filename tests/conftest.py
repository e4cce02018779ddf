"""The fixed cast every test shares.

Two organizations: Comercial del Norte (a Mexican retailer, MXN) and Cobranzas Andinas
(a Colombian agency working two creditors' portfolios, COP).
Ana is a supervisor at Comercial del Norte; Carlos and Diana are collectors there on
different portfolios (Diana must see nothing of Carlos'); Eva Martínez is a debtor of
Carlos' portfolio (she will use the portal). Óscar administers Cobranzas Andinas.
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model

from recobro.core.audit import Actor
from recobro.core.models import Membership, Organization, Role
from recobro.portfolio.models import Debtor, Document, Portfolio

AS_OF = dt.date(2026, 3, 31)


def pytest_configure(config):
    """Tests hash passwords with MD5: PBKDF2 costs about a second per user on this machine."""
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@dataclass
class Cast:
    mx: Organization
    co: Organization
    retail: Portfolio  # Carlos' portfolio (MXN)
    loans: Portfolio  # Diana's portfolio (MXN)
    bank_co: Portfolio  # Cobranzas Andinas: Banco Andino
    telco_co: Portfolio  # Cobranzas Andinas: TelcoSur
    ana: object
    carlos: object
    diana: object
    oscar: object
    auditor: object
    eva: Debtor

    def actor(self, user=None) -> Actor:
        return Actor.for_user(user or self.ana)


def make_user(username: str, organization: Organization, role: str, portfolios=()):
    user = get_user_model().objects.create_user(
        username=username,
        password="recobro-test-pass",
        email=f"{username}@example.com",
        is_staff=True,
    )
    membership = Membership.objects.create(user=user, organization=organization, role=role)
    if portfolios:
        membership.portfolios.set(portfolios)
    return user


@pytest.fixture
def cast(db) -> Cast:
    mx = Organization.objects.create(
        name="Comercial del Norte",
        slug="comercial-norte",
        country="MX",
        timezone="America/Mexico_City",
        currency="MXN",
        locale="es-MX",
        payment_reference_prefix=11,
    )
    co = Organization.objects.create(
        name="Cobranzas Andinas",
        slug="cobranzas-andinas",
        country="CO",
        timezone="America/Bogota",
        currency="COP",
        locale="es-CO",
        payment_reference_prefix=22,
    )
    retail = Portfolio.objects.create(
        organization=mx,
        code="credito-tienda",
        name="Crédito tienda",
        creditor="Comercial del Norte",
        currency="MXN",
        jurisdiction="MX",
    )
    loans = Portfolio.objects.create(
        organization=mx,
        code="prestamos",
        name="Préstamos personales",
        creditor="Comercial del Norte",
        currency="MXN",
        jurisdiction="MX",
        allocation_order="waterfall",
    )
    bank_co = Portfolio.objects.create(
        organization=co,
        code="banco-andino",
        name="Banco Andino — tarjetas",
        creditor="Banco Andino",
        currency="COP",
        jurisdiction="CO",
    )
    telco_co = Portfolio.objects.create(
        organization=co,
        code="telcosur",
        name="TelcoSur — hogar",
        creditor="TelcoSur",
        currency="COP",
        jurisdiction="CO",
    )
    ana = make_user("ana", mx, Role.SUPERVISOR)
    carlos = make_user("carlos", mx, Role.COLLECTOR, [retail])
    diana = make_user("diana", mx, Role.COLLECTOR, [loans])
    auditor = make_user("ulises", mx, Role.AUDITOR)
    oscar = make_user("oscar", co, Role.ADMIN)
    eva = Debtor.objects.create(
        organization=mx,
        external_id="C-1001",
        name="Eva Martínez López",
        tax_id="MALE800101AB1",
        tax_id_type="rfc",
    )
    return Cast(
        mx=mx,
        co=co,
        retail=retail,
        loans=loans,
        bank_co=bank_co,
        telco_co=telco_co,
        ana=ana,
        carlos=carlos,
        diana=diana,
        oscar=oscar,
        auditor=auditor,
        eva=eva,
    )


def make_document(
    portfolio: Portfolio,
    debtor: Debtor,
    external_id: str,
    amount: str,
    due: dt.date,
    *,
    kind: str = "invoice",
    balance: str | None = None,
) -> Document:
    """A document written directly, for tests that need ledger rows as a starting point."""
    return Document.objects.create(
        organization=portfolio.organization,
        portfolio=portfolio,
        debtor=debtor,
        external_id=external_id,
        number=external_id,
        kind=kind,
        due_date=due,
        issue_date=due - dt.timedelta(days=30),
        original_amount=Decimal(amount),
        balance=Decimal(balance if balance is not None else amount),
        currency=portfolio.currency,
    )


@pytest.fixture(autouse=True)
def _english_unless_asked():
    """Code called directly by a test speaks English, the source language; requests keep
    the product's Spanish default. Tests of Spanish text ask for it explicitly."""
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _celery_runs_inline():
    """Tasks run in the test's process, even when REDIS_URL names a broker.

    The tests that need a real worker (tests/portfolio/test_import_worker.py) turn this off.
    """
    from recobro.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous
