"""The portfolio API: portfolios, debtors, contact points, documents, payments, cases and
the aging report. Adapters only: parse, scope to the key's organization, call the import
engine or a query, respond."""

from django.http import HttpRequest
from ninja import Query, Router

from recobro.core.api import AUTH_ERRORS, ErrorOut, Page, get_or_404, paginate, scoped
from recobro.portfolio.models import Case, ContactPoint, Debtor, Document, Payment, Portfolio
from recobro.portfolio.schemas import (
    CaseFilters,
    CaseOut,
    ContactPointFilters,
    ContactPointOut,
    DebtorFilters,
    DebtorOut,
    DocumentFilters,
    DocumentOut,
    PaymentFilters,
    PaymentOut,
    PortfolioFilters,
    PortfolioOut,
)

router = Router()

READ_ERRORS = {**AUTH_ERRORS, 404: ErrorOut}


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
