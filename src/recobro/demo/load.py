"""Loading the demo: two organizations whose ledgers go through the real engines.

``load_demo`` creates each demo organization that does not exist yet (found by slug):
portfolios, people for every role, import profiles; then it writes the generated data as
the organization's ERP exports it (``recobro.demo.files``) and imports those files with the
importer, which upserts, allocates payments and refreshes cases exactly as for a customer's
files. A few payments are recorded at the counter with ``record_payment`` and one API key is
issued. An organization that exists is left alone, so running it again adds nothing;
``reset=True`` drops the demo organizations first and builds them again.
"""

import datetime as dt
import functools
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.db.models import Count, Q, Sum
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from recobro.core import audit
from recobro.core.audit import Actor
from recobro.core.models import (
    ApiKey,
    ApiKeyScope,
    AuditAction,
    AuditEntry,
    AuditSource,
    Membership,
    Organization,
    Role,
)
from recobro.demo import files as demo_files
from recobro.demo import simulation as demo_simulation
from recobro.demo.accounts import COUNTER, OrganizationData, generate_organization
from recobro.demo.files import ImportFile, ProfileSpec
from recobro.demo.spec import DEMO_API_KEY_NAME, DEMO_PASSWORD, DEMO_URL, ORGANIZATIONS, OrganizationSpec
from recobro.portfolio.engine import refresh_cases
from recobro.portfolio.models import (
    Allocation,
    Case,
    CaseStatus,
    ContactPoint,
    Debtor,
    Document,
    ImportJob,
    ImportProfile,
    ImportStatus,
    Payment,
    Portfolio,
)

DEFAULT_SEED = 20261122
#: The audit entry that says a demo organization was loaded completely.
LOADED_MARKER = "demo.load"

Progress = Callable[[str], None]


class DemoLoadError(Exception):
    """The demo could not be loaded; the message names the file and the first problems."""


@dataclass(frozen=True)
class Login:
    username: str
    password: str
    role: str
    organization: str
    portfolios: tuple[str, ...] = ()


@dataclass
class OrganizationSummary:
    name: str
    slug: str
    business_date: dt.date
    created: bool
    debtors: int = 0
    contact_points: int = 0
    documents: int = 0
    payments: int = 0
    open_cases: int = 0
    closed_cases: int = 0
    imports: int = 0
    balance: Decimal = Decimal(0)
    currency: str = ""
    locale: str = ""
    buckets: dict[str, int] = field(default_factory=dict)
    api_key: str | None = None  # the secret, only when it was created by this run


@dataclass
class DemoResult:
    organizations: list[OrganizationSummary]
    logins: list[Login]
    directory: Path
    url: str = DEMO_URL


def load_demo(
    *,
    seed: int = DEFAULT_SEED,
    scale: float = 1.0,
    reset: bool = False,
    directory: Path | None = None,
    progress: Progress | None = None,
    days: int = 0,
) -> DemoResult:
    """Create the demo organizations that are missing (all of them with ``reset``).

    With ``days``, a new organization is built as of that many days ago and its collection
    strategy is simulated up to today (``recobro.demo.simulation``)."""
    say = progress or (lambda message: None)
    directory = directory or Path(settings.VAR_DIR) / "demo"
    summaries, logins = [], []
    for spec in ORGANIZATIONS:
        organization = Organization.objects.filter(slug=spec.slug).first()
        if organization is not None and (reset or not is_complete(organization)):
            say(_("Dropping %(name)s…") % {"name": organization.name})
            drop_organization(organization)
            organization = None
        created = organization is None
        api_key = None
        if created:
            organization, api_key = build_organization(
                spec, seed=seed, scale=scale, directory=directory, say=say, days=days
            )
        else:
            # Days pass: bring days past due and buckets to today's business date (a no-op
            # on the day of the load). The ledger itself is kept as it is.
            refresh_cases(organization=organization)
        demo_simulation.bring_to_life(organization, days=days, seed=seed, say=say)
        logins += ensure_users(organization, spec)
        summary = summarize(organization, created=created)
        summary.api_key = api_key
        summaries.append(summary)
    return DemoResult(organizations=summaries, logins=logins, directory=directory)


def is_complete(organization: Organization) -> bool:
    return AuditEntry.objects.filter(organization=organization, object_type=LOADED_MARKER).exists()


# --- Building one organization -------------------------------------------------------------------


def build_organization(
    spec: OrganizationSpec, *, seed: int, scale: float, directory: Path, say: Progress, days: int = 0
) -> tuple[Organization, str]:
    say(_("Creating %(name)s…") % {"name": spec.name})
    organization = Organization.objects.create(
        name=spec.name,
        slug=spec.slug,
        country=spec.country,
        timezone=spec.timezone,
        currency=spec.currency,
        locale=spec.locale,
        payment_reference_prefix=_free_reference_prefix(spec.reference_prefix),
        business_date_override=demo_simulation.starting_date(spec.timezone, days) if days else None,
    )
    portfolios = {
        p.code: Portfolio.objects.create(
            organization=organization,
            code=p.code,
            name=p.name,
            creditor=p.creditor,
            currency=spec.currency,
            jurisdiction=spec.country,
            allocation_order=p.allocation_order,
        )
        for p in spec.portfolios
    }
    ensure_users(organization, spec)
    admin = _user_with_role(organization, Role.ADMIN)
    actor = Actor.for_user(admin, source=AuditSource.IMPORT)
    profiles = {p.name: _profile(organization, p) for p in demo_files.PROFILES[spec.slug]}

    data = generate_organization(
        spec, seed=seed, as_of=organization.today(), scale=scale, buckets=organization.aging_buckets
    )
    out = directory / spec.slug
    exported = demo_files.export(data, out)
    say(
        ngettext(
            "Wrote %(count)s file in %(directory)s", "Wrote %(count)s files in %(directory)s", len(exported)
        )
        % {"count": len(exported), "directory": out}
    )
    for import_file in exported:
        _import(organization, import_file, actor=actor, portfolios=portfolios, profiles=profiles, say=say)
    _counter_payments(organization, spec, data, portfolios)
    api_key = _api_key(organization, Actor.for_user(admin))
    audit.record(
        organization=organization,
        actor=Actor.system("load_demo"),
        action=AuditAction.CREATE,
        object_type=LOADED_MARKER,
        object_id=spec.slug,
        object_repr=_("Demo data loaded"),
        context={"seed": seed, "scale": scale, "as_of": data.as_of.isoformat()},
    )
    return organization, api_key


def _free_reference_prefix(preferred: int) -> int:
    taken = set(Organization.objects.values_list("payment_reference_prefix", flat=True))
    for prefix in [preferred, *range(10, 1000)]:
        if prefix not in taken:
            return prefix
    raise DemoLoadError(_("Every payment reference prefix is taken."))


def _profile(organization: Organization, spec: ProfileSpec) -> ImportProfile:
    profile, _created = ImportProfile.objects.update_or_create(
        organization=organization,
        name=spec.name,
        defaults={
            "kind": spec.kind,
            "column_map": dict(spec.column_map),
            "delimiter": spec.delimiter,
            "encoding": spec.encoding,
            "number_format": spec.number_format,
            "date_format": spec.date_format,
        },
    )
    return profile


def _import(
    organization: Organization,
    import_file: ImportFile,
    *,
    actor: Actor,
    portfolios: dict[str, Portfolio],
    profiles: dict[str, ImportProfile],
    say: Progress,
) -> ImportJob:
    from recobro.portfolio.importers import create_job, run_import

    job = create_job(
        organization=organization,
        kind=import_file.kind,
        file=import_file.path,
        file_name=import_file.path.name,
        actor=actor,
        portfolio=portfolios.get(import_file.portfolio or ""),
        profile=profiles.get(import_file.profile or ""),
    )
    job = run_import(job)
    if job.status != ImportStatus.SUCCEEDED:
        problems = "; ".join(
            f"{issue.line}:{issue.column} {issue.message}"
            for issue in job.issues.filter(is_warning=False)[:5]
        )
        raise DemoLoadError(
            _("Importing %(file)s ended %(status)s: %(message)s %(problems)s")
            % {
                "file": import_file.path.name,
                "status": job.status,
                "message": job.message,
                "problems": problems,
            }
        )
    say(
        ngettext(
            "  %(file)s: %(rows)s row (created: %(created)s)",
            "  %(file)s: %(rows)s rows (created: %(created)s)",
            job.total_rows,
        )
        % {"file": import_file.path.name, "rows": job.total_rows, "created": job.created_count}
    )
    return job


def _counter_payments(
    organization: Organization,
    spec: OrganizationSpec,
    data: OrganizationData,
    portfolios: dict[str, Portfolio],
) -> None:
    """Payments taken today at the counter, recorded one by one by the portfolio's collector."""
    from recobro.portfolio.services.payments import record_payment

    collectors = {}
    for membership in Membership.objects.filter(
        organization=organization, role=Role.COLLECTOR
    ).prefetch_related("portfolios", "user"):
        for portfolio in membership.portfolios.all():
            collectors.setdefault(portfolio.pk, membership.user)
    fallback = _user_with_role(organization, Role.SUPERVISOR)
    debtors = {d.external_id: d for d in Debtor.objects.filter(organization=organization)}
    for row in (p for p in data.payments if p.phase == COUNTER):
        portfolio = portfolios[row.portfolio]
        record_payment(
            organization=organization,
            portfolio=portfolio,
            debtor=debtors[row.debtor],
            amount=row.amount,
            paid_on=row.paid_on,
            actor=Actor.for_user(collectors.get(portfolio.pk, fallback)),
            method=row.method,
            source="manual",
            reference=row.reference,
            external_id=row.external_id,
            notes=_("Paid at the counter"),
        )


def _api_key(organization: Organization, actor: Actor) -> str | None:
    from recobro.core.api import create_api_key

    if ApiKey.objects.filter(organization=organization, name=DEMO_API_KEY_NAME).exists():
        return None
    _key, secret = create_api_key(
        organization=organization, name=DEMO_API_KEY_NAME, scope=ApiKeyScope.WRITE, actor=actor
    )
    return secret


# --- People ------------------------------------------------------------------------------------


def ensure_users(organization: Organization, spec: OrganizationSpec) -> list[Login]:
    """Staff users with a membership for every role; existing users and memberships are kept."""
    User = get_user_model()
    logins = []
    for person in spec.users:
        user = User.objects.filter(username=person.username).first()
        if user is None:
            user = User.objects.create(
                username=person.username,
                first_name=person.first_name,
                last_name=person.last_name,
                email=f"{person.username}@{spec.email_domain}",
                is_staff=True,
                password=_password_hash(),
            )
        membership, created = Membership.objects.get_or_create(
            user=user, organization=organization, defaults={"role": person.role}
        )
        if created and person.portfolios:
            membership.portfolios.set(
                Portfolio.objects.filter(organization=organization, code__in=person.portfolios)
            )
        logins.append(
            Login(
                username=person.username,
                password=DEMO_PASSWORD,
                role=person.role,
                organization=organization.name,
                portfolios=person.portfolios,
            )
        )
    return logins


@functools.cache
def _password_hash() -> str:
    """One slow hash of the demo password, shared by every demo user."""
    return make_password(DEMO_PASSWORD)


def _user_with_role(organization: Organization, role: str):
    membership = (
        Membership.objects.filter(organization=organization, role=role).select_related("user").first()
    )
    return membership.user if membership else None


# --- Dropping and counting ---------------------------------------------------------------------


@transaction.atomic
def drop_organization(organization: Organization) -> None:
    """Delete a demo organization and everything in it (its users stay; their memberships go).

    The ledger protects its rows from accidental deletes, so they go in dependency order.
    """
    demo_simulation.drop_strategy(organization)
    for job in ImportJob.objects.filter(organization=organization).exclude(file=""):
        job.file.delete(save=False)
    for model in (Allocation, Payment, Case, Document, ContactPoint, ImportJob, Debtor, ImportProfile):
        model.objects.filter(organization=organization).delete()
    Membership.objects.filter(organization=organization).delete()
    Portfolio.objects.filter(organization=organization).delete()
    organization.delete()


def summarize(organization: Organization, *, created: bool) -> OrganizationSummary:
    cases = Case.objects.filter(organization=organization)
    counts = cases.aggregate(
        open=Count("pk", filter=Q(status=CaseStatus.OPEN)),
        closed=Count("pk", filter=Q(status=CaseStatus.CLOSED)),
        balance=Sum("balance", filter=Q(status=CaseStatus.OPEN)),
    )
    buckets = Counter(
        dict(cases.filter(status=CaseStatus.OPEN).values_list("bucket").annotate(n=Count("pk")).order_by())
    )
    return OrganizationSummary(
        name=organization.name,
        slug=organization.slug,
        business_date=organization.today(),
        created=created,
        debtors=Debtor.objects.filter(organization=organization).count(),
        contact_points=ContactPoint.objects.filter(organization=organization).count(),
        documents=Document.objects.filter(organization=organization).count(),
        payments=Payment.objects.filter(organization=organization).count(),
        open_cases=counts["open"],
        closed_cases=counts["closed"],
        balance=counts["balance"] or Decimal(0),
        currency=organization.currency,
        locale=organization.locale,
        imports=ImportJob.objects.filter(organization=organization).count(),
        buckets={b["key"]: buckets.get(b["key"], 0) for b in organization.aging_buckets},
    )
