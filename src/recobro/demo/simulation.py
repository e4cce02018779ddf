"""The demo's strategy and its simulated past, so the demo opens with life in it.

``load_demo(days=N)`` builds each new organization as of N days before today (its business
clock frozen there), imports its collection strategy from ``strategies/<slug>.yaml`` and
simulates the N days up to today (``recobro.strategy.simulation.simulate``), which leaves
the clock on the real date. ``recobro load_demo`` (what ``make demo`` runs) uses
``DEMO_DAYS``.

Running it again does not simulate again: an organization whose clock is not frozen has
finished its simulation (or was loaded without one). An organization whose clock is still
frozen in the past was interrupted in the middle of the simulation: it is resumed, and
finishes on today. The strategy is imported only into an organization that has none, so
changes made in the back-office are kept.
"""

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils.translation import gettext as _

from recobro.channels.models import Message, Template
from recobro.core import clock
from recobro.core.audit import Actor
from recobro.core.models import Membership, Organization, Role
from recobro.core.money import format_money
from recobro.negotiation.models import PaymentPlan, PromiseToPay
from recobro.strategy.models import (
    Action,
    CaseState,
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
from recobro.strategy.simulation import real_today, simulate
from recobro.strategy.yaml_io import import_configuration

#: Days of simulated history ``recobro load_demo`` gives the demo.
DEMO_DAYS = 60
STRATEGIES_DIR = Path(__file__).parent / "strategies"

Progress = Callable[[str], None]


def strategy_document(slug: str) -> str:
    return (STRATEGIES_DIR / f"{slug}.yaml").read_text(encoding="utf-8")


def starting_date(timezone: str, days: int) -> dt.date:
    """The business date a new demo organization is built on: ``days`` before its today."""
    return clock.now().astimezone(ZoneInfo(timezone)).date() - dt.timedelta(days=days)


def import_strategy(organization: Organization, *, say: Progress) -> bool:
    """Import the organization's demo strategy if it has none; True when it did."""
    if Stage.objects.filter(organization=organization).exists():
        return False
    path = STRATEGIES_DIR / f"{organization.slug}.yaml"
    if not path.exists():
        return False
    admin = (
        Membership.objects.filter(organization=organization, role=Role.ADMIN, is_active=True)
        .select_related("user")
        .order_by("pk")
        .first()
    )
    actor = Actor.for_user(admin.user) if admin else Actor.system("load_demo")
    summary = import_configuration(
        organization=organization, text=strategy_document(organization.slug), actor=actor
    )
    say(
        _("  Strategy imported from %(file)s: %(created)s objects")
        % {"file": path.name, "created": summary.created}
    )
    return True


def drop_strategy(organization: Organization) -> None:
    """Delete an organization's strategy, outbox and negotiation rows, in the order their
    protected foreign keys allow (``load.drop_organization`` calls it first)."""
    for model in (
        Action,
        Message,
        Task,
        StageTransition,
        CaseState,
        Hold,
        CycleRun,
        PromiseToPay,
        PaymentPlan,
    ):
        model.objects.filter(organization=organization).delete()
    Step.objects.filter(variant__strategy__organization=organization).delete()
    Variant.objects.filter(strategy__organization=organization).delete()
    for model in (Strategy, Segment, Stage, Template, StrategySettings):
        model.objects.filter(organization=organization).delete()


def bring_to_life(organization: Organization, *, days: int, seed: int, say: Progress):
    """Import the demo strategy and simulate the days up to today (see the module's text).

    Returns the simulation's summary, or None when there was nothing to simulate.
    """
    with transaction.atomic():
        import_strategy(organization, say=say)
    organization.refresh_from_db()
    if days <= 0 or organization.business_date_override is None:
        return None
    remaining = (real_today(organization) - organization.today()).days
    if remaining < 0:
        say(
            _("  %(name)s: the business clock is frozen on %(date)s, after today; not simulating.")
            % {"name": organization.name, "date": organization.today().isoformat()}
        )
        return None
    say(
        _("Simulating %(days)s days of %(name)s (from %(date)s to today)…")
        % {"days": remaining, "name": organization.name, "date": organization.today().isoformat()}
    )
    step = max(1, remaining // 6)

    def progress(report) -> None:
        if report.day == real_today(organization) or (report.day - organization_start).days % step == 0:
            c = report.counts
            say(
                _(
                    "  %(date)s: %(payments)s payments (%(amount)s), %(promises)s promises, "
                    "%(messages)s messages"
                )
                % {
                    "date": report.day.isoformat(),
                    "payments": c.payments,
                    "amount": format_money(c.paid_amount, organization.currency, organization.locale),
                    "promises": c.promises,
                    "messages": report.messages_queued,
                }
            )

    organization_start = organization.today()
    summary = simulate(organization=organization, days=remaining, seed=seed, progress=progress)
    organization.refresh_from_db()
    say(
        _(
            "  %(name)s: %(payments)s payments for %(amount)s, %(messages)s messages, %(tasks)s tasks "
            "in %(days)s days"
        )
        % {
            "name": organization.name,
            "payments": summary.total("payments"),
            "amount": format_money(summary.total("paid_amount"), organization.currency, organization.locale),
            "messages": summary.messages_queued,
            "tasks": summary.tasks_created,
            "days": len(summary.days),
        }
    )
    return summary
