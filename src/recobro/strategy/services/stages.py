"""A person's stage move: ``move_case_stage`` (docs/strategy.md §3, "manual moves").

The case enters the stage on ``as_of`` and its history gets a transition with reason
``manual``, the person and their note. The stage is pinned: until ``as_of +
manual_stage_days`` (the organization's strategy settings) the cycle does not move the
case between stages by rule or cure; a closed case still leaves. Its strategy and variant
follow the new stage on the next run.
"""

import datetime as dt

from django.db import transaction
from django.utils.translation import gettext as _

from recobro.core import audit
from recobro.core.audit import Actor, AuditAction
from recobro.portfolio.models import Case, CaseStatus
from recobro.strategy.models import CaseState, Stage, StageTransition, StrategySettings, TransitionReason
from recobro.strategy.services import StrategyError
from recobro.strategy.services.access import require_case_access


def move_case_stage(
    *, case: Case, stage: Stage, reason_note: str, actor: Actor, as_of: dt.date
) -> StageTransition:
    """Move ``case`` to ``stage`` on business date ``as_of``, for the reason in ``reason_note``."""
    organization = case.organization
    if stage.organization_id != case.organization_id:
        raise StrategyError(_("The stage belongs to another organization."), code="organization")
    if not stage.is_active:
        raise StrategyError(_("Stage %(stage)s is inactive.") % {"stage": stage}, code="stage_inactive")
    if not (reason_note or "").strip():
        raise StrategyError(
            _("Say why the case changes stage: a reason is required."), code="reason_required"
        )
    if not isinstance(as_of, dt.date):
        raise StrategyError(_("A stage move needs its business date."), code="as_of")
    today = organization.today()
    if as_of > today:
        raise StrategyError(
            _("%(as_of)s is after the business date (%(today)s).") % {"as_of": as_of, "today": today},
            code="future",
        )
    if case.status != CaseStatus.OPEN:
        raise StrategyError(_("The case is closed; only open cases change stage."), code="case_closed")
    require_case_access(actor, organization, case)
    settings = StrategySettings.objects.filter(organization=organization).first() or StrategySettings(
        organization=organization
    )
    with transaction.atomic():
        state, created = CaseState.objects.select_for_update().get_or_create(
            case=case, defaults={"organization": organization}
        )
        if state.stage_id == stage.pk:
            raise StrategyError(
                _("The case is already in stage %(stage)s.") % {"stage": stage}, code="same_stage"
            )
        before = None if created else audit.snapshot(state)
        from_stage_id = state.stage_id
        state.stage = stage
        state.stage_entered_on = as_of
        state.stage_pinned_until = as_of + dt.timedelta(days=settings.manual_stage_days)
        state.save(update_fields=["stage", "stage_entered_on", "stage_pinned_until"])
        transition = StageTransition.objects.create(
            organization=organization,
            case=case,
            from_stage_id=from_stage_id,
            to_stage=stage,
            business_date=as_of,
            reason=TransitionReason.MANUAL,
            note=reason_note.strip(),
            user=actor.user,
        )
        audit.record_many(
            [
                audit.entry(
                    organization=organization,
                    actor=actor,
                    action=AuditAction.CREATE if created else AuditAction.UPDATE,
                    obj=state,
                    before=before,
                    after=audit.snapshot(state),
                ),
                audit.entry(
                    organization=organization,
                    actor=actor,
                    action=AuditAction.CREATE,
                    obj=transition,
                    after=audit.snapshot(transition),
                ),
            ]
        )
    return transition


__all__ = ["move_case_stage"]
