"""Stages, segments, strategies with champion/challenger variants and their steps; the
per-case state the daily cycle derives; actions, tasks for people, holds and cycle runs.

The semantics (which stage a case enters, how variants are drawn, when a step is due,
catch-up and stop rules) are written down in docs/strategy.md; the cycle engine
(``recobro.strategy.engine``) and the explanation (``recobro.strategy.explain``) follow it.
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from recobro.channels.models import Channel, Message, Template
from recobro.core.models import Organization
from recobro.core.tenancy import OrganizationQuerySet, OrganizationWideQuerySet
from recobro.portfolio.models import Case, Debtor, Document, MoneyField


def default_fallback_probability() -> dict:
    """Probability of payment by aging bucket, until a scoring model exists."""
    return {
        "current": "0.90",
        "1-30": "0.70",
        "31-60": "0.50",
        "61-90": "0.35",
        "91-180": "0.20",
        "181-360": "0.10",
        "360+": "0.05",
    }


class StrategySettings(models.Model):
    """Per-organization settings of the strategy engine."""

    organization = models.OneToOneField(
        Organization,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="strategy_settings",
        verbose_name=_("organization"),
    )
    cycle_hour = models.PositiveSmallIntegerField(
        _("cycle hour"),
        default=6,
        validators=[MaxValueValidator(23)],
        help_text=_("Local hour (organization timezone) at which the daily cycle runs"),
    )
    catch_up_days = models.PositiveSmallIntegerField(
        _("catch-up window (days)"),
        default=7,
        help_text=_("A step missed by more days than this is recorded as skipped instead of run"),
    )
    payment_stop_days = models.PositiveSmallIntegerField(
        _("recent payment pause (days)"),
        default=5,
        help_text=_("A payment received within this many days stops steps that stop on payment"),
    )
    long_hold_days = models.PositiveSmallIntegerField(
        _("long hold (days)"),
        default=30,
        help_text=_("Holds longer than this, or without an end, need a supervisor's approval"),
    )
    manual_stage_days = models.PositiveSmallIntegerField(
        _("manual stage kept (days)"),
        default=30,
        help_text=_("After a person moves a case to a stage, the cycle does not move it for this many days"),
    )
    fallback_probability = models.JSONField(
        _("probability of payment by bucket"),
        default=default_fallback_probability,
        help_text=_("Used for cases whose debtor has no risk score"),
    )
    broken_promise_factor = models.DecimalField(
        _("broken promise factor"),
        max_digits=4,
        decimal_places=3,
        default=Decimal("0.800"),
        validators=[MinValueValidator(0), MaxValueValidator(1)],
        help_text=_("The fallback probability is multiplied by this for each broken promise in 90 days"),
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("strategy settings")
        verbose_name_plural = _("strategy settings")

    def __str__(self) -> str:
        return str(self.organization)


class StageKind(models.TextChoices):
    PREVENTIVE = "preventive", _("Preventive")
    ADMINISTRATIVE = "administrative", _("Administrative")
    EXTRAJUDICIAL = "extrajudicial", _("Extrajudicial")
    JUDICIAL = "judicial", _("Judicial")
    WRITE_OFF = "write_off", _("Write-off")


class Segment(models.Model):
    """A named rule over case facts (segmento). A case gets the first active segment, by
    priority (lowest number first), whose rule is true."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="+", verbose_name=_("organization")
    )
    code = models.SlugField(_("code"), max_length=60)
    name = models.CharField(_("name"), max_length=200)
    rule = models.TextField(_("rule"), help_text=_("e.g. dpd between 1 and 30 and balance >= 5000"))
    priority = models.PositiveIntegerField(_("priority"), help_text=_("Lower numbers are tried first"))
    description = models.TextField(_("description"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = OrganizationWideQuerySet.as_manager()

    class Meta:
        verbose_name = _("segment")
        verbose_name_plural = _("segments")
        ordering = ["priority"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "code"], name="segment_unique_code"),
            models.UniqueConstraint(fields=["organization", "priority"], name="segment_unique_priority"),
        ]

    def __str__(self) -> str:
        return self.name


class Stage(models.Model):
    """A stage of collection (etapa) with its entry rule.

    A case enters a stage when ``as_of - oldest due date >= entry_offset`` (negative offsets
    reach before the due date: -5 is "from 5 days before due") and, when set, its entry
    segment matches. See docs/strategy.md for forward moves and exits.
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="+", verbose_name=_("organization")
    )
    code = models.SlugField(_("code"), max_length=60)
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=16, choices=StageKind.choices)
    position = models.PositiveSmallIntegerField(_("order"), help_text=_("Cases move forward in this order"))
    entry_offset = models.IntegerField(
        _("entry: days past due"),
        help_text=_("Days past the oldest due date from which a case enters; negative: days before due"),
    )
    entry_rule = models.TextField(
        _("entry rule"), blank=True, help_text=_("Optional extra condition, e.g. balance >= 100000")
    )
    exits_when_cured = models.BooleanField(
        _("leaves when cured"),
        default=True,
        help_text=_("A case that is no longer overdue goes back to an earlier stage automatically"),
    )
    priority_weight = models.DecimalField(
        _("priority weight"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("1.00"),
        validators=[MinValueValidator(0)],
        help_text=_("Priority of human work = expected recovery × this weight"),
    )
    is_active = models.BooleanField(_("active"), default=True)

    objects = OrganizationWideQuerySet.as_manager()

    class Meta:
        verbose_name = _("stage")
        verbose_name_plural = _("stages")
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "code"], name="stage_unique_code"),
            models.UniqueConstraint(fields=["organization", "position"], name="stage_unique_position"),
        ]

    def __str__(self) -> str:
        return self.name


class Strategy(models.Model):
    """What happens to the cases of a stage and segment (estrategia): its variants' steps.

    A case takes the active strategy of its stage and segment, or else the one of its stage
    with no segment.
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="+", verbose_name=_("organization")
    )
    code = models.SlugField(_("code"), max_length=60)
    name = models.CharField(_("name"), max_length=200)
    stage = models.ForeignKey(
        Stage, on_delete=models.PROTECT, related_name="strategies", verbose_name=_("stage")
    )
    segment = models.ForeignKey(
        Segment,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="strategies",
        verbose_name=_("segment"),
        help_text=_("Empty: every case of the stage that no other strategy takes"),
    )
    description = models.TextField(_("description"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = OrganizationWideQuerySet.as_manager()

    class Meta:
        verbose_name = _("strategy")
        verbose_name_plural = _("strategies")
        ordering = ["stage__position", "name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "code"], name="strategy_unique_code"),
            # Only active strategies compete for a stage and segment; retired ones stay for
            # the actions that point to their steps.
            models.UniqueConstraint(
                fields=["stage", "segment"],
                condition=Q(segment__isnull=False, is_active=True),
                name="strategy_unique_stage_segment",
            ),
            models.UniqueConstraint(
                fields=["stage"],
                condition=Q(segment__isnull=True, is_active=True),
                name="strategy_unique_stage_default",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Variant(models.Model):
    """Champion or challenger of a strategy, taking a fixed share of its cases."""

    strategy = models.ForeignKey(
        Strategy, on_delete=models.CASCADE, related_name="variants", verbose_name=_("strategy")
    )
    code = models.SlugField(_("code"), max_length=60)
    name = models.CharField(_("name"), max_length=200)
    is_champion = models.BooleanField(_("champion"), default=False)
    share = models.PositiveSmallIntegerField(
        _("share (%)"), validators=[MaxValueValidator(100)], help_text=_("Shares of a strategy sum to 100")
    )
    position = models.PositiveSmallIntegerField(_("order"), default=0)
    is_active = models.BooleanField(
        _("active"),
        default=True,
        help_text=_("A retired variant takes no cases; its cases are drawn again among the active ones"),
    )

    class Meta:
        verbose_name = _("variant")
        verbose_name_plural = _("variants")
        ordering = ["strategy", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["strategy", "code"], name="variant_unique_code"),
            models.UniqueConstraint(
                fields=["strategy"], condition=Q(is_champion=True), name="variant_one_champion"
            ),
            models.CheckConstraint(condition=Q(share__lte=100), name="variant_share_at_most_100"),
        ]

    def __str__(self) -> str:
        return f"{self.strategy} · {self.name}"


class StepAnchor(models.TextChoices):
    DUE_DATE = "due_date", _("Days from the oldest due date")
    STAGE_ENTRY = "stage_entry", _("Days from entering the stage")


class StepAction(models.TextChoices):
    MESSAGE = "message", _("Send a message")
    TASK = "task", _("Task for a person")


class TaskKind(models.TextChoices):
    CALL = "call", _("Call")
    VISIT = "visit", _("Visit")
    REVIEW = "review", _("Review")
    LEGAL_REFERRAL = "legal_referral", _("Legal referral")
    AGENCY_ASSIGNMENT = "agency_assignment", _("Assign to an external agency")


class StopCondition(models.TextChoices):
    PAYMENT = "payment", _("Payment received")
    PROMISE = "promise", _("Promise pending")
    DISPUTE = "dispute", _("Dispute")
    PLAN = "plan", _("Active payment plan")
    IN_TRANSIT = "in_transit", _("Payment in transit")


def default_stop_conditions() -> list[str]:
    return [
        StopCondition.PAYMENT,
        StopCondition.PROMISE,
        StopCondition.DISPUTE,
        StopCondition.PLAN,
        StopCondition.IN_TRANSIT,
    ]


class Step(models.Model):
    """One thing a variant does to a case, on a day (paso)."""

    variant = models.ForeignKey(
        Variant, on_delete=models.CASCADE, related_name="steps", verbose_name=_("variant")
    )
    position = models.PositiveSmallIntegerField(_("order"))
    name = models.CharField(_("name"), max_length=200)
    anchor = models.CharField(_("counted from"), max_length=12, choices=StepAnchor.choices)
    offset_days = models.IntegerField(_("day"), help_text=_("Negative: before the due date"))
    weekdays = models.CharField(
        _("allowed weekdays"),
        max_length=7,
        blank=True,
        help_text=_("ISO weekday digits, 1 = Monday … 7 = Sunday, e.g. 12345; empty = every day"),
    )
    action = models.CharField(_("action"), max_length=8, choices=StepAction.choices)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices, blank=True)
    template = models.ForeignKey(
        Template,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="steps",
        verbose_name=_("template"),
    )
    task_kind = models.CharField(_("task"), max_length=20, choices=TaskKind.choices, blank=True)
    condition = models.TextField(
        _("condition"), blank=True, help_text=_("Optional rule, e.g. balance >= 1000")
    )
    stop_on = models.JSONField(_("stop when"), default=default_stop_conditions, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("step")
        verbose_name_plural = _("steps")
        ordering = ["variant", "position"]
        constraints = [
            models.UniqueConstraint(fields=["variant", "position"], name="step_unique_position"),
            models.CheckConstraint(
                condition=(Q(action="message") & ~Q(channel="") & Q(template__isnull=False) & Q(task_kind=""))
                | (Q(action="task") & ~Q(task_kind="") & Q(template__isnull=True)),
                name="step_message_or_task",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.variant} · {self.position}. {self.name}"


# --- What the cycle derives ----------------------------------------------------------


class CaseStateQuerySet(OrganizationQuerySet):
    portfolio_path = "case__portfolio"


class CaseState(models.Model):
    """Where a case stands in the strategy: stage, segment, strategy, variant and priority.

    One row per case, written by the cycle (and by manual stage moves).

    Rows are written set-based by the cycle from ids read in the same transaction, so
    foreign keys other than ``case`` carry no database check (``db_constraint=False``: the
    checks were half the cycle's write time); the ORM still applies their on_delete.
    """

    case = models.OneToOneField(
        Case, on_delete=models.CASCADE, primary_key=True, related_name="state", verbose_name=_("case")
    )
    organization = models.ForeignKey(
        Organization,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        verbose_name=_("organization"),
        db_constraint=False,
    )
    stage = models.ForeignKey(
        Stage,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        verbose_name=_("stage"),
        db_constraint=False,
    )
    stage_entered_on = models.DateField(_("in stage since"), null=True, blank=True)
    segment = models.ForeignKey(
        Segment,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        verbose_name=_("segment"),
        db_constraint=False,
    )
    strategy = models.ForeignKey(
        Strategy,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        verbose_name=_("strategy"),
        db_constraint=False,
    )
    variant = models.ForeignKey(
        Variant,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        verbose_name=_("variant"),
        db_constraint=False,
    )
    strategy_entered_on = models.DateField(_("in strategy since"), null=True, blank=True)
    stage_pinned_until = models.DateField(
        _("stage kept until"),
        null=True,
        blank=True,
        help_text=_("Set by a manual move: until this date the cycle does not move the case between stages"),
    )
    probability = models.DecimalField(_("probability of payment"), max_digits=5, decimal_places=4, default=0)
    expected_recovery = MoneyField(_("expected recovery"), default=0)
    priority = MoneyField(_("priority"), default=0)
    as_of = models.DateField(_("as of"), null=True, blank=True)

    objects = CaseStateQuerySet.as_manager()

    class Meta:
        verbose_name = _("case strategy state")
        verbose_name_plural = _("case strategy states")
        indexes = [
            models.Index(fields=["organization", "stage"]),
            models.Index(fields=["organization", "-priority"]),
        ]

    def __str__(self) -> str:
        return f"{self.case_id}: {self.stage_id}/{self.segment_id}/{self.variant_id}"


class TransitionReason(models.TextChoices):
    RULE = "rule", _("Entry rule")
    CURED = "cured", _("No longer overdue")
    CLOSED = "closed", _("Case closed")
    MANUAL = "manual", _("Moved by a person")


class StageTransitionQuerySet(OrganizationQuerySet):
    portfolio_path = "case__portfolio"


class StageTransition(models.Model):
    """The stage history of a case.

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
        Case, on_delete=models.CASCADE, related_name="stage_transitions", verbose_name=_("case")
    )
    from_stage = models.ForeignKey(
        Stage,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        verbose_name=_("from"),
        db_constraint=False,
    )
    to_stage = models.ForeignKey(
        Stage,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        verbose_name=_("to"),
        db_constraint=False,
    )
    business_date = models.DateField(_("business date"))
    reason = models.CharField(_("reason"), max_length=8, choices=TransitionReason.choices)
    note = models.TextField(_("note"), blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("user"),
    )
    created_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    objects = StageTransitionQuerySet.as_manager()

    class Meta:
        verbose_name = _("stage change")
        verbose_name_plural = _("stage changes")
        ordering = ["-business_date", "-id"]

    def __str__(self) -> str:
        return f"{self.case_id}: {self.from_stage_id} → {self.to_stage_id} ({self.business_date})"


class ActionStatus(models.TextChoices):
    DONE = "done", _("Done")
    SKIPPED = "skipped", _("Skipped")


class SkipReason(models.TextChoices):
    SUPERSEDED = "superseded", _("A later step of the same kind fell due")
    STALE = "stale", _("Missed for longer than the catch-up window")
    PAYMENT = "payment", _("Payment received")
    PROMISE = "promise", _("Promise pending")
    DISPUTE = "dispute", _("Dispute")
    PLAN = "plan", _("Active payment plan")
    IN_TRANSIT = "in_transit", _("Payment in transit")
    DO_NOT_CONTACT = "do_not_contact", _("Debtor must not be contacted")
    NO_CONTACT_POINT = "no_contact_point", _("No usable contact point for the channel")
    NO_TEMPLATE = "no_template", _("Template inactive")


class ActionQuerySet(OrganizationQuerySet):
    portfolio_path = "case__portfolio"


class Action(models.Model):
    """What the cycle decided for a case and a step that fell due (acción).

    Unique per (case, step, due date): a step fires once for each date it falls due on, so
    re-running a day adds nothing and a missed day is caught up once.

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
        Case, on_delete=models.CASCADE, related_name="actions", db_index=False, verbose_name=_("case")
    )
    step = models.ForeignKey(
        Step,
        on_delete=models.PROTECT,
        related_name="actions",
        db_index=False,
        verbose_name=_("step"),
        db_constraint=False,
    )
    variant = models.ForeignKey(
        Variant,
        on_delete=models.PROTECT,
        related_name="actions",
        db_index=False,
        verbose_name=_("variant"),
        db_constraint=False,
    )
    due_on = models.DateField(_("fell due on"))
    business_date = models.DateField(_("decided on"))
    status = models.CharField(_("status"), max_length=8, choices=ActionStatus.choices)
    skip_reason = models.CharField(
        _("skipped because"), max_length=20, choices=SkipReason.choices, blank=True
    )
    message = models.OneToOneField(
        Message,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="action",
        verbose_name=_("message"),
        db_constraint=False,
    )
    task = models.OneToOneField(
        "Task",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="action",
        verbose_name=_("task"),
        db_constraint=False,
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ActionQuerySet.as_manager()

    class Meta:
        verbose_name = _("action")
        verbose_name_plural = _("actions")
        ordering = ["-business_date", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["case", "step", "due_on"], name="action_unique_case_step_due"),
            models.CheckConstraint(
                condition=Q(status="done", skip_reason="") | Q(status="skipped") & ~Q(skip_reason=""),
                name="action_skipped_has_reason",
            ),
        ]
        indexes = [models.Index(fields=["organization", "business_date"])]

    def __str__(self) -> str:
        return f"{self.case_id} · {self.step_id} · {self.due_on}"


class TaskStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class TaskQuerySet(OrganizationQuerySet):
    portfolio_path = "case__portfolio"

    def open(self):
        return self.filter(status=TaskStatus.OPEN)


class Task(models.Model):
    """Work for a person on a case (tarea): a call, a visit, a review, a legal referral…

    The cycle's tasks are written set-based from ids read in the same transaction, so
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
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="tasks", verbose_name=_("case"))
    kind = models.CharField(_("task"), max_length=20, choices=TaskKind.choices)
    title = models.CharField(_("title"), max_length=200)
    status = models.CharField(_("status"), max_length=10, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    due_on = models.DateField(_("due"))
    priority = MoneyField(_("priority"), default=0)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("assigned to"),
    )
    result = models.CharField(_("result"), max_length=200, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)

    objects = TaskQuerySet.as_manager()

    class Meta:
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        ordering = ["status", "-priority", "due_on"]
        indexes = [models.Index(fields=["organization", "status", "due_on"])]

    def __str__(self) -> str:
        return self.title


class HoldScope(models.TextChoices):
    DEBTOR = "debtor", _("Debtor (all their cases)")
    DOCUMENT = "document", _("One document")


class HoldReason(models.TextChoices):
    DISPUTE = "dispute", _("Dispute or claim")
    NEGOTIATION = "negotiation", _("Negotiation in progress")
    LEGAL = "legal", _("Legal instruction")
    COMPLAINT = "complaint", _("Complaint")
    HARDSHIP = "hardship", _("Hardship (illness, disaster)")
    DECEASED = "deceased", _("Deceased, estate pending")
    OTHER = "other", _("Other")


class HoldQuerySet(OrganizationQuerySet):
    portfolio_path = None

    def effective_on(self, day):
        """Holds that pause the strategy on ``day``: approved (or short), started, not ended."""
        return self.filter(
            Q(ends_on__isnull=True) | Q(ends_on__gte=day),
            starts_on__lte=day,
            released_at__isnull=True,
            needs_approval=False,
        )


class Hold(models.Model):
    """A pause of the strategy for a debtor or one document (suspensión de gestión).

    A debtor hold stops every step for the debtor's cases. A document hold takes that
    document out of the cycle's facts, so the case is worked only for what else it owes.
    """

    organization = models.ForeignKey(
        Organization,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        verbose_name=_("organization"),
    )
    scope = models.CharField(_("scope"), max_length=10, choices=HoldScope.choices)
    debtor = models.ForeignKey(
        Debtor, on_delete=models.CASCADE, related_name="holds", verbose_name=_("debtor")
    )
    document = models.ForeignKey(
        Document,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="holds",
        verbose_name=_("document"),
    )
    reason = models.CharField(_("reason"), max_length=12, choices=HoldReason.choices)
    note = models.TextField(_("note"), blank=True)
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("until"), null=True, blank=True, help_text=_("Empty: until released"))
    needs_approval = models.BooleanField(_("awaiting approval"), default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("placed by"),
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("approved by"),
    )
    released_at = models.DateTimeField(_("released"), null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("released by"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = HoldQuerySet.as_manager()

    class Meta:
        verbose_name = _("hold")
        verbose_name_plural = _("holds")
        ordering = ["-starts_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(scope="debtor", document__isnull=True)
                | Q(scope="document", document__isnull=False),
                name="hold_scope_matches_document",
            ),
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=models.F("starts_on")),
                name="hold_ends_after_start",
            ),
        ]
        indexes = [models.Index(fields=["organization", "starts_on"])]

    def __str__(self) -> str:
        return f"{self.debtor} · {self.get_reason_display()}"


class CycleStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class CycleRun(models.Model):
    """One daily cycle of an organization for a business date, checkpointed per chunk."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="+", verbose_name=_("organization")
    )
    as_of = models.DateField(_("business date"))
    status = models.CharField(
        _("status"), max_length=8, choices=CycleStatus.choices, default=CycleStatus.RUNNING
    )
    phase = models.CharField(_("phase"), max_length=40, blank=True)
    checkpoint = models.BigIntegerField(
        _("checkpoint"), null=True, blank=True, help_text=_("Last case id range finished in the phase")
    )
    counts = models.JSONField(_("counts"), default=dict, blank=True)
    started_at = models.DateTimeField(_("started"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    pass_started_at = models.DateTimeField(
        _("pass started"),
        null=True,
        blank=True,
        help_text=_(
            "When the pass the run's results stand on started: a re-run redoes only the debtors "
            "whose inputs changed since"
        ),
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=1)
    error = models.TextField(_("error"), blank=True)

    objects = OrganizationWideQuerySet.as_manager()

    class Meta:
        verbose_name = _("cycle run")
        verbose_name_plural = _("cycle runs")
        ordering = ["-as_of"]
        constraints = [models.UniqueConstraint(fields=["organization", "as_of"], name="cycle_run_unique_day")]

    def __str__(self) -> str:
        return f"{self.organization} · {self.as_of} ({self.get_status_display()})"
