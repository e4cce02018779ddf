"""``recobro cycle [--as-of YYYY-MM-DD] [--organization SLUG] [--dry-run] [--allow-future]``

Runs the daily cycle (docs/strategy.md) of one organization, or of every organization in
turn; the date defaults to each organization's business date. Prints progress, then the
counts; a dry run prints the plan (cases per stage, segment and variant, actions per step
and channel, a sample of cases) and writes nothing.
"""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from recobro.core.models import Organization
from recobro.strategy.engine import CycleError, run_cycle

#: Labels of the summary lines, in the order they are printed.
SUMMARY_LINES = (
    ("cases", gettext_lazy("Cases worked")),
    ("states_written", gettext_lazy("Case states written")),
    ("stage_moves", gettext_lazy("Stage changes")),
    ("actions_done", gettext_lazy("Actions done")),
    ("actions_skipped", gettext_lazy("Actions skipped")),
    ("messages", gettext_lazy("Messages queued")),
    ("tasks", gettext_lazy("Tasks created")),
    ("tasks_reprioritised", gettext_lazy("Open tasks re-prioritised")),
)


class Command(BaseCommand):
    help = (
        "Run the daily collection cycle: stages, segments, variants, due steps, messages, tasks, priorities."
    )

    def add_arguments(self, parser):
        parser.add_argument("--as-of", help="business date YYYY-MM-DD (default: each organization's today)")
        parser.add_argument("--organization", help="organization code (default: every organization)")
        parser.add_argument(
            "--dry-run", action="store_true", help="compute and print the plan, write nothing"
        )
        parser.add_argument(
            "--allow-future", action="store_true", help="allow a date after the organization's tomorrow"
        )

    def handle(self, *args, **options):
        as_of = _date(options["as_of"]) if options["as_of"] else None
        organizations = _organizations(options["organization"])
        failed = []
        for organization in organizations:
            day = as_of or organization.today()
            self.stdout.write(
                (
                    _("Dry run of the cycle of %(organization)s for %(date)s")
                    if options["dry_run"]
                    else _("Cycle of %(organization)s for %(date)s")
                )
                % {"organization": organization.slug, "date": day.isoformat()}
            )
            try:
                counts = run_cycle(
                    organization=organization,
                    as_of=day,
                    dry_run=options["dry_run"],
                    allow_future=options["allow_future"],
                    progress=self._progress,
                )
            except CycleError as error:
                if len(organizations) == 1:
                    raise CommandError(error.message) from None
                self.stderr.write(f"{organization.slug}: {error.message}")
                failed.append(organization.slug)
                continue
            self._summary(counts)
            if options["dry_run"]:
                self._plan(counts["plan"])
        if failed:
            raise CommandError(_("The cycle failed for: %(codes)s.") % {"codes": ", ".join(failed)})

    # --- output

    def _progress(self, phase: str, done: int, total: int) -> None:
        if phase == "promises":
            self.stdout.write("  " + _("Settling promises…"))
        elif phase == "cases":
            self.stdout.write("  " + _("Refreshing case facts…"))
        elif phase == "chunks" and total and (done == total or done % max(1, total // 10) == 0):
            self.stdout.write("  " + _("Chunks: %(done)s of %(total)s") % {"done": done, "total": total})

    def _summary(self, counts: dict) -> None:
        promises = counts["promises"]
        self.stdout.write(
            "  "
            + _("Promises: %(kept)s kept, %(partly)s partly kept, %(broken)s broken.")
            % {"kept": promises["kept"], "partly": promises["partly_kept"], "broken": promises["broken"]}
        )
        for key, label in SUMMARY_LINES:
            self.stdout.write(f"  {label}: {counts[key]:,}")
        for reason, n in sorted(counts["skipped"].items()):
            self.stdout.write(f"    {_('skipped')} · {_reason_label(reason)}: {n:,}")

    def _plan(self, plan: dict) -> None:
        none = _("(none)")
        self._table(_("Cases per stage"), [(k or none, v) for k, v in plan["stages"].items()])
        self._table(_("Cases per segment"), [(k or none, v) for k, v in plan["segments"].items()])
        self._table(
            _("Cases per variant"),
            [(f"{row['strategy']} · {row['variant']}", row["cases"]) for row in plan["variants"]],
        )
        rows = []
        for row in plan["steps"]:
            skipped = ", ".join(f"{_reason_label(k)} {v}" for k, v in sorted(row["skipped"].items()))
            what = row["channel"] or row["task_kind"]
            name = f"{row['strategy']} · {row['variant']} · {row['position']}. {row['step']} ({what})"
            rows.append((name, f"{row['done']}" + (f" — {_('skipped')}: {skipped}" if skipped else "")))
        self._table(_("Actions per step"), rows)
        self._table(_("Messages per channel"), sorted(plan["channels"].items()))
        self._table(_("Tasks per kind"), sorted(plan["tasks"].items()))
        self.stdout.write(_("Sample of cases:"))
        for case in plan["sample"]:
            move = ""
            if case["stage_move"]:
                move = f" ({case['from_stage'] or none} → {case['stage'] or none})"
            self.stdout.write(
                f"  #{case['case_id']}: {case['stage'] or none}{move} · {case['segment'] or none} · "
                f"{case['strategy'] or none}/{case['variant'] or none} · {_('priority')} {case['priority']}"
            )
            for action in case["actions"]:
                outcome = _("done") if action["status"] == "done" else _reason_label(action["reason"])
                self.stdout.write(f"      {action['due_on']} {action['step']}: {outcome}")

    def _table(self, title: str, rows) -> None:
        self.stdout.write(f"{title}:")
        if not rows:
            self.stdout.write(f"  {_('(none)')}")
        width = max((len(str(k)) for k, _v in rows), default=0)
        for key, value in rows:
            self.stdout.write(f"  {str(key).ljust(width)}  {value}")


def _reason_label(reason: str) -> str:
    from recobro.strategy.models import SkipReason

    try:
        return str(SkipReason(reason).label)
    except ValueError:
        return reason


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise CommandError(
            _("--as-of must be a date written YYYY-MM-DD, not “%(value)s”.") % {"value": text}
        ) from None


def _organizations(slug: str | None) -> list[Organization]:
    if slug:
        organization = Organization.objects.filter(slug=slug).first()
        if organization is None:
            codes = ", ".join(Organization.objects.order_by("slug").values_list("slug", flat=True)[:50])
            raise CommandError(
                _("No organization has the code “%(slug)s”. Codes: %(codes)s.")
                % {"slug": slug, "codes": codes}
            )
        return [organization]
    organizations = list(Organization.objects.order_by("slug"))
    if not organizations:
        raise CommandError(_("There is no organization yet."))
    return organizations
