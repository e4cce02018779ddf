"""Tenancy, people, API keys and the audit log."""

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

DEFAULT_AGING_BUCKETS = [
    {"key": "current", "label": gettext_noop("Current"), "min": None, "max": 0},
    {"key": "1-30", "label": "1-30", "min": 1, "max": 30},
    {"key": "31-60", "label": "31-60", "min": 31, "max": 60},
    {"key": "61-90", "label": "61-90", "min": 61, "max": 90},
    {"key": "91-180", "label": "91-180", "min": 91, "max": 180},
    {"key": "181-360", "label": "181-360", "min": 181, "max": 360},
    {"key": "360+", "label": gettext_noop("Over 360"), "min": 361, "max": None},
]


def default_aging_buckets() -> list[dict]:
    return [dict(b) for b in DEFAULT_AGING_BUCKETS]


class OrganizationQuerySet(models.QuerySet):
    def for_user(self, user):
        if not user.is_authenticated:
            return self.none()
        return self.filter(memberships__user=user, memberships__is_active=True).distinct()


class Organization(models.Model):
    """The tenant (empresa). Every domain row carries one."""

    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("code"), max_length=60, unique=True)
    country = models.CharField(_("country"), max_length=2, help_text=_("ISO 3166 code, e.g. MX"))
    timezone = models.CharField(_("timezone"), max_length=64, default="America/Mexico_City")
    currency = models.CharField(_("default currency"), max_length=3, default="MXN")
    locale = models.CharField(
        _("locale"), max_length=10, default="es-MX", help_text=_("Formats for money and dates")
    )
    aging_buckets = models.JSONField(_("aging buckets"), default=default_aging_buckets)
    payment_reference_prefix = models.PositiveIntegerField(
        _("payment reference prefix"),
        unique=True,
        help_text=_("Two or three digits that start every payment reference of this organization"),
    )
    business_date_override = models.DateField(
        _("frozen business date"),
        null=True,
        blank=True,
        help_text=_("Set by the simulator; leave empty to use today's date in the timezone"),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = OrganizationQuerySet.as_manager()

    class Meta:
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(payment_reference_prefix__gte=10)
                & models.Q(payment_reference_prefix__lte=999),
                name="organization_reference_prefix_2_or_3_digits",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def today(self):
        from recobro.core.clock import business_date

        return business_date(self)


class Role(models.TextChoices):
    ADMIN = "admin", _("Administrator")
    SUPERVISOR = "supervisor", _("Supervisor")
    COLLECTOR = "collector", _("Collector")
    AGENCY = "agency", _("External agency agent")
    AUDITOR = "auditor", _("Auditor (read only)")


class Membership(models.Model):
    """A user in an organization with a role (usuario)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    portfolios = models.ManyToManyField(
        "portfolio.Portfolio",
        blank=True,
        related_name="memberships",
        verbose_name=_("portfolios"),
        help_text=_("Collectors and agency agents see only these portfolios"),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [models.UniqueConstraint(fields=["user", "organization"], name="membership_unique")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.organization} ({self.get_role_display()})"

    @property
    def sees_all_portfolios(self) -> bool:
        return self.role in {Role.ADMIN, Role.SUPERVISOR, Role.AUDITOR}

    @property
    def can_write(self) -> bool:
        return self.role != Role.AUDITOR


class ApiKeyScope(models.TextChoices):
    READ = "read", _("Read")
    WRITE = "write", _("Read and write")


class ApiKeyQuerySet(models.QuerySet):
    def active(self):
        return self.filter(revoked_at__isnull=True)


class ApiKey(models.Model):
    """A named, revocable key for the REST API. Only a hash of the secret is stored."""

    PREFIX_LENGTH = 8

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=PREFIX_LENGTH, unique=True, editable=False)
    key_hash = models.CharField(max_length=64, editable=False)
    scope = models.CharField(_("scope"), max_length=10, choices=ApiKeyScope.choices, default=ApiKeyScope.READ)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="apikey_unique_name")]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def hash_secret(secret: str) -> str:
        # Keys are 256-bit random tokens, so a fast hash is enough (no dictionary to guess from).
        return hashlib.sha256(secret.encode()).hexdigest()

    @staticmethod
    def generate() -> tuple[str, str]:
        """Return (prefix, full key). The key is shown once, then only its hash is kept."""
        prefix = secrets.token_hex(ApiKey.PREFIX_LENGTH // 2)
        return prefix, f"rcb_{prefix}_{secrets.token_urlsafe(32)}"

    @property
    def can_write(self) -> bool:
        return self.scope == ApiKeyScope.WRITE


class AuditAction(models.TextChoices):
    CREATE = "create", _("Create")
    UPDATE = "update", _("Update")
    DELETE = "delete", _("Delete")


class AuditSource(models.TextChoices):
    BACKOFFICE = "backoffice", _("Back-office")
    API = "api", _("API")
    IMPORT = "import", _("Import")
    SYSTEM = "system", _("System")


class AuditEntry(models.Model):
    """Who did what to which row, when, with before/after. Append-only."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="audit_entries", db_index=False
    )
    created_at = models.DateTimeField(_("when"), auto_now_add=True)
    source = models.CharField(_("source"), max_length=12, choices=AuditSource.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("user"),
    )
    api_key = models.ForeignKey(
        ApiKey,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,  # keys are revoked, never deleted
        verbose_name=_("API key"),
    )
    actor_label = models.CharField(_("actor"), max_length=200)
    action = models.CharField(_("action"), max_length=10, choices=AuditAction.choices)
    object_type = models.CharField(_("object type"), max_length=60)
    object_id = models.CharField(_("object id"), max_length=64)
    object_repr = models.CharField(_("object"), max_length=200, blank=True)
    before = models.JSONField(_("before"), null=True, blank=True)
    after = models.JSONField(_("after"), null=True, blank=True)
    context = models.JSONField(_("context"), default=dict, blank=True)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit log")
        ordering = ["-created_at", "-id"]
        # An import of a million rows writes a million entries: every index here costs each
        # of them. Reads are per organization (by object, or newest first), so the two
        # composite indexes serve them and no column has an index of its own but the user.
        indexes = [
            models.Index(fields=["organization", "object_type", "object_id"]),
            models.Index(fields=["organization", "-created_at"], name="auditentry_org_newest"),
        ]

    def __str__(self) -> str:
        return f"{self.actor_label} {self.action} {self.object_type} {self.object_id}"
