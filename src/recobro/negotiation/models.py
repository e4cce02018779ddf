"""Promises to pay and payment plans.

A promise becomes kept, partly kept or broken from the case's payments, automatically
(``recobro.negotiation.engine.resolve_promises``, run by the daily cycle before anything
else). Payment plans are recorded here so that strategies pause for a case with an active
plan; restructuring documents into installments belongs to the negotiation work.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from recobro.core.models import Organization
from recobro.core.tenancy import OrganizationQuerySet
from recobro.portfolio.models import Case, MoneyField


class PromiseStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    KEPT = "kept", _("Kept")
    PARTLY_KEPT = "partly_kept", _("Partly kept")
    BROKEN = "broken", _("Broken")
    CANCELLED = "cancelled", _("Cancelled")


class PromiseOrigin(models.TextChoices):
    COLLECTOR = "collector", _("Collector")
    PORTAL = "portal", _("Debtor portal")
    BOT = "bot", _("Conversational bot")
    IMPORT = "import", _("Import")


class PromiseQuerySet(OrganizationQuerySet):
    portfolio_path = "case__portfolio"

    def pending(self):
        return self.filter(status=PromiseStatus.PENDING)


class PromiseToPay(models.Model):
    """A debtor's promise to pay an amount by a date (promesa de pago)."""

    organization = models.ForeignKey(
        Organization,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        verbose_name=_("organization"),
    )
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="promises", verbose_name=_("case"))
    amount = MoneyField(_("amount"))
    currency = models.CharField(_("currency"), max_length=3)
    promised_on = models.DateField(_("promised date"), help_text=_("The debtor pays on or before this date"))
    made_on = models.DateField(_("made on"), help_text=_("Business date the promise was made"))
    status = models.CharField(
        _("status"), max_length=12, choices=PromiseStatus.choices, default=PromiseStatus.PENDING
    )
    paid_amount = MoneyField(_("paid"), default=0, help_text=_("Paid between the promise and its date"))
    resolved_on = models.DateField(_("resolved on"), null=True, blank=True)
    origin = models.CharField(_("origin"), max_length=10, choices=PromiseOrigin.choices)
    notes = models.TextField(_("notes"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = PromiseQuerySet.as_manager()

    class Meta:
        verbose_name = _("promise to pay")
        verbose_name_plural = _("promises to pay")
        ordering = ["-promised_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="promise_amount_positive"),
            models.CheckConstraint(condition=Q(promised_on__gte=F("made_on")), name="promise_after_made"),
            models.CheckConstraint(
                condition=Q(status="pending", resolved_on__isnull=True) | ~Q(status="pending"),
                name="promise_pending_unresolved",
            ),
        ]
        indexes = [models.Index(fields=["organization", "status", "promised_on"])]

    def __str__(self) -> str:
        return f"{self.amount} {self.currency} · {self.promised_on}"


class PlanStatus(models.TextChoices):
    PROPOSED = "proposed", _("Proposed, awaiting approval")
    ACTIVE = "active", _("Active")
    COMPLETED = "completed", _("Completed")
    BROKEN = "broken", _("Broken")
    CANCELLED = "cancelled", _("Cancelled")


class PlanQuerySet(OrganizationQuerySet):
    portfolio_path = "case__portfolio"

    def active(self):
        return self.filter(status=PlanStatus.ACTIVE)


class PaymentPlan(models.Model):
    """An agreement to pay a case in installments (convenio / plan de pagos)."""

    organization = models.ForeignKey(
        Organization,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        verbose_name=_("organization"),
    )
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="plans", verbose_name=_("case"))
    status = models.CharField(
        _("status"), max_length=10, choices=PlanStatus.choices, default=PlanStatus.PROPOSED
    )
    total_amount = MoneyField(_("total to pay"))
    down_payment = MoneyField(_("down payment"), default=0)
    installments = models.PositiveSmallIntegerField(_("installments"))
    first_due_on = models.DateField(_("first installment due"))
    starts_on = models.DateField(_("agreed on"))
    ends_on = models.DateField(_("ended on"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("approved by"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = PlanQuerySet.as_manager()

    class Meta:
        verbose_name = _("payment plan")
        verbose_name_plural = _("payment plans")
        ordering = ["-starts_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(total_amount__gt=0), name="plan_total_positive"),
            models.CheckConstraint(
                condition=Q(down_payment__gte=0) & Q(down_payment__lte=F("total_amount")),
                name="plan_down_payment_within_total",
            ),
            models.CheckConstraint(condition=Q(installments__gte=1), name="plan_has_installments"),
            models.UniqueConstraint(
                fields=["case"], condition=Q(status="active"), name="plan_one_active_per_case"
            ),
        ]
        indexes = [models.Index(fields=["organization", "status"])]

    def __str__(self) -> str:
        return f"{self.case} · {self.installments} × ({self.get_status_display()})"
