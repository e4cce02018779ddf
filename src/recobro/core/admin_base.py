"""The back-office base: every ModelAdmin is tenant-scoped, role-aware and audited here.

Tenancy is enforced in one place. ``TenantModelAdmin.get_queryset`` reaches rows only
through ``Model.objects.for_user(user, organization)``; foreign-key and many-to-many
choices go through the same door; new rows get the request's organization. Permissions
follow the membership role, never Django's per-model permissions: a superuser or a staff
user without a membership sees nothing. Every create, update and delete writes an
``AuditEntry`` in the same transaction as the change.
"""

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db import models, router, transaction
from django.db.models.deletion import Collector
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils import formats, timezone
from django.utils.text import capfirst
from unfold.admin import ModelAdmin, StackedInline, TabularInline
from unfold.contrib.filters.admin import DropdownFilter
from unfold.widgets import (
    INPUT_CLASSES,
    UnfoldAdminFileFieldWidget,
    UnfoldAdminSelectMultipleWidget,
    UnfoldAdminSelectWidget,
    UnfoldAdminTextareaWidget,
    UnfoldBooleanSwitchWidget,
)

from recobro.core import audit
from recobro.core.models import AuditAction, Membership, Organization, Role
from recobro.core.money import format_money

ALL_ROLES = frozenset(Role.values)
MANAGERS = frozenset({Role.ADMIN, Role.SUPERVISOR})
ADMINS = frozenset({Role.ADMIN})
FIELD_WORKERS = frozenset({Role.ADMIN, Role.SUPERVISOR, Role.COLLECTOR, Role.AGENCY})
OVERSIGHT = frozenset({Role.ADMIN, Role.SUPERVISOR, Role.AUDITOR})
NOBODY = frozenset()

#: Field names never copied into the audit log (secrets and their hashes).
AUDIT_EXCLUDED_FIELDS = frozenset({"password", "key_hash"})


# --- Request context ----------------------------------------------------------


def membership_of(request: HttpRequest) -> Membership | None:
    """The membership the request works under (set by OrganizationMiddleware)."""
    return getattr(request, "membership", None)


def role_of(request: HttpRequest) -> str | None:
    membership = membership_of(request)
    return membership.role if membership is not None else None


def organization_of(request: HttpRequest) -> Organization | None:
    return getattr(request, "organization", None)


# --- Formatting for the organization's locale ----------------------------------


def money(amount: Decimal | None, currency: str, organization: Organization | None) -> str:
    if amount is None:
        return "—"
    return format_money(amount, currency, organization.locale if organization else "es-MX")


def date(value: dt.date | dt.datetime | None) -> str:
    """A date (or a datetime, in the active timezone) in the active locale's short format.

    OrganizationMiddleware activates the organization's formats (es-MX: 31/03/2026).
    """
    if value is None:
        return "—"
    if isinstance(value, dt.datetime):
        return formats.date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT")
    return formats.date_format(value, "SHORT_DATE_FORMAT")


# --- Pages in the back-office layout -------------------------------------------------


def is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def render_page(
    request: HttpRequest,
    template: str,
    context: dict[str, Any],
    *,
    title,
    fragment: str | None = None,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> TemplateResponse:
    """A custom page inside unfold's layout, or only its fragment for an htmx request."""
    if fragment is not None and is_htmx(request):
        return TemplateResponse(request, fragment, context, status=status, headers=headers)
    request.current_app = admin.site.name
    full_context = {**admin.site.each_context(request), "title": title, **context}
    return TemplateResponse(request, template, full_context, status=status, headers=headers)


# --- Forms outside the ModelAdmin machinery ----------------------------------------


def style_form(form: forms.BaseForm, only: Iterable[str] | None = None) -> None:
    """Give a plain form (or ``only`` some of its fields) unfold's widgets, as in the admin."""
    for name, field in form.fields.items():
        if only is not None and name not in only:
            continue
        widget = field.widget
        if field.label:
            field.label = capfirst(field.label)
        if isinstance(widget, forms.CheckboxInput):
            field.widget = UnfoldBooleanSwitchWidget()
        elif isinstance(widget, forms.SelectMultiple):
            field.widget = UnfoldAdminSelectMultipleWidget()
            field.widget.choices = field.choices
        elif isinstance(widget, forms.Select):
            field.widget = UnfoldAdminSelectWidget()
            field.widget.choices = field.choices
        elif isinstance(widget, forms.FileInput):
            field.widget = UnfoldAdminFileFieldWidget()
        elif isinstance(widget, forms.Textarea):
            field.widget = UnfoldAdminTextareaWidget(attrs={"rows": widget.attrs.get("rows", 4)})
        elif isinstance(widget, forms.DateInput):
            field.widget = forms.DateInput(
                attrs={"type": "date", "class": " ".join(INPUT_CLASSES)}, format="%Y-%m-%d"
            )
        elif isinstance(widget, forms.widgets.Input):
            widget.attrs["class"] = " ".join(INPUT_CLASSES)


class StyledForm(forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style_form(self)


# --- Audit ----------------------------------------------------------------------


def audit_snapshot(obj: models.Model) -> dict[str, Any]:
    """Concrete fields and many-to-many ids of a row, without secrets."""
    data = {k: v for k, v in audit.snapshot(obj).items() if k not in AUDIT_EXCLUDED_FIELDS}
    if obj.pk is not None:
        for field in obj._meta.many_to_many:
            data[field.name] = sorted(getattr(obj, field.name).values_list("pk", flat=True))
    return data


def stored_snapshot(obj: models.Model) -> dict[str, Any] | None:
    """The row as the database holds it now (before a form's changes are saved)."""
    if obj.pk is None:
        return None
    current = type(obj)._default_manager.filter(pk=obj.pk).first()
    return audit_snapshot(current) if current is not None else None


def audit_organization(obj: models.Model, request: HttpRequest) -> Organization:
    return getattr(obj, "organization", None) or organization_of(request)


def record_change(request: HttpRequest, obj: models.Model, before: dict | None, **extra) -> None:
    """Write the create/update entry for ``obj`` if anything changed."""
    after = audit_snapshot(obj)
    if before is not None and before == after:
        return
    audit.record(
        organization=audit_organization(obj, request),
        actor=audit.Actor.for_user(request.user),
        action=AuditAction.CREATE if before is None else AuditAction.UPDATE,
        obj=obj,
        before=before,
        after=after,
        **extra,
    )


def delete_audited(request: HttpRequest, objs: Iterable[models.Model]) -> None:
    """Delete rows and everything that cascades from them, one audit entry per row."""
    objs = list(objs)
    if not objs:
        return
    using = router.db_for_write(type(objs[0]))
    collector = Collector(using=using)
    collector.collect(objs)
    deleted: list[models.Model] = []
    for model, instances in collector.data.items():
        if not model._meta.auto_created:
            deleted.extend(instances)
    for qs in collector.fast_deletes:
        if not qs.model._meta.auto_created:
            deleted.extend(qs)
    actor = audit.Actor.for_user(request.user)
    entries = [
        audit.entry(
            organization=audit_organization(row, request),
            actor=actor,
            action=AuditAction.DELETE,
            obj=row,
            before=audit_snapshot(row),
        )
        for row in deleted
    ]
    with transaction.atomic(using=using):
        collector.delete()
        audit.record_many(entries)


# --- Scoping ----------------------------------------------------------------------


def scoped_queryset(model: type[models.Model], request: HttpRequest) -> models.QuerySet:
    """The rows of ``model`` this request may see: the one tenancy door of the back-office."""
    organization = organization_of(request)
    if organization is None or membership_of(request) is None:
        return model._default_manager.none()
    manager = model._default_manager
    if hasattr(manager, "for_user"):
        if model is Organization:
            return manager.filter(pk=organization.pk)
        return manager.for_user(request.user, organization)
    if model is get_user_model():
        return manager.filter(memberships__organization=organization).distinct()
    if any(f.name == "organization" for f in model._meta.concrete_fields):
        return manager.filter(organization=organization)
    return manager.none()


def scoped_filter(field_path: str, model: type[models.Model], title) -> type[DropdownFilter]:
    """A dropdown filter over a related model whose choices are this request's rows only.

    Django's RelatedFieldListFilter would list every organization's rows.
    """

    class ScopedRelatedFilter(DropdownFilter):
        parameter_name = field_path.replace("__", "_")

        def lookups(self, request, model_admin):
            return [(str(row.pk), str(row)) for row in scoped_queryset(model, request)]

        def queryset(self, request, queryset):
            value = self.value()
            if value and value.isdigit():
                return queryset.filter(**{f"{field_path}__pk": int(value)})
            return queryset

    ScopedRelatedFilter.title = title
    return ScopedRelatedFilter


class TenantAdminMixin:
    """What the ModelAdmin and the inlines share: scoped rows and choices, roles."""

    #: Roles that may see the model, add/change rows, and delete them.
    view_roles: frozenset = ALL_ROLES
    add_roles: frozenset = MANAGERS
    change_roles: frozenset = MANAGERS
    delete_roles: frozenset = MANAGERS

    def get_queryset(self, request):
        qs = scoped_queryset(self.model, request)
        ordering = self.get_ordering(request)
        return qs.order_by(*ordering) if ordering else qs

    def get_exclude(self, request, obj=None):
        exclude = list(super().get_exclude(request, obj) or [])
        if "organization" not in exclude and any(f.name == "organization" for f in self.model._meta.fields):
            exclude.append("organization")
        return exclude

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        kwargs.setdefault("queryset", scoped_queryset(db_field.related_model, request))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        kwargs.setdefault("queryset", scoped_queryset(db_field.related_model, request))
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def has_module_permission(self, request):
        return role_of(request) in self.view_roles

    def has_view_permission(self, request, obj=None):
        return role_of(request) in self.view_roles or self.has_change_permission(request, obj)

    def has_add_permission(self, request, *args):
        return role_of(request) in self.add_roles

    def has_change_permission(self, request, obj=None):
        return role_of(request) in self.change_roles

    def has_delete_permission(self, request, obj=None):
        return role_of(request) in self.delete_roles


class TenantModelAdmin(TenantAdminMixin, ModelAdmin):
    """Base for every back-office ModelAdmin."""

    list_per_page = 50
    show_full_result_count = False
    list_filter_submit = True
    compressed_fields = True
    warn_unsaved_form = True

    def save_model(self, request, obj, form, change):
        obj._audit_before = stored_snapshot(obj) if change else None
        if not change and hasattr(obj, "organization_id") and obj.organization_id is None:
            obj.organization = organization_of(request)
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        # The entry is written after the many-to-many and the inlines are saved, so the
        # "after" snapshot is complete; Django's changeform_view runs all of it in one
        # transaction.
        super().save_related(request, form, formsets, change)
        obj = form.instance
        record_change(request, obj, getattr(obj, "_audit_before", None))

    def save_formset(self, request, form, formset, change):
        parent = form.instance
        instances = formset.save(commit=False)
        delete_audited(request, formset.deleted_objects)
        for obj in instances:
            before = stored_snapshot(obj)
            if before is None and hasattr(obj, "organization_id") and obj.organization_id is None:
                obj.organization = getattr(parent, "organization", None) or organization_of(request)
            obj.save()
            record_change(request, obj, before)
        formset.save_m2m()

    def delete_model(self, request, obj):
        delete_audited(request, [obj])

    def delete_queryset(self, request, queryset):
        delete_audited(request, queryset)

    def log_addition(self, request, obj, message):
        # The audit log is the record; Django's LogEntry would only duplicate it.
        return None

    def log_change(self, request, obj, message):
        return None

    def log_deletion(self, request, obj, object_repr):
        return None

    def log_deletions(self, request, queryset):
        return None


class ReadOnlyTenantModelAdmin(TenantModelAdmin):
    """Rows written only by services and engines: visible, never edited here."""

    add_roles = NOBODY
    change_roles = NOBODY
    delete_roles = NOBODY
    actions = None


class TenantTabularInline(TenantAdminMixin, TabularInline):
    extra = 0
    show_change_link = True


class TenantStackedInline(TenantAdminMixin, StackedInline):
    extra = 0


class ReadOnlyTabularInline(TenantTabularInline):
    add_roles = NOBODY
    change_roles = NOBODY
    delete_roles = NOBODY
    can_delete = False
    max_num = 0


__all__ = [
    "ADMINS",
    "ALL_ROLES",
    "FIELD_WORKERS",
    "MANAGERS",
    "NOBODY",
    "OVERSIGHT",
    "ReadOnlyTabularInline",
    "ReadOnlyTenantModelAdmin",
    "StyledForm",
    "TenantModelAdmin",
    "TenantStackedInline",
    "TenantTabularInline",
    "date",
    "delete_audited",
    "membership_of",
    "money",
    "organization_of",
    "record_change",
    "render_page",
    "role_of",
    "scoped_filter",
    "scoped_queryset",
    "style_form",
]
