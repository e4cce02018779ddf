"""Back-office pages of the strategy app outside the ModelAdmins (URL names ``strategy-<view>``).

The case page's strategy panel (``case_admin``) is built by ``case_panel``; its
"explain for date" form loads ``case_explain`` with htmx, and its managers' forms post to
``case_move_stage`` and ``case_place_hold``. Views are adapters: find the case for this
user (404 when not theirs), check the role, call explain or a service, respond.
"""

import datetime as dt

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Exists, OuterRef
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods

from recobro.core.admin_base import FIELD_WORKERS, MANAGERS, StyledForm, date, money, render_page, role_of
from recobro.core.audit import Actor
from recobro.core.tenancy import get_for_user_or_404
from recobro.portfolio.models import OPEN_STATUSES, Case, Document
from recobro.portfolio.views import backoffice
from recobro.strategy.explain import RECORDED_TODAY, WAITING, StepStatus, explain_case
from recobro.strategy.models import (
    Action,
    CaseState,
    Hold,
    HoldReason,
    HoldScope,
    Stage,
    StageTransition,
    Task,
)
from recobro.strategy.services.holds import place_hold
from recobro.strategy.services.stages import move_case_stage

#: Rows of each history list shown on the case page.
RECENT_ROWS = 20

#: Roles that may move a case to another stage by hand (admins and supervisors).
MOVERS = MANAGERS
#: Roles that may place a hold from the case page; a collector's long hold waits for a
#: supervisor's approval (``place_hold`` decides). Auditors only read.
HOLDERS = FIELD_WORKERS

STEP_LABELS = {
    StepStatus.FIRES: "success",
    StepStatus.ALREADY_DONE: "info",
    StepStatus.STOPPED: "warning",
    StepStatus.SUPERSEDED: "",
    StepStatus.STALE: "",
    StepStatus.SKIPPED: "danger",
    StepStatus.HELD: "warning",
    StepStatus.WAITS_WEEKDAY: "",
    StepStatus.CONDITION_FALSE: "",
    StepStatus.NOT_YET_DUE: "",
    StepStatus.BEFORE_STRATEGY: "",
    StepStatus.NO_ANCHOR: "",
}

STEP_STATUS_TEXT = {
    StepStatus.NO_ANCHOR: _("No date"),
    StepStatus.NOT_YET_DUE: _("Not yet due"),
    StepStatus.BEFORE_STRATEGY: _("Before the strategy"),
    StepStatus.ALREADY_DONE: _("Already decided"),
    StepStatus.CONDITION_FALSE: _("Condition false"),
    StepStatus.HELD: _("On hold"),
    StepStatus.WAITS_WEEKDAY: _("Waits for a weekday"),
    StepStatus.STOPPED: _("Stopped"),
    StepStatus.SUPERSEDED: _("Superseded"),
    StepStatus.STALE: _("Too late"),
    StepStatus.SKIPPED: _("Skipped"),
    StepStatus.FIRES: _("Fires"),
}


def case_for(request: HttpRequest, pk: int) -> Case:
    """The case, if this user may see it (collectors: only their portfolios); else 404."""
    return get_for_user_or_404(
        Case.objects.select_related("organization", "portfolio", "debtor"),
        request.user,
        request.organization,
        pk=pk,
    )


def case_url(case: Case) -> str:
    return reverse("admin:portfolio_case_change", args=[case.pk])


# --- The explanation ---------------------------------------------------------------------------


class ExplainForm(StyledForm):
    as_of = forms.DateField(label=_("Business date"), widget=forms.DateInput)


def explanation_context(case: Case, as_of: dt.date) -> dict:
    """What the explanation templates show: explain_case's result, formatted for people."""
    explanation = explain_case(case=case, as_of=as_of)
    organization = case.organization
    steps = [
        {
            "outcome": outcome,
            "status": STEP_STATUS_TEXT[outcome.status],
            "label": STEP_LABELS[outcome.status],
            "today": outcome.status in RECORDED_TODAY,
            "waits": outcome.status in WAITING,
        }
        for outcome in explanation.steps
    ]
    priority = explanation.priority
    return {
        "explanation": explanation,
        "steps": steps,
        "as_of_display": date(as_of),
        "previous_cycle": date(explanation.previous_cycle),
        "expected_recovery": money(priority.expected_recovery, case.currency, organization),
        "priority_amount": money(priority.priority, case.currency, organization),
        "facts": sorted(
            ((name, value) for name, value in explanation.facts.items() if name != "attr"),
            key=lambda item: item[0],
        ),
        "attributes": sorted((explanation.facts.get("attr") or {}).items()),
    }


def _explain_as_of(request: HttpRequest, case: Case) -> tuple[ExplainForm, dt.date]:
    today = case.organization.today()
    form = ExplainForm(request.GET if "as_of" in request.GET else None, initial={"as_of": today})
    if form.is_bound and form.is_valid():
        return form, form.cleaned_data["as_of"]
    return form, today


@backoffice
@require_GET
def case_explain(request: HttpRequest, pk: int) -> HttpResponse:
    """The explanation for a chosen business date: the panel's fragment for htmx, else a page."""
    case = case_for(request, pk)
    form, as_of = _explain_as_of(request, case)
    context = {
        "case": case,
        "explain_form": form,
        "explain_url": reverse("strategy-case-explain", args=[case.pk]),
        "case_url": case_url(case),
        "x": explanation_context(case, as_of),
    }
    return render_page(
        request,
        "strategy/case_explain.html",
        context,
        title=_("Strategy of %(case)s") % {"case": case},
        fragment="strategy/case_explanation.html",
    )


# --- The panel on the case page -------------------------------------------------------------------


def case_panel(request: HttpRequest, case: Case) -> dict:
    """The context of the strategy panel on the case's change page."""
    organization = case.organization
    state = (
        CaseState.objects.filter(case=case).select_related("stage", "segment", "strategy", "variant").first()
    )
    transitions = list(
        StageTransition.objects.filter(case=case)
        .select_related("from_stage", "to_stage", "user")
        .order_by("-business_date", "-id")[:RECENT_ROWS]
    )
    today = organization.today()
    holds = list(
        Hold.objects.filter(organization=organization, debtor_id=case.debtor_id)
        .annotate(effective=Exists(Hold.objects.effective_on(today).filter(pk=OuterRef("pk"))))
        .select_related("document", "created_by", "approved_by")
        .order_by("-starts_on", "-id")[:RECENT_ROWS]
    )
    actions = list(
        Action.objects.filter(case=case)
        .select_related("step", "variant", "message", "task")
        .order_by("-business_date", "-id")[:RECENT_ROWS]
    )
    tasks = list(Task.objects.filter(case=case).open().select_related("assigned_to").order_by("due_on", "id"))
    role = role_of(request)
    form = ExplainForm(initial={"as_of": today})
    return {
        "case": case,
        "state": state,
        "state_rows": _state_rows(state, case, today),
        "transitions": [
            {
                "row": t,
                "date": date(t.business_date),
                "from": t.from_stage or "—",
                "to": t.to_stage or "—",
            }
            for t in transitions
        ],
        "holds": [
            {
                "row": h,
                "effective": h.effective,
                "starts": date(h.starts_on),
                "ends": date(h.ends_on) if h.ends_on else _("until released"),
            }
            for h in holds
        ],
        "actions": [{"row": a, "decided": date(a.business_date), "due": date(a.due_on)} for a in actions],
        "tasks": [
            {"row": t, "due": date(t.due_on), "priority": money(t.priority, case.currency, organization)}
            for t in tasks
        ],
        "explain_form": form,
        "can_move": role in MOVERS,
        "can_hold": role in HOLDERS,
        "move_url": reverse("strategy-case-move-stage", args=[case.pk]),
        "hold_url": reverse("strategy-case-place-hold", args=[case.pk]),
        "explain_url": reverse("strategy-case-explain", args=[case.pk]),
        "move_form": MoveStageForm(case=case) if role in MOVERS else None,
        "x": explanation_context(case, today),
    }


def _state_rows(state: CaseState | None, case: Case, today: dt.date) -> list[tuple]:
    if state is None:
        return []
    organization = case.organization

    def since(value):
        return _("since %(date)s") % {"date": date(value)} if value else ""

    pin = []
    if state.stage is not None and state.stage_pinned_until is not None and state.stage_pinned_until >= today:
        # docs/strategy.md §3: the cycle keeps a stage a person chose until this date.
        pin = [(_("Stage kept until"), date(state.stage_pinned_until), _("by a manual move"))]
    return [
        (_("Stage"), state.stage or "—", since(state.stage_entered_on) if state.stage else ""),
        *pin,
        (_("Segment"), state.segment or "—", ""),
        (_("Strategy"), state.strategy or "—", since(state.strategy_entered_on) if state.strategy else ""),
        (_("Variant"), state.variant.name if state.variant else "—", ""),
        (_("Probability of payment"), f"{state.probability:.2%}", ""),
        (_("Expected recovery"), money(state.expected_recovery, case.currency, organization), ""),
        (_("Priority"), money(state.priority, case.currency, organization), ""),
        (_("As of"), date(state.as_of), ""),
    ]


# --- Managers' forms -----------------------------------------------------------------------------


class MoveStageForm(StyledForm):
    stage = forms.ModelChoiceField(label=_("Move to stage"), queryset=Stage.objects.none())
    reason_note = forms.CharField(
        label=_("Reason"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Why the case moves: it is kept in the stage history"),
    )

    def __init__(self, *args, case: Case, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["stage"].queryset = Stage.objects.filter(
            organization=case.organization, is_active=True
        ).order_by("position")
        self.fields["reason_note"].strip = True


class PlaceHoldForm(StyledForm):
    scope = forms.ChoiceField(label=_("Scope"), choices=HoldScope.choices, initial=HoldScope.DEBTOR)
    document = forms.ModelChoiceField(
        label=_("Document"),
        queryset=Document.objects.none(),
        required=False,
        help_text=_("Only for a hold of one document"),
    )
    reason = forms.ChoiceField(label=_("Reason"), choices=HoldReason.choices)
    note = forms.CharField(label=_("Note"), widget=forms.Textarea(attrs={"rows": 3}), required=False)
    starts_on = forms.DateField(label=_("From"), widget=forms.DateInput, help_text=_("May be in the past"))
    ends_on = forms.DateField(
        label=_("Until"), widget=forms.DateInput, required=False, help_text=_("Empty: until released")
    )

    def __init__(self, *args, case: Case, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["document"].queryset = case.portfolio.documents.filter(
            debtor_id=case.debtor_id, status__in=OPEN_STATUSES
        ).order_by("due_date", "id")

    def clean(self):
        data = super().clean()
        if data.get("scope") == HoldScope.DOCUMENT and not data.get("document"):
            self.add_error("document", _("Choose the document the hold is for."))
        if data.get("scope") == HoldScope.DEBTOR:
            data["document"] = None
        starts, ends = data.get("starts_on"), data.get("ends_on")
        if starts and ends and ends < starts:
            self.add_error("ends_on", _("The hold cannot end before it starts."))
        return data


def _case_for_role(request: HttpRequest, pk: int, roles) -> Case:
    case = case_for(request, pk)
    if role_of(request) not in roles:
        raise PermissionDenied
    return case


def _refusal(form: forms.Form, error: ValidationError) -> None:
    for message in error.messages:
        form.add_error(None, message)


@backoffice
@require_http_methods(["GET", "POST"])
def case_move_stage(request: HttpRequest, pk: int) -> HttpResponse:
    """Move a case to another stage by hand, with a reason (admins and supervisors)."""
    case = _case_for_role(request, pk, MOVERS)
    form = MoveStageForm(request.POST or None, case=case)
    if request.method == "POST" and form.is_valid():
        try:
            transition = move_case_stage(
                case=case,
                stage=form.cleaned_data["stage"],
                reason_note=form.cleaned_data["reason_note"],
                actor=Actor.for_user(request.user),
                as_of=case.organization.today(),
            )
        except ValidationError as error:
            _refusal(form, error)
        else:
            pinned_until = (
                CaseState.objects.filter(case=case).values_list("stage_pinned_until", flat=True).first()
            )
            messages.success(
                request,
                _("The case moved to %(stage)s; the daily cycle keeps it there until %(date)s.")
                % {"stage": transition.to_stage, "date": date(pinned_until)},
            )
            return HttpResponseRedirect(case_url(case))
    return render_page(
        request,
        "strategy/case_form.html",
        {"form": form, "case": case, "submit_label": _("Move"), "cancel_url": case_url(case)},
        title=_("Move %(case)s to another stage") % {"case": case},
    )


@backoffice
@require_http_methods(["GET", "POST"])
def case_place_hold(request: HttpRequest, pk: int) -> HttpResponse:
    """Pause the strategy for the case's debtor or one of its documents (not auditors)."""
    case = _case_for_role(request, pk, HOLDERS)
    form = PlaceHoldForm(request.POST or None, case=case, initial={"starts_on": case.organization.today()})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            hold = place_hold(
                organization=case.organization,
                actor=Actor.for_user(request.user),
                scope=data["scope"],
                debtor=case.debtor,
                document=data["document"],
                reason=data["reason"],
                note=data["note"],
                starts_on=data["starts_on"],
                ends_on=data["ends_on"],
            )
        except ValidationError as error:
            _refusal(form, error)
        else:
            if hold.needs_approval:
                messages.warning(request, _("The hold was placed and waits for a supervisor's approval."))
            else:
                messages.success(request, _("The hold was placed."))
            return HttpResponseRedirect(case_url(case))
    return render_page(
        request,
        "strategy/case_form.html",
        {"form": form, "case": case, "submit_label": _("Place hold"), "cancel_url": case_url(case)},
        title=_("Place a hold on %(case)s") % {"case": case},
    )


__all__ = ["case_explain", "case_move_stage", "case_panel", "case_place_hold"]
