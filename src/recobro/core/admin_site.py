"""The back-office site: the dashboard and the sidebar (wired in settings.UNFOLD).

The dashboard is a list of panels. Each app contributes its own panels with
``register_dashboard_panel`` from its admin module, so this base layer never imports the
apps above it. The sidebar names pages by URL name only.
"""

from collections.abc import Callable
from typing import Any

from django.apps import apps
from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from recobro.core.admin_base import MANAGERS, membership_of, role_of

#: A panel takes the request and returns its template name and context, or None to hide.
DashboardPanel = Callable[[HttpRequest], dict[str, Any] | None]

_panels: list[DashboardPanel] = []


def register_dashboard_panel(panel: DashboardPanel) -> DashboardPanel:
    if panel not in _panels:
        _panels.append(panel)
    return panel


def dashboard_callback(request: HttpRequest, context: dict[str, Any]) -> dict[str, Any]:
    membership = membership_of(request)
    panels = []
    if membership is not None:
        panels = [p for p in (panel(request) for panel in _panels) if p]
    context.update(
        {
            "title": _("Dashboard"),
            "membership": membership,
            "organization": getattr(request, "organization", None),
            "panels": panels,
        }
    )
    return context


admin.site.index_template = "core/dashboard.html"
admin.site.index_title = _("Dashboard")
admin.site.site_title = "Recobro"
admin.site.site_header = "Recobro"


# --- Sidebar ----------------------------------------------------------------------


def can_view(model_label: str) -> Callable[[HttpRequest], bool]:
    """Permission callback: the model's admin lets this request see its list."""

    def check(request: HttpRequest) -> bool:
        model_admin = admin.site._registry.get(apps.get_model(model_label))
        return model_admin is not None and model_admin.has_view_permission(request)

    return check


def has_role(roles) -> Callable[[HttpRequest], bool]:
    def check(request: HttpRequest) -> bool:
        return role_of(request) in roles

    return check


def is_member(request: HttpRequest) -> bool:
    return membership_of(request) is not None


def _changelist(label: str) -> str:
    app_label, model_name = label.lower().split(".")
    return reverse_lazy(f"admin:{app_label}_{model_name}_changelist")


def _model_item(title, icon: str, label: str) -> dict[str, Any]:
    return {"title": title, "icon": icon, "link": _changelist(label), "permission": can_view(label)}


def sidebar_navigation(request: HttpRequest) -> list[dict[str, Any]]:
    return [
        {
            "title": _("Home"),
            "items": [
                {"title": _("Dashboard"), "icon": "dashboard", "link": reverse_lazy("admin:index")},
            ],
        },
        {
            "title": _("Portfolio"),
            "separator": True,
            "items": [
                _model_item(_("Portfolios"), "folder_open", "portfolio.Portfolio"),
                _model_item(_("Debtors"), "groups", "portfolio.Debtor"),
                _model_item(_("Contact points"), "contact_phone", "portfolio.ContactPoint"),
                _model_item(_("Documents"), "receipt_long", "portfolio.Document"),
                _model_item(_("Payments"), "payments", "portfolio.Payment"),
                _model_item(_("Cases"), "work", "portfolio.Case"),
            ],
        },
        {
            "title": _("Imports"),
            "separator": True,
            "items": [
                {
                    "title": _("Upload a file"),
                    "icon": "upload_file",
                    "link": reverse_lazy("portfolio-import-upload"),
                    "permission": has_role(MANAGERS),
                },
                _model_item(_("Import history"), "history", "portfolio.ImportJob"),
                _model_item(_("Mapping profiles"), "schema", "portfolio.ImportProfile"),
            ],
        },
        {
            "title": _("Reports"),
            "separator": True,
            "items": [
                {
                    "title": _("Aging report"),
                    "icon": "bar_chart",
                    "link": reverse_lazy("portfolio-aging"),
                    "permission": is_member,
                },
            ],
        },
        {
            "title": _("Administration"),
            "separator": True,
            "items": [
                _model_item(_("Organization settings"), "business", "core.Organization"),
                _model_item(_("Users"), "manage_accounts", "core.Membership"),
                _model_item(_("API keys"), "key", "core.ApiKey"),
                _model_item(_("Audit log"), "policy", "core.AuditEntry"),
            ],
        },
    ]
