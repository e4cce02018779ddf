"""The portfolio API: portfolios, debtors, contact points, documents, payments, cases and
the aging report. Adapters only: parse, scope to the key's organization, call the import
engine or a query, respond."""

from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from ninja import Query, Router, Status

from recobro.core.api import (
    AUTH_ERRORS,
    WRITE_ERRORS,
    ApiError,
    ErrorOut,
    Page,
    actor_of,
    get_or_404,
    organization_of,
    paginate,
    scoped,
    write_auth,
)
from recobro.portfolio.importers import ImportSetupError, RowError, UpsertResult, upsert_rows
from recobro.portfolio.models import Case, ContactPoint, Debtor, Document, ImportKind, Payment, Portfolio
from recobro.portfolio.queries import aging_report
from recobro.portfolio.schemas import (
    AgingOut,
    AgingParams,
    BulkResultOut,
    CaseFilters,
    CaseOut,
    ContactPointFilters,
    ContactPointIn,
    ContactPointOut,
    ContactPointsBulkIn,
    DebtorFilters,
    DebtorIn,
    DebtorOut,
    DebtorsBulkIn,
    DocumentFilters,
    DocumentIn,
    DocumentOut,
    DocumentsBulkIn,
    PaymentFilters,
    PaymentIn,
    PaymentOut,
    PaymentsBulkIn,
    PortfolioFilters,
    PortfolioOut,
)

router = Router()

READ_ERRORS = {**AUTH_ERRORS, 404: ErrorOut}

SKIP_INVALID_HELP = (
    "false (default): any invalid row means nothing is written (422 with every row error). "
    "true: the valid rows are written and the answer (200) lists the invalid ones in `errors`."
)


# --- Upserts through the import engine ---------------------------------------


def upsert(
    request: HttpRequest,
    kind: str,
    rows: list,
    *,
    portfolio: Portfolio | None = None,
    skip_invalid: bool = False,
) -> UpsertResult:
    """The same validation and upsert as file imports, attributed to the request's key."""
    try:
        return upsert_rows(
            organization=organization_of(request),
            kind=kind,
            rows=rows,
            actor=actor_of(request),
            portfolio=portfolio,
            skip_invalid=skip_invalid,
        )
    except ImportSetupError as exc:
        raise ApiError(422, "invalid_request", " ".join(exc.messages)) from exc


def error_details(errors: list[RowError], *, bulk: bool) -> list[dict]:
    return [
        {
            "row": e.row if bulk else None,
            "field": e.field or None,
            "code": e.code,
            "message": e.message,
            "value": e.value,
        }
        for e in errors
    ]


def upsert_one(request: HttpRequest, kind: str, row: dict, *, portfolio: Portfolio | None = None) -> int:
    """Upsert one row; the HTTP status: 201 when it was created, 200 when updated or unchanged."""
    result = upsert(request, kind, [row], portfolio=portfolio)
    if result.errors:
        details = error_details(result.errors, bulk=False)
        first = details[0]
        raise ApiError(422, "invalid_input", first["message"], field=first["field"], details=details)
    return 201 if result.created else 200


def upsert_many(
    request: HttpRequest, kind: str, rows: list, *, portfolio: Portfolio | None = None, skip_invalid: bool
) -> dict:
    result = upsert(request, kind, rows, portfolio=portfolio, skip_invalid=skip_invalid)
    details = error_details(result.errors, bulk=True)
    if details and not skip_invalid:
        message = ngettext(
            "%(count)d row is invalid; nothing was written.",
            "%(count)d rows are invalid; nothing was written.",
            result.invalid,
        ) % {"count": result.invalid}
        first = details[0]
        raise ApiError(422, "invalid_rows", message, field=first["field"], row=first["row"], details=details)
    return {
        "created": result.created,
        "updated": result.updated,
        "unchanged": result.unchanged,
        "invalid": result.invalid,
        "errors": details,
    }


def portfolio_in_body(request: HttpRequest, code: str) -> Portfolio:
    portfolio = scoped(Portfolio.objects, request).filter(code=code).first()
    if portfolio is None:
        message = _("There is no portfolio with the code “%(code)s”.") % {"code": code}
        raise ApiError(422, "unknown_portfolio", message, field="portfolio")
    return portfolio


# --- Portfolios --------------------------------------------------------------


@router.get(
    "/portfolios",
    response={200: Page[PortfolioOut], **AUTH_ERRORS},
    tags=["Portfolios"],
    summary="List portfolios",
)
def list_portfolios(request: HttpRequest, filters: Query[PortfolioFilters]):
    return paginate(filters.apply(scoped(Portfolio.objects, request)), filters)


# --- Debtors -----------------------------------------------------------------


@router.get(
    "/debtors", response={200: Page[DebtorOut], **AUTH_ERRORS}, tags=["Debtors"], summary="List debtors"
)
def list_debtors(request: HttpRequest, filters: Query[DebtorFilters]):
    return paginate(filters.apply(scoped(Debtor.objects, request)), filters)


@router.get(
    "/debtors/{path:external_id}",
    response={200: DebtorOut, **READ_ERRORS},
    tags=["Debtors"],
    summary="Get a debtor by external id",
)
def get_debtor(request: HttpRequest, external_id: str):
    return get_or_404(Debtor.objects, request, external_id=external_id)


@router.put(
    "/debtors/{path:external_id}",
    auth=write_auth,
    response={200: DebtorOut, 201: DebtorOut, **WRITE_ERRORS},
    tags=["Debtors"],
    summary="Create or update a debtor by external id",
    description="201 when the debtor was created, 200 when it was updated or already identical.",
)
def put_debtor(request: HttpRequest, external_id: str, payload: DebtorIn):
    row = payload.model_dump(exclude_unset=True) | {"external_id": external_id}
    status = upsert_one(request, ImportKind.DEBTORS, row)
    return Status(status, get_or_404(Debtor.objects, request, external_id=external_id))


@router.post(
    "/bulk/debtors",
    auth=write_auth,
    response={200: BulkResultOut, **WRITE_ERRORS},
    tags=["Debtors"],
    summary="Create or update up to 10,000 debtors",
)
def bulk_debtors(request: HttpRequest, payload: DebtorsBulkIn, skip_invalid: bool = False):
    return upsert_many(request, ImportKind.DEBTORS, payload.rows, skip_invalid=skip_invalid)


# --- Contact points ----------------------------------------------------------


@router.get(
    "/contact-points",
    response={200: Page[ContactPointOut], **AUTH_ERRORS},
    tags=["Contact points"],
    summary="List contact points",
)
def list_contact_points(request: HttpRequest, filters: Query[ContactPointFilters]):
    queryset = scoped(ContactPoint.objects, request).select_related("debtor")
    return paginate(filters.apply(queryset), filters)


@router.get(
    "/contact-points/{int:contact_point_id}",
    response={200: ContactPointOut, **READ_ERRORS},
    tags=["Contact points"],
    summary="Get a contact point",
)
def get_contact_point(request: HttpRequest, contact_point_id: int):
    return get_or_404(ContactPoint.objects.select_related("debtor"), request, pk=contact_point_id)


@router.post(
    "/contact-points",
    auth=write_auth,
    response={200: ContactPointOut, 201: ContactPointOut, **WRITE_ERRORS},
    tags=["Contact points"],
    summary="Create or update a contact point",
    description=(
        "A contact point is identified by its debtor, kind and normalised value. "
        "201 when it was created, 200 when it was updated or already identical."
    ),
)
def post_contact_point(request: HttpRequest, payload: ContactPointIn):
    row = payload.model_dump(exclude_unset=True)
    status = upsert_one(request, ImportKind.CONTACT_POINTS, row)
    # Stored as received (trimmed); its normalised form is unique per debtor and kind.
    queryset = ContactPoint.objects.select_related("debtor")
    lookup = {
        "debtor__external_id": payload.debtor_external_id,
        "kind": payload.kind,
        "value": payload.value.strip(),
    }
    return Status(status, get_or_404(queryset, request, **lookup))


@router.post(
    "/bulk/contact-points",
    auth=write_auth,
    response={200: BulkResultOut, **WRITE_ERRORS},
    tags=["Contact points"],
    summary="Create or update up to 10,000 contact points",
)
def bulk_contact_points(request: HttpRequest, payload: ContactPointsBulkIn, skip_invalid: bool = False):
    return upsert_many(request, ImportKind.CONTACT_POINTS, payload.rows, skip_invalid=skip_invalid)


# --- Documents ---------------------------------------------------------------


@router.get(
    "/documents",
    response={200: Page[DocumentOut], **AUTH_ERRORS},
    tags=["Documents"],
    summary="List documents",
)
def list_documents(request: HttpRequest, filters: Query[DocumentFilters]):
    queryset = scoped(Document.objects, request).select_related("portfolio", "debtor")
    return paginate(filters.apply(queryset), filters)


@router.get(
    "/portfolios/{portfolio}/documents/{path:external_id}",
    response={200: DocumentOut, **READ_ERRORS},
    tags=["Documents"],
    summary="Get a document by portfolio and external id",
)
def get_document(request: HttpRequest, portfolio: str, external_id: str):
    queryset = Document.objects.select_related("portfolio", "debtor")
    return get_or_404(queryset, request, portfolio__code=portfolio, external_id=external_id)


@router.put(
    "/portfolios/{portfolio}/documents/{path:external_id}",
    auth=write_auth,
    response={200: DocumentOut, 201: DocumentOut, **WRITE_ERRORS},
    tags=["Documents"],
    summary="Create or update a document by portfolio and external id",
    description="201 when the document was created, 200 when it was updated or already identical.",
)
def put_document(request: HttpRequest, portfolio: str, external_id: str, payload: DocumentIn):
    target = get_or_404(Portfolio.objects, request, code=portfolio)
    row = payload.model_dump(exclude_unset=True) | {"external_id": external_id}
    status = upsert_one(request, ImportKind.DOCUMENTS, row, portfolio=target)
    queryset = Document.objects.select_related("portfolio", "debtor")
    return Status(status, get_or_404(queryset, request, portfolio=target, external_id=external_id))


@router.post(
    "/bulk/documents",
    auth=write_auth,
    response={200: BulkResultOut, **WRITE_ERRORS},
    tags=["Documents"],
    summary="Create or update up to 10,000 documents of one portfolio",
)
def bulk_documents(request: HttpRequest, payload: DocumentsBulkIn, skip_invalid: bool = False):
    target = portfolio_in_body(request, payload.portfolio)
    return upsert_many(
        request, ImportKind.DOCUMENTS, payload.rows, portfolio=target, skip_invalid=skip_invalid
    )


# --- Payments ----------------------------------------------------------------


@router.get(
    "/payments", response={200: Page[PaymentOut], **AUTH_ERRORS}, tags=["Payments"], summary="List payments"
)
def list_payments(request: HttpRequest, filters: Query[PaymentFilters]):
    queryset = scoped(Payment.objects, request).select_related("portfolio", "debtor")
    return paginate(filters.apply(queryset), filters)


@router.get(
    "/portfolios/{portfolio}/payments/{path:external_id}",
    response={200: PaymentOut, **READ_ERRORS},
    tags=["Payments"],
    summary="Get a payment by portfolio and external id",
)
def get_payment(request: HttpRequest, portfolio: str, external_id: str):
    queryset = Payment.objects.select_related("portfolio", "debtor")
    return get_or_404(queryset, request, portfolio__code=portfolio, external_id=external_id)


@router.put(
    "/portfolios/{portfolio}/payments/{path:external_id}",
    auth=write_auth,
    response={200: PaymentOut, 201: PaymentOut, **WRITE_ERRORS},
    tags=["Payments"],
    summary="Record a payment by portfolio and external id",
    description=(
        "201 when the payment was recorded (and allocated to the debtor's documents), 200 when the "
        "same payment was already recorded. A payment cannot change its amount once recorded."
    ),
)
def put_payment(request: HttpRequest, portfolio: str, external_id: str, payload: PaymentIn):
    target = get_or_404(Portfolio.objects, request, code=portfolio)
    row = payload.model_dump(exclude_unset=True) | {"external_id": external_id}
    status = upsert_one(request, ImportKind.PAYMENTS, row, portfolio=target)
    queryset = Payment.objects.select_related("portfolio", "debtor")
    return Status(status, get_or_404(queryset, request, portfolio=target, external_id=external_id))


@router.post(
    "/bulk/payments",
    auth=write_auth,
    response={200: BulkResultOut, **WRITE_ERRORS},
    tags=["Payments"],
    summary="Record up to 10,000 payments of one portfolio",
)
def bulk_payments(request: HttpRequest, payload: PaymentsBulkIn, skip_invalid: bool = False):
    target = portfolio_in_body(request, payload.portfolio)
    return upsert_many(
        request, ImportKind.PAYMENTS, payload.rows, portfolio=target, skip_invalid=skip_invalid
    )


# --- Cases -------------------------------------------------------------------


@router.get("/cases", response={200: Page[CaseOut], **AUTH_ERRORS}, tags=["Cases"], summary="List cases")
def list_cases(request: HttpRequest, filters: Query[CaseFilters]):
    queryset = scoped(Case.objects, request).select_related("portfolio", "debtor")
    return paginate(filters.apply(queryset), filters)


@router.get(
    "/cases/{int:case_id}", response={200: CaseOut, **READ_ERRORS}, tags=["Cases"], summary="Get a case"
)
def get_case(request: HttpRequest, case_id: int):
    return get_or_404(Case.objects.select_related("portfolio", "debtor"), request, pk=case_id)


# --- Aging report ------------------------------------------------------------


@router.get(
    "/aging",
    response={200: AgingOut, **READ_ERRORS},
    tags=["Cases"],
    summary="Aging report (antigüedad de saldos) per portfolio and bucket",
    description=(
        "Open balances per portfolio and aging bucket, each document aged by its due date as of "
        "`as_of` (default: the organization's business date). Shares are percentages of each "
        "portfolio's open balance; portfolios may differ in currency, so there is no grand total."
    ),
)
def get_aging(request: HttpRequest, params: Query[AgingParams]):
    organization = organization_of(request)
    portfolio = get_or_404(Portfolio.objects, request, code=params.portfolio) if params.portfolio else None
    report = aging_report(
        organization=organization, as_of=params.as_of or organization.today(), portfolio=portfolio
    )
    codes = dict(scoped(Portfolio.objects, request).values_list("pk", "code"))
    return {
        "as_of": report.as_of,
        "buckets": report.buckets,
        "portfolios": [
            {
                "portfolio": codes[total.portfolio_id],
                "name": total.portfolio,
                "currency": total.currency,
                "documents": total.documents,
                "debtors": total.debtors,
                "balance": total.balance,
                "buckets": [
                    {
                        "bucket": row.bucket,
                        "label": row.label,
                        "documents": row.documents,
                        "debtors": row.debtors,
                        "balance": row.balance,
                        "share": row.share,
                    }
                    for row in report.rows_for(total.portfolio_id)
                ],
            }
            for total in report.totals
        ],
    }
