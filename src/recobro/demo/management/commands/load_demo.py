"""``recobro load_demo``: the demo organizations, their people and their ledgers."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from recobro.core.models import Role
from recobro.core.money import format_money
from recobro.demo.load import DEFAULT_SEED, DemoLoadError, DemoResult, load_demo
from recobro.demo.simulation import DEMO_DAYS


class Command(BaseCommand):
    help = _(
        "Load two demo organizations (a Mexican retailer and a Colombian collection agency) with "
        "debtors, documents, payments and cases, users for every role and an API key. Organizations "
        "that exist are kept, so running it again adds nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=_("Seed of the generator."))
        parser.add_argument(
            "--reset", action="store_true", help=_("Drop the demo organizations and build them again.")
        )
        parser.add_argument(
            "--scale",
            type=float,
            default=1.0,
            help=_("Size relative to the full demo (about 2,000 debtors)."),
        )
        parser.add_argument(
            "--days",
            type=int,
            default=DEMO_DAYS,
            help=_(
                "Days of simulated collection before today for new organizations (0: none; "
                "default %(default)s)."
            ),
        )

    def handle(self, *args, seed: int, reset: bool, scale: float, days: int, **options):
        if scale <= 0:
            raise CommandError(_("--scale must be more than 0."))
        if days < 0:
            raise CommandError(_("--days must be 0 or more."))
        quiet = options["verbosity"] == 0
        try:
            result = load_demo(
                seed=seed,
                scale=scale,
                reset=reset,
                days=days,
                progress=None if quiet else self.stdout.write,
            )
        except DemoLoadError as exc:
            raise CommandError(str(exc)) from exc
        if not quiet:
            self.stdout.write(render(result))


def render(result: DemoResult) -> str:
    lines = [""]
    for org in result.organizations:
        state = _("loaded now") if org.created else _("already there, kept as it was")
        lines.append(f"{org.name} ({org.slug}) — {state}")
        lines.append(
            "  "
            + _(
                "%(debtors)s debtors · %(contacts)s contact points · %(documents)s documents · "
                "%(payments)s payments · %(imports)s imports"
            )
            % {
                "debtors": org.debtors,
                "contacts": org.contact_points,
                "documents": org.documents,
                "payments": org.payments,
                "imports": org.imports,
            }
        )
        lines.append(
            "  "
            + _("%(open)s open cases, %(closed)s closed; balance %(balance)s as of %(date)s")
            % {
                "open": org.open_cases,
                "closed": org.closed_cases,
                "balance": format_money(org.balance, org.currency, org.locale),
                "date": org.business_date.isoformat(),
            }
        )
        lines.append("  " + _("Aging: ") + " · ".join(f"{key} {count}" for key, count in org.buckets.items()))
        if org.api_key:
            lines.append("  " + _("API key (write; shown once): %(key)s") % {"key": org.api_key})
        else:
            lines.append(
                "  "
                + _("API key: (already created; revoke and recreate in the back-office to see a new one)")
            )
    lines += ["", _("Logins (password for all: %(password)s)") % {"password": result.logins[0].password}]
    roles = dict(Role.choices)
    for login in result.logins:
        scope = f" — {', '.join(login.portfolios)}" if login.portfolios else ""
        lines.append(f"  {login.username:<10} {roles[login.role]!s:<28} {login.organization}{scope}")
    lines += [
        "",
        _("Files imported: %(directory)s") % {"directory": result.directory},
        _("Open %(url)s and log in; the API is documented at %(url)sapi/docs") % {"url": result.url},
    ]
    return "\n".join(lines)
