"""``recobro explain CASE [--as-of YYYY-MM-DD] [--organization SLUG]``

Why a case is in its stage, segment, strategy and variant, and what the daily cycle does
with each step of its variant on the business date. CASE is the case id, or
``<portfolio code>/<debtor external id>``. Nothing is written.
"""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from recobro.core.models import Organization
from recobro.portfolio.models import Case
from recobro.strategy.explain import explain_case, explanation_lines


class Command(BaseCommand):
    help = "Explain a case: which stage, segment and variant rules matched and why each step fires or not."

    def add_arguments(self, parser):
        parser.add_argument("case", help="case id, or <portfolio code>/<debtor external id>")
        parser.add_argument("--as-of", help="business date YYYY-MM-DD (default: the organization's today)")
        parser.add_argument("--organization", help="organization code (when a portfolio code is in several)")

    def handle(self, *args, **options):
        as_of = _date(options["as_of"]) if options["as_of"] else None
        case = _find_case(options["case"], options["organization"])
        explanation = explain_case(case=case, as_of=as_of or case.organization.today())
        for line in explanation_lines(explanation):
            self.stdout.write(line)


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise CommandError(
            _("--as-of must be a date written YYYY-MM-DD, not “%(value)s”.") % {"value": text}
        ) from None


def _find_case(reference: str, organization_slug: str | None) -> Case:
    cases = Case.objects.select_related("organization", "portfolio", "debtor")
    if organization_slug:
        organization = Organization.objects.filter(slug=organization_slug).first()
        if organization is None:
            raise CommandError(_("No organization has the code “%(slug)s”.") % {"slug": organization_slug})
        cases = cases.filter(organization=organization)
    reference = reference.strip()
    if reference.isdigit():
        case = cases.filter(pk=int(reference)).first()
        if case is None:
            raise CommandError(_("There is no case with the id %(id)s.") % {"id": reference})
        return case
    portfolio_code, slash, external_id = reference.partition("/")
    if not slash or not portfolio_code or not external_id:
        raise CommandError(
            _("Name the case by its id or as <portfolio code>/<debtor external id>, not “%(value)s”.")
            % {"value": reference}
        )
    found = list(cases.filter(portfolio__code=portfolio_code, debtor__external_id=external_id)[:2])
    if not found:
        raise CommandError(
            _("No case of the debtor “%(debtor)s” in a portfolio with the code “%(portfolio)s”.")
            % {"debtor": external_id, "portfolio": portfolio_code}
        )
    if len(found) > 1:
        raise CommandError(
            _("Several organizations have the case “%(value)s”: say which with --organization.")
            % {"value": reference}
        )
    return found[0]
