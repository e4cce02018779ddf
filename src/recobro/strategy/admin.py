"""Back-office of the strategy engine: configuration, holds, and what the cycle decided.

Configuration (settings, templates, segments, stages, strategies with their variants and
steps) is edited by administrators and supervisors and read by everyone; every form is
checked against the whole configuration and saved through ``services.configuration``, the
same path as the YAML import (download and upload with a preview are on the strategies
list and the settings page). Nothing of the configuration is deleted here: objects are
deactivated, because actions and messages point to them.

Holds are placed, approved and released through ``services.holds``. Tasks, actions, stage
changes and cycle runs are written by the cycle and shown read-only; collectors see the
rows of their portfolios only.
"""

import hashlib

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.urls import reverse, reverse_lazy
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from unfold.contrib.filters.admin import ChoicesDropdownFilter, DropdownFilter, RangeDateFilter
from unfold.decorators import action, display

from recobro.channels.admin import TemplateAdmin
from recobro.channels.models import Template
from recobro.core.admin_base import (
    ALL_ROLES,
    FIELD_WORKERS,
    MANAGERS,
    NOBODY,
    OVERSIGHT,
    ReadOnlyTenantModelAdmin,
    TenantModelAdmin,
    TenantStackedInline,
    TenantTabularInline,
    date,
    membership_of,
    money,
    organization_of,
    render_page,
    role_of,
    scoped_filter,
    scoped_queryset,
)
from recobro.core.admin_site import can_view
from recobro.core.admin_site import sidebar_navigation as base_navigation
from recobro.core.audit import Actor
from recobro.portfolio.admin import LINK_CLASSES, debtor_link
from recobro.portfolio.models import Debtor, Portfolio
from recobro.strategy import forms as config_forms
from recobro.strategy.models import (
    Action,
    CycleRun,
    Hold,
    Segment,
    Stage,
    StageTransition,
    Step,
    Strategy,
    StrategySettings,
    Task,
    Variant,
)
from recobro.strategy.services import ConfigurationError, StrategyError
from recobro.strategy.services.configuration import (
    CREATE,
    DEACTIVATE,
    UPDATE,
    save_segment,
    save_settings,
    save_stage,
    save_strategy,
    save_template,
    save_variant,
)
from recobro.strategy.services.holds import approve_hold, place_hold, release_hold
from recobro.strategy.services.specs import default_probabilities
from recobro.strategy.yaml_io import export_configuration, import_configuration

STATUS_LABELS = {
    "active": "success",
    "inactive": "",
    "open": "info",
    "done": "success",
    "skipped": "",
    "cancelled": "",
    "running": "info",
    "failed": "danger",
    "waiting": "warning",
    "effective": "success",
    "scheduled": "info",
    "released": "",
    "ended": "",
}

KIND_LABELS = {
    "settings": _("Settings"),
    "template": _("Template"),
    "segment": _("Segment"),
    "stage": _("Stage"),
    "strategy": _("Strategy"),
    "variant": _("Variant"),
    "step": _("Step"),
}
OP_LABELS = {CREATE: _("Create"), UPDATE: _("Update"), DEACTIVATE: _("Deactivate")}


def active_label(obj):
    return ("active", _("Active")) if obj.is_active else ("inactive", _("Inactive"))


# --- The sidebar (settings.UNFOLD["SIDEBAR"]["navigation"]) ------------------------------------


def _item(title, icon: str, label: str) -> dict:
    app_label, model_name = label.lower().split(".")
    return {
        "title": title,
        "icon": icon,
        "link": reverse_lazy(f"admin:{app_label}_{model_name}_changelist"),
        "permission": can_view(label),
    }


def sidebar_navigation(request) -> list[dict]:
    """The base sidebar with the strategy and negotiation sections before the reports."""
    sections = base_navigation(request)
    added = [
        {
            "title": _("Strategy"),
            "separator": True,
            "items": [
                _item(_("Strategies"), "account_tree", "strategy.Strategy"),
                _item(_("Segments"), "filter_alt", "strategy.Segment"),
                _item(_("Stages"), "stairs", "strategy.Stage"),
                _item(_("Message templates"), "description", "channels.Template"),
                _item(_("Strategy settings"), "tune", "strategy.StrategySettings"),
                _item(_("Holds"), "pause_circle", "strategy.Hold"),
            ],
        },
        {
            "title": _("Daily cycle"),
            "separator": True,
            "items": [
                _item(_("Tasks"), "task_alt", "strategy.Task"),
                _item(_("Outbox"), "outbox", "channels.Message"),
                _item(_("Actions"), "bolt", "strategy.Action"),
                _item(_("Stage changes"), "swap_horiz", "strategy.StageTransition"),
                _item(_("Cycle runs"), "event_repeat", "strategy.CycleRun"),
            ],
        },
        {
            "title": _("Negotiation"),
            "separator": True,
            "items": [
                _item(_("Promises to pay"), "handshake", "negotiation.PromiseToPay"),
                _item(_("Payment plans"), "calendar_month", "negotiation.PaymentPlan"),
            ],
        },
    ]
    titles = [str(s.get("title")) for s in sections]
    at = titles.index(str(_("Reports"))) if str(_("Reports")) in titles else len(sections)
    return [*sections[:at], *added, *sections[at:]]


# --- Configuration: every save through the services -------------------------------------------------


class ConfigSaveMixin:
    """Configuration forms: checked against the whole configuration, saved by a service."""

    #: Identity fields: fixed once the row exists (a new code would be a new object).
    identity_fields: tuple[str, ...] = ("code",)

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            readonly += [f for f in self.identity_fields if f not in readonly]
        return readonly

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(form.__name__, (form,), {"organization": organization_of(request)})

    def save_model(self, request, obj, form, change):
        """Nothing is saved here: ``save_related`` saves the object and its rows together,
        through the service, once the inlines are valid too."""

    def save_related(self, request, form, formsets, change):
        saved = self.save_config(request, form, formsets, Actor.for_user(request.user))
        obj = form.instance
        obj.pk = saved.pk
        obj._state.adding = False
        for formset in formsets:
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

    def save_config(self, request, form, formsets, actor):
        raise NotImplementedError


class ConfigAdmin(ConfigSaveMixin, TenantModelAdmin):
    """Read by every member, edited by administrators and supervisors, never deleted."""

    view_roles = ALL_ROLES
    add_roles = MANAGERS
    change_roles = MANAGERS
    delete_roles = NOBODY
    actions = None


class ConfigInlineMixin:
    """Inline rows of configuration: scoped through their parent, checked with it."""

    add_roles = MANAGERS
    change_roles = MANAGERS
    delete_roles = NOBODY
    can_delete = False
    extra = 0

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        return type(formset.__name__, (formset,), {"organization": organization_of(request)})


@admin.register(StrategySettings)
class StrategySettingsAdmin(ConfigAdmin):
    form = config_forms.SettingsForm
    identity_fields = ()
    list_display = ["organization", "cycle_hour", "catch_up_days", "long_hold_days"]
    fieldsets = [
        (
            _("Daily cycle"),
            {"fields": ["cycle_hour", "catch_up_days", "payment_stop_days", "manual_stage_days"]},
        ),
        (_("Holds"), {"fields": ["long_hold_days"]}),
        (_("Priority of human work"), {"fields": ["broken_promise_factor", "fallback_probability"]}),
    ]
    actions_detail = ["download_yaml", "upload_yaml"]

    def add_view(self, request, form_url="", extra_context=None):
        """Settings are created once; afterwards the add page opens them."""
        organization = organization_of(request)
        if organization is not None and StrategySettings.objects.filter(organization=organization).exists():
            return HttpResponseRedirect(
                reverse("admin:strategy_strategysettings_change", args=[organization.pk])
            )
        return super().add_view(request, form_url, extra_context)

    def changelist_view(self, request, extra_context=None):
        """One row per organization: the list opens it (or the form to create it)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        organization = organization_of(request)
        if StrategySettings.objects.filter(organization=organization).exists():
            return HttpResponseRedirect(
                reverse("admin:strategy_strategysettings_change", args=[organization.pk])
            )
        if self.has_add_permission(request):
            return HttpResponseRedirect(reverse("admin:strategy_strategysettings_add"))
        return render_page(
            request,
            "strategy/settings_default.html",
            {"opts": self.opts, "defaults": default_probabilities(organization)},
            title=_("Strategy settings"),
        )

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        initial.setdefault(
            "fallback_probability",
            {k: str(v) for k, v in default_probabilities(organization_of(request)).items()},
        )
        return initial

    def save_config(self, request, form, formsets, actor):
        return save_settings(organization=organization_of(request), actor=actor, spec=form.spec())

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        form.instance.organization_id = organization_of(request).pk

    def has_download_yaml_permission(self, request, object_id=None):
        return self.has_view_permission(request)

    def has_upload_yaml_permission(self, request, object_id=None):
        return role_of(request) in MANAGERS

    @action(
        description=_("Download YAML"),
        url_path="download-yaml",
        icon="download",
        permissions=["download_yaml"],
    )
    def download_yaml(self, request, object_id):
        return HttpResponseRedirect(reverse("admin:strategy_strategy_download_yaml"))

    @action(description=_("Upload YAML"), url_path="upload-yaml", icon="upload", permissions=["upload_yaml"])
    def upload_yaml(self, request, object_id):
        return HttpResponseRedirect(reverse("admin:strategy_strategy_upload_yaml"))


class StageAdmin(ConfigAdmin):
    form = config_forms.StageForm
    list_display = [
        "position",
        "name",
        "code",
        "kind",
        "entry_offset",
        "entry_rule",
        "exits_when_cured",
        "status",
    ]
    list_display_links = ["name"]
    list_filter = ["is_active", ("kind", ChoicesDropdownFilter)]
    search_fields = ["name", "code"]
    ordering = ["position"]
    fieldsets = [
        (None, {"fields": ["name", "code", "kind", "position", "is_active"]}),
        (_("Entry"), {"fields": ["entry_offset", "entry_rule", "exits_when_cured"]}),
        (_("Priority of human work"), {"fields": ["priority_weight"]}),
    ]
    change_form_after_template = "strategy/_fact_catalogue.html"

    @display(description=_("status"), label=STATUS_LABELS)
    def status(self, obj):
        return active_label(obj)

    def save_config(self, request, form, formsets, actor):
        return save_stage(organization=organization_of(request), actor=actor, spec=form.spec())

    def render_change_form(self, request, context, *args, **kwargs):
        context["fact_catalogue"] = config_forms.fact_catalogue()
        return super().render_change_form(request, context, *args, **kwargs)


class SegmentAdmin(ConfigAdmin):
    form = config_forms.SegmentForm
    list_display = ["priority", "name", "code", "rule", "status"]
    list_display_links = ["name"]
    list_filter = ["is_active"]
    search_fields = ["name", "code", "rule"]
    ordering = ["priority"]
    fieldsets = [
        (None, {"fields": ["name", "code", "priority", "is_active"]}),
        (_("Rule"), {"fields": ["rule", "description"]}),
    ]
    change_form_after_template = "strategy/_fact_catalogue.html"

    @display(description=_("status"), label=STATUS_LABELS)
    def status(self, obj):
        return active_label(obj)

    def save_config(self, request, form, formsets, actor):
        return save_segment(organization=organization_of(request), actor=actor, spec=form.spec())

    def render_change_form(self, request, context, *args, **kwargs):
        context["fact_catalogue"] = config_forms.fact_catalogue()
        return super().render_change_form(request, context, *args, **kwargs)


admin.site.register(Stage, StageAdmin)
admin.site.register(Segment, SegmentAdmin)


class VariantInline(ConfigInlineMixin, TenantTabularInline):
    model = Variant
    form = config_forms.VariantInlineForm
    formset = config_forms.VariantFormSet
    fields = ["code", "name", "is_champion", "share", "is_active", "step_count"]
    readonly_fields = ["step_count"]
    show_change_link = True
    verbose_name_plural = _("variants (champion and challengers; the shares of the active ones sum to 100)")

    def get_queryset(self, request):
        organization = organization_of(request)
        if organization is None or membership_of(request) is None:
            return Variant.objects.none()
        return Variant.objects.filter(strategy__organization=organization).order_by("position", "pk")

    @display(description=_("steps"))
    def step_count(self, obj):
        if obj.pk is None:
            return "—"
        active = sum(1 for s in obj.steps.all() if s.is_active)
        return active


@admin.register(Strategy)
class StrategyAdmin(ConfigAdmin):
    form = config_forms.StrategyForm
    inlines = [VariantInline]
    list_display = ["name", "code", "stage", "segment_display", "variants_display", "status"]
    list_select_related = ["stage", "segment"]
    list_filter = [
        "is_active",
        scoped_filter("stage", Stage, _("stage")),
        scoped_filter("segment", Segment, _("segment")),
    ]
    search_fields = ["name", "code"]
    fieldsets = [(None, {"fields": ["name", "code", "stage", "segment", "description", "is_active"]})]
    actions_list = ["download_yaml", "upload_yaml"]

    def get_queryset(self, request):
        from django.db.models import Prefetch

        return (
            super()
            .get_queryset(request)
            .prefetch_related(Prefetch("variants", queryset=Variant.objects.order_by("position", "pk")))
        )

    @display(description=_("segment"), ordering="segment__priority")
    def segment_display(self, obj):
        return obj.segment or _("Every other case")

    @display(description=_("variants"))
    def variants_display(self, obj):
        return ", ".join(
            f"{v.name} {v.share}%" + (" ★" if v.is_champion else "")
            for v in obj.variants.all()
            if v.is_active  # retired variants take no cases
        )

    @display(description=_("status"), label=STATUS_LABELS)
    def status(self, obj):
        return active_label(obj)

    def save_config(self, request, form, formsets, actor):
        variant_formset = next(f for f in formsets if isinstance(f, config_forms.VariantFormSet))
        return save_strategy(
            organization=organization_of(request),
            actor=actor,
            spec=variant_formset.strategy_spec(),
            keep_steps=True,
        )

    # --- The configuration document -------------------------------------------------------

    def has_download_yaml_permission(self, request, object_id=None):
        return self.has_view_permission(request)

    def has_upload_yaml_permission(self, request, object_id=None):
        return role_of(request) in MANAGERS

    @action(
        description=_("Download YAML"),
        url_path="download-yaml",
        icon="download",
        permissions=["download_yaml"],
    )
    def download_yaml(self, request):
        organization = organization_of(request)
        text = export_configuration(organization)
        name = f"{organization.slug}-estrategia-{organization.today().isoformat()}.yaml"
        response = HttpResponse(text, content_type="application/x-yaml; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response

    @action(description=_("Upload YAML"), url_path="upload-yaml", icon="upload", permissions=["upload_yaml"])
    def upload_yaml(self, request):
        """Upload → preview of every change (nothing written) → confirm → applied."""
        organization = organization_of(request)
        actor = Actor.for_user(request.user)
        context = {"opts": self.opts, "problems": [], "summary": None}
        form = config_forms.ImportForm()
        if request.method == "POST" and "confirm" in request.POST:
            confirm = config_forms.ConfirmImportForm(request.POST)
            if confirm.is_valid():
                text = confirm.cleaned_data["text"]
                if confirm.cleaned_data["fingerprint"] != _fingerprint(organization):
                    messages.warning(
                        request, _("The configuration changed since the preview; review the changes again.")
                    )
                    return self._preview(request, context, form, text, actor)
                try:
                    summary = import_configuration(organization=organization, text=text, actor=actor)
                except ConfigurationError as error:
                    context["problems"] = error.problems
                else:
                    messages.success(
                        request, _("Configuration imported: %(summary)s.") % {"summary": summary}
                    )
                    return HttpResponseRedirect(reverse("admin:strategy_strategy_changelist"))
        elif request.method == "POST":
            form = config_forms.ImportForm(request.POST, request.FILES)
            if form.is_valid():
                return self._preview(request, context, form, form.cleaned_data["text"], actor)
        return render_page(
            request,
            "strategy/config_import.html",
            {**context, "form": form},
            title=_("Upload a strategy configuration"),
        )

    def _preview(self, request, context, form, text, actor):
        organization = organization_of(request)
        try:
            summary = import_configuration(organization=organization, text=text, actor=actor, dry_run=True)
        except ConfigurationError as error:
            context["problems"] = error.problems
        else:
            context["summary"] = summary
            context["changes"] = [
                {
                    "kind": KIND_LABELS.get(c.kind, c.kind),
                    "op": c.op,
                    "op_label": OP_LABELS[c.op],
                    "label": c.label,
                    "fields": [
                        {"name": k.removesuffix("_id"), "old": old, "new": new}
                        for k, (old, new) in c.fields.items()
                    ],
                }
                for c in summary.changes
            ]
            context["confirm"] = config_forms.ConfirmImportForm(
                initial={"text": text, "fingerprint": _fingerprint(organization)}
            )
        return render_page(
            request,
            "strategy/config_import.html",
            {**context, "form": form},
            title=_("Upload a strategy configuration"),
        )


def _fingerprint(organization) -> str:
    return hashlib.sha256(export_configuration(organization).encode()).hexdigest()


class StepInline(ConfigInlineMixin, TenantStackedInline):
    model = Step
    form = config_forms.StepInlineForm
    formset = config_forms.StepFormSet
    fieldsets = [
        (None, {"fields": [("position", "name", "is_active"), ("anchor", "offset_days", "weekdays")]}),
        (None, {"fields": [("action", "channel", "template", "task_kind"), "condition", "stop_on"]}),
    ]
    verbose_name_plural = _("steps (in order)")
    collapsible = False

    def get_queryset(self, request):
        organization = organization_of(request)
        if organization is None or membership_of(request) is None:
            return Step.objects.none()
        return Step.objects.filter(variant__strategy__organization=organization).order_by("position", "pk")


@admin.register(Variant)
class VariantAdmin(ConfigAdmin):
    """A variant and its steps; reached from its strategy's page."""

    form = config_forms.VariantForm
    inlines = [StepInline]
    add_roles = NOBODY  # variants are added on their strategy's page
    fields = ["strategy_link", "code", "name", "is_champion", "share", "is_active"]
    readonly_fields = ["strategy_link", "code"]
    change_form_after_template = "strategy/_fact_catalogue.html"

    def get_queryset(self, request):
        organization = organization_of(request)
        if organization is None or membership_of(request) is None:
            return Variant.objects.none()
        return Variant.objects.filter(strategy__organization=organization).select_related("strategy")

    def has_module_permission(self, request):
        return False

    def changelist_view(self, request, extra_context=None):
        return HttpResponseRedirect(reverse("admin:strategy_strategy_changelist"))

    @display(description=_("strategy"))
    def strategy_link(self, obj):
        url = reverse("admin:strategy_strategy_change", args=[obj.strategy_id])
        return format_html('<a href="{}" class="{}">{}</a>', url, LINK_CLASSES, obj.strategy)

    def render_change_form(self, request, context, *args, **kwargs):
        context["fact_catalogue"] = config_forms.fact_catalogue()
        return super().render_change_form(request, context, *args, **kwargs)

    def save_config(self, request, form, formsets, actor):
        step_formset = next(f for f in formsets if isinstance(f, config_forms.StepFormSet))
        strategy_code, spec = step_formset.variant_spec()
        return save_variant(
            organization=organization_of(request), actor=actor, strategy=strategy_code, spec=spec
        )


class ConfigTemplateAdmin(ConfigSaveMixin, TemplateAdmin):
    """Templates are part of the strategy configuration: saved through ``save_template``, so
    that a template active steps send cannot be deactivated."""

    form = config_forms.TemplateForm
    identity_fields = ("code", "channel", "language")
    actions = None

    def save_config(self, request, form, formsets, actor):
        return save_template(organization=organization_of(request), actor=actor, spec=form.spec())


if admin.site.is_registered(Template):
    admin.site.unregister(Template)
admin.site.register(Template, ConfigTemplateAdmin)


# --- Holds -----------------------------------------------------------------------------------------


class HoldStatusFilter(DropdownFilter):
    title = _("status")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [
            ("waiting", _("Awaiting approval")),
            ("effective", _("In effect")),
            ("released", _("Released")),
        ]

    def queryset(self, request, queryset):
        today = organization_of(request).today()
        if self.value() == "waiting":
            return queryset.filter(needs_approval=True, released_at__isnull=True)
        if self.value() == "effective":
            return queryset.effective_on(today)
        if self.value() == "released":
            return queryset.filter(released_at__isnull=False)
        return queryset


def hold_state(hold: Hold, today) -> tuple[str, str]:
    if hold.released_at is not None:
        return "released", _("Released")
    if hold.needs_approval:
        return "waiting", _("Awaiting approval")
    if hold.starts_on > today:
        return "scheduled", _("Scheduled")
    if hold.ends_on is not None and hold.ends_on < today:
        return "ended", _("Ended")
    return "effective", _("In effect")


@admin.register(Hold)
class HoldAdmin(ReadOnlyTenantModelAdmin):
    """Holds are placed, approved and released through the services."""

    add_roles = FIELD_WORKERS
    list_display = ["debtor_display", "scope", "document", "reason", "starts", "ends", "state", "created_by"]
    list_select_related = ["debtor", "document", "created_by", "organization"]
    list_filter = [
        HoldStatusFilter,
        ("reason", ChoicesDropdownFilter),
        ("scope", ChoicesDropdownFilter),
        ("starts_on", RangeDateFilter),
    ]
    search_fields = ["debtor__name", "=debtor__external_id", "note"]
    fields = [
        "debtor",
        "scope",
        "document",
        "reason",
        "note",
        "starts_on",
        "ends_on",
        "state",
        "created_by",
        "approved_by",
        "released_at",
        "released_by",
    ]
    readonly_fields = ["state"]
    actions = ["approve_selected", "release_selected"]
    actions_detail = ["approve", "release"]

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        membership = membership_of(request)
        if membership is not None and not membership.sees_all_portfolios:
            qs = qs.filter(debtor__in=Debtor.objects.for_membership(membership).values("pk"))
        return qs

    @display(description=_("debtor"), ordering="debtor__name")
    def debtor_display(self, obj):
        return debtor_link(obj.debtor)

    @display(description=_("from"), ordering="starts_on")
    def starts(self, obj):
        return date(obj.starts_on)

    @display(description=_("until"), ordering="ends_on")
    def ends(self, obj):
        return date(obj.ends_on) if obj.ends_on else _("Until released")

    @display(description=_("status"), label=STATUS_LABELS)
    def state(self, obj):
        return hold_state(obj, obj.organization.today())

    def add_view(self, request, form_url="", extra_context=None):
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
        form = config_forms.HoldForm(request.POST or None, request=request, debtor=debtor)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                hold = place_hold(
                    organization=organization_of(request),
                    actor=Actor.for_user(request.user),
                    scope=data["scope"],
                    debtor=data["debtor"],
                    document=data["document"],
                    reason=data["reason"],
                    note=data["note"],
                    starts_on=data["starts_on"],
                    ends_on=data["ends_on"],
                )
            except StrategyError as error:
                form.add_error(None, error)
            else:
                if hold.needs_approval:
                    messages.warning(request, _("The hold was placed and waits for a supervisor's approval."))
                else:
                    messages.success(request, _("The hold was placed."))
                return HttpResponseRedirect(reverse("admin:strategy_hold_change", args=[hold.pk]))
        return render_page(
            request,
            "core/form_page.html",
            {
                "form": form,
                "opts": self.opts,
                "intro": _(
                    "A hold pauses the strategy for the debtor (or only one document). "
                    "It may start in the past. Long or open-ended holds of collectors wait for a supervisor."
                ),
                "submit_label": _("Place hold"),
                "cancel_url": reverse("admin:strategy_hold_changelist"),
            },
            title=_("Place a hold"),
        )

    def has_approve_permission(self, request, object_id=None):
        return role_of(request) in MANAGERS

    def has_release_permission(self, request, object_id=None):
        return role_of(request) in FIELD_WORKERS

    has_approve_selected_permission = has_approve_permission
    has_release_selected_permission = has_release_permission

    def _act(self, request, holds, service, done_message) -> int:
        actor = Actor.for_user(request.user)
        done = 0
        for hold in holds:
            try:
                service(hold=hold, actor=actor)
            except StrategyError as error:
                self.message_user(request, f"{hold}: {' '.join(error.messages)}", messages.ERROR)
            else:
                done += 1
        if done:
            self.message_user(request, done_message % {"count": done}, messages.SUCCESS)
        return done

    def _hold(self, request, object_id) -> Hold:
        hold = self.get_queryset(request).filter(pk=object_id).first() if str(object_id).isdigit() else None
        if hold is None:
            raise Http404
        return hold

    @action(description=_("Approve"), url_path="approve", icon="check", permissions=["approve"])
    def approve(self, request, object_id):
        self._act(request, [self._hold(request, object_id)], approve_hold, _("%(count)d hold(s) approved."))
        return HttpResponseRedirect(reverse("admin:strategy_hold_change", args=[object_id]))

    @action(description=_("Release"), url_path="release", icon="play_circle", permissions=["release"])
    def release(self, request, object_id):
        self._act(request, [self._hold(request, object_id)], release_hold, _("%(count)d hold(s) released."))
        return HttpResponseRedirect(reverse("admin:strategy_hold_change", args=[object_id]))

    @action(description=_("Approve selected holds"), permissions=["approve_selected"])
    def approve_selected(self, request, queryset):
        self._act(request, queryset.order_by("pk"), approve_hold, _("%(count)d hold(s) approved."))

    @action(description=_("Release selected holds"), permissions=["release_selected"])
    def release_selected(self, request, queryset):
        self._act(request, queryset.order_by("pk"), release_hold, _("%(count)d hold(s) released."))


# --- What the cycle decided (read-only) ---------------------------------------------------------------


def case_link(case):
    url = reverse("admin:portfolio_case_change", args=[case.pk])
    return format_html('<a href="{}" class="{}">{}</a>', url, LINK_CLASSES, case.debtor)


PortfolioFilter = scoped_filter("case__portfolio", Portfolio, _("portfolio"))


@admin.register(Task)
class TaskAdmin(ReadOnlyTenantModelAdmin):
    list_display = [
        "title",
        "case_display",
        "kind",
        "status_display",
        "due",
        "priority_display",
        "assigned_to",
    ]
    list_select_related = ["case__debtor", "organization", "assigned_to"]
    list_filter = [
        ("status", ChoicesDropdownFilter),
        ("kind", ChoicesDropdownFilter),
        PortfolioFilter,
        ("due_on", RangeDateFilter),
    ]
    search_fields = ["title", "case__debtor__name", "=case__debtor__external_id"]
    ordering = ["status", "-priority", "due_on"]

    @display(description=_("case"), ordering="case__debtor__name")
    def case_display(self, obj):
        return case_link(obj.case)

    @display(description=_("status"), ordering="status", label=STATUS_LABELS)
    def status_display(self, obj):
        return obj.status, obj.get_status_display()

    @display(description=_("due"), ordering="due_on")
    def due(self, obj):
        return date(obj.due_on)

    @display(description=_("priority"), ordering="priority")
    def priority_display(self, obj):
        return money(obj.priority, obj.case.currency, obj.organization)


@admin.register(Action)
class ActionAdmin(ReadOnlyTenantModelAdmin):
    list_display = ["decided", "case_display", "step", "due", "status_display", "skip_reason"]
    list_select_related = ["case__debtor", "step__variant__strategy"]
    list_filter = [
        ("status", ChoicesDropdownFilter),
        ("skip_reason", ChoicesDropdownFilter),
        PortfolioFilter,
        ("business_date", RangeDateFilter),
    ]
    search_fields = ["case__debtor__name", "=case__debtor__external_id"]

    @display(description=_("decided on"), ordering="business_date")
    def decided(self, obj):
        return date(obj.business_date)

    @display(description=_("fell due on"), ordering="due_on")
    def due(self, obj):
        return date(obj.due_on)

    @display(description=_("case"), ordering="case__debtor__name")
    def case_display(self, obj):
        return case_link(obj.case)

    @display(description=_("status"), ordering="status", label=STATUS_LABELS)
    def status_display(self, obj):
        return obj.status, obj.get_status_display()


@admin.register(StageTransition)
class StageTransitionAdmin(ReadOnlyTenantModelAdmin):
    list_display = ["when", "case_display", "from_stage", "to_stage", "reason", "note", "user"]
    list_select_related = ["case__debtor", "from_stage", "to_stage", "user"]
    list_filter = [("reason", ChoicesDropdownFilter), PortfolioFilter, ("business_date", RangeDateFilter)]
    search_fields = ["case__debtor__name", "=case__debtor__external_id", "note"]

    @display(description=_("business date"), ordering="business_date")
    def when(self, obj):
        return date(obj.business_date)

    @display(description=_("case"), ordering="case__debtor__name")
    def case_display(self, obj):
        return case_link(obj.case)


@admin.register(CycleRun)
class CycleRunAdmin(ReadOnlyTenantModelAdmin):
    view_roles = OVERSIGHT
    list_display = ["day", "status_display", "phase", "attempts", "started", "finished", "counts_display"]
    list_filter = [("status", ChoicesDropdownFilter), ("as_of", RangeDateFilter)]
    readonly_fields = ["counts_display"]

    @display(description=_("business date"), ordering="as_of")
    def day(self, obj):
        return date_format(obj.as_of, "SHORT_DATE_FORMAT")

    @display(description=_("status"), ordering="status", label=STATUS_LABELS)
    def status_display(self, obj):
        return obj.status, obj.get_status_display()

    @display(description=_("started"), ordering="started_at")
    def started(self, obj):
        return date(obj.started_at)

    @display(description=_("finished"), ordering="finished_at")
    def finished(self, obj):
        return date(obj.finished_at)

    @display(description=_("counts"))
    def counts_display(self, obj):
        counts = obj.counts or {}
        return ", ".join(f"{k}: {v}" for k, v in counts.items() if not isinstance(v, dict)) or "—"


__all__ = [
    "ActionAdmin",
    "CycleRunAdmin",
    "HoldAdmin",
    "SegmentAdmin",
    "StageAdmin",
    "StageTransitionAdmin",
    "StrategyAdmin",
    "StrategySettingsAdmin",
    "TaskAdmin",
    "VariantAdmin",
    "sidebar_navigation",
]
