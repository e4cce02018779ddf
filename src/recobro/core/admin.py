"""Back-office for the base layer: organization settings, users, API keys, the audit log."""

import json
from zoneinfo import available_timezones

from babel import Locale, UnknownLocaleError
from babel.numbers import list_currencies
from django import forms
from django.apps import apps
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Prefetch
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from unfold.contrib.filters.admin import ChoicesDropdownFilter, DropdownFilter, RangeDateTimeFilter
from unfold.decorators import action, display

from recobro.core import admin_site  # noqa: F401  (dashboard and site titles)
from recobro.core.admin_base import (
    ADMINS,
    NOBODY,
    OVERSIGHT,
    ReadOnlyTenantModelAdmin,
    StyledForm,
    TenantModelAdmin,
    date,
    organization_of,
    record_change,
    render_page,
    role_of,
    scoped_queryset,
    style_form,
)
from recobro.core.api import create_api_key, revoke_api_key
from recobro.core.audit import Actor
from recobro.core.models import ApiKey, ApiKeyScope, AuditEntry, Membership, Organization

User = get_user_model()

# Users are reached through memberships: Django's user and group admins would show every
# organization's people to a superuser.
for model in (User, Group):
    if admin.site.is_registered(model):
        admin.site.unregister(model)


# --- Organization ---------------------------------------------------------------------


class OrganizationForm(forms.ModelForm):
    class Meta:
        model = Organization
        fields = ["name", "country", "timezone", "currency", "locale", "aging_buckets"]

    def clean_country(self):
        country = self.cleaned_data["country"].upper()
        if country not in Locale("en").territories:
            raise forms.ValidationError(_("Unknown country code."))
        return country

    def clean_timezone(self):
        tz = self.cleaned_data["timezone"]
        if tz not in available_timezones():
            raise forms.ValidationError(_("Unknown timezone; use a name such as America/Mexico_City."))
        return tz

    def clean_currency(self):
        currency = self.cleaned_data["currency"].upper()
        if currency not in list_currencies():
            raise forms.ValidationError(_("Unknown ISO 4217 currency code."))
        return currency

    def clean_locale(self):
        locale = self.cleaned_data["locale"]
        try:
            Locale.parse(locale.replace("-", "_"))
        except (ValueError, UnknownLocaleError) as exc:
            raise forms.ValidationError(_("Unknown locale; use a code such as es-MX.")) from exc
        return locale


@admin.register(Organization)
class OrganizationAdmin(TenantModelAdmin):
    """Only the request's own organization, edited by its administrators."""

    form = OrganizationForm
    view_roles = OVERSIGHT
    add_roles = NOBODY
    change_roles = ADMINS
    delete_roles = NOBODY
    actions = None
    list_display = ["name", "slug", "country", "currency", "locale", "timezone"]
    readonly_fields = ["slug", "payment_reference_prefix", "business_date_display"]
    fieldsets = [
        (None, {"fields": ["name", "slug", "country"]}),
        (_("Formats"), {"fields": ["timezone", "currency", "locale"]}),
        (_("Aging buckets"), {"fields": ["aging_buckets"]}),
        (
            _("Payment references and clock"),
            {"fields": ["payment_reference_prefix", "business_date_display"]},
        ),
    ]

    def get_fieldsets(self, request, obj=None):
        if self.has_change_permission(request, obj):
            return self.fieldsets
        # Read-only visitors see the buckets as a table rather than as JSON.
        return [
            (
                name,
                {
                    **options,
                    "fields": ["buckets_table" if f == "aging_buckets" else f for f in options["fields"]],
                },
            )
            for name, options in self.fieldsets
        ]

    def get_readonly_fields(self, request, obj=None):
        return [*self.readonly_fields, "buckets_table"]

    @display(description=_("aging buckets"))
    def buckets_table(self, obj):
        rows = format_html_join(
            "",
            '<tr><td class="pr-6 py-1">{}</td><td class="pr-6 py-1">{}</td><td class="py-1">{}</td></tr>',
            (
                (
                    b.get("label") or b.get("key"),
                    "—" if b.get("min") is None else b["min"],
                    "∞" if b.get("max") is None else b["max"],
                )
                for b in obj.aging_buckets or []
            ),
        )
        return format_html(
            '<table class="aging-buckets-table"><thead><tr><th class="pr-6 text-left">{}</th>'
            '<th class="pr-6 text-left">{}</th><th class="text-left">{}</th></tr></thead>'
            "<tbody>{}</tbody></table>",
            _("Bucket"),
            _("From day"),
            _("To day"),
            rows,
        )

    @display(description=_("business date"))
    def business_date_display(self, obj):
        if obj.business_date_override:
            return format_html("{} ({})", date(obj.today()), _("frozen by the simulator"))
        return date(obj.today())

    def changelist_view(self, request, extra_context=None):
        organization = organization_of(request)
        if organization is None or not self.has_view_permission(request):
            raise PermissionDenied
        return HttpResponseRedirect(reverse("admin:core_organization_change", args=[organization.pk]))


# --- Users (memberships) ----------------------------------------------------------------


class MembershipCreateForm(forms.ModelForm):
    """A new user and their membership, in one form."""

    username = forms.CharField(label=_("username"), max_length=150)
    first_name = forms.CharField(label=_("first name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("last name"), max_length=150, required=False)
    email = forms.EmailField(label=_("email"), required=False)
    password = forms.CharField(
        label=_("password"),
        widget=forms.PasswordInput,
        min_length=10,
        help_text=_("At least 10 characters. Tell it to the person; they can change it later."),
    )

    class Meta:
        model = Membership
        fields = ["role", "portfolios", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style_form(self, only=["username", "first_name", "last_name", "email", "password"])

    def clean_username(self):
        username = self.cleaned_data["username"]
        if User.objects.filter(username__iexact=username).exists():
            raise forms.ValidationError(_("This username is taken."))
        return username


class MembershipChangeForm(forms.ModelForm):
    class Meta:
        model = Membership
        fields = ["role", "portfolios", "is_active"]


@admin.register(Membership)
class MembershipAdmin(TenantModelAdmin):
    view_roles = OVERSIGHT
    add_roles = ADMINS
    change_roles = ADMINS
    delete_roles = ADMINS
    list_display = ["username", "full_name", "email", "role_display", "portfolio_names", "is_active"]
    list_select_related = ["user"]
    list_filter = [("role", ChoicesDropdownFilter), "is_active"]
    search_fields = ["user__username", "user__first_name", "user__last_name", "user__email"]
    readonly_fields = ["username", "full_name", "email", "last_login"]
    filter_horizontal = []

    def get_queryset(self, request):
        portfolios = apps.get_model("portfolio", "Portfolio").objects.order_by("name")
        return super().get_queryset(request).prefetch_related(Prefetch("portfolios", queryset=portfolios))

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = MembershipChangeForm if obj is not None else MembershipCreateForm
        return super().get_form(request, obj, change, **kwargs)

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [
                (_("Person"), {"fields": ["username", "first_name", "last_name", "email", "password"]}),
                (_("Access"), {"fields": ["role", "portfolios", "is_active"]}),
            ]
        return [
            (_("Person"), {"fields": ["username", "full_name", "email", "last_login"]}),
            (_("Access"), {"fields": ["role", "portfolios", "is_active"]}),
        ]

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else []

    def save_model(self, request, obj, form, change):
        if not change:
            data = form.cleaned_data
            user = User(
                username=data["username"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                email=data["email"],
                is_staff=True,
            )
            user.set_password(data["password"])
            user.save()
            record_change(request, user, None)
            obj.user = user
        super().save_model(request, obj, form, change)

    @display(description=_("username"), ordering="user__username")
    def username(self, obj):
        return obj.user.username

    @display(description=_("name"))
    def full_name(self, obj):
        return obj.user.get_full_name()

    @display(description=_("email"))
    def email(self, obj):
        return obj.user.email

    @display(description=_("last login"))
    def last_login(self, obj):
        return date(obj.user.last_login)

    @display(description=_("role"), ordering="role", label=True)
    def role_display(self, obj):
        return obj.get_role_display()

    @display(description=_("portfolios"))
    def portfolio_names(self, obj):
        if obj.sees_all_portfolios:
            return _("All")
        return ", ".join(p.name for p in obj.portfolios.all()) or "—"


# --- API keys ------------------------------------------------------------------------


class ApiKeyCreateForm(StyledForm):
    name = forms.CharField(
        label=_("name"), max_length=100, help_text=_("Who uses it, e.g. 'ERP nightly sync'")
    )
    scope = forms.ChoiceField(label=_("scope"), choices=ApiKeyScope.choices, initial=ApiKeyScope.READ)

    def __init__(self, *args, organization, **kwargs):
        self.organization = organization
        super().__init__(*args, **kwargs)

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if ApiKey.objects.filter(organization=self.organization, name=name).exists():
            raise forms.ValidationError(_("An API key with this name exists."))
        return name


@admin.register(ApiKey)
class ApiKeyAdmin(TenantModelAdmin):
    view_roles = OVERSIGHT
    add_roles = ADMINS
    change_roles = NOBODY
    delete_roles = NOBODY
    list_display = ["name", "prefix_display", "scope", "created_by", "created_display", "last_used", "status"]
    list_select_related = ["created_by", "organization"]
    list_filter = [("scope", ChoicesDropdownFilter)]
    search_fields = ["name", "=prefix"]
    fields = ["name", "prefix_display", "scope", "created_by", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = fields
    actions = ["revoke_selected"]
    actions_detail = ["revoke_detail"]

    @display(description=_("prefix"))
    def prefix_display(self, obj):
        return f"rcb_{obj.prefix}_…"

    @display(description=_("created"), ordering="created_at")
    def created_display(self, obj):
        return date(obj.created_at)

    @display(description=_("last used"), ordering="last_used_at")
    def last_used(self, obj):
        return date(obj.last_used_at)

    @display(description=_("status"), label={"active": "success", "revoked": "danger"})
    def status(self, obj):
        return ("revoked", _("Revoked")) if obj.revoked_at else ("active", _("Active"))

    def has_revoke_selected_permission(self, request, obj=None):
        return role_of(request) in ADMINS

    def has_revoke_detail_permission(self, request, obj=None):
        return role_of(request) in ADMINS

    def _revoke(self, request, keys) -> int:
        actor = Actor.for_user(request.user)
        count = 0
        with transaction.atomic():
            for api_key in keys:
                if api_key.revoked_at is None:
                    revoke_api_key(api_key=api_key, actor=actor)
                    count += 1
        return count

    @action(description=_("Revoke selected API keys"), permissions=["revoke_selected"])
    def revoke_selected(self, request, queryset):
        count = self._revoke(request, queryset)
        message = ngettext("%(count)d API key revoked.", "%(count)d API keys revoked.", count) % {
            "count": count
        }
        self.message_user(request, message, messages.SUCCESS)

    @action(description=_("Revoke"), permissions=["revoke_detail"], icon="block", url_path="revoke")
    def revoke_detail(self, request, object_id):
        api_key = self.get_object(request, object_id)
        if api_key is None:
            raise PermissionDenied
        if request.method != "POST":
            return render_page(
                request,
                "core/api_key_revoke.html",
                {"api_key": api_key, "opts": self.opts},
                title=_("Revoke API key"),
            )
        self._revoke(request, [api_key])
        self.message_user(request, _("API key %(name)s revoked.") % {"name": api_key.name}, messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:core_apikey_change", args=[api_key.pk]))

    def add_view(self, request, form_url="", extra_context=None):
        """Create a key through the API service and show its secret once."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        organization = organization_of(request)
        form = ApiKeyCreateForm(request.POST or None, organization=organization)
        if request.method == "POST" and form.is_valid():
            try:
                api_key, secret = create_api_key(
                    organization=organization,
                    name=form.cleaned_data["name"],
                    scope=form.cleaned_data["scope"],
                    actor=Actor.for_user(request.user),
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                return render_page(
                    request,
                    "core/api_key_created.html",
                    {"api_key": api_key, "secret": secret, "opts": self.opts},
                    title=_("API key created"),
                    headers={"Cache-Control": "no-store"},
                )
        return render_page(
            request,
            "core/form_page.html",
            {
                "form": form,
                "opts": self.opts,
                "submit_label": _("Create API key"),
                "intro": _(
                    "The key's secret is shown once, right after it is created. Only a hash is stored."
                ),
            },
            title=_("New API key"),
        )


# --- Audit log ----------------------------------------------------------------------------


class ObjectTypeFilter(DropdownFilter):
    title = _("object type")
    parameter_name = "object_type"

    def lookups(self, request, model_admin):
        labels = scoped_queryset(AuditEntry, request).order_by().values_list("object_type", flat=True)
        return [(label, object_type_name(label)) for label in sorted(set(labels.distinct()))]

    def queryset(self, request, queryset):
        return queryset.filter(object_type=self.value()) if self.value() else queryset


class UserFilter(DropdownFilter):
    title = _("user")
    parameter_name = "user"

    def lookups(self, request, model_admin):
        members = scoped_queryset(Membership, request).select_related("user").order_by("user__username")
        return [(str(m.user_id), m.user.get_username()) for m in members]

    def queryset(self, request, queryset):
        value = self.value()
        return queryset.filter(user_id=int(value)) if value and value.isdigit() else queryset


def object_type_name(label: str) -> str:
    try:
        return str(apps.get_model(label)._meta.verbose_name).capitalize()
    except (LookupError, ValueError):
        return label


def field_name(label: str, attname: str) -> str:
    try:
        opts = apps.get_model(label)._meta
    except (LookupError, ValueError):
        return attname
    for field in opts.get_fields():
        if getattr(field, "attname", field.name) == attname or field.name == attname:
            return str(getattr(field, "verbose_name", field.name))
    return attname


def _show(value) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyTenantModelAdmin):
    view_roles = OVERSIGHT
    list_display = [
        "when",
        "actor_label",
        "source",
        "action_display",
        "object_type_display",
        "object_repr",
        "object_id",
    ]
    list_select_related = ["organization"]
    list_filter = [
        ObjectTypeFilter,
        ("action", ChoicesDropdownFilter),
        ("source", ChoicesDropdownFilter),
        UserFilter,
        ("created_at", RangeDateTimeFilter),
    ]
    search_fields = ["=object_id", "object_repr", "actor_label"]
    date_hierarchy = "created_at"
    fields = [
        "created_at",
        "actor_label",
        "source",
        "action",
        "object_type",
        "object_id",
        "object_repr",
        "changes",
    ]
    readonly_fields = fields

    @display(description=_("when"), ordering="created_at")
    def when(self, obj):
        return obj.created_at

    @display(
        description=_("action"),
        ordering="action",
        label={"create": "success", "update": "info", "delete": "danger"},
    )
    def action_display(self, obj):
        return obj.action, obj.get_action_display()

    @display(description=_("object type"), ordering="object_type")
    def object_type_display(self, obj):
        return object_type_name(obj.object_type)

    @display(description=_("changes"))
    def changes(self, obj):
        before, after = obj.before or {}, obj.after or {}
        keys = [k for k in {**before, **after} if before.get(k) != after.get(k) or not (before and after)]
        if not keys:
            return _("No field changed.")
        rows = [
            (
                field_name(obj.object_type, k),
                _show(before.get(k)) if before else "",
                _show(after.get(k)) if after else "",
            )
            for k in keys
        ]
        body = format_html_join(
            "",
            '<tr><th class="px-3 py-1 text-left font-semibold">{}</th>'
            '<td class="px-3 py-1 text-red-700 dark:text-red-400">{}</td>'
            '<td class="px-3 py-1 text-green-700 dark:text-green-400">{}</td></tr>',
            rows,
        )
        return format_html(
            '<table class="audit-diff border border-base-200 rounded-default dark:border-base-800">'
            '<thead><tr><th class="px-3 py-1 text-left">{}</th><th class="px-3 py-1 text-left">{}</th>'
            '<th class="px-3 py-1 text-left">{}</th></tr></thead><tbody>{}</tbody></table>',
            _("field"),
            _("before"),
            _("after"),
            body,
        )


__all__ = ["ApiKeyAdmin", "AuditEntryAdmin", "MembershipAdmin", "OrganizationAdmin"]
