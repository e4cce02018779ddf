"""Ledger rows for back-office tests, on top of the shared cast.

Eva owes on Carlos' portfolio (retail) and has paid once; Pedro owes on Diana's (loans);
Camila owes to Cobranzas Andinas. Cases come from the case engine, the payment from the
ledger service, so the pages show what production would.
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.test import Client

from recobro.core.audit import Actor
from recobro.portfolio.engine import refresh_cases
from recobro.portfolio.models import ContactPoint, Debtor, Payment
from recobro.portfolio.references import assign_payment_references
from recobro.portfolio.services.payments import record_payment
from tests.conftest import AS_OF, make_document


@dataclass
class Ledger:
    eva: Debtor
    pedro: Debtor
    camila: Debtor
    payment: Payment


@pytest.fixture
def ledger(cast) -> Ledger:
    for org in (cast.mx, cast.co):
        org.business_date_override = AS_OF
        org.save(update_fields=["business_date_override"])
    eva = cast.eva
    ContactPoint.objects.create(
        organization=cast.mx, debtor=eva, kind="mobile", value="55 1234 5678", normalized="+525512345678"
    )
    make_document(cast.retail, eva, "F-1001", "1000.00", AS_OF - dt.timedelta(days=45))
    make_document(cast.retail, eva, "F-1002", "2500.50", AS_OF - dt.timedelta(days=10))
    pedro = Debtor.objects.create(organization=cast.mx, external_id="C-2001", name="Pedro Páramo")
    make_document(cast.loans, pedro, "P-2001", "800.00", AS_OF - dt.timedelta(days=200))
    camila = Debtor.objects.create(organization=cast.co, external_id="A-1", name="Camila Rojas")
    make_document(cast.bank_co, camila, "B-1", "150000.00", AS_OF - dt.timedelta(days=70))
    for org in (cast.mx, cast.co):
        assign_payment_references(organization=org)
        refresh_cases(organization=org, as_of=AS_OF)
    payment = record_payment(
        organization=cast.mx,
        portfolio=cast.retail,
        debtor=eva,
        amount=Decimal("300.00"),
        paid_on=AS_OF - dt.timedelta(days=2),
        actor=Actor.for_user(cast.ana),
        reference="SPEI-77",
    )
    for debtor in (eva, pedro, camila):
        debtor.refresh_from_db()
    return Ledger(eva=eva, pedro=pedro, camila=camila, payment=payment)


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def ana(cast) -> Client:
    return client_for(cast.ana)


@pytest.fixture
def auditor(cast) -> Client:
    return client_for(cast.auditor)
