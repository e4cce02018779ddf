"""Request and response shapes of the portfolio API (pydantic v2, via ninja)."""

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from ninja import Field, Schema
from pydantic import BeforeValidator, ConfigDict, SkipValidation, WithJsonSchema, field_validator
from pydantic_core import PydanticCustomError

from recobro.core.api import TOO_MANY_ROWS, ListParams, Money
from recobro.portfolio.models import (
    CaseStatus,
    ContactKind,
    DebtorKind,
    DocumentKind,
    DocumentStatus,
    PaymentMethod,
    PaymentStatus,
    TaxIdType,
)

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


class AgingBucketOut(Schema):
    key: str
    label: str


class AgingCellOut(Schema):
    bucket: str
    label: str
    documents: int
    debtors: int
    balance: Money
    share: Money = Field(..., description="Percentage of the portfolio's open balance (two decimals)")


class AgingPortfolioOut(Schema):
    portfolio: str = Field(..., description="The portfolio's code")
    name: str
    currency: str
    documents: int
    debtors: int = Field(..., description="Each debtor counted once, whatever their buckets")
    balance: Money
    buckets: list[AgingCellOut]


class AgingOut(Schema):
    as_of: dt.date
    buckets: list[AgingBucketOut]
    portfolios: list[AgingPortfolioOut]


class AgingParams(Schema):
    portfolio: str | None = Field(None, description="A portfolio's code; all portfolios when left out")
    as_of: dt.date | None = Field(
        None, description="Business date to age at; default: the organization's today"
    )


# --- Upserts -----------------------------------------------------------------


def _exact_decimal(value: Any) -> Any:
    """Numbers become Decimal through their text, never through float arithmetic."""
    if isinstance(value, bool):
        raise ValueError("a boolean is not an amount")
    if isinstance(value, int | float | Decimal):
        return Decimal(str(value))
    return value


#: Money in: a decimal string ("1234.50") or a JSON number (read exactly).
MoneyIn = Annotated[
    Decimal,
    BeforeValidator(_exact_decimal),
    WithJsonSchema(
        {"anyOf": [{"type": "string", "format": "decimal"}, {"type": "number"}], "examples": ["1234.50"]}
    ),
]
DecimalIn = MoneyIn


class UpsertIn(Schema):
    """Upsert bodies: required fields must always be sent; an optional field left out keeps
    its stored value (or its default for a new row); an optional field sent as null clears it."""

    model_config = ConfigDict(extra="forbid", use_enum_values=True)


class DebtorIn(UpsertIn):
    name: str = Field(..., max_length=200)
    kind: DebtorKind | None = Field(None, description="Default: person")
    tax_id: str | None = Field(
        None, description="Checked for its type; without a type, the organization's country's"
    )
    tax_id_type: TaxIdType | None = None
    language: str | None = Field(None, examples=["es"])
    timezone: str | None = Field(None, examples=["America/Mexico_City"])
    risk_score: DecimalIn | None = Field(None, description="Probability of payment, 0 to 1")
    is_disputed: bool | None = None
    is_deceased: bool | None = None
    is_bankrupt: bool | None = None
    do_not_contact: bool | None = None
    attributes: dict[str, str | None] = Field(
        None,
        description=(
            "Custom attributes to set, name → text (names: lower-case letters, digits and _, starting "
            'with a letter, at most 40). Merged into the stored ones: null or "" removes an attribute, '
            "attributes left out keep their value."
        ),
        examples=[{"region": "Norte", "segmento_erp": "A2"}],
    )


class DebtorRow(DebtorIn):
    external_id: str = Field(..., description="The debtor's id in your system")


class ContactPointIn(UpsertIn):
    """A contact point is identified by its debtor, kind and normalised value."""

    debtor_external_id: str
    kind: ContactKind
    value: str = Field(..., description="Email, phone (stored in E.164) or postal address")
    label: str | None = None
    is_primary: bool | None = None


ContactPointRow = ContactPointIn


class DocumentIn(UpsertIn):
    debtor_external_id: str = Field(..., description="The debtor must already exist")
    kind: DocumentKind | None = Field(None, description="Default: invoice")
    number: str | None = None
    product: str | None = None
    issue_date: dt.date | None = None
    due_date: dt.date
    original_amount: MoneyIn = Field(..., description="Negative for credit notes")
    balance: MoneyIn | None = Field(None, description="Amount still owed; default: the whole amount")
    currency: str | None = Field(None, description="Must be the portfolio's currency")
    status: DocumentStatus | None = Field(None, description="Default: open")


class DocumentRow(DocumentIn):
    external_id: str = Field(..., description="The document's id in your system, unique in the portfolio")


class PaymentIn(UpsertIn):
    debtor_external_id: str = Field(..., description="The debtor must already exist")
    amount: MoneyIn = Field(..., description="More than zero")
    currency: str | None = Field(None, description="Must be the portfolio's currency")
    paid_on: dt.date
    method: PaymentMethod | None = Field(None, description="Default: transfer")
    reference: str | None = None
    notes: str | None = None


class PaymentRow(PaymentIn):
    external_id: str = Field(..., description="The payment's id in your system; a payment is recorded once")


#: For the OpenAPI document; requests are checked against the setting when they come.
MAX_BULK_ROWS = settings.RECOBRO_API_MAX_BULK_ROWS


class BulkIn(Schema):
    """Rows are checked like the rows of a file import, one by one and not here, so that
    ``skip_invalid`` can write the valid ones; the row schema documents what a row holds.
    Here only the envelope is checked: ``rows`` is a list of at most
    settings.RECOBRO_API_MAX_BULK_ROWS, counted before any row is looked at."""

    @field_validator("rows", mode="before", check_fields=False)
    @classmethod
    def _check_rows(cls, rows: Any) -> Any:
        if not isinstance(rows, list):
            raise PydanticCustomError("list_type", _("`rows` must be a list of row objects."))
        limit = settings.RECOBRO_API_MAX_BULK_ROWS
        if len(rows) > limit:
            message = ngettext(
                "%(count)s row is more than the %(limit)s a call may carry; split them.",
                "%(count)s rows is more than the %(limit)s a call may carry; split them.",
                len(rows),
            ) % {"count": f"{len(rows):,}", "limit": f"{limit:,}"}
            raise PydanticCustomError(TOO_MANY_ROWS, message)
        return rows


class DebtorsBulkIn(BulkIn):
    rows: SkipValidation[list[DebtorRow]] = Field(..., max_length=MAX_BULK_ROWS)


class ContactPointsBulkIn(BulkIn):
    rows: SkipValidation[list[ContactPointRow]] = Field(..., max_length=MAX_BULK_ROWS)


class DocumentsBulkIn(BulkIn):
    portfolio: str = Field(..., description="The code of the portfolio every row belongs to")
    rows: SkipValidation[list[DocumentRow]] = Field(..., max_length=MAX_BULK_ROWS)


class PaymentsBulkIn(BulkIn):
    portfolio: str = Field(..., description="The code of the portfolio every row belongs to")
    rows: SkipValidation[list[PaymentRow]] = Field(..., max_length=MAX_BULK_ROWS)


class RowErrorOut(Schema):
    row: int | None = Field(None, description="0-based position of the row in `rows`")
    field: str | None
    code: str
    message: str
    value: str


class BulkResultOut(Schema):
    created: int
    updated: int
    unchanged: int
    invalid: int = Field(..., description="Rows not written because they are invalid")
    errors: list[RowErrorOut] = Field(..., description="Every problem of the invalid rows")
