"""Back-office forms of the strategy configuration, holds and the YAML upload.

Configuration forms never save rows themselves. Each turns its data into a spec
(``services.specs``) and asks ``services.configuration.check_change`` what problems the
edit would introduce, in the whole configuration; each problem lands on its field (a rule
error with its position on the rule field) or above the form. The admin then saves through
the matching service (``save_segment``, ``save_strategy``…), the same path as the YAML
import.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, InvalidOperation

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.forms.models import BaseInlineFormSet
from django.utils.translation import gettext_lazy as _

from recobro.channels.models import Template
from recobro.core.admin_base import StyledForm, scoped_queryset
from recobro.portfolio.models import Debtor, Document
from recobro.portfolio.references import normalize as normalize_reference
from recobro.strategy.models import (
    HoldReason,
    HoldScope,
    Segment,
    Stage,
    Step,
    StopCondition,
    Strategy,
    StrategySettings,
    Variant,
)
from recobro.strategy.rules.facts import help_entries
from recobro.strategy.services.configuration import check_change
from recobro.strategy.services.specs import (
    Configuration,
    SegmentSpec,
    SettingsSpec,
    StageSpec,
    StepSpec,
    StrategySpec,
    TemplateSpec,
    VariantSpec,
)
from recobro.strategy.services.validation import Problem

#: Spec attribute → form field, where their names differ.
FORM_FIELDS = {"active": "is_active", "champion": "is_champion"}

RULE_HELP = _(
    "A rule over the case's facts, e.g. dpd between 1 and 30 and balance >= 5000. The facts are listed below."
)


def fact_catalogue() -> list[dict[str, str]]:
    return help_entries()


# --- Putting problems on the form ---------------------------------------------------------------


def run_check(organization, edit: Callable[[Configuration], str]) -> tuple[list[Problem], str]:
    """The problems of an edit, and the path of the object it edits."""
    where = {"path": ""}

    def run(config: Configuration) -> str:
        where["path"] = edit(config)
        return where["path"]

    problems = check_change(organization=organization, edit=run)
    return problems, where["path"]


def attach(form: forms.BaseForm, problem: Problem, *, local: bool) -> bool:
    """Put a problem on its field when it is this form's; True if it was placed."""
    field = FORM_FIELDS.get(problem.field, problem.field)
    if not (local and field in form.fields):
        return False
    form.add_error(field, problem.message)
    return True


def report(form: forms.BaseForm, problems: list[Problem], path: str) -> None:
    for problem in problems:
        if not attach(form, problem, local=problem.path == path):
            form.add_error(None, str(problem))


class ConfigForm(forms.ModelForm):
    """A ModelForm that checks its edit against the whole configuration."""

    #: Set by the admin: the organization the request works in.
    organization = None

    def spec(self):
        raise NotImplementedError

    def edit(self, config: Configuration) -> str:
        raise NotImplementedError

    def clean(self):
        cleaned = super().clean()
        if not self.errors:
            problems, path = run_check(self.organization, self.edit)
            report(self, problems, path)
        return cleaned


def _original_code(form: forms.ModelForm) -> str | None:
    return form.instance.code if form.instance.pk else None


class SegmentForm(ConfigForm):
    class Meta:
        model = Segment
        fields = ["code", "name", "priority", "rule", "description", "is_active"]
        widgets = {"rule": forms.Textarea(attrs={"rows": 3})}
        help_texts = {"rule": RULE_HELP}

    def spec(self) -> SegmentSpec:
        d = self.cleaned_data
        return SegmentSpec(
            code=_original_code(self) or d["code"],
            name=d["name"],
            priority=d["priority"],
            rule=d["rule"],
            description=d.get("description") or "",
            active=d.get("is_active", True),
        )

    def edit(self, config: Configuration) -> str:
        return config.put_segment(self.spec())


class StageForm(ConfigForm):
    class Meta:
        model = Stage
        fields = [
            "code",
            "name",
            "kind",
            "position",
            "entry_offset",
            "entry_rule",
            "exits_when_cured",
            "priority_weight",
            "is_active",
        ]
        widgets = {"entry_rule": forms.Textarea(attrs={"rows": 2})}

    def spec(self) -> StageSpec:
        d = self.cleaned_data
        return StageSpec(
            code=_original_code(self) or d["code"],
            name=d["name"],
            kind=d["kind"],
            position=d["position"],
            entry_offset=d["entry_offset"],
            entry_rule=d.get("entry_rule") or "",
            exits_when_cured=d.get("exits_when_cured", False),
            priority_weight=d["priority_weight"],
            active=d.get("is_active", True),
        )

    def edit(self, config: Configuration) -> str:
        return config.put_stage(self.spec())


class TemplateForm(ConfigForm):
    class Meta:
        model = Template
        fields = ["code", "channel", "language", "name", "subject", "body", "is_active"]
        widgets = {"body": forms.Textarea(attrs={"rows": 8})}

    def spec(self) -> TemplateSpec:
        d = self.cleaned_data
        instance = self.instance
        return TemplateSpec(
            code=instance.code if instance.pk else d["code"],
            channel=instance.channel if instance.pk else d["channel"],
            language=instance.language if instance.pk else d["language"],
            name=d["name"],
            subject=d.get("subject") or "",
            body=d["body"],
            active=d.get("is_active", True),
        )

    def edit(self, config: Configuration) -> str:
        return config.put_template(self.spec())


class ProbabilitiesField(forms.JSONField):
    """The probability of payment per aging bucket: {"1-30": "0.70", …}."""

    def clean(self, value):
        value = super().clean(value)
        if not isinstance(value, dict):
            raise ValidationError(_('Write a mapping of bucket to probability, e.g. {"1-30": "0.70"}.'))
        result = {}
        for key, item in value.items():
            try:
                if isinstance(item, bool):
                    raise InvalidOperation
                result[str(key)] = str(Decimal(str(item)))  # JSON for the model field
            except InvalidOperation:
                raise ValidationError(
                    _("The probability of %(key)s is not a number (%(value)r).") % {"key": key, "value": item}
                ) from None
        return result


class SettingsForm(ConfigForm):
    fallback_probability = ProbabilitiesField(label=_("probability of payment by bucket"))

    class Meta:
        model = StrategySettings
        fields = [
            "cycle_hour",
            "catch_up_days",
            "payment_stop_days",
            "long_hold_days",
            "manual_stage_days",
            "broken_promise_factor",
            "fallback_probability",
        ]

    def spec(self) -> SettingsSpec:
        d = self.cleaned_data
        return SettingsSpec(
            cycle_hour=d["cycle_hour"],
            catch_up_days=d["catch_up_days"],
            payment_stop_days=d["payment_stop_days"],
            long_hold_days=d["long_hold_days"],
            manual_stage_days=d["manual_stage_days"],
            broken_promise_factor=d["broken_promise_factor"],
            fallback_probability={k: Decimal(v) for k, v in d["fallback_probability"].items()},
        )

    def edit(self, config: Configuration) -> str:
        config.settings = self.spec()
        return "settings"


# --- Strategies and their variants ----------------------------------------------------------


class ParentForm(forms.ModelForm):
    """A parent whose inline formset checks the parent and the rows together."""

    organization = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance._config_form = self


class StrategyForm(ParentForm):
    """The strategy's own fields; the whole strategy (with its variants) is checked by the
    variants' formset, which sees both."""

    class Meta:
        model = Strategy
        fields = ["code", "name", "stage", "segment", "description", "is_active"]


class VariantInlineForm(forms.ModelForm):
    class Meta:
        model = Variant
        fields = ["code", "name", "is_champion", "share", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["code"].disabled = True  # a variant's identity within its strategy


def _live_forms(formset) -> list[forms.Form]:
    return [
        f
        for f in formset.forms
        if hasattr(f, "cleaned_data")
        and f.cleaned_data
        and not (formset.can_delete and formset._should_delete_form(f))
    ]


class ConfigFormSet(BaseInlineFormSet):
    """An inline formset whose clean checks the parent and its rows as one edit."""

    organization = None

    def parent_form(self):
        return getattr(self.instance, "_config_form", None)

    def edit(self, config: Configuration) -> str:
        raise NotImplementedError

    def row_path(self, path: str, index: int) -> str:
        raise NotImplementedError

    def clean(self):
        super().clean()
        parent = self.parent_form()
        if parent is not None and not parent.is_valid():
            return  # the parent's own errors first
        if any(f.errors for f in self.forms):
            return
        problems, path = run_check(self.organization, self.edit)
        live = _live_forms(self)
        messages = []
        for problem in problems:
            placed = False
            for index, form in enumerate(live):
                if problem.path == self.row_path(path, index):
                    placed = attach(form, problem, local=True)
                    break
            if not placed:
                messages.append(str(problem))
        if messages:
            raise ValidationError(messages)


class VariantFormSet(ConfigFormSet):
    def strategy_spec(self) -> StrategySpec:
        strategy: Strategy = self.instance
        variants = []
        for form in _live_forms(self):
            d = form.cleaned_data
            code = form.instance.code if form.instance.pk else d["code"]
            variants.append(
                VariantSpec(
                    code=code,
                    name=d["name"],
                    champion=d.get("is_champion", False),
                    share=d["share"],
                    active=d.get("is_active", True),
                )
            )
        return StrategySpec(
            code=strategy.code,
            name=strategy.name,
            stage=strategy.stage.code if strategy.stage_id else "",
            segment=strategy.segment.code if strategy.segment_id else None,
            description=strategy.description,
            active=strategy.is_active,
            variants=variants,
        )

    def edit(self, config: Configuration) -> str:
        spec = self.strategy_spec()
        stored = config.strategy(spec.code)
        old = {v.code: v.steps for v in stored.variants} if stored else {}
        for variant in spec.variants:
            variant.steps = old.get(variant.code, [])
        return config.put_strategy(spec)

    def row_path(self, path: str, index: int) -> str:
        return f"{path}.variants[{index}]"


# --- A variant and its steps ---------------------------------------------------------------------


class VariantForm(ParentForm):
    class Meta:
        model = Variant
        fields = ["name", "is_champion", "share", "is_active"]


class StepInlineForm(forms.ModelForm):
    stop_on = forms.MultipleChoiceField(
        label=_("stop when"),
        choices=StopCondition.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = Step
        fields = [
            "position",
            "name",
            "anchor",
            "offset_days",
            "weekdays",
            "action",
            "channel",
            "template",
            "task_kind",
            "condition",
            "stop_on",
            "is_active",
        ]
        widgets = {"condition": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.instance.pk:
            self.fields["stop_on"].initial = list(StopCondition.values)
        else:
            self.fields["stop_on"].initial = list(self.instance.stop_on or [])
        self.fields["position"].required = False


class StepFormSet(ConfigFormSet):
    def variant_spec(self) -> tuple[str, VariantSpec]:
        variant: Variant = self.instance
        rows = sorted(
            enumerate(_live_forms(self)),
            key=lambda pair: (
                pair[1].cleaned_data.get("position") is None,
                pair[1].cleaned_data.get("position") or 0,
                pair[0],
            ),
        )
        self._order = [index for index, _form in rows]
        steps = []
        for _index, form in rows:
            d = form.cleaned_data
            template: Template | None = d.get("template")
            steps.append(
                StepSpec(
                    pk=form.instance.pk,
                    name=d["name"],
                    anchor=d["anchor"],
                    offset_days=d["offset_days"],
                    weekdays=d.get("weekdays") or "",
                    action=d["action"],
                    channel=d.get("channel") or "",
                    template=template.code if template else "",
                    language=template.language if template else "",
                    task_kind=d.get("task_kind") or "",
                    condition=d.get("condition") or "",
                    stop_on=list(d.get("stop_on") or []),
                    active=d.get("is_active", True),
                )
            )
        spec = VariantSpec(
            code=variant.code,
            name=variant.name,
            champion=variant.is_champion,
            share=variant.share,
            active=variant.is_active,
            steps=steps,
        )
        return variant.strategy.code, spec

    def edit(self, config: Configuration) -> str:
        strategy_code, spec = self.variant_spec()
        return config.put_variant(strategy_code, spec)

    def row_path(self, path: str, index: int) -> str:
        # Steps are checked in position order; map the problem back to the form shown.
        order = getattr(self, "_order", None) or list(range(len(self.forms)))
        return f"{path}.steps[{order.index(index)}]" if index in order else ""


# --- Holds ---------------------------------------------------------------------------------------------


class HoldForm(StyledForm):
    debtor = forms.CharField(
        label=_("debtor"), max_length=64, help_text=_("External id, payment reference or tax id")
    )
    scope = forms.ChoiceField(label=_("scope"), choices=HoldScope.choices, initial=HoldScope.DEBTOR)
    document = forms.CharField(
        label=_("document"),
        max_length=64,
        required=False,
        help_text=_("Number or external id of the document (only for a document hold)"),
    )
    reason = forms.ChoiceField(label=_("reason"), choices=HoldReason.choices)
    note = forms.CharField(label=_("note"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    starts_on = forms.DateField(label=_("from"), widget=forms.DateInput, help_text=_("May be in the past"))
    ends_on = forms.DateField(
        label=_("until"), required=False, widget=forms.DateInput, help_text=_("Empty: until released")
    )

    def __init__(self, *args, request, debtor: Debtor | None = None, **kwargs):
        self.request = request
        self.fixed_debtor = debtor
        super().__init__(*args, **kwargs)
        if debtor is not None:
            self.fields["debtor"].required = False
            self.fields["debtor"].widget = forms.HiddenInput()
        self.fields["starts_on"].initial = request.organization.today()

    def clean_debtor(self) -> Debtor:
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

    def clean(self):
        cleaned = super().clean()
        debtor = cleaned.get("debtor")
        text = (cleaned.get("document") or "").strip()
        cleaned["document"] = None
        if cleaned.get("scope") == HoldScope.DOCUMENT:
            if not text:
                self.add_error("document", _("A document hold needs the document."))
            elif debtor is not None:
                found = list(
                    Document.objects.filter(debtor=debtor).filter(Q(number=text) | Q(external_id=text))[:2]
                )
                if len(found) != 1:
                    self.add_error(
                        "document",
                        _("%(debtor)s has no document numbered %(number)s.")
                        % {"debtor": debtor, "number": text}
                        if not found
                        else _("Several documents match; use the external id."),
                    )
                else:
                    cleaned["document"] = found[0]
        return cleaned


# --- The YAML upload --------------------------------------------------------------------------------------


class ImportForm(StyledForm):
    file = forms.FileField(label=_("YAML file"), required=False)
    text = forms.CharField(
        label=_("or paste the document"), required=False, widget=forms.Textarea(attrs={"rows": 10})
    )

    def clean(self):
        cleaned = super().clean()
        upload = cleaned.get("file")
        if upload:
            if upload.size > 5_000_000:
                raise ValidationError(
                    _("The file is too large for a configuration (%(size)d bytes).") % {"size": upload.size}
                )
            try:
                cleaned["text"] = upload.read().decode("utf-8-sig")
            except UnicodeDecodeError as error:
                raise ValidationError(
                    _("The file is not UTF-8 text (byte %(position)d).") % {"position": error.start}
                ) from None
        if not (cleaned.get("text") or "").strip():
            raise ValidationError(_("Choose a YAML file or paste the document."))
        return cleaned


class ConfirmImportForm(forms.Form):
    text = forms.CharField(widget=forms.HiddenInput, strip=False)
    fingerprint = forms.CharField(widget=forms.HiddenInput)


__all__ = [
    "ConfigForm",
    "ConfirmImportForm",
    "HoldForm",
    "ImportForm",
    "SegmentForm",
    "SettingsForm",
    "StageForm",
    "StepFormSet",
    "StepInlineForm",
    "StrategyForm",
    "TemplateForm",
    "VariantForm",
    "VariantFormSet",
    "VariantInlineForm",
]
