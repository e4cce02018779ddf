"""Back-office pages of the ledger outside the ModelAdmins: the dashboard figures, imports
(upload, job page with its progress fragment, issues CSV) and the aging report.

Views are adapters: parse, find the object for this user, call a service or query, respond.
"""

import json
from decimal import Decimal

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Sum
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods

from recobro.core.admin_base import MANAGERS, date, membership_of, money, render_page, role_of
from recobro.core.audit import Actor
from recobro.core.tenancy import get_for_user_or_404
from recobro.portfolio.aging import bucket_label
from recobro.portfolio.exports import aging_report_csv, aging_report_filename, aging_report_xlsx
from recobro.portfolio.forms import AgingFilterForm, ImportUploadForm
from recobro.portfolio.importers import (
    FIELDS,
    FINISHED,
    ImportSetupError,
    create_job,
    issues_csv,
    start_import,
)
from recobro.portfolio.importers.fields import documented_fields
from recobro.portfolio.models import Case, ImportJob, ImportKind
from recobro.portfolio.queries import aging_report

ISSUES_PER_PAGE = 50
#: Seconds between two polls of a running import's progress.
POLL_SECONDS = 1


def backoffice(view):
    """Log-in required (unfold's login page), and a membership: no organization, no page."""

    def wrapped(request, *args, **kwargs):
        if membership_of(request) is None:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return admin.site.admin_view(wrapped)


def _chart(labels: list[str], values: list[Decimal], label: str) -> str:
    return json.dumps(
        {
            "labels": labels,
            "datasets": [
                {
                    "label": str(label),
                    "data": [
                        float(v) for v in values
                    ],  # Chart.js draws floats; amounts stay Decimal elsewhere
                    "backgroundColor": "var(--color-primary-600)",
                    "maxBarThickness": 48,
                    "borderRadius": 4,
                    "displayYAxis": True,
                }
            ],
        }
    )


# --- Dashboard --------------------------------------------------------------------------------


def dashboard_figures(request: HttpRequest) -> dict | None:
    """Headline figures of the organization's open cases, per currency, and balance by bucket."""
    organization = request.organization
    cases = Case.objects.for_user(request.user, organization).open().order_by()
    per_currency = list(
        cases.values("currency")
        .annotate(count=Count("id"), balance=Sum("balance"), overdue=Sum("overdue_balance"))
        .order_by("currency")
    )
    per_bucket = {
        (r["currency"], r["bucket"]): r
        for r in cases.values("currency", "bucket").annotate(count=Count("id"), balance=Sum("balance"))
    }
    buckets = organization.aging_buckets or []
    currencies = []
    for row in sorted(per_currency, key=lambda r: r["currency"] != organization.currency):
        currency = row["currency"]
        balances = [
            (per_bucket.get((currency, b["key"])) or {}).get("balance") or Decimal(0) for b in buckets
        ]
        currencies.append(
            {
                "currency": currency,
                "count": row["count"],
                "balance": money(row["balance"], currency, organization),
                "overdue": money(row["overdue"], currency, organization),
                "overdue_share": round(100 * row["overdue"] / row["balance"]) if row["balance"] else 0,
                "buckets": [
                    {
                        "label": bucket_label(b),
                        "count": (per_bucket.get((currency, b["key"])) or {}).get("count", 0),
                        "balance": money(value, currency, organization),
                    }
                    for b, value in zip(buckets, balances, strict=True)
                ],
                "chart": _chart([bucket_label(b) for b in buckets], balances, _("Balance")),
            }
        )
    return {
        "template": "portfolio/_dashboard_figures.html",
        "currencies": currencies,
        "business_date": date(organization.today()),
        "cases_url": reverse("admin:portfolio_case_changelist"),
    }


# --- Imports -----------------------------------------------------------------------------------


@backoffice
@require_http_methods(["GET", "POST"])
def import_upload(request: HttpRequest) -> HttpResponse:
    """The upload form; a valid file becomes an import job, started at once."""
    if role_of(request) not in MANAGERS:
        raise PermissionDenied
    form = ImportUploadForm(request.POST or None, request.FILES or None, request=request)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        upload = data["file"]
        try:
            job = create_job(
                organization=request.organization,
                kind=data["kind"],
                file=upload,
                file_name=upload.name,
                actor=Actor.for_user(request.user),
                portfolio=data["portfolio"],
                profile=data["profile"],
                skip_invalid=data["skip_invalid"],
            )
        except ImportSetupError as exc:
            form.add_error(None, str(exc))
        else:
            start_import(job)
            return HttpResponseRedirect(reverse("portfolio-import-detail", args=[job.pk]))
    fields_help = [
        {"kind": label, "fields": documented_fields(kind)}
        for kind, label in ImportKind.choices
        if kind in FIELDS
    ]
    return render_page(
        request,
        "portfolio/import_upload.html",
        {"form": form, "fields_help": fields_help, "submit_label": _("Upload and import")},
        title=_("Import a file"),
    )


def _job_for(request: HttpRequest, pk: int) -> ImportJob:
    return get_for_user_or_404(
        ImportJob.objects.select_related("portfolio", "created_by", "profile"),
        request.user,
        request.organization,
        pk=pk,
    )


@backoffice
@require_GET
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The job page; for htmx, only the progress fragment (which stops polling when done)."""
    job = _job_for(request, pk)
    finished = job.status in FINISHED
    issues = Paginator(job.issues.order_by("line", "id"), ISSUES_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "job": job,
        "finished": finished,
        "poll_seconds": POLL_SECONDS,
        "issues": issues,
        "created": date(job.created_at),
        "started": date(job.started_at),
        "ended": date(job.finished_at),
    }
    headers = {"HX-Refresh": "true"} if finished and request.headers.get("HX-Request") == "true" else None
    return render_page(
        request,
        "portfolio/import_detail.html",
        context,
        title=_("Import: %(file)s") % {"file": job.file_name},
        fragment="portfolio/_import_progress.html",
        headers=headers,
    )


@backoffice
@require_GET
def import_issues_csv(request: HttpRequest, pk: int) -> HttpResponse:
    """The job's rows with their problems, as a CSV a person can fix and upload again."""
    job = _job_for(request, pk)
    stem = job.file_name.rsplit(".", 1)[0] or "import"
    response = HttpResponse(issues_csv(job), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{stem}-errors.csv"'
    return response


# --- Aging report -------------------------------------------------------------------------------


def _aging_params(request: HttpRequest) -> tuple[AgingFilterForm, dict | None]:
    form = AgingFilterForm(request.GET or None, request=request)
    if request.GET and not form.is_valid():
        return form, None
    data = form.cleaned_data if request.GET else {}
    portfolio = data.get("portfolio")
    if portfolio is None and not request.membership.sees_all_portfolios:
        portfolio = form.fields["portfolio"].queryset.first()
        if portfolio is None:
            raise PermissionDenied
    return form, {"portfolio": portfolio, "as_of": data.get("as_of") or request.organization.today()}


@backoffice
@require_GET
def aging(request: HttpRequest) -> HttpResponse:
    """Antigüedad de saldos: a table and a chart per portfolio, with XLSX and CSV downloads."""
    form, params = _aging_params(request)
    context = {"form": form, "portfolios": []}
    if params is not None:
        report = aging_report(organization=request.organization, **params)
        context["portfolios"] = [
            _aging_portfolio(report, total, request.organization) for total in report.totals
        ]
        context["as_of"] = date(report.as_of)
        query = {"as_of": params["as_of"].isoformat()}
        if params["portfolio"] is not None:
            query["portfolio"] = params["portfolio"].pk
        context["export_query"] = "&".join(f"{k}={v}" for k, v in query.items())
    return render_page(request, "portfolio/aging.html", context, title=_("Aging report"))


def _aging_portfolio(report, total, organization) -> dict:
    rows = report.rows_for(total.portfolio_id)
    currency = total.currency
    return {
        "name": total.portfolio,
        "currency": currency,
        "rows": [
            {
                "label": r.label,
                "documents": r.documents,
                "debtors": r.debtors,
                "balance": money(r.balance, currency, organization),
                "share": r.share,
            }
            for r in rows
        ],
        "total": {
            "documents": total.documents,
            "debtors": total.debtors,
            "balance": money(total.balance, currency, organization),
            "share": total.share,
        },
        "chart": _chart([r.label for r in rows], [r.balance for r in rows], _("Open balance")),
    }


@backoffice
@require_GET
def aging_export(request: HttpRequest, fmt: str) -> HttpResponse:
    _form, params = _aging_params(request)
    if params is None:
        return HttpResponseRedirect(reverse("portfolio-aging"))
    report = aging_report(organization=request.organization, **params)
    if fmt == "xlsx":
        body = aging_report_xlsx(report, request.organization.locale)
        content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        body = aging_report_csv(report)
        content_type = "text/csv; charset=utf-8"
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{aging_report_filename(report, fmt)}"'
    return response


__all__ = [
    "aging",
    "aging_export",
    "dashboard_figures",
    "import_detail",
    "import_issues_csv",
    "import_upload",
]
