"""Back-office for the ledger: portfolios, debtors, contact points, documents, payments,
cases, and the records of imports.

Ledger rows that services own (documents' balances, payments, allocations, cases) are
read-only here; payments are entered through ``record_payment``.
"""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Prefetch
from django.http import Http404, HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from unfold.contrib.filters.admin import ChoicesDropdownFilter, DropdownFilter, RangeDateFilter
from unfold.datasets import BaseDataset
from unfold.decorators import action, display

from recobro.core.admin import OrganizationAdmin
from recobro.core.admin_base import (
    FIELD_WORKERS,
    MANAGERS,
    ReadOnlyTabularInline,
    ReadOnlyTenantModelAdmin,
    TenantModelAdmin,
    TenantTabularInline,
    date,
    money,
    organization_of,
    render_page,
    scoped_filter,
    scoped_queryset,
)
from recobro.core.admin_site import register_dashboard_panel
from recobro.core.audit import Actor
from recobro.core.models import Organization
from recobro.portfolio import aging, views
from recobro.portfolio.forms import (
    ContactPointForm,
    ImportProfileForm,
    OrganizationSettingsForm,
    RecordPaymentForm,
)
from recobro.portfolio.models import (
    Allocation,
    Case,
    ContactPoint,
    Debtor,
    Document,
    ImportJob,
    ImportKind,
    ImportProfile,
    Payment,
    Portfolio,
)
from recobro.portfolio.references import assign_payment_references, format_reference, normalize
from recobro.portfolio.services import LedgerError
from recobro.portfolio.services.payments import record_payment
from recobro.portfolio.tasks import refresh_cases_later

register_dashboard_panel(views.dashboard_figures)

LINK_CLASSES = "text-primary-600 dark:text-primary-500"

PortfolioFilter = scoped_filter("portfolio", Portfolio, _("portfolio"))

STATUS_LABELS = {
    "open": "info",
    "paid": "success",
    "written_off": "danger",
    "disputed": "warning",
    "cancelled": "",
    "refinanced": "",
    "closed": "",
    "posted": "success",
    "reversed": "danger",
    "pending": "",
    "running": "info",
    "succeeded": "success",
    "partial": "warning",
    "rejected": "danger",
    "failed": "danger",
}


def status_label(obj, field: str = "status"):
    return getattr(obj, field), getattr(obj, f"get_{field}_display")()


def bucket_label(organization: Organization, key: str) -> str:
    for bucket in organization.aging_buckets or []:
        if bucket.get("key") == key:
            return aging.bucket_label(bucket)
    return key or "—"


def debtor_link(debtor: Debtor):
    url = reverse("admin:portfolio_debtor_change", args=[debtor.pk])
    return format_html('<a href="{}" class="{}">{}</a>', url, LINK_CLASSES, debtor.name)


# --- Organization settings (aging buckets are a ledger concept, so the form lives here) ---


class OrganizationSettingsAdmin(OrganizationAdmin):
    form = OrganizationSettingsForm

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if "aging_buckets" in form.changed_data:
            # Cases carry their bucket key: a background task puts them in the new buckets
            # once this commits (a large organization takes a while).
            refresh_cases_later(obj)
            messages.info(
                request,
                _(
                    "The cases are being recomputed into the new aging buckets; lists and figures follow in "
                    "a moment."
                ),
            )


admin.site.unregister(Organization)
admin.site.register(Organization, OrganizationSettingsAdmin)


# --- Portfolios ---------------------------------------------------------------------------


@admin.register(Portfolio)
class PortfolioAdmin(TenantModelAdmin):
    list_display = ["name", "code", "creditor", "currency", "jurisdiction", "allocation_order", "is_active"]
    list_filter = ["is_active", ("allocation_order", ChoicesDropdownFilter)]
    search_fields = ["name", "code", "creditor"]
    fieldsets = [
        (None, {"fields": ["name", "code", "creditor", "is_active"]}),
        (_("Rules"), {"fields": ["currency", "jurisdiction", "allocation_order"]}),
    ]

    def get_readonly_fields(self, request, obj=None):
        # The currency of a portfolio with documents would contradict its ledger.
        return ["code", "currency"] if obj is not None else []


# --- Debtors --------------------------------------------------------------------------------


class DebtorScopedAdmin(ReadOnlyTenantModelAdmin):
    """A read-only list of one debtor's rows, shown as a tab of the debtor page."""

    list_per_page = 20
    select_related: tuple = ()
    prefetch_related: tuple = ()

    def get_queryset(self, request):
        debtor_id = str((getattr(self, "extra_context", None) or {}).get("object") or "")
        if not debtor_id.isdigit():
            return self.model.objects.none()
        qs = super().get_queryset(request).filter(debtor_id=int(debtor_id))
        return qs.select_related(*self.select_related).prefetch_related(*self.prefetch_related)


class DebtorDocumentsAdmin(DebtorScopedAdmin):
    list_display = ["number_link", "kind", "portfolio", "due", "original", "open_balance", "status_display"]
    select_related = ("portfolio", "organization")
    ordering = ["due_date", "id"]
    search_fields = ["number", "external_id"]

    @display(description=_("number"))
    def number_link(self, obj):
        url = reverse("admin:portfolio_document_change", args=[obj.pk])
        return format_html('<a href="{}" class="{}">{}</a>', url, LINK_CLASSES, obj)

    @display(description=_("due date"))
    def due(self, obj):
        return date(obj.due_date)

    @display(description=_("original amount"))
    def original(self, obj):
        return money(obj.original_amount, obj.currency, obj.organization)

    @display(description=_("open balance"))
    def open_balance(self, obj):
        return money(obj.balance, obj.currency, obj.organization)

    @display(description=_("status"), label=STATUS_LABELS)
    def status_display(self, obj):
        return status_label(obj)


class DebtorPaymentsAdmin(DebtorScopedAdmin):
    list_display = ["paid", "amount_display", "portfolio", "method", "source", "reference", "applied_to"]
    select_related = ("portfolio", "organization")
    prefetch_related = (
        Prefetch("allocations", queryset=Allocation.objects.select_related("document").order_by("pk")),
    )
    ordering = ["-paid_on", "-id"]

    @display(description=_("payment date"))
    def paid(self, obj):
        url = reverse("admin:portfolio_payment_change", args=[obj.pk])
        return format_html('<a href="{}" class="{}">{}</a>', url, LINK_CLASSES, date(obj.paid_on))

    @display(description=_("amount"))
    def amount_display(self, obj):
        return money(obj.amount, obj.currency, obj.organization)

    @display(description=_("applied to"))
    def applied_to(self, obj):
        allocations = obj.allocations.all()
        if not allocations:
            return _("Unallocated")
        return format_html_join(
            ", ",
            "{}: {}",
            ((a.document, money(a.amount, obj.currency, obj.organization)) for a in allocations),
        )


class DebtorCasesAdmin(DebtorScopedAdmin):
    list_display = [
        "portfolio_link",
        "balance_display",
        "overdue_display",
        "dpd",
        "bucket_display",
        "status_display",
    ]
    select_related = ("portfolio", "organization")
    ordering = ["portfolio__name"]

    @display(description=_("portfolio"))
    def portfolio_link(self, obj):
        url = reverse("admin:portfolio_case_change", args=[obj.pk])
        return format_html('<a href="{}" class="{}">{}</a>', url, LINK_CLASSES, obj.portfolio)

    @display(description=_("balance"))
    def balance_display(self, obj):
        return money(obj.balance, obj.currency, obj.organization)

    @display(description=_("overdue balance"))
    def overdue_display(self, obj):
        return money(obj.overdue_balance, obj.currency, obj.organization)

    @display(description=_("aging bucket"))
    def bucket_display(self, obj):
        return bucket_label(obj.organization, obj.bucket)

    @display(description=_("status"), label=STATUS_LABELS)
    def status_display(self, obj):
        return status_label(obj)


class DebtorCasesDataset(BaseDataset):
    model = Case
    model_admin = DebtorCasesAdmin
    title = _("Cases")


class DebtorDocumentsDataset(BaseDataset):
    model = Document
    model_admin = DebtorDocumentsAdmin
    title = _("Documents")


class DebtorPaymentsDataset(BaseDataset):
    model = Payment
    model_admin = DebtorPaymentsAdmin
    title = _("Payments")


class ContactPointInline(TenantTabularInline):
    model = ContactPoint
    form = ContactPointForm
    fields = ["kind", "value", "normalized", "label", "is_primary", "wrong_number"]
    readonly_fields = ["normalized"]
    add_roles = FIELD_WORKERS
    change_roles = FIELD_WORKERS
    delete_roles = MANAGERS
    per_page = 20
    ordering = ["-is_primary", "kind", "pk"]


class DebtorFlagFilter(DropdownFilter):
    title = _("flags")
    parameter_name = "flag"
    flags = {
        "is_disputed": _("Dispute"),
        "is_deceased": _("Deceased"),
        "is_bankrupt": _("Bankrupt"),
        "do_not_contact": _("Do not contact"),
    }

    def lookups(self, request, model_admin):
        return list(self.flags.items())

    def queryset(self, request, queryset):
        if self.value() in self.flags:
            return queryset.filter(**{self.value(): True})
        return queryset


@admin.register(Debtor)
class DebtorAdmin(TenantModelAdmin):
    list_display = ["name", "external_id", "kind", "tax_id", "reference", "flags"]
    list_filter = [
        ("kind", ChoicesDropdownFilter),
        DebtorFlagFilter,
        scoped_filter("cases__portfolio", Portfolio, _("portfolio")),
    ]
    search_fields = ["name", "=external_id", "=tax_id", "=payment_reference"]
    readonly_fields = ["reference"]
    fieldsets = [
        (None, {"fields": ["name", "kind", "external_id"]}),
        (_("Identity"), {"fields": ["tax_id_type", "tax_id", "reference"]}),
        (_("Flags"), {"fields": ["is_disputed", "is_deceased", "is_bankrupt", "do_not_contact"]}),
        (
            _("Profile"),
            {"fields": ["language", "timezone", "risk_score", "attributes"], "classes": ["collapse"]},
        ),
    ]
    inlines = [ContactPointInline]
    change_form_datasets = [DebtorCasesDataset, DebtorDocumentsDataset, DebtorPaymentsDataset]
    actions_detail = ["record_payment"]

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if term and normalize(term).isdigit() and len(normalize(term)) >= 13:
            term = normalize(term)  # a payment reference typed with spaces
        return super().get_search_results(request, queryset, term)

    def get_changeform_datasets(self, request):
        object_id = (request.resolver_match.kwargs or {}).get("object_id") if request.resolver_match else None
        return super().get_changeform_datasets(request) if object_id else []

    def save_related(self, request, form, formsets, change):
        if not change:  # before the audit entry is written, so that it shows the reference
            assign_payment_references(organization=form.instance.organization)
            form.instance.refresh_from_db(fields=["payment_reference"])
        super().save_related(request, form, formsets, change)

    @display(description=_("payment reference"), ordering="payment_reference")
    def reference(self, obj):
        return format_reference(obj.payment_reference) if obj.payment_reference else "—"

    @display(description=_("flags"), label=True)
    def flags(self, obj):
        return [str(label) for name, label in DebtorFlagFilter.flags.items() if getattr(obj, name)] or None

    def has_record_payment_permission(self, request, object_id=None):
        return admin.site._registry[Payment].has_add_permission(request)

    @action(
        description=_("Record a payment"),
        url_path="record-payment",
        icon="payments",
        permissions=["record_payment"],
    )
    def record_payment(self, request, object_id):
        url = reverse("admin:portfolio_payment_add")
        return HttpResponseRedirect(f"{url}?{urlencode({'debtor': object_id})}")


# --- Contact points --------------------------------------------------------------------------


@admin.register(ContactPoint)
class ContactPointAdmin(TenantModelAdmin):
    form = ContactPointForm
    add_roles = FIELD_WORKERS
    change_roles = FIELD_WORKERS
    list_display = [
        "normalized",
        "kind",
        "debtor_display",
        "label",
        "is_primary",
        "opted_out",
        "wrong_number",
    ]
    list_select_related = ["debtor"]
    list_filter = [("kind", ChoicesDropdownFilter), "is_primary", "wrong_number"]
    search_fields = ["normalized", "value", "debtor__name", "=debtor__external_id"]
    autocomplete_fields = ["debtor"]
    readonly_fields = ["normalized"]
    fieldsets = [
        (None, {"fields": ["debtor", "kind", "value", "normalized", "label", "is_primary"]}),
        (_("Consent"), {"fields": ["verified_at", "consent_at", "opted_out_at", "wrong_number"]}),
    ]

    @display(description=_("debtor"), ordering="debtor__name")
    def debtor_display(self, obj):
        return debtor_link(obj.debtor)

    @display(description=_("opted out"), boolean=True)
    def opted_out(self, obj):
        return obj.opted_out_at is not None


# --- Documents ----------------------------------------------------------------------------


@admin.register(Document)
class DocumentAdmin(ReadOnlyTenantModelAdmin):
    """Documents arrive by import or API; their balances move only through payments."""

    list_display = [
        "__str__",
        "debtor_display",
        "portfolio",
        "kind",
        "due",
        "original",
        "open_balance",
        "status_display",
    ]
    list_select_related = ["debtor", "portfolio", "organization"]
    list_filter = [
        ("status", ChoicesDropdownFilter),
        ("kind", ChoicesDropdownFilter),
        PortfolioFilter,
        ("due_date", RangeDateFilter),
    ]
    search_fields = ["=external_id", "=number", "debtor__name", "=debtor__external_id"]
    fieldsets = [
        (None, {"fields": ["debtor", "portfolio", "external_id", "number", "kind", "product"]}),
        (_("Dates"), {"fields": ["issue_date", "due_date"]}),
        (_("Amounts"), {"fields": ["original", "open_balance", "currency", "status"]}),
        (_("Custom attributes"), {"fields": ["attributes"]}),
    ]
    readonly_fields = ["original", "open_balance"]

    @display(description=_("debtor"), ordering="debtor__name")
    def debtor_display(self, obj):
        return debtor_link(obj.debtor)

    @display(description=_("due date"), ordering="due_date")
    def due(self, obj):
        return date(obj.due_date)

    @display(description=_("original amount"), ordering="original_amount")
    def original(self, obj):
        return money(obj.original_amount, obj.currency, obj.organization)

    @display(description=_("open balance"), ordering="balance")
    def open_balance(self, obj):
        return money(obj.balance, obj.currency, obj.organization)

    @display(description=_("status"), ordering="status", label=STATUS_LABELS)
    def status_display(self, obj):
        return status_label(obj)


# --- Payments ---------------------------------------------------------------------------------


class AllocationInline(ReadOnlyTabularInline):
    model = Allocation
    fields = ["document", "amount_display"]
    readonly_fields = fields
    show_change_link = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("document", "payment__organization")

    @display(description=_("amount"))
    def amount_display(self, obj):
        return money(obj.amount, obj.payment.currency, obj.payment.organization)


@admin.register(Payment)
class PaymentAdmin(ReadOnlyTenantModelAdmin):
    """Payments are recorded through the ledger service, never saved by the admin."""

    add_roles = MANAGERS
    list_display = [
        "paid",
        "debtor_display",
        "portfolio",
        "amount_display",
        "unallocated",
        "method",
        "source",
        "reference",
        "status_display",
    ]
    list_select_related = ["debtor", "portfolio", "organization"]
    list_filter = [
        ("source", ChoicesDropdownFilter),
        ("method", ChoicesDropdownFilter),
        ("status", ChoicesDropdownFilter),
        PortfolioFilter,
        ("paid_on", RangeDateFilter),
    ]
    search_fields = ["=reference", "=external_id", "debtor__name", "=debtor__external_id"]
    date_hierarchy = "paid_on"
    fieldsets = [
        (None, {"fields": ["debtor", "portfolio", "paid_on", "amount_display", "unallocated", "status"]}),
        (_("Origin"), {"fields": ["method", "source", "reference", "external_id", "notes"]}),
    ]
    readonly_fields = ["amount_display", "unallocated"]
    inlines = [AllocationInline]

    @display(description=_("payment date"), ordering="paid_on")
    def paid(self, obj):
        return date(obj.paid_on)

    @display(description=_("debtor"), ordering="debtor__name")
    def debtor_display(self, obj):
        return debtor_link(obj.debtor)

    @display(description=_("amount"), ordering="amount")
    def amount_display(self, obj):
        return money(obj.amount, obj.currency, obj.organization)

    @display(description=_("unallocated"))
    def unallocated(self, obj):
        return money(obj.unallocated_amount, obj.currency, obj.organization)

    @display(description=_("status"), ordering="status", label=STATUS_LABELS)
    def status_display(self, obj):
        return status_label(obj)

    def add_view(self, request, form_url="", extra_context=None):
        """Manual payment entry: the form calls ``record_payment``; its errors show on the form."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        debtor = None
        debtor_id = request.GET.get("debtor", "")
        if debtor_id:
            if not debtor_id.isdigit():
                raise Http404
            debtor = scoped_queryset(Debtor, request).filter(pk=int(debtor_id)).first()
            if debtor is None:
                raise Http404
        form = RecordPaymentForm(request.POST or None, request=request, debtor=debtor)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                with transaction.atomic():
                    payment = record_payment(
                        organization=organization_of(request),
                        portfolio=data["portfolio"],
                        debtor=data["debtor"],
                        amount=data["amount"],
                        paid_on=data["paid_on"],
                        actor=Actor.for_user(request.user),
                        method=data["method"],
                        source="manual",
                        reference=data["reference"],
                        notes=data["notes"],
                    )
            except LedgerError as exc:
                form.add_error(None, exc)
            else:
                self.message_user(
                    request,
                    _("Payment of %(amount)s recorded.")
                    % {"amount": money(payment.amount, payment.currency, organization_of(request))},
                    messages.SUCCESS,
                )
                target = "admin:portfolio_debtor_change" if debtor else "admin:portfolio_payment_change"
                return HttpResponseRedirect(reverse(target, args=[debtor.pk if debtor else payment.pk]))
        return render_page(
            request,
            "portfolio/record_payment.html",
            {
                "form": form,
                "debtor": debtor,
                "opts": self.opts,
                "submit_label": _("Record payment"),
                "cancel_url": reverse("admin:portfolio_debtor_change", args=[debtor.pk])
                if debtor
                else reverse("admin:portfolio_payment_changelist"),
            },
            title=_("Record a payment"),
        )


# --- Cases -------------------------------------------------------------------------------------


class BucketFilter(DropdownFilter):
    title = _("aging bucket")
    parameter_name = "bucket"

    def lookups(self, request, model_admin):
        organization = organization_of(request)
        buckets = organization.aging_buckets if organization else []
        return [(b["key"], aging.bucket_label(b)) for b in buckets]

    def queryset(self, request, queryset):
        return queryset.filter(bucket=self.value()) if self.value() else queryset


@admin.register(Case)
class CaseAdmin(ReadOnlyTenantModelAdmin):
    """Cases are derived by the case engine from documents and payments."""

    list_display = [
        "debtor_display",
        "portfolio",
        "balance_display",
        "overdue_display",
        "dpd",
        "bucket_display",
        "oldest_due",
        "last_payment",
        "status_display",
    ]
    list_select_related = ["debtor", "portfolio", "organization"]
    list_filter = [("status", ChoicesDropdownFilter), BucketFilter, PortfolioFilter]
    search_fields = ["debtor__name", "=debtor__external_id"]
    fieldsets = [
        (None, {"fields": ["debtor", "portfolio", "status", "currency"]}),
        (
            _("Facts"),
            {
                "fields": [
                    "balance_display",
                    "overdue_display",
                    "open_documents",
                    "oldest_due",
                    "dpd",
                    "bucket_display",
                    "last_payment",
                    "as_of",
                ]
            },
        ),
    ]
    readonly_fields = ["balance_display", "overdue_display", "oldest_due", "bucket_display", "last_payment"]

    @display(description=_("debtor"), ordering="debtor__name")
    def debtor_display(self, obj):
        return debtor_link(obj.debtor)

    @display(description=_("balance"), ordering="balance")
    def balance_display(self, obj):
        return money(obj.balance, obj.currency, obj.organization)

    @display(description=_("overdue balance"), ordering="overdue_balance")
    def overdue_display(self, obj):
        return money(obj.overdue_balance, obj.currency, obj.organization)

    @display(description=_("aging bucket"), ordering="bucket")
    def bucket_display(self, obj):
        return bucket_label(obj.organization, obj.bucket)

    @display(description=_("oldest open due date"), ordering="oldest_due_date")
    def oldest_due(self, obj):
        return date(obj.oldest_due_date)

    @display(description=_("last payment"), ordering="last_payment_on")
    def last_payment(self, obj):
        return date(obj.last_payment_on)

    @display(description=_("status"), ordering="status", label=STATUS_LABELS)
    def status_display(self, obj):
        return status_label(obj)


# --- Imports -------------------------------------------------------------------------------------


@admin.register(ImportProfile)
class ImportProfileAdmin(TenantModelAdmin):
    form = ImportProfileForm
    list_display = ["name", "kind", "delimiter_display", "encoding", "number_format", "date_format", "mapped"]
    list_filter = [("kind", ChoicesDropdownFilter)]
    search_fields = ["name"]
    fieldsets = [
        (None, {"fields": ["name", "kind"]}),
        (_("File format"), {"fields": ["delimiter", "encoding", "number_format", "date_format"]}),
        (_("Columns"), {"fields": [f"map_{kind}" for kind in ImportKind.values]}),
    ]
    conditional_fields = {f"map_{kind}": f"kind == '{kind}'" for kind in ImportKind.values}

    @display(description=_("mapped columns"))
    def mapped(self, obj):
        return len([k for k in obj.column_map or {} if k != "ignore"])

    @display(description=_("delimiter"))
    def delimiter_display(self, obj):
        return obj.get_delimiter_display()


@admin.register(ImportJob)
class ImportJobAdmin(ReadOnlyTenantModelAdmin):
    """The history of imports; each row opens its import page."""

    add_roles = MANAGERS
    list_display = [
        "file_link",
        "kind",
        "portfolio",
        "status_display",
        "total_rows",
        "created_count",
        "updated_count",
        "invalid_count",
        "created_by",
        "created_display",
    ]
    list_select_related = ["portfolio", "created_by"]
    list_filter = [
        ("kind", ChoicesDropdownFilter),
        ("status", ChoicesDropdownFilter),
        PortfolioFilter,
        ("created_at", RangeDateFilter),
    ]
    search_fields = ["file_name"]
    list_display_links = None

    @display(description=_("file name"), ordering="file_name")
    def file_link(self, obj):
        url = reverse("portfolio-import-detail", args=[obj.pk])
        return format_html('<a href="{}" class="{}">{}</a>', url, LINK_CLASSES, obj.file_name)

    @display(description=_("status"), ordering="status", label=STATUS_LABELS)
    def status_display(self, obj):
        return status_label(obj)

    @display(description=_("created"), ordering="created_at")
    def created_display(self, obj):
        return date(obj.created_at)

    def add_view(self, request, form_url="", extra_context=None):
        return HttpResponseRedirect(reverse("portfolio-import-upload"))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        return HttpResponseRedirect(reverse("portfolio-import-detail", args=[object_id]))


__all__ = [
    "CaseAdmin",
    "ContactPointAdmin",
    "DebtorAdmin",
    "DocumentAdmin",
    "ImportJobAdmin",
    "ImportProfileAdmin",
    "PaymentAdmin",
    "PortfolioAdmin",
]
