"""``recobro simulate --days N [--seed S] [--organization SLUG]``: simulated days of collection."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from recobro.core.models import Organization
from recobro.core.money import format_money
from recobro.strategy.simulation import (
    MAX_DAYS,
    DayReport,
    SimulationError,
    SimulationSummary,
    simulate,
)

DEFAULT_SEED = 1


class Command(BaseCommand):
    help = _(
        "Move an organization's business clock day by day with simulated debtors: messages are "
        "delivered, collectors work their tasks, debtors pay and promise, and the daily cycle "
        "runs for each day. The same seed gives the same history."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--days", type=int, required=True, help=_("How many days the business clock moves.")
        )
        parser.add_argument(
            "--seed", type=int, default=DEFAULT_SEED, help=_("Seed of the debtors' behaviour.")
        )
        parser.add_argument(
            "--organization",
            metavar="SLUG",
            help=_("The organization (its code); required when there is more than one."),
        )

    def handle(self, *args, days: int, seed: int, organization: str | None, **options):
        if not 0 <= days <= MAX_DAYS:
            raise CommandError(
                _("--days must be between 0 and %(max)s, not %(days)s.") % {"max": MAX_DAYS, "days": days}
            )
        org = find_organization(organization)
        quiet = options["verbosity"] == 0
        if not quiet:
            self.stdout.write(
                _("Simulating %(days)s days of %(organization)s from %(date)s (seed %(seed)s)…")
                % {"days": days, "organization": org.name, "date": org.today().isoformat(), "seed": seed}
            )
        try:
            summary = simulate(
                organization=org,
                days=days,
                seed=seed,
                progress=None if quiet else lambda report: self.stdout.write(render_day(report, org)),
            )
        except SimulationError as exc:
            raise CommandError(str(exc)) from exc
        if not quiet:
            self.stdout.write(render_summary(summary, org))


def find_organization(slug: str | None) -> Organization:
    if slug:
        org = Organization.objects.filter(slug=slug).first()
        if org is None:
            known = ", ".join(Organization.objects.order_by("slug").values_list("slug", flat=True))
            raise CommandError(
                _("There is no organization %(slug)r; there are: %(known)s.")
                % {"slug": slug, "known": known or "—"}
            )
        return org
    orgs = list(Organization.objects.order_by("slug")[:2])
    if not orgs:
        raise CommandError(_("There is no organization yet (try recobro load_demo)."))
    if len(orgs) > 1:
        known = ", ".join(Organization.objects.order_by("slug").values_list("slug", flat=True))
        raise CommandError(_("Say which organization with --organization: %(known)s.") % {"known": known})
    return orgs[0]


def render_day(report: DayReport, org: Organization) -> str:
    c = report.counts
    return _(
        "%(date)s  payments %(payments)s (%(amount)s) · promises %(promises)s · messages delivered "
        "%(delivered)s, queued %(queued)s · tasks worked %(worked)s, created %(created)s"
    ) % {
        "date": report.day.isoformat(),
        "payments": c.payments,
        "amount": format_money(c.paid_amount, org.currency, org.locale),
        "promises": c.promises,
        "delivered": c.delivered + c.read,
        "queued": report.messages_queued,
        "worked": c.tasks_worked,
        "created": report.tasks_created,
    }


def render_summary(summary: SimulationSummary, org: Organization) -> str:
    money = lambda amount: format_money(amount, org.currency, org.locale)  # noqa: E731
    lines = [
        "",
        _("%(organization)s: %(start)s → %(end)s, %(days)s days simulated (seed %(seed)s)")
        % {
            "organization": summary.organization,
            "start": summary.start.isoformat(),
            "end": summary.end.isoformat(),
            "days": len(summary.days),
            "seed": summary.seed,
        },
        "  "
        + _("Payments: %(count)s for %(amount)s · new documents: %(documents)s")
        % {
            "count": summary.total("payments"),
            "amount": money(summary.total("paid_amount")),
            "documents": summary.total("documents"),
        },
        "  "
        + _("Messages: %(queued)s queued, %(delivered)s delivered (%(read)s read), %(failed)s failed")
        % {
            "queued": summary.messages_queued,
            "delivered": summary.total("delivered") + summary.total("read"),
            "read": summary.total("read"),
            "failed": summary.total("failed"),
        },
        "  "
        + _("Tasks: %(created)s created, %(worked)s worked (%(reached)s reached the debtor)")
        % {
            "created": summary.tasks_created,
            "worked": summary.total("tasks_worked"),
            "reached": summary.total("reached"),
        },
        "  "
        + _("Promises: %(count)s made; by status now: %(statuses)s")
        % {
            "count": summary.total("promises"),
            "statuses": ", ".join(f"{k} {v}" for k, v in sorted(summary.promises_by_status.items())) or "—",
        },
    ]
    if summary.variants:
        lines.append(
            "  " + _("Champion and challengers (share · cases worked · actions · cases that paid · paid):")
        )
        for v in summary.variants:
            mark = _("champion") if v.champion else _("challenger")
            lines.append(
                f"    {v.strategy} · {v.variant} ({mark}, {v.share} %): {v.cases} · {v.messages + v.tasks} · "
                f"{v.payers} ({v.payer_rate * 100:.1f} %) · {money(v.paid)}"
            )
    if summary.clock_released:
        lines.append("  " + _("The business clock is back on the real date."))
    else:
        lines.append(
            "  "
            + _(
                "The business clock stays frozen on %(date)s; simulate more days, or clear the "
                "organization's frozen business date."
            )
            % {"date": summary.end.isoformat()}
        )
    return "\n".join(lines)
