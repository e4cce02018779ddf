"""Who may do what to strategy rows: the role rules the services share.

An actor with a user acts through their membership in the organization: auditors only
read, collectors and agency agents act on the debtors and cases of their portfolios,
administrators and supervisors on everything. An actor without a user (an integration, the
system, the simulator) is trusted by the caller that built it.
"""

from django.utils.translation import gettext as _

from recobro.core.audit import Actor
from recobro.core.models import Membership, Role
from recobro.core.tenancy import membership_for
from recobro.portfolio.models import Case, Debtor
from recobro.strategy.services import StrategyError

MANAGER_ROLES = frozenset({Role.ADMIN, Role.SUPERVISOR})


def membership_of(actor: Actor, organization) -> Membership | None:
    """The actor's membership, None for an actor without a user; refuses outsiders."""
    if actor.user is None:
        return None
    membership = membership_for(actor.user, organization)
    if membership is None:
        raise StrategyError(
            _("%(user)s is not a member of %(organization)s.")
            % {"user": actor.display(), "organization": organization},
            code="not_member",
        )
    return membership


def is_manager(actor: Actor, organization) -> bool:
    """Administrators, supervisors, and actors without a user (system, integrations)."""
    membership = membership_of(actor, organization)
    return membership is None or membership.role in MANAGER_ROLES


def require_writer(actor: Actor, organization) -> Membership | None:
    membership = membership_of(actor, organization)
    if membership is not None and not membership.can_write:
        raise StrategyError(_("Auditors have read-only access."), code="read_only")
    return membership


def require_manager(actor: Actor, organization, what: str) -> None:
    if not is_manager(actor, organization):
        raise StrategyError(
            _("Only an administrator or a supervisor can %(what)s.") % {"what": what}, code="needs_manager"
        )


def require_debtor_access(actor: Actor, organization, debtor: Debtor) -> None:
    membership = require_writer(actor, organization)
    if membership is not None and not Debtor.objects.for_membership(membership).filter(pk=debtor.pk).exists():
        raise StrategyError(
            _("%(debtor)s is not in your portfolios.") % {"debtor": debtor}, code="not_your_portfolio"
        )


def require_case_access(actor: Actor, organization, case: Case) -> None:
    membership = require_writer(actor, organization)
    if membership is not None and not Case.objects.for_membership(membership).filter(pk=case.pk).exists():
        raise StrategyError(
            _("%(case)s is not in your portfolios.") % {"case": case}, code="not_your_portfolio"
        )
