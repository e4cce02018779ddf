"""Back-office for promises to pay and payment plans.

Rows are created and changed only through ``recobro.negotiation.services``: the add pages
are forms that call ``record_promise`` / ``record_plan``, and cancelling or approving are
actions that call the matching service. Auditors read; collectors see and work the cases
of their portfolios; approving plans and ending active ones is for supervisors.
"""

from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404, HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from unfold.contrib.filters.admin import ChoicesDropdownFilter, RangeDateFilter
from unfold.decorators import action, display

from recobro.core.admin_base import (
    FIELD_WORKERS,
    MANAGERS,
    ReadOnlyTenantModelAdmin,
    StyledForm,
    date,
    money,
    organization_of,
    render_page,
    role_of,
    scoped_filter,
    scoped_queryset,
)
from recobro.core.audit import Actor
from recobro.negotiation.models import PaymentPlan, PlanStatus, PromiseOrigin, PromiseStatus, PromiseToPay
from recobro.negotiation.services import (
    NegotiationError,
    approve_plan,
    cancel_plan,
    cancel_promise,
    record_plan,
    record_promise,
)
from recobro.portfolio.models import Case, CaseStatus, Portfolio
from recobro.portfolio.references import normalize as normalize_reference

LINK_CLASSES = "text-primary-600 dark:text-primary-500"

STATUS_LABELS = {
    "pending": "info",
    "kept": "success",
    "partly_kept": "warning",
    "broken": "danger",
    "cancelled": "",
    "proposed": "info",
    "active": "success",
    "completed": "success",
}

PortfolioFilter = scoped_filter("case__portfolio", Portfolio, _("portfolio"))


def case_link(case: Case):
    url = reverse("admin:portfolio_case_change", args=[case.pk])
    return format_html('<a href="{}" class="{}">{}</a>', url, LINK_CLASSES, case)


# --- Forms: which case, then the service's arguments ---------------------------------------------


class CaseForm(StyledForm):
    """Finds an open case of the user's by debtor (external id, payment reference or tax id)
    and portfolio, unless the page was opened from the case (``?case=ID``)."""

    debtor = forms.CharField(
        label=_("debtor"), max_length=64, help_text=_("External id, payment reference or tax id")
    )
    portfolio = forms.ModelChoiceField(
        label=_("portfolio"), queryset=Portfolio.objects.none(), required=False
    )

    def __init__(self, *args, request, case: Case | None = None, **kwargs):
        self.request = request
        self.fixed_case = case
        super().__init__(*args, **kwargs)
        self.fields["portfolio"].queryset = scoped_queryset(Portfolio, request).filter(is_active=True)
        if case is not None:
            for name in ("debtor", "portfolio"):
                self.fields[name].required = False
                self.fields[name].widget = forms.HiddenInput()

    def clean(self):
        cleaned = super().clean()
        if self.fixed_case is not None:
            cleaned["case"] = self.fixed_case
            return cleaned
        text = (cleaned.get("debtor") or "").strip()
        if not text:
            return cleaned
        cases = scoped_queryset(Case, self.request).filter(status=CaseStatus.OPEN)
        cases = cases.filter(
            Q(debtor__external_id=text)
            | Q(debtor__payment_reference=normalize_reference(text))
            | Q(debtor__tax_id=text.upper())
        )
        if cleaned.get("portfolio") is not None:
            cases = cases.filter(portfolio=cleaned["portfolio"])
        found = list(cases.select_related("debtor", "portfolio", "organization")[:2])
        if not found:
            raise ValidationError(_("No open case of yours matches this debtor and portfolio."))
        if len(found) > 1:
            raise ValidationError(_("The debtor has open cases in several portfolios; choose the portfolio."))
        cleaned["case"] = found[0]
        return cleaned


class PromiseForm(CaseForm):
    amount = forms.DecimalField(label=_("amount"), min_value=Decimal("0.01"), max_digits=18, decimal_places=2)
    promised_on = forms.DateField(label=_("promised date"), widget=forms.DateInput)
    notes = forms.CharField(label=_("notes"), required=False, widget=forms.Textarea(attrs={"rows": 3}))


class PlanForm(CaseForm):
    total_amount = forms.DecimalField(
        label=_("total to pay"), min_value=Decimal("0.01"), max_digits=18, decimal_places=2
    )
    down_payment = forms.DecimalField(
        label=_("down payment"), min_value=Decimal("0"), max_digits=18, decimal_places=2, initial=Decimal("0")
    )
    installments = forms.IntegerField(label=_("installments"), min_value=1, max_value=360)
    first_due_on = forms.DateField(label=_("first installment due"), widget=forms.DateInput)
    notes = forms.CharField(label=_("notes"), required=False, widget=forms.Textarea(attrs={"rows": 3}))


class ServiceAddMixin:
    """An add page whose form calls a service; errors show on the form."""

    form_class: type[CaseForm]
    #: The keyword the row's services take it by ("promise", "plan").
    row_argument = ""
    submit_label = ""
    page_title = ""

    def call_service(self, request, case, data, actor):
        raise NotImplementedError

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        case = None
        case_id = request.GET.get("case", "")
        if case_id:
            if not case_id.isdigit():
                raise Http404
            case = scoped_queryset(Case, request).filter(pk=int(case_id)).first()
            if case is None:
                raise Http404
        form = self.form_class(request.POST or None, request=request, case=case)
        if request.method == "POST" and form.is_valid():
            try:
                obj = self.call_service(
                    request, form.cleaned_data["case"], form.cleaned_data, Actor.for_user(request.user)
                )
            except NegotiationError as error:
                form.add_error(None, error)
            else:
                self.message_user(request, _("%(object)s recorded.") % {"object": obj}, messages.SUCCESS)
                return HttpResponseRedirect(
                    reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[obj.pk])
                )
        return render_page(
            request,
            "core/form_page.html",
            {
                "form": form,
                "opts": self.opts,
                "intro": str(case) if case is not None else "",
                "submit_label": self.submit_label,
                "cancel_url": reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist"),
            },
            title=self.page_title,
        )

    def _act(self, request, rows, service, done_message) -> None:
        actor = Actor.for_user(request.user)
        as_of = organization_of(request).today()
        done = 0
        for row in rows:
            try:
                service(actor=actor, as_of=as_of, **{self.row_argument: row})
            except NegotiationError as error:
                self.message_user(request, f"{row}: {' '.join(error.messages)}", messages.ERROR)
            else:
                done += 1
        if done:
            self.message_user(request, done_message % {"count": done}, messages.SUCCESS)

    def _row(self, request, object_id):
        row = self.get_queryset(request).filter(pk=object_id).first() if str(object_id).isdigit() else None
        if row is None:
            raise Http404
        return row


# --- Promises ------------------------------------------------------------------------------------------


@admin.register(PromiseToPay)
class PromiseToPayAdmin(ServiceAddMixin, ReadOnlyTenantModelAdmin):
    add_roles = FIELD_WORKERS
    form_class = PromiseForm
    row_argument = "promise"
    submit_label = _("Record promise")
    page_title = _("Record a promise to pay")
    list_display = [
        "case_display",
        "amount_display",
        "promised",
        "made",
        "status_display",
        "paid_display",
        "origin",
        "created_by",
    ]
    list_select_related = ["case__debtor", "case__portfolio", "organization", "created_by"]
    list_filter = [
        ("status", ChoicesDropdownFilter),
        ("origin", ChoicesDropdownFilter),
        PortfolioFilter,
        ("promised_on", RangeDateFilter),
    ]
    search_fields = ["case__debtor__name", "=case__debtor__external_id"]
    fields = [
        "case",
        "amount",
        "currency",
        "promised_on",
        "made_on",
        "status",
        "paid_amount",
        "resolved_on",
        "origin",
        "notes",
        "created_by",
    ]
    actions = ["cancel_selected"]
    actions_detail = ["cancel"]

    @display(description=_("case"), ordering="case__debtor__name")
    def case_display(self, obj):
        return case_link(obj.case)

    @display(description=_("amount"), ordering="amount")
    def amount_display(self, obj):
        return money(obj.amount, obj.currency, obj.organization)

    @display(description=_("paid"), ordering="paid_amount")
    def paid_display(self, obj):
        return money(obj.paid_amount, obj.currency, obj.organization)

    @display(description=_("promised date"), ordering="promised_on")
    def promised(self, obj):
        return date(obj.promised_on)

    @display(description=_("made on"), ordering="made_on")
    def made(self, obj):
        return date(obj.made_on)

    @display(description=_("status"), ordering="status", label=STATUS_LABELS)
    def status_display(self, obj):
        return obj.status, obj.get_status_display()

    def call_service(self, request, case, data, actor):
        return record_promise(
            case=case,
            amount=data["amount"],
            promised_on=data["promised_on"],
            origin=PromiseOrigin.COLLECTOR,
            actor=actor,
            as_of=organization_of(request).today(),
            notes=data["notes"],
        )

    def has_cancel_permission(self, request, object_id=None):
        return role_of(request) in FIELD_WORKERS

    has_cancel_selected_permission = has_cancel_permission

    @action(description=_("Cancel promise"), url_path="cancel", icon="cancel", permissions=["cancel"])
    def cancel(self, request, object_id):
        self._act(
            request, [self._row(request, object_id)], cancel_promise, _("%(count)d promise(s) cancelled.")
        )
        return HttpResponseRedirect(reverse("admin:negotiation_promisetopay_change", args=[object_id]))

    @action(description=_("Cancel selected pending promises"), permissions=["cancel_selected"])
    def cancel_selected(self, request, queryset):
        self._act(
            request,
            queryset.filter(status=PromiseStatus.PENDING).order_by("pk"),
            cancel_promise,
            _("%(count)d promise(s) cancelled."),
        )


# --- Plans ---------------------------------------------------------------------------------------------


@admin.register(PaymentPlan)
class PaymentPlanAdmin(ServiceAddMixin, ReadOnlyTenantModelAdmin):
    add_roles = FIELD_WORKERS
    form_class = PlanForm
    row_argument = "plan"
    submit_label = _("Propose plan")
    page_title = _("Propose a payment plan")
    list_display = [
        "case_display",
        "total_display",
        "down_display",
        "installments",
        "first_due",
        "status_display",
        "created_by",
        "approved_by",
    ]
    list_select_related = ["case__debtor", "case__portfolio", "organization", "created_by", "approved_by"]
    list_filter = [("status", ChoicesDropdownFilter), PortfolioFilter, ("starts_on", RangeDateFilter)]
    search_fields = ["case__debtor__name", "=case__debtor__external_id"]
    fields = [
        "case",
        "status",
        "total_amount",
        "down_payment",
        "installments",
        "first_due_on",
        "starts_on",
        "ends_on",
        "notes",
        "created_by",
        "approved_by",
    ]
    actions = ["approve_selected", "cancel_selected"]
    actions_detail = ["approve", "cancel"]

    @display(description=_("case"), ordering="case__debtor__name")
    def case_display(self, obj):
        return case_link(obj.case)

    @display(description=_("total to pay"), ordering="total_amount")
    def total_display(self, obj):
        return money(obj.total_amount, obj.case.currency, obj.organization)

    @display(description=_("down payment"), ordering="down_payment")
    def down_display(self, obj):
        return money(obj.down_payment, obj.case.currency, obj.organization)

    @display(description=_("first installment due"), ordering="first_due_on")
    def first_due(self, obj):
        return date(obj.first_due_on)

    @display(description=_("status"), ordering="status", label=STATUS_LABELS)
    def status_display(self, obj):
        return obj.status, obj.get_status_display()

    def call_service(self, request, case, data, actor):
        return record_plan(
            case=case,
            total_amount=data["total_amount"],
            down_payment=data["down_payment"],
            installments=data["installments"],
            first_due_on=data["first_due_on"],
            actor=actor,
            as_of=organization_of(request).today(),
            notes=data["notes"],
        )

    def has_approve_permission(self, request, object_id=None):
        return role_of(request) in MANAGERS

    def has_cancel_permission(self, request, object_id=None):
        return role_of(request) in FIELD_WORKERS

    has_approve_selected_permission = has_approve_permission
    has_cancel_selected_permission = has_cancel_permission

    @action(description=_("Approve plan"), url_path="approve", icon="check", permissions=["approve"])
    def approve(self, request, object_id):
        self._act(request, [self._row(request, object_id)], approve_plan, _("%(count)d plan(s) approved."))
        return HttpResponseRedirect(reverse("admin:negotiation_paymentplan_change", args=[object_id]))

    @action(description=_("Cancel plan"), url_path="cancel", icon="cancel", permissions=["cancel"])
    def cancel(self, request, object_id):
        self._act(request, [self._row(request, object_id)], cancel_plan, _("%(count)d plan(s) cancelled."))
        return HttpResponseRedirect(reverse("admin:negotiation_paymentplan_change", args=[object_id]))

    @action(description=_("Approve selected proposed plans"), permissions=["approve_selected"])
    def approve_selected(self, request, queryset):
        self._act(
            request,
            queryset.filter(status=PlanStatus.PROPOSED).order_by("pk"),
            approve_plan,
            _("%(count)d plan(s) approved."),
        )

    @action(description=_("Cancel selected plans"), permissions=["cancel_selected"])
    def cancel_selected(self, request, queryset):
        self._act(request, queryset.order_by("pk"), cancel_plan, _("%(count)d plan(s) cancelled."))


__all__ = ["PaymentPlanAdmin", "PromiseToPayAdmin"]
