"""Holds: pausing the strategy for a debtor or one of their documents (docs/strategy.md §7).

- ``place_hold``: a hold with a reason, a scope (the debtor, or one document), a start
  (which may be in the past: a backdated hold) and an optional end. Administrators' and
  supervisors' holds are approved at once. A hold placed by anyone else that lasts longer
  than ``StrategySettings.long_hold_days`` (counting both ends) or has no end waits for a
  supervisor's approval (``needs_approval``) and pauses nothing until then; shorter holds
  take effect at once.
- ``approve_hold``: a supervisor or administrator approves a waiting hold.
- ``release_hold``: the hold stops pausing the strategy from now on.

Each runs in one transaction and writes its audit entry.
"""

import datetime as dt

from django.db import transaction
from django.utils.translation import gettext as _

from recobro.core import audit
from recobro.core.audit import Actor, AuditAction
from recobro.core.clock import now
from recobro.portfolio.models import Debtor, Document
from recobro.strategy.models import Hold, HoldReason, HoldScope, StrategySettings
from recobro.strategy.services import StrategyError
from recobro.strategy.services.access import is_manager, require_debtor_access, require_manager


def long_hold_days(organization) -> int:
    row = StrategySettings.objects.filter(organization=organization).only("long_hold_days").first()
    if row is not None:
        return row.long_hold_days
    return StrategySettings._meta.get_field("long_hold_days").get_default()


def is_long(*, organization, starts_on: dt.date, ends_on: dt.date | None) -> bool:
    """Open-ended, or longer than the organization's long-hold limit (both ends counted)."""
    return ends_on is None or (ends_on - starts_on).days + 1 > long_hold_days(organization)


def place_hold(
    *,
    organization,
    actor: Actor,
    scope: str,
    debtor: Debtor,
    document: Document | None = None,
    reason: str,
    note: str = "",
    starts_on: dt.date,
    ends_on: dt.date | None = None,
) -> Hold:
    """Pause the strategy for ``debtor`` (or only ``document``) from ``starts_on``."""
    if scope not in HoldScope.values:
        raise StrategyError(
            _("Unknown hold scope %(scope)r; use one of: %(choices)s.")
            % {"scope": scope, "choices": ", ".join(HoldScope.values)},
            code="scope",
        )
    if reason not in HoldReason.values:
        raise StrategyError(
            _("Unknown hold reason %(reason)r; use one of: %(choices)s.")
            % {"reason": reason, "choices": ", ".join(HoldReason.values)},
            code="reason",
        )
    if debtor.organization_id != organization.pk:
        raise StrategyError(_("The debtor belongs to another organization."), code="organization")
    if scope == HoldScope.DOCUMENT:
        if document is None:
            raise StrategyError(_("A document hold needs the document."), code="document_missing")
        if document.debtor_id != debtor.pk:
            raise StrategyError(
                _("Document %(document)s is not %(debtor)s's.") % {"document": document, "debtor": debtor},
                code="document_debtor",
            )
    elif document is not None:
        raise StrategyError(
            _(
                "A debtor hold covers all the debtor's documents; "
                "leave the document empty or choose the document scope."
            ),
            code="document_given",
        )
    if not isinstance(starts_on, dt.date):
        raise StrategyError(_("A hold needs its start date."), code="starts_on")
    if ends_on is not None and ends_on < starts_on:
        raise StrategyError(
            _("The hold ends (%(ends)s) before it starts (%(starts)s).")
            % {"ends": ends_on, "starts": starts_on},
            code="ends_before_start",
        )
    require_debtor_access(actor, organization, debtor)
    manager = is_manager(actor, organization)
    needs_approval = not manager and is_long(organization=organization, starts_on=starts_on, ends_on=ends_on)
    with transaction.atomic():
        hold = Hold.objects.create(
            organization=organization,
            scope=scope,
            debtor=debtor,
            document=document if scope == HoldScope.DOCUMENT else None,
            reason=reason,
            note=note,
            starts_on=starts_on,
            ends_on=ends_on,
            needs_approval=needs_approval,
            created_by=actor.user,
            approved_by=actor.user if manager else None,
        )
        audit.record(
            organization=organization,
            actor=actor,
            action=AuditAction.CREATE,
            obj=hold,
            after=audit.snapshot(hold),
        )
    return hold


def approve_hold(*, hold: Hold, actor: Actor) -> Hold:
    """A supervisor's approval: the waiting hold starts pausing the strategy."""
    organization = hold.organization
    require_manager(actor, organization, _("approve a hold"))
    with transaction.atomic():
        hold = Hold.objects.select_for_update().get(pk=hold.pk)
        if hold.released_at is not None:
            raise StrategyError(_("This hold was released; it cannot be approved."), code="released")
        if not hold.needs_approval:
            raise StrategyError(_("This hold is not waiting for approval."), code="not_waiting")
        before = audit.snapshot(hold)
        hold.needs_approval = False
        hold.approved_by = actor.user
        hold.save(update_fields=["needs_approval", "approved_by"])
        audit.record(
            organization=organization,
            actor=actor,
            action=AuditAction.UPDATE,
            obj=hold,
            before=before,
            after=audit.snapshot(hold),
        )
    return hold


def release_hold(*, hold: Hold, actor: Actor, note: str = "") -> Hold:
    """End a hold now (a waiting one is withdrawn). The strategy resumes for the debtor."""
    organization = hold.organization
    require_debtor_access(actor, organization, hold.debtor)
    with transaction.atomic():
        hold = Hold.objects.select_for_update().get(pk=hold.pk)
        if hold.released_at is not None:
            raise StrategyError(_("This hold was already released."), code="released")
        before = audit.snapshot(hold)
        hold.released_at = now()
        hold.released_by = actor.user
        if note:
            hold.note = f"{hold.note}\n{note}".strip()
        hold.save(update_fields=["released_at", "released_by", "note"])
        audit.record(
            organization=organization,
            actor=actor,
            action=AuditAction.UPDATE,
            obj=hold,
            before=before,
            after=audit.snapshot(hold),
        )
    return hold


__all__ = ["approve_hold", "is_long", "place_hold", "release_hold"]
