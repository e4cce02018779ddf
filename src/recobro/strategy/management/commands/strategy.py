"""``recobro strategy export|import [--organization SLUG] [--dry-run] FILE``

export: write the organization's whole strategy configuration to FILE ("-": standard output).
import: validate the whole document in FILE ("-": standard input) and apply it in one
transaction; every problem is printed with its path and nothing is written if there is one.
The format is described in docs/strategy.md ("Configuration document").
"""

import getpass
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from recobro.core.audit import Actor
from recobro.core.models import AuditSource, Organization
from recobro.strategy.services import ConfigurationError
from recobro.strategy.yaml_io import export_configuration, import_configuration

SHOWN_CHANGES = 50


class Command(BaseCommand):
    help = "Export or import an organization's strategy configuration as one YAML document."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["export", "import"])
        parser.add_argument("file", help="the YAML file; - for standard output or input")
        parser.add_argument("--organization", help="organization code (needed when there are several)")
        parser.add_argument(
            "--dry-run", action="store_true", help="import: show what would change without changing it"
        )

    def handle(self, *args, **options):
        organization = _organization(options["organization"])
        if options["action"] == "export":
            self._export(organization, options["file"])
        else:
            self._import(organization, options["file"], dry_run=options["dry_run"])

    def _export(self, organization: Organization, file: str) -> None:
        text = export_configuration(organization)
        if file == "-":
            self.stdout.write(text, ending="")
            return
        Path(file).write_text(text, encoding="utf-8")
        self.stderr.write(
            _("Configuration of %(organization)s written to %(file)s.")
            % {"organization": organization.slug, "file": file}
        )

    def _import(self, organization: Organization, file: str, *, dry_run: bool) -> None:
        if file == "-":
            text = sys.stdin.read()
        else:
            path = Path(file)
            if not path.is_file():
                raise CommandError(_("There is no file at %(path)s.") % {"path": path})
            try:
                text = path.read_text(encoding="utf-8")
            except UnicodeDecodeError as error:
                raise CommandError(
                    _("%(path)s is not UTF-8 text (byte %(position)d).")
                    % {"path": path, "position": error.start}
                ) from None
        actor = Actor(source=AuditSource.IMPORT, label=_("command line (%(user)s)") % {"user": _os_user()})
        try:
            summary = import_configuration(organization=organization, text=text, actor=actor, dry_run=dry_run)
        except ConfigurationError as error:
            for problem in error.problems:
                self.stderr.write(f"  {problem}")
            raise CommandError(
                _("The configuration has %(count)d problem(s); nothing was changed.")
                % {"count": len(error.problems)}
            ) from None
        for change in summary.changes[:SHOWN_CHANGES]:
            self.stdout.write(f"  {change}")
        if len(summary.changes) > SHOWN_CHANGES:
            self.stdout.write(_("  … and %(count)d more") % {"count": len(summary.changes) - SHOWN_CHANGES})
        if dry_run:
            self.stdout.write(_("Dry run, nothing changed: %(summary)s.") % {"summary": summary})
        else:
            self.stdout.write(
                _("Configuration of %(organization)s imported: %(summary)s.")
                % {"organization": organization.slug, "summary": summary}
            )


def _organization(slug: str | None) -> Organization:
    if slug:
        organization = Organization.objects.filter(slug=slug).first()
        if organization is None:
            codes = ", ".join(Organization.objects.order_by("slug").values_list("slug", flat=True)[:50])
            raise CommandError(
                _("No organization has the code “%(slug)s”. Codes: %(codes)s.")
                % {"slug": slug, "codes": codes or "—"}
            )
        return organization
    organizations = list(Organization.objects.order_by("slug")[:50])
    if len(organizations) == 1:
        return organizations[0]
    if not organizations:
        raise CommandError(_("There is no organization yet."))
    raise CommandError(
        _("There are several organizations: say which with --organization (%(codes)s).")
        % {"codes": ", ".join(o.slug for o in organizations)}
    )


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "?"
