"""Message templates and the outbox.

The cycle (strategy) puts messages in the outbox with status *queued*; rendering, the
compliance gate and the providers that send them belong to the outreach work.
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from recobro.core.models import Organization
from recobro.core.tenancy import OrganizationQuerySet, OrganizationWideQuerySet
from recobro.portfolio.models import Case, ContactPoint, Debtor, MoneyField


class Channel(models.TextChoices):
    EMAIL = "email", _("Email")
    SMS = "sms", "SMS"
    WHATSAPP = "whatsapp", "WhatsApp"
    VOICE = "voice", _("Voice call (automated)")
    LETTER = "letter", _("Letter")


#: Which contact point kinds can carry each channel, best first.
CHANNEL_CONTACT_KINDS = {
    Channel.EMAIL: ("email",),
    Channel.SMS: ("mobile",),
    Channel.WHATSAPP: ("whatsapp", "mobile"),
    Channel.VOICE: ("mobile", "landline"),
    Channel.LETTER: ("address",),
}


class Template(models.Model):
    """A named message per channel and language (plantilla): subject and body with variables.

    Variables are written ``{{ debtor.name }}``, ``{{ case.balance }}``… Rendering rules
    (which variables exist, escaping, length limits per channel) belong to outreach.
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="+", verbose_name=_("organization")
    )
    code = models.SlugField(_("code"), max_length=60, help_text=_("Steps point to templates by code"))
    name = models.CharField(_("name"), max_length=200)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    language = models.CharField(_("language"), max_length=10, default="es")
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("body"))
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = OrganizationWideQuerySet.as_manager()

    class Meta:
        verbose_name = _("template")
        verbose_name_plural = _("templates")
        ordering = ["code", "channel", "language"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "code", "channel", "language"], name="template_unique_code"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_channel_display()}, {self.language})"


class MessageStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    HELD = "held", _("Held by compliance")
    SENT = "sent", _("Sent")
    DELIVERED = "delivered", _("Delivered")
    READ = "read", pgettext_lazy("message status", "Read")
    FAILED = "failed", _("Failed")
    REPLIED = "replied", _("Replied")
    CANCELLED = "cancelled", _("Cancelled")


#: Statuses in which a message reached the debtor (for "days since last contact").
CONTACT_STATUSES = (MessageStatus.SENT, MessageStatus.DELIVERED, MessageStatus.READ, MessageStatus.REPLIED)


class MessageQuerySet(OrganizationQuerySet):
    portfolio_path = "case__portfolio"


class Message(models.Model):
    """One message in the outbox (mensaje).

    Rows are written set-based by the cycle from ids read in the same transaction, so
    foreign keys other than ``case`` carry no database check (``db_constraint=False``: the
    checks were half the cycle's write time); the ORM still applies their on_delete.
    """

    organization = models.ForeignKey(
        Organization,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        verbose_name=_("organization"),
        db_constraint=False,
    )
    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="messages", db_index=False, verbose_name=_("case")
    )
    debtor = models.ForeignKey(
        Debtor,
        on_delete=models.CASCADE,
        related_name="messages",
        db_index=False,
        verbose_name=_("debtor"),
        db_constraint=False,
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    contact_point = models.ForeignKey(
        ContactPoint,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="messages",
        db_index=False,
        verbose_name=_("contact point"),
        db_constraint=False,
    )
    template = models.ForeignKey(
        Template,
        on_delete=models.PROTECT,
        related_name="messages",
        db_index=False,
        verbose_name=_("template"),
        db_constraint=False,
    )
    language = models.CharField(_("language"), max_length=10, blank=True)
    business_date = models.DateField(_("business date"))
    scheduled_for = models.DateTimeField(_("scheduled for"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=MessageStatus.choices, default=MessageStatus.QUEUED
    )
    subject = models.CharField(_("subject"), max_length=300, blank=True)
    body = models.TextField(_("text"), blank=True, help_text=_("Rendered when the message is sent"))
    provider = models.CharField(_("provider"), max_length=40, blank=True)
    provider_id = models.CharField(_("provider id"), max_length=200, blank=True)
    cost = MoneyField(_("cost"), null=True, blank=True)
    compliance_decision = models.JSONField(_("compliance decision"), null=True, blank=True)
    idempotency_key = models.CharField(
        _("idempotency key"),
        max_length=100,
        help_text=_("Who queued it and for what, e.g. cycle:<action id>; the same key is queued once"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    status_changed_at = models.DateTimeField(_("status changed"), null=True, blank=True)

    objects = MessageQuerySet.as_manager()

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["-business_date", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "idempotency_key"], name="message_unique_idempotency_key"
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["sent", "delivered", "read", "replied"]) | Q(sent_at__isnull=False),
                name="message_sent_has_sent_at",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "status", "business_date"]),
            models.Index(fields=["case", "business_date"]),
            models.Index(fields=["debtor", "sent_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} · {self.case} · {self.business_date}"
