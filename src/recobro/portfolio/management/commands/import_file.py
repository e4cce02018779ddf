"""``recobro import KIND FILE --portfolio P [--profile NAME] [--skip-invalid] [--organization SLUG]``"""

import getpass
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from recobro.core.audit import Actor
from recobro.core.models import AuditSource, Organization
from recobro.portfolio.importers import ImportSetupError, create_job, run_import
from recobro.portfolio.models import ImportKind, ImportProfile, ImportStatus, Portfolio

SHOWN_ERRORS = 10


class Command(BaseCommand):
    help = "Import a CSV or XLSX file of debtors, contact points, documents or payments."

    def add_arguments(self, parser):
        parser.add_argument("kind", help="debtors, contact_points, documents or payments")
        parser.add_argument("file", help="a .csv or .xlsx file")
        parser.add_argument("--portfolio", help="portfolio code (needed for documents and payments)")
        parser.add_argument("--profile", help="name of the import profile (column mapping and formats)")
        parser.add_argument(
            "--skip-invalid", action="store_true", help="write the valid rows even if some rows are invalid"
        )
        parser.add_argument("--organization", help="organization code (needed when there are several)")

    def handle(self, *args, **options):
        kind = options["kind"].replace("-", "_")
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(_("There is no file at %(path)s.") % {"path": path})
        organization = self._organization(options["organization"])
        portfolio = self._portfolio(organization, options["portfolio"])
        profile = self._profile(organization, kind, options["profile"])
        actor = Actor(source=AuditSource.IMPORT, label=_("command line (%(user)s)") % {"user": _os_user()})
        try:
            job = create_job(
                organization=organization,
                kind=kind,
                file=path,
                file_name=path.name,
                actor=actor,
                portfolio=portfolio,
                profile=profile,
                skip_invalid=options["skip_invalid"],
            )
        except ImportSetupError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        self.stdout.write(
            _("Importing %(kind)s from %(file)s into %(organization)s (import %(job)s)")
            % {"kind": kind, "file": path.name, "organization": organization.slug, "job": job.pk}
        )
        self._shown = -1
        job = run_import(job, progress=self._progress)
        self._summary(job)
        if job.status in (ImportStatus.REJECTED, ImportStatus.FAILED):
            raise CommandError(
                _("Import %(job)s: %(status)s.") % {"job": job.pk, "status": job.get_status_display()}
            )

    # --- finding what was named

    def _organization(self, slug: str | None) -> Organization:
        if slug:
            organization = Organization.objects.filter(slug=slug).first()
            if organization is None:
                raise CommandError(
                    _("No organization has the code “%(slug)s”. Codes: %(codes)s.")
                    % {"slug": slug, "codes": _codes(Organization.objects.values_list("slug", flat=True))}
                )
            return organization
        organizations = list(Organization.objects.order_by("slug")[:50])
        if len(organizations) == 1:
            return organizations[0]
        if not organizations:
            raise CommandError(_("There is no organization yet."))
        raise CommandError(
            _("There are several organizations: say which with --organization (%(codes)s).")
            % {"codes": _codes(o.slug for o in organizations)}
        )

    def _portfolio(self, organization: Organization, code: str | None) -> Portfolio | None:
        if not code:
            return None
        portfolio = Portfolio.objects.filter(organization=organization, code=code).first()
        if portfolio is None:
            raise CommandError(
                _("%(organization)s has no portfolio with the code “%(code)s”. Codes: %(codes)s.")
                % {
                    "organization": organization.slug,
                    "code": code,
                    "codes": _codes(
                        Portfolio.objects.filter(organization=organization).values_list("code", flat=True)
                    ),
                }
            )
        return portfolio

    def _profile(self, organization: Organization, kind: str, name: str | None) -> ImportProfile | None:
        if not name:
            return None
        profile = ImportProfile.objects.filter(organization=organization, name=name).first()
        if profile is None:
            names = ImportProfile.objects.filter(organization=organization)
            if kind in ImportKind.values:
                names = names.filter(kind=kind)
            raise CommandError(
                _("%(organization)s has no import profile named “%(name)s”. Profiles: %(names)s.")
                % {
                    "organization": organization.slug,
                    "name": name,
                    "names": _codes(names.values_list("name", flat=True)),
                }
            )
        return profile

    # --- output

    def _progress(self, done: int, total: int) -> None:
        percent = min(100, done * 100 // total) if total else 0
        step = percent // 5
        if step == self._shown and done != total:
            return
        self._shown = step
        total = max(total, done)
        self.stdout.write(
            ngettext(
                "  %(done)s of %(total)s row read (%(percent)s%%)",
                "  %(done)s of %(total)s rows read (%(percent)s%%)",
                total,
            )
            % {"done": f"{done:,}", "total": f"{total:,}", "percent": percent}
        )

    def _summary(self, job) -> None:
        message = "" if job.status == ImportStatus.FAILED else job.message  # a failure's reasons follow
        self.stdout.write(
            _("Import %(job)s: %(status)s. %(message)s")
            % {"job": job.pk, "status": job.get_status_display(), "message": message}
        )
        self.stdout.write(
            _(
                "  rows %(rows)s · created %(created)s · updated %(updated)s · unchanged %(unchanged)s · "
                "invalid %(invalid)s · ignored %(ignored)s"
            )
            % {
                "rows": f"{job.total_rows:,}",
                "created": f"{job.created_count:,}",
                "updated": f"{job.updated_count:,}",
                "unchanged": f"{job.unchanged_count:,}",
                "invalid": f"{job.invalid_count:,}",
                "ignored": f"{job.ignored_count:,}",
            }
        )
        errors = job.issues.filter(is_warning=False).order_by("line", "id")
        count = errors.count()
        for issue in errors[:SHOWN_ERRORS]:
            where = _("line %(line)s") % {"line": issue.line} if issue.line else _("file")
            column = f", {issue.column}" if issue.column else ""
            self.stderr.write(f"  {where}{column}: {issue.message}")
        if count > SHOWN_ERRORS:
            self.stderr.write(
                _("  … and %(more)s more problems: see the import's page or download its errors as CSV.")
                % {"more": f"{count - SHOWN_ERRORS:,}"}
            )


def _codes(values) -> str:
    values = sorted(str(v) for v in values)
    return ", ".join(values) if values else "—"


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
