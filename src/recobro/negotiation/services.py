"""Write operations on promises to pay and payment plans, each in a transaction, audited.

- ``record_promise`` / ``cancel_promise``: a debtor's promise to pay an amount by a date.
  Whether it is kept, partly kept or broken is decided from payments by
  ``recobro.negotiation.engine.resolve_promises`` (the daily cycle), never by hand.
- ``record_plan`` / ``approve_plan`` / ``cancel_plan``: a payment plan is proposed, then
  approved by an administrator or a supervisor (it becomes active: one per case), or
  cancelled. Restructuring documents into installments belongs to the negotiation work.

People act through their membership: auditors only read, collectors and agency agents on
the cases of their portfolios. An actor without a user (portal, bot, system) is trusted
by the caller that built it.
"""

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from recobro.core import audit
from recobro.core.audit import Actor, AuditAction
from recobro.core.models import Role
from recobro.core.money import is_exact, minor_units
from recobro.core.tenancy import membership_for
from recobro.negotiation.models import PaymentPlan, PlanStatus, PromiseOrigin, PromiseStatus, PromiseToPay
from recobro.portfolio.models import Case, CaseStatus


class NegotiationError(ValidationError):
    """A promise or plan operation was refused; the message says why. Nothing was stored."""


# --- shared checks ------------------------------------------------------------------------------


def _require_access(actor: Actor, case: Case, *, manager: bool = False, what: str = "") -> None:
    if actor.user is None:
        return
    membership = membership_for(actor.user, case.organization_id)
    if membership is None:
        raise NegotiationError(
            _("%(user)s is not a member of this organization.") % {"user": actor.display()}
        )
    if not membership.can_write:
        raise NegotiationError(_("Auditors have read-only access."), code="read_only")
    if manager and membership.role not in (Role.ADMIN, Role.SUPERVISOR):
        raise NegotiationError(
            _("Only an administrator or a supervisor can %(what)s.") % {"what": what}, code="needs_manager"
        )
    if not Case.objects.for_membership(membership).filter(pk=case.pk).exists():
        raise NegotiationError(
            _("%(case)s is not in your portfolios.") % {"case": case}, code="not_your_portfolio"
        )


def _money(value, currency: str, what: str, *, allow_zero: bool = False) -> Decimal:
    if isinstance(value, float | bool):
        raise NegotiationError(
            _("%(what)s must be a Decimal, not %(value)r.") % {"what": what, "value": value}
        )
    try:
        amount = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        raise NegotiationError(
            _("%(what)s %(value)r is not a number.") % {"what": what, "value": value}
        ) from None
    if not amount.is_finite():
        raise NegotiationError(_("%(what)s must be a finite number.") % {"what": what}, code="amount")
    if amount < 0 or (amount == 0 and not allow_zero):
        message = (
            _("%(what)s cannot be negative (got %(value)s).")
            if allow_zero
            else _("%(what)s must be more than zero (got %(value)s).")
        )
        raise NegotiationError(message % {"what": what, "value": amount}, code="amount")
    if amount >= Decimal(10) ** 16:
        raise NegotiationError(_("%(what)s %(value)s is too large.") % {"what": what, "value": amount})
    if not is_exact(amount, currency):
        raise NegotiationError(
            _("%(what)s %(value)s has more decimals than %(currency)s allows (%(places)s).")
            % {"what": what, "value": amount, "currency": currency, "places": minor_units(currency)},
            code="amount_minor_unit",
        )
    return amount.quantize(Decimal("0.01"))


def _business_date(case: Case, as_of) -> dt.date:
    if not isinstance(as_of, dt.date):
        raise NegotiationError(_("The business date (as_of) is required."), code="as_of")
    today = case.organization.today()
    if as_of > today:
        raise NegotiationError(
            _("%(as_of)s is after the business date (%(today)s).") % {"as_of": as_of, "today": today},
            code="future",
        )
    return as_of


def _open_case(case: Case) -> None:
    if case.status != CaseStatus.OPEN:
        raise NegotiationError(_("The case is closed; there is nothing to negotiate."), code="case_closed")


def _record(obj, actor: Actor, action: str, before: dict | None = None) -> None:
    audit.record(
        organization=obj.organization,
        actor=actor,
        action=action,
        obj=obj,
        before=before,
        after=audit.snapshot(obj),
    )


# --- promises --------------------------------------------------------------------------------------


def record_promise(
    *,
    case: Case,
    amount: Decimal,
    promised_on: dt.date,
    origin: str,
    actor: Actor,
    as_of: dt.date,
    notes: str = "",
) -> PromiseToPay:
    """The debtor promises to pay ``amount`` on or before ``promised_on`` (made on ``as_of``)."""
    as_of = _business_date(case, as_of)
    _open_case(case)
    if origin not in PromiseOrigin.values:
        raise NegotiationError(
            _("Unknown promise origin %(origin)r; use one of: %(choices)s.")
            % {"origin": origin, "choices": ", ".join(PromiseOrigin.values)},
            code="origin",
        )
    amount = _money(amount, case.currency, _("The promised amount"))
    if not isinstance(promised_on, dt.date) or promised_on < as_of:
        raise NegotiationError(
            _("The promised date must be on or after %(as_of)s.") % {"as_of": as_of}, code="promised_on"
        )
    _require_access(actor, case)
    with transaction.atomic():
        Case.objects.select_for_update().filter(pk=case.pk).first()  # one promise at a time per case
        pending = PromiseToPay.objects.filter(case=case, status=PromiseStatus.PENDING).first()
        if pending is not None:
            raise NegotiationError(
                _("The case already has a pending promise (%(promise)s); cancel it before recording another.")
                % {"promise": pending},
                code="promise_pending",
            )
        promise = PromiseToPay.objects.create(
            organization=case.organization,
            case=case,
            amount=amount,
            currency=case.currency,
            promised_on=promised_on,
            made_on=as_of,
            origin=origin,
            notes=notes,
            created_by=actor.user,
        )
        _record(promise, actor, AuditAction.CREATE)
    return promise


def cancel_promise(*, promise: PromiseToPay, actor: Actor, as_of: dt.date, note: str = "") -> PromiseToPay:
    """Withdraw a pending promise (the debtor retracted it, or it was recorded by mistake)."""
    as_of = _business_date(promise.case, as_of)
    _require_access(actor, promise.case)
    with transaction.atomic():
        promise = PromiseToPay.objects.select_for_update().get(pk=promise.pk)
        if promise.status != PromiseStatus.PENDING:
            raise NegotiationError(
                _("Only a pending promise can be cancelled; this one is %(status)s.")
                % {"status": promise.get_status_display().lower()},
                code="not_pending",
            )
        before = audit.snapshot(promise)
        promise.status = PromiseStatus.CANCELLED
        promise.resolved_on = as_of
        if note:
            promise.notes = f"{promise.notes}\n{note}".strip()
        promise.save(update_fields=["status", "resolved_on", "notes"])
        _record(promise, actor, AuditAction.UPDATE, before)
    return promise


# --- plans ----------------------------------------------------------------------------------------------


def record_plan(
    *,
    case: Case,
    total_amount: Decimal,
    installments: int,
    first_due_on: dt.date,
    actor: Actor,
    as_of: dt.date,
    down_payment: Decimal = Decimal("0"),
    notes: str = "",
) -> PaymentPlan:
    """Propose a plan: ``down_payment`` now, the rest in ``installments`` from ``first_due_on``.
    It waits for an administrator's or supervisor's approval."""
    as_of = _business_date(case, as_of)
    _open_case(case)
    total = _money(total_amount, case.currency, _("The plan's total"))
    down = _money(down_payment, case.currency, _("The down payment"), allow_zero=True)
    if down > total:
        raise NegotiationError(
            _("The down payment (%(down)s) is more than the plan's total (%(total)s).")
            % {"down": down, "total": total},
            code="down_payment",
        )
    if isinstance(installments, bool) or not isinstance(installments, int) or not 1 <= installments <= 360:
        raise NegotiationError(
            _("A plan has from 1 to 360 installments (got %(value)r).") % {"value": installments},
            code="installments",
        )
    if not isinstance(first_due_on, dt.date) or first_due_on < as_of:
        raise NegotiationError(
            _("The first installment must fall on or after %(as_of)s.") % {"as_of": as_of},
            code="first_due_on",
        )
    _require_access(actor, case)
    with transaction.atomic():
        plan = PaymentPlan.objects.create(
            organization=case.organization,
            case=case,
            status=PlanStatus.PROPOSED,
            total_amount=total,
            down_payment=down,
            installments=installments,
            first_due_on=first_due_on,
            starts_on=as_of,
            notes=notes,
            created_by=actor.user,
        )
        _record(plan, actor, AuditAction.CREATE)
    return plan


def approve_plan(*, plan: PaymentPlan, actor: Actor, as_of: dt.date) -> PaymentPlan:
    """A proposed plan becomes active (a case has at most one active plan)."""
    as_of = _business_date(plan.case, as_of)
    _require_access(actor, plan.case, manager=True, what=_("approve a payment plan"))
    with transaction.atomic():
        plan = PaymentPlan.objects.select_for_update().get(pk=plan.pk)
        if plan.status != PlanStatus.PROPOSED:
            raise NegotiationError(
                _("Only a proposed plan can be approved; this one is %(status)s.")
                % {"status": plan.get_status_display().lower()},
                code="not_proposed",
            )
        other = (
            PaymentPlan.objects.filter(case=plan.case, status=PlanStatus.ACTIVE).exclude(pk=plan.pk).first()
        )
        if other is not None:
            raise NegotiationError(
                _("The case already has an active plan (%(plan)s); cancel it first.") % {"plan": other},
                code="plan_active",
            )
        before = audit.snapshot(plan)
        plan.status = PlanStatus.ACTIVE
        plan.approved_by = actor.user
        plan.starts_on = max(plan.starts_on, as_of)
        plan.save(update_fields=["status", "approved_by", "starts_on"])
        _record(plan, actor, AuditAction.UPDATE, before)
    return plan


def cancel_plan(*, plan: PaymentPlan, actor: Actor, as_of: dt.date, note: str = "") -> PaymentPlan:
    """Withdraw a proposed plan or end an active one on ``as_of``."""
    as_of = _business_date(plan.case, as_of)
    with transaction.atomic():
        locked = PaymentPlan.objects.select_for_update().get(pk=plan.pk)
        manager_needed = locked.status == PlanStatus.ACTIVE
        _require_access(actor, locked.case, manager=manager_needed, what=_("cancel an active payment plan"))
        if locked.status not in (PlanStatus.PROPOSED, PlanStatus.ACTIVE):
            raise NegotiationError(
                _("Only a proposed or active plan can be cancelled; this one is %(status)s.")
                % {"status": locked.get_status_display().lower()},
                code="not_cancellable",
            )
        before = audit.snapshot(locked)
        locked.status = PlanStatus.CANCELLED
        locked.ends_on = max(as_of, locked.starts_on)
        if note:
            locked.notes = f"{locked.notes}\n{note}".strip()
        locked.save(update_fields=["status", "ends_on", "notes"])
        _record(locked, actor, AuditAction.UPDATE, before)
    return locked


__all__ = [
    "NegotiationError",
    "approve_plan",
    "cancel_plan",
    "cancel_promise",
    "record_plan",
    "record_promise",
]
