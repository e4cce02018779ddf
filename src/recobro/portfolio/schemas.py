"""Request and response shapes of the portfolio API (pydantic v2, via ninja)."""

import datetime as dt
from typing import Any

from ninja import Field, Schema

from recobro.core.api import ListParams, Money
from recobro.portfolio.models import CaseStatus, ContactKind, DocumentStatus, PaymentStatus

# --- Responses ---------------------------------------------------------------


class PortfolioOut(Schema):
    id: int
    code: str
    name: str
    creditor: str
    currency: str
    jurisdiction: str
    allocation_order: str
    is_active: bool


class DebtorOut(Schema):
    id: int
    external_id: str
    kind: str
    name: str
    tax_id: str
    tax_id_type: str
    payment_reference: str | None
    attributes: dict[str, Any]
    risk_score: Money | None
    language: str
    timezone: str
    is_disputed: bool
    is_deceased: bool
    is_bankrupt: bool
    do_not_contact: bool
    created_at: dt.datetime
    updated_at: dt.datetime


class ContactPointOut(Schema):
    id: int
    debtor_external_id: str
    kind: str
    value: str
    normalized: str = Field(..., description="E.164 for phones, lower-case for emails")
    label: str
    is_primary: bool
    verified_at: dt.datetime | None
    consent_at: dt.datetime | None
    opted_out_at: dt.datetime | None
    wrong_number: bool
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_debtor_external_id(obj) -> str:
        return obj.debtor.external_id


class DocumentOut(Schema):
    id: int
    portfolio: str = Field(..., description="The portfolio's code")
    debtor_external_id: str
    external_id: str
    kind: str
    number: str
    product: str
    issue_date: dt.date | None
    due_date: dt.date
    original_amount: Money
    balance: Money
    currency: str
    status: str
    attributes: dict[str, Any]
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_portfolio(obj) -> str:
        return obj.portfolio.code

    @staticmethod
    def resolve_debtor_external_id(obj) -> str:
        return obj.debtor.external_id


class PaymentOut(Schema):
    id: int
    portfolio: str = Field(..., description="The portfolio's code")
    debtor_external_id: str
    external_id: str | None
    amount: Money
    unallocated_amount: Money
    currency: str
    paid_on: dt.date
    method: str
    source: str
    reference: str
    status: str
    notes: str
    created_at: dt.datetime

    @staticmethod
    def resolve_portfolio(obj) -> str:
        return obj.portfolio.code

    @staticmethod
    def resolve_debtor_external_id(obj) -> str:
        return obj.debtor.external_id


class CaseOut(Schema):
    id: int
    portfolio: str = Field(..., description="The portfolio's code")
    debtor_external_id: str
    debtor_name: str
    currency: str
    status: str
    balance: Money
    overdue_balance: Money
    original_amount: Money
    open_documents: int
    oldest_due_date: dt.date | None
    dpd: int = Field(..., description="Days past due, from the oldest open due date")
    bucket: str = Field(..., description="Aging bucket key, e.g. `31-60`")
    last_payment_on: dt.date | None
    as_of: dt.date | None = Field(..., description="Business date the facts were computed for")
    updated_at: dt.datetime

    @staticmethod
    def resolve_portfolio(obj) -> str:
        return obj.portfolio.code

    @staticmethod
    def resolve_debtor_external_id(obj) -> str:
        return obj.debtor.external_id

    @staticmethod
    def resolve_debtor_name(obj) -> str:
        return obj.debtor.name


# --- List filters ------------------------------------------------------------


class PortfolioFilters(ListParams):
    code: str | None = None
    is_active: bool | None = None

    lookups = {"code": "code", "is_active": "is_active"}


class DebtorFilters(ListParams):
    external_id: str | None = None
    tax_id: str | None = None
    payment_reference: str | None = None
    updated_since: dt.datetime | None = Field(None, description="Only rows changed at or after this instant")

    lookups = {
        "external_id": "external_id",
        "tax_id": "tax_id",
        "payment_reference": "payment_reference",
        "updated_since": "updated_at__gte",
    }


class ContactPointFilters(ListParams):
    debtor_external_id: str | None = None
    kind: ContactKind | None = None
    updated_since: dt.datetime | None = Field(None, description="Only rows changed at or after this instant")

    lookups = {
        "debtor_external_id": "debtor__external_id",
        "kind": "kind",
        "updated_since": "updated_at__gte",
    }


class DocumentFilters(ListParams):
    portfolio: str | None = Field(None, description="A portfolio's code")
    debtor_external_id: str | None = None
    external_id: str | None = None
    status: DocumentStatus | None = None
    updated_since: dt.datetime | None = Field(None, description="Only rows changed at or after this instant")

    lookups = {
        "portfolio": "portfolio__code",
        "debtor_external_id": "debtor__external_id",
        "external_id": "external_id",
        "status": "status",
        "updated_since": "updated_at__gte",
    }


class PaymentFilters(ListParams):
    portfolio: str | None = Field(None, description="A portfolio's code")
    debtor_external_id: str | None = None
    external_id: str | None = None
    status: PaymentStatus | None = None
    paid_from: dt.date | None = Field(None, description="Paid on or after this date")
    paid_to: dt.date | None = Field(None, description="Paid on or before this date")
    created_since: dt.datetime | None = Field(
        None, description="Only payments recorded at or after this instant"
    )

    lookups = {
        "portfolio": "portfolio__code",
        "debtor_external_id": "debtor__external_id",
        "external_id": "external_id",
        "status": "status",
        "paid_from": "paid_on__gte",
        "paid_to": "paid_on__lte",
        "created_since": "created_at__gte",
    }


class CaseFilters(ListParams):
    portfolio: str | None = Field(None, description="A portfolio's code")
    debtor_external_id: str | None = None
    status: CaseStatus | None = None
    bucket: str | None = Field(None, description="Aging bucket key, e.g. `31-60`")
    min_dpd: int | None = Field(None, description="Only cases at least this many days past due")
    updated_since: dt.datetime | None = Field(None, description="Only rows changed at or after this instant")

    lookups = {
        "portfolio": "portfolio__code",
        "debtor_external_id": "debtor__external_id",
        "status": "status",
        "bucket": "bucket",
        "min_dpd": "dpd__gte",
        "updated_since": "updated_at__gte",
    }
