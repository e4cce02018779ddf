"""Forms of the portfolio back-office: what people type, parsed and checked before a service runs."""

import json
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from recobro.core.admin import OrganizationForm
from recobro.core.admin_base import StyledForm, scoped_queryset
from recobro.portfolio.aging import validate_buckets
from recobro.portfolio.contacts import ContactValueError, normalize_contact
from recobro.portfolio.importers import FIELDS, MAPPING_HELP
from recobro.portfolio.importers.fields import (
    ATTRIBUTE_HELP,
    ATTRIBUTE_KINDS,
    ATTRIBUTE_PREFIX,
    IGNORE_KEY,
    attribute_problem,
    is_attribute,
)
from recobro.portfolio.models import (
    ContactPoint,
    Debtor,
    ImportKind,
    ImportProfile,
    PaymentMethod,
    Portfolio,
)
from recobro.portfolio.references import normalize as normalize_reference

# --- Organization settings: aging buckets as a table -------------------------------------


class AgingBucketsWidget(forms.Widget):
    """One row per bucket (key, label, from, to) plus a few empty rows to add more."""

    template_name = "portfolio/widgets/aging_buckets.html"
    extra_rows = 3
    columns = ("key", "label", "min", "max")

    def format_value(self, value):
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                value = []
        rows = [dict(row) for row in (value or []) if isinstance(row, dict)]
        return rows + [dict.fromkeys(self.columns, None) for _ in range(self.extra_rows)]

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["widget"]["rows"] = context["widget"]["value"]
        context["widget"]["count"] = len(context["widget"]["value"])
        return context

    def value_from_datadict(self, data, files, name):
        try:
            count = min(int(data.get(f"{name}-count", 0)), 50)
        except ValueError:
            count = 0
        rows = []
        for i in range(count):
            row = {col: (data.get(f"{name}-{i}-{col}") or "").strip() for col in self.columns}
            if not any(row.values()):
                continue
            for bound in ("min", "max"):
                row[bound] = row[bound] or None
            if not row["key"]:
                row["key"] = _default_key(row["min"], row["max"])
            rows.append(row)
        return rows

    def value_omitted_from_data(self, data, files, name):
        return f"{name}-count" not in data


def _default_key(low, high) -> str:
    if low is None:
        return "current"
    return f"{low}+" if high is None else f"{low}-{high}"


class AgingBucketsField(forms.Field):
    widget = AgingBucketsWidget
    default_error_messages = {"required": _("Give at least one aging bucket.")}

    def to_python(self, value):
        return value or []

    def validate(self, value):
        super().validate(value)
        validate_buckets(value)

    def clean(self, value):
        value = super().clean(value)
        return validate_buckets(value)

    def has_changed(self, initial, data):
        try:
            return validate_buckets(initial) != validate_buckets(data)
        except ValidationError:
            return True


class OrganizationSettingsForm(OrganizationForm):
    aging_buckets = AgingBucketsField(
        label=_("Aging buckets"),
        help_text=_(
            "Days past due, both ends included. The first bucket may start open (empty 'from'); "
            "the last must be open-ended (empty 'to'). Empty rows are ignored."
        ),
    )


# --- Contact points -----------------------------------------------------------------


class ContactPointForm(forms.ModelForm):
    class Meta:
        model = ContactPoint
        fields = [
            "debtor",
            "kind",
            "value",
            "label",
            "is_primary",
            "verified_at",
            "consent_at",
            "opted_out_at",
            "wrong_number",
        ]

    def clean(self):
        cleaned = super().clean()
        kind, value = cleaned.get("kind"), cleaned.get("value")
        debtor = cleaned.get("debtor") or getattr(self.instance, "debtor", None)
        if kind and value:
            country = debtor.organization.country if debtor is not None else "MX"
            try:
                normalized = normalize_contact(kind, value, country)
            except ContactValueError as exc:
                self.add_error("value", exc)
                return cleaned
            self.instance.normalized = normalized
            if debtor is not None:
                duplicate = ContactPoint.objects.filter(debtor=debtor, kind=kind, normalized=normalized)
                if self.instance.pk:
                    duplicate = duplicate.exclude(pk=self.instance.pk)
                if duplicate.exists():
                    self.add_error("value", _("This debtor already has this contact point."))
        return cleaned


# --- Manual payment entry --------------------------------------------------------------


class RecordPaymentForm(StyledForm):
    debtor = forms.CharField(
        label=_("debtor"),
        max_length=64,
        help_text=_("External id, payment reference or tax id"),
    )
    portfolio = forms.ModelChoiceField(label=_("portfolio"), queryset=Portfolio.objects.none())
    amount = forms.DecimalField(label=_("amount"), min_value=Decimal("0.01"), max_digits=18, decimal_places=2)
    paid_on = forms.DateField(label=_("payment date"))
    method = forms.ChoiceField(
        label=_("method"), choices=PaymentMethod.choices, initial=PaymentMethod.TRANSFER
    )
    reference = forms.CharField(
        label=_("reference"), max_length=100, required=False, help_text=_("Bank or receipt reference")
    )
    notes = forms.CharField(label=_("notes"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, request, debtor: Debtor | None = None, **kwargs):
        self.request = request
        self.fixed_debtor = debtor
        super().__init__(*args, **kwargs)
        portfolios = scoped_queryset(Portfolio, request).filter(is_active=True)
        self.fields["portfolio"].queryset = portfolios
        # The portfolio of the debtor's case when there is one; the only portfolio otherwise.
        own = portfolios.filter(cases__debtor=debtor) if debtor is not None else portfolios.none()
        for candidates in (own, portfolios):
            found = list(candidates[:2])
            if len(found) == 1:
                self.fields["portfolio"].initial = found[0]
                break
        if debtor is not None:
            self.fields["debtor"].required = False
            self.fields["debtor"].widget = forms.HiddenInput()
        self.fields["paid_on"].initial = request.organization.today()

    def clean_debtor(self):
        if self.fixed_debtor is not None:
            return self.fixed_debtor
        text = self.cleaned_data["debtor"].strip()
        debtors = scoped_queryset(Debtor, self.request).filter(
            Q(external_id=text) | Q(payment_reference=normalize_reference(text)) | Q(tax_id=text.upper())
        )
        found = list(debtors[:2])
        if not found:
            raise ValidationError(_("No debtor of yours has this external id, payment reference or tax id."))
        if len(found) > 1:
            raise ValidationError(_("Several debtors match; use the external id or the payment reference."))
        return found[0]

    def clean_paid_on(self):
        paid_on = self.cleaned_data["paid_on"]
        if paid_on > self.request.organization.today():
            raise ValidationError(_("A payment cannot be dated in the future."))
        return paid_on


# --- Imports -----------------------------------------------------------------------------


class ColumnMapWidget(forms.Widget):
    """One text input per field of an import kind (the file's header for it), the headers
    to ignore, comma-separated, and for debtors one row per custom attribute (its name and
    the header that holds it) plus a few empty rows to add more."""

    template_name = "portfolio/widgets/column_map.html"
    extra_attribute_rows = 3

    def __init__(self, kind: str, attrs=None):
        super().__init__(attrs)
        self.kind = kind

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        mapping = value if isinstance(value, dict) else {}
        ignore = mapping.get(IGNORE_KEY) or []
        context["widget"]["rows"] = [
            {
                "name": spec.name,
                "required": spec.required,
                "help": spec.help_text,
                "value": mapping.get(spec.name) or "",
            }
            for spec in FIELDS[self.kind]
        ]
        context["widget"]["ignore"] = ", ".join([ignore] if isinstance(ignore, str) else ignore)
        if self.kind in ATTRIBUTE_KINDS:
            attributes = [
                {"name": key[len(ATTRIBUTE_PREFIX) :], "header": header}
                for key, header in mapping.items()
                if is_attribute(key)
            ]
            attributes += [{"name": "", "header": ""}] * self.extra_attribute_rows
            context["widget"]["attributes"] = attributes
            context["widget"]["attribute_help"] = ATTRIBUTE_HELP.help_text
        return context

    def value_from_datadict(self, data, files, name):
        mapping = {}
        for spec in FIELDS[self.kind]:
            header = (data.get(f"{name}-{spec.name}") or "").strip()
            if header:
                mapping[spec.name] = header
        if self.kind in ATTRIBUTE_KINDS:
            try:
                count = min(int(data.get(f"{name}-attr-count", 0)), 100)
            except ValueError:
                count = 0
            for i in range(count):
                attribute = (data.get(f"{name}-attr-{i}-name") or "").strip()
                header = (data.get(f"{name}-attr-{i}-header") or "").strip()
                if is_attribute(attribute):
                    attribute = attribute[len(ATTRIBUTE_PREFIX) :]
                if header:  # a row without a header maps nothing
                    mapping[ATTRIBUTE_PREFIX + attribute] = header
        ignore = [h.strip() for h in (data.get(f"{name}-{IGNORE_KEY}") or "").split(",") if h.strip()]
        if ignore:
            mapping[IGNORE_KEY] = ignore
        return mapping

    def value_omitted_from_data(self, data, files, name):
        return False


class ImportProfileForm(forms.ModelForm):
    """A profile's column mapping as one input per field of its kind (shown for that kind)."""

    class Meta:
        model = ImportProfile
        fields = ["name", "kind", "delimiter", "encoding", "number_format", "date_format"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.kind:
            self.fields[f"map_{self.instance.kind}"].initial = self.instance.column_map

    def clean(self):
        cleaned = super().clean()
        kind = cleaned.get("kind")
        if kind:
            mapping = cleaned.get(f"map_{kind}") or {}
            seen: dict[str, str] = {}
            for field, header in mapping.items():
                if field == IGNORE_KEY:
                    continue
                if is_attribute(field):
                    problem = attribute_problem(field[len(ATTRIBUTE_PREFIX) :])
                    if problem:
                        message = _("The column “%(header)s”: %(problem)s")
                        self.add_error(f"map_{kind}", message % {"header": header, "problem": problem})
                folded = header.casefold()
                if folded in seen:
                    self.add_error(
                        f"map_{kind}",
                        _("Column “%(header)s” is mapped to both %(first)s and %(second)s.")
                        % {"header": header, "first": seen[folded], "second": field},
                    )
                seen[folded] = field
            self.instance.column_map = mapping
        return cleaned


# One mapping field per kind, declared on the class so the admin's fieldsets can name them.
for _kind, _label in ImportKind.choices:
    ImportProfileForm.base_fields[f"map_{_kind}"] = ImportProfileForm.declared_fields[f"map_{_kind}"] = (
        forms.Field(
            label=format_lazy(_("Columns of a file of {kind}"), kind=_label),
            required=False,
            widget=ColumnMapWidget(_kind),
            help_text=MAPPING_HELP,
            initial=dict,
        )
    )


#: Kinds whose rows belong to one portfolio.
PORTFOLIO_KINDS = {ImportKind.DOCUMENTS, ImportKind.PAYMENTS}
UPLOAD_EXTENSIONS = (".csv", ".txt", ".xlsx")


class ImportUploadForm(StyledForm):
    kind = forms.ChoiceField(label=_("what the file holds"), choices=ImportKind.choices)
    portfolio = forms.ModelChoiceField(
        label=_("portfolio"),
        queryset=Portfolio.objects.none(),
        required=False,
        help_text=_("Required for documents and payments"),
    )
    file = forms.FileField(label=_("file"), help_text=_("CSV (comma or semicolon) or Excel .xlsx"))
    profile = forms.ModelChoiceField(
        label=_("mapping profile"),
        queryset=ImportProfile.objects.none(),
        required=False,
        help_text=_("How this file's columns, numbers and dates are written; none means Recobro's own names"),
    )
    skip_invalid = forms.BooleanField(
        label=_("Skip invalid rows"),
        required=False,
        help_text=_(
            "Import the valid rows and report the others. "
            "Unchecked, a file with any invalid row writes nothing."
        ),
    )

    def __init__(self, *args, request, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["portfolio"].queryset = scoped_queryset(Portfolio, request).filter(is_active=True)
        self.fields["profile"].queryset = scoped_queryset(ImportProfile, request).order_by("kind", "name")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith(UPLOAD_EXTENSIONS):
            raise ValidationError(_("Upload a .csv or .xlsx file."))
        return upload

    def clean(self):
        cleaned = super().clean()
        kind, portfolio, profile = cleaned.get("kind"), cleaned.get("portfolio"), cleaned.get("profile")
        if kind in PORTFOLIO_KINDS and portfolio is None:
            self.add_error("portfolio", _("Choose the portfolio these rows belong to."))
        if profile is not None and kind and profile.kind != kind:
            self.add_error(
                "profile", _("This profile maps %(kind)s files.") % {"kind": profile.get_kind_display()}
            )
        return cleaned


# --- Aging report ------------------------------------------------------------------------


class AgingFilterForm(StyledForm):
    portfolio = forms.ModelChoiceField(
        label=_("portfolio"),
        queryset=Portfolio.objects.none(),
        required=False,
        empty_label=_("All portfolios"),
    )
    as_of = forms.DateField(label=_("as of"), required=False)

    def __init__(self, *args, request, **kwargs):
        super().__init__(*args, **kwargs)
        portfolios = scoped_queryset(Portfolio, request)
        field = self.fields["portfolio"]
        field.queryset = portfolios
        if not request.membership.sees_all_portfolios:
            field.required = True
            field.empty_label = None
            field.widget.choices = field.choices

    def clean_as_of(self):
        return self.cleaned_data["as_of"] or None
