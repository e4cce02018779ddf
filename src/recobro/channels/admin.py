"""Back-office for channels: message templates and the outbox.

Templates are edited here by administrators and supervisors (the strategy app replaces
this admin with one that saves through its configuration services, since steps point to
templates). The outbox is read-only: the cycle queues messages, dispatch sends them.
"""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from unfold.contrib.filters.admin import ChoicesDropdownFilter, RangeDateFilter
from unfold.decorators import display

from recobro.channels.models import Message, Template
from recobro.core.admin_base import (
    ALL_ROLES,
    MANAGERS,
    NOBODY,
    ReadOnlyTenantModelAdmin,
    TenantModelAdmin,
    date,
    money,
    scoped_filter,
)
from recobro.portfolio.models import Portfolio

LINK_CLASSES = "text-primary-600 dark:text-primary-500"

MESSAGE_LABELS = {
    "queued": "info",
    "held": "warning",
    "sent": "info",
    "delivered": "success",
    "read": "success",
    "failed": "danger",
    "replied": "success",
    "cancelled": "",
}


@admin.register(Template)
class TemplateAdmin(TenantModelAdmin):
    view_roles = ALL_ROLES
    add_roles = MANAGERS
    change_roles = MANAGERS
    delete_roles = NOBODY
    list_display = ["name", "code", "channel", "language", "subject", "status"]
    list_filter = ["is_active", ("channel", ChoicesDropdownFilter), "language"]
    search_fields = ["name", "code", "subject", "body"]
    ordering = ["code", "channel", "language"]
    fieldsets = [
        (None, {"fields": ["name", "code", "channel", "language", "is_active"]}),
        (_("Content"), {"fields": ["subject", "body"]}),
    ]

    @display(description=_("status"), label={"active": "success", "inactive": ""})
    def status(self, obj):
        return ("active", _("Active")) if obj.is_active else ("inactive", _("Inactive"))


@admin.register(Message)
class MessageAdmin(ReadOnlyTenantModelAdmin):
    """The outbox: what the cycle queued and what became of it."""

    list_display = [
        "day",
        "case_display",
        "channel",
        "template",
        "contact_point",
        "status_display",
        "sent",
        "cost_display",
    ]
    list_select_related = ["case__debtor", "template", "contact_point", "organization"]
    list_filter = [
        ("status", ChoicesDropdownFilter),
        ("channel", ChoicesDropdownFilter),
        scoped_filter("case__portfolio", Portfolio, _("portfolio")),
        scoped_filter("template", Template, _("template")),
        ("business_date", RangeDateFilter),
    ]
    search_fields = ["case__debtor__name", "=case__debtor__external_id", "=provider_id", "=idempotency_key"]
    fieldsets = [
        (None, {"fields": ["case", "debtor", "channel", "contact_point", "template", "language"]}),
        (_("Schedule and status"), {"fields": ["business_date", "scheduled_for", "status", "sent_at"]}),
        (_("Content"), {"fields": ["subject", "body"]}),
        (
            _("Provider"),
            {"fields": ["provider", "provider_id", "cost", "compliance_decision", "idempotency_key"]},
        ),
    ]

    @display(description=_("business date"), ordering="business_date")
    def day(self, obj):
        return date(obj.business_date)

    @display(description=_("case"), ordering="case__debtor__name")
    def case_display(self, obj):
        url = reverse("admin:portfolio_case_change", args=[obj.case_id])
        return format_html('<a href="{}" class="{}">{}</a>', url, LINK_CLASSES, obj.case.debtor)

    @display(description=_("status"), ordering="status", label=MESSAGE_LABELS)
    def status_display(self, obj):
        return obj.status, obj.get_status_display()

    @display(description=_("sent"), ordering="sent_at")
    def sent(self, obj):
        return date(obj.sent_at)

    @display(description=_("cost"), ordering="cost")
    def cost_display(self, obj):
        return money(obj.cost, obj.case.currency, obj.organization) if obj.cost is not None else "—"


__all__ = ["MessageAdmin", "TemplateAdmin"]
