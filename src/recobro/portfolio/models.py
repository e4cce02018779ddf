"""The ledger: portfolios, debtors, contact points, documents, payments, allocations,
cases; and the records of imports."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from recobro.core.models import Organization
from recobro.core.money import MONEY_DECIMAL_PLACES, MONEY_MAX_DIGITS
from recobro.core.tenancy import OrganizationQuerySet, OrganizationWideQuerySet


def MoneyField(verbose_name, **kwargs):
    return models.DecimalField(
        verbose_name, max_digits=MONEY_MAX_DIGITS, decimal_places=MONEY_DECIMAL_PLACES, **kwargs
    )


class AllocationOrder(models.TextChoices):
    OLDEST_DUE = "oldest_due", _("Oldest due first")
    WATERFALL = "waterfall", _("Costs, then interest, then principal")


class PortfolioQuerySet(OrganizationQuerySet):
    portfolio_path = "pk"


class Portfolio(models.Model):
    """A set of receivables of one creditor (cartera). An agency holds many."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="portfolios", verbose_name=_("organization")
    )
    code = models.SlugField(_("code"), max_length=60)
    name = models.CharField(_("name"), max_length=200)
    creditor = models.CharField(_("creditor"), max_length=200)
    currency = models.CharField(_("currency"), max_length=3)
    jurisdiction = models.CharField(
        _("jurisdiction"), max_length=2, help_text=_("Country whose collection law applies")
    )
    allocation_order = models.CharField(
        _("payment allocation"),
        max_length=12,
        choices=AllocationOrder.choices,
        default=AllocationOrder.OLDEST_DUE,
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = PortfolioQuerySet.as_manager()

    class Meta:
        verbose_name = _("portfolio")
        verbose_name_plural = _("portfolios")
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["organization", "code"], name="portfolio_unique_code")]

    def __str__(self) -> str:
        return self.name


class DebtorKind(models.TextChoices):
    PERSON = "person", _("Person")
    COMPANY = "company", _("Company")


class TaxIdType(models.TextChoices):
    RFC = "rfc", "RFC (MX)"
    CURP = "curp", "CURP (MX)"
    NIT = "nit", "NIT (CO)"
    CC = "cc", _("Citizenship card (CO)")
    RUT = "rut", "RUT (CL)"
    CUIT = "cuit", "CUIT (AR)"
    RUC = "ruc", "RUC (PE)"
    DNI = "dni", "DNI (PE)"
    CPF = "cpf", "CPF (BR)"
    CNPJ = "cnpj", "CNPJ (BR)"
    OTHER = "other", _("Other")


class DebtorQuerySet(OrganizationQuerySet):
    portfolio_path = "cases__portfolio"

    def for_membership(self, membership):
        qs = super().for_membership(membership)
        if membership is not None and not membership.sees_all_portfolios:
            qs = qs.distinct()
        return qs


class Debtor(models.Model):
    """A person or company that owes (deudor / cliente)."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="debtors", verbose_name=_("organization")
    )
    external_id = models.CharField(_("external id"), max_length=64)
    kind = models.CharField(_("type"), max_length=10, choices=DebtorKind.choices, default=DebtorKind.PERSON)
    name = models.CharField(_("name"), max_length=200)
    tax_id = models.CharField(_("tax id"), max_length=32, blank=True)
    tax_id_type = models.CharField(_("tax id type"), max_length=8, choices=TaxIdType.choices, blank=True)
    payment_reference = models.CharField(
        _("payment reference"), max_length=20, unique=True, null=True, blank=True, editable=False
    )
    attributes = models.JSONField(_("custom attributes"), default=dict, blank=True)
    risk_score = models.DecimalField(
        _("risk score"),
        max_digits=5,
        decimal_places=4,
        null=True,
        blank=True,
        help_text=_("Probability of payment, 0 to 1"),
    )
    language = models.CharField(_("language"), max_length=10, blank=True)
    timezone = models.CharField(_("timezone"), max_length=64, blank=True)
    is_disputed = models.BooleanField(_("dispute"), default=False)
    is_deceased = models.BooleanField(_("deceased"), default=False)
    is_bankrupt = models.BooleanField(_("bankrupt"), default=False)
    do_not_contact = models.BooleanField(_("do not contact"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = DebtorQuerySet.as_manager()

    class Meta:
        verbose_name = _("debtor")
        verbose_name_plural = _("debtors")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "external_id"], name="debtor_unique_external_id"),
            models.CheckConstraint(
                condition=Q(risk_score__isnull=True) | Q(risk_score__gte=0, risk_score__lte=1),
                name="debtor_risk_score_0_1",
            ),
        ]
        indexes = [models.Index(fields=["organization", "tax_id"])]

    def __str__(self) -> str:
        return self.name


class ContactKind(models.TextChoices):
    EMAIL = "email", _("Email")
    MOBILE = "mobile", _("Mobile")
    LANDLINE = "landline", _("Landline")
    WHATSAPP = "whatsapp", "WhatsApp"
    ADDRESS = "address", _("Postal address")


class ContactPointQuerySet(OrganizationQuerySet):
    portfolio_path = "debtor__cases__portfolio"


class ContactPoint(models.Model):
    """A way to reach a debtor (medio de contacto), normalised (E.164 for phones)."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="+", verbose_name=_("organization")
    )
    debtor = models.ForeignKey(
        Debtor, on_delete=models.CASCADE, related_name="contact_points", verbose_name=_("debtor")
    )
    kind = models.CharField(_("type"), max_length=10, choices=ContactKind.choices)
    value = models.CharField(_("value"), max_length=300, help_text=_("As received"))
    normalized = models.CharField(_("normalised value"), max_length=300)
    label = models.CharField(_("label"), max_length=60, blank=True)
    is_primary = models.BooleanField(_("primary"), default=False)
    verified_at = models.DateTimeField(_("verified"), null=True, blank=True)
    consent_at = models.DateTimeField(_("consent given"), null=True, blank=True)
    opted_out_at = models.DateTimeField(_("opted out"), null=True, blank=True)
    wrong_number = models.BooleanField(_("wrong number"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ContactPointQuerySet.as_manager()

    class Meta:
        verbose_name = _("contact point")
        verbose_name_plural = _("contact points")
        constraints = [
            models.UniqueConstraint(fields=["debtor", "kind", "normalized"], name="contact_point_unique")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.normalized}"


class DocumentKind(models.TextChoices):
    INVOICE = "invoice", _("Invoice")
    INSTALLMENT = "installment", _("Loan installment")
    FEE = "fee", _("Fee / collection cost")
    INTEREST = "interest", _("Interest")
    CREDIT_NOTE = "credit_note", _("Credit note")


#: Waterfall order: costs, then interest, then principal.
WATERFALL_RANK = {
    DocumentKind.FEE: 0,
    DocumentKind.INTEREST: 1,
    DocumentKind.INVOICE: 2,
    DocumentKind.INSTALLMENT: 2,
}


class DocumentStatus(models.TextChoices):
    OPEN = "open", _("Open")
    PAID = "paid", _("Paid")
    WRITTEN_OFF = "written_off", _("Written off")
    DISPUTED = "disputed", _("Disputed")
    CANCELLED = "cancelled", _("Cancelled")
    REFINANCED = "refinanced", _("Refinanced")


#: Statuses whose balance is still owed and counted in the case.
OPEN_STATUSES = (DocumentStatus.OPEN, DocumentStatus.DISPUTED)


class DocumentQuerySet(OrganizationQuerySet):
    def open(self):
        return self.filter(status__in=OPEN_STATUSES).exclude(balance=0)


class Document(models.Model):
    """A receivable (documento por cobrar): invoice, installment, fee, interest, credit note.

    Amounts are positive, except credit notes, which are negative and reduce the case balance.
    """

    # organization and portfolio lead composite indexes below (organization + due date;
    # portfolio + external id): no index of their own, which a million-row import pays for.
    organization = models.ForeignKey(
        Organization,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        verbose_name=_("organization"),
    )
    portfolio = models.ForeignKey(
        Portfolio,
        on_delete=models.PROTECT,
        related_name="documents",
        db_index=False,
        verbose_name=_("portfolio"),
    )
    debtor = models.ForeignKey(
        Debtor, on_delete=models.PROTECT, related_name="documents", verbose_name=_("debtor")
    )
    external_id = models.CharField(_("external id"), max_length=64)
    kind = models.CharField(
        _("type"), max_length=12, choices=DocumentKind.choices, default=DocumentKind.INVOICE
    )
    number = models.CharField(_("number"), max_length=64, blank=True)
    product = models.CharField(_("product"), max_length=60, blank=True)
    issue_date = models.DateField(_("issue date"), null=True, blank=True)
    due_date = models.DateField(_("due date"))
    original_amount = MoneyField(_("original amount"))
    balance = MoneyField(_("open balance"))
    currency = models.CharField(_("currency"), max_length=3)
    status = models.CharField(
        _("status"), max_length=12, choices=DocumentStatus.choices, default=DocumentStatus.OPEN
    )
    attributes = models.JSONField(_("custom attributes"), default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = DocumentQuerySet.as_manager()

    class Meta:
        verbose_name = _("document")
        verbose_name_plural = _("documents")
        ordering = ["due_date", "id"]
        constraints = [
            models.UniqueConstraint(fields=["portfolio", "external_id"], name="document_unique_external_id"),
            models.CheckConstraint(
                condition=(
                    ~Q(kind="credit_note")
                    & Q(original_amount__gt=0, balance__gte=0)
                    & Q(balance__lte=F("original_amount"))
                )
                | (
                    Q(kind="credit_note")
                    & Q(original_amount__lt=0, balance__lte=0)
                    & Q(balance__gte=F("original_amount"))
                ),
                name="document_balance_within_original",
            ),
            # Payments set a document paid exactly when its balance reaches 0 and reopen it
            # when a reversal gives some back; imports refuse a paid row with a balance.
            models.CheckConstraint(
                condition=~Q(status="paid") | Q(balance=0), name="document_paid_has_no_balance"
            ),
        ]
        indexes = [
            models.Index(fields=["portfolio", "debtor", "status"]),
            models.Index(fields=["organization", "due_date"]),
        ]

    def __str__(self) -> str:
        return self.number or self.external_id


class PaymentMethod(models.TextChoices):
    TRANSFER = "transfer", _("Bank transfer")
    DEPOSIT = "deposit", _("Deposit")
    CASH = "cash", _("Cash")
    CARD = "card", _("Card")
    DIRECT_DEBIT = "direct_debit", _("Direct debit")
    CHECK = "check", _("Check")
    OTHER = "other", _("Other")


class PaymentSource(models.TextChoices):
    IMPORT = "import", _("Import")
    API = "api", _("API")
    MANUAL = "manual", _("Manual")
    GATEWAY = "gateway", _("Payment gateway")
    BANK = "bank", _("Bank statement")


class PaymentStatus(models.TextChoices):
    POSTED = "posted", _("Posted")
    REVERSED = "reversed", _("Reversed")


class Payment(models.Model):
    """Money received (pago). Allocations say which documents it settled."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="+", verbose_name=_("organization")
    )
    portfolio = models.ForeignKey(
        Portfolio, on_delete=models.PROTECT, related_name="payments", verbose_name=_("portfolio")
    )
    debtor = models.ForeignKey(
        Debtor, on_delete=models.PROTECT, related_name="payments", verbose_name=_("debtor")
    )
    external_id = models.CharField(_("external id"), max_length=64, null=True, blank=True)
    amount = MoneyField(_("amount"))
    unallocated_amount = MoneyField(_("unallocated"))
    currency = models.CharField(_("currency"), max_length=3)
    paid_on = models.DateField(_("payment date"))
    method = models.CharField(
        _("method"), max_length=14, choices=PaymentMethod.choices, default=PaymentMethod.TRANSFER
    )
    source = models.CharField(_("source"), max_length=10, choices=PaymentSource.choices)
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=PaymentStatus.choices, default=PaymentStatus.POSTED
    )
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = OrganizationQuerySet.as_manager()

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["-paid_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["portfolio", "external_id"],
                condition=Q(external_id__isnull=False),
                name="payment_unique_external_id",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(
                condition=Q(unallocated_amount__gte=0) & Q(unallocated_amount__lte=F("amount")),
                name="payment_allocations_within_amount",
            ),
            models.CheckConstraint(
                condition=~Q(status="reversed") | Q(unallocated_amount=F("amount")),
                name="payment_reversed_is_unallocated",
            ),
        ]
        indexes = [models.Index(fields=["portfolio", "debtor", "paid_on"])]

    def __str__(self) -> str:
        return f"{self.amount} {self.currency} {self.paid_on}"


class AllocationQuerySet(OrganizationQuerySet):
    portfolio_path = "payment__portfolio"


class Allocation(models.Model):
    """How much of a payment settled a document (aplicación)."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="+", verbose_name=_("organization")
    )
    payment = models.ForeignKey(
        Payment, on_delete=models.CASCADE, related_name="allocations", verbose_name=_("payment")
    )
    document = models.ForeignKey(
        Document, on_delete=models.PROTECT, related_name="allocations", verbose_name=_("document")
    )
    amount = MoneyField(_("amount"))
    created_at = models.DateTimeField(auto_now_add=True)

    objects = AllocationQuerySet.as_manager()

    class Meta:
        verbose_name = _("allocation")
        verbose_name_plural = _("allocations")
        constraints = [
            models.UniqueConstraint(fields=["payment", "document"], name="allocation_unique"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="allocation_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.amount} → {self.document}"


class CaseStatus(models.TextChoices):
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")


class CaseQuerySet(OrganizationQuerySet):
    def open(self):
        return self.filter(status=CaseStatus.OPEN)


class Case(models.Model):
    """One debtor within one portfolio: the unit strategies work (caso).

    Its facts are derived from the documents and payments by the case engine.
    """

    # organization and portfolio lead the composite indexes below: no index of their own
    # (each one more index costs the case engine ~3 µs per case written).
    organization = models.ForeignKey(
        Organization,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        verbose_name=_("organization"),
    )
    portfolio = models.ForeignKey(
        Portfolio, on_delete=models.PROTECT, related_name="cases", db_index=False, verbose_name=_("portfolio")
    )
    debtor = models.ForeignKey(
        Debtor, on_delete=models.PROTECT, related_name="cases", verbose_name=_("debtor")
    )
    currency = models.CharField(_("currency"), max_length=3)
    status = models.CharField(_("status"), max_length=10, choices=CaseStatus.choices, default=CaseStatus.OPEN)
    balance = MoneyField(_("balance"), default=0)
    overdue_balance = MoneyField(_("overdue balance"), default=0)
    original_amount = MoneyField(_("original amount"), default=0)
    open_documents = models.PositiveIntegerField(_("open documents"), default=0)
    oldest_due_date = models.DateField(_("oldest open due date"), null=True, blank=True)
    dpd = models.IntegerField(_("days past due"), default=0)
    bucket = models.CharField(_("aging bucket"), max_length=20, blank=True)
    last_payment_on = models.DateField(_("last payment"), null=True, blank=True)
    as_of = models.DateField(_("facts as of"), null=True, blank=True)
    opened_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CaseQuerySet.as_manager()

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        ordering = ["-dpd", "-balance"]
        constraints = [
            models.UniqueConstraint(fields=["portfolio", "debtor"], name="case_unique_debtor_portfolio"),
            models.CheckConstraint(
                condition=Q(status="open") | Q(balance=0, overdue_balance=0, open_documents=0),
                name="case_closed_has_no_balance",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "status", "bucket"]),
            models.Index(fields=["portfolio", "status"]),
        ]

    def __str__(self) -> str:
        return f"{self.debtor} · {self.portfolio}"


# --- Imports -----------------------------------------------------------------


class ImportKind(models.TextChoices):
    DEBTORS = "debtors", _("Debtors")
    CONTACT_POINTS = "contact_points", _("Contact points")
    DOCUMENTS = "documents", _("Documents")
    PAYMENTS = "payments", _("Payments")


class NumberFormat(models.TextChoices):
    DOT_DECIMAL = "dot", _("1,234.56 (dot decimal)")
    COMMA_DECIMAL = "comma", _("1.234,56 (comma decimal)")


class DateFormat(models.TextChoices):
    ISO = "iso", _("YYYY-MM-DD")
    DMY = "dmy", _("DD/MM/YYYY")
    MDY = "mdy", _("MM/DD/YYYY")


class FileEncoding(models.TextChoices):
    UTF8 = "utf-8", _("UTF-8 (with or without BOM)")
    CP1252 = "cp1252", _("Windows-1252 / Latin-1")


class Delimiter(models.TextChoices):
    COMMA = ",", _("Comma (,)")
    SEMICOLON = ";", _("Semicolon (;)")
    TAB = "\t", _("Tab")
    PIPE = "|", _("Pipe (|)")


class ImportProfile(models.Model):
    """How one ERP's export maps onto Recobro: columns, encoding, number and date formats."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="import_profiles", verbose_name=_("organization")
    )
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=20, choices=ImportKind.choices)
    column_map = models.JSONField(
        _("column mapping"),
        default=dict,
        blank=True,
        help_text=_("Recobro field → column header in the file; unmapped fields use their own name"),
    )
    delimiter = models.CharField(_("delimiter"), max_length=1, choices=Delimiter.choices, default=",")
    encoding = models.CharField(_("encoding"), max_length=10, choices=FileEncoding.choices, default="utf-8")
    number_format = models.CharField(
        _("number format"), max_length=5, choices=NumberFormat.choices, default=NumberFormat.DOT_DECIMAL
    )
    date_format = models.CharField(
        _("date format"), max_length=3, choices=DateFormat.choices, default=DateFormat.ISO
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = OrganizationWideQuerySet.as_manager()

    class Meta:
        verbose_name = _("import profile")
        verbose_name_plural = _("import profiles")
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="import_profile_unique_name")
        ]

    def __str__(self) -> str:
        return self.name


class ImportStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Imported")
    PARTIAL = "partial", _("Imported, invalid rows skipped")
    REJECTED = "rejected", _("Rejected: invalid rows, nothing written")
    FAILED = "failed", _("Failed")


class ImportJob(models.Model):
    """One file imported (or attempted): who, when, what, counts and errors."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="import_jobs", verbose_name=_("organization")
    )
    portfolio = models.ForeignKey(
        Portfolio,
        on_delete=models.PROTECT,
        related_name="import_jobs",
        null=True,
        blank=True,
        verbose_name=_("portfolio"),
    )
    kind = models.CharField(_("kind"), max_length=20, choices=ImportKind.choices)
    profile = models.ForeignKey(
        ImportProfile,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("import profile"),
    )
    file_name = models.CharField(_("file name"), max_length=255)
    file = models.FileField(_("file"), upload_to="imports/%Y/%m/", blank=True)
    file_size = models.BigIntegerField(_("size (bytes)"), default=0)
    skip_invalid = models.BooleanField(_("skip invalid rows"), default=False)
    status = models.CharField(
        _("status"), max_length=10, choices=ImportStatus.choices, default=ImportStatus.PENDING
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("imported by"),
    )
    actor_label = models.CharField(_("actor"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    processed_rows = models.PositiveIntegerField(_("rows processed"), default=0)
    created_count = models.PositiveIntegerField(_("created"), default=0)
    updated_count = models.PositiveIntegerField(_("updated"), default=0)
    unchanged_count = models.PositiveIntegerField(_("unchanged"), default=0)
    invalid_count = models.PositiveIntegerField(_("invalid rows"), default=0)
    ignored_count = models.PositiveIntegerField(
        _("ignored rows"), default=0, help_text=_("Blank lines and totals rows")
    )
    message = models.TextField(_("message"), blank=True)
    task_id = models.CharField(max_length=64, blank=True)

    objects = OrganizationQuerySet.as_manager()

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.file_name}"

    @property
    def progress_percent(self) -> int:
        if not self.total_rows:
            return 100 if self.finished_at else 0
        return min(100, round(100 * self.processed_rows / self.total_rows))


class ImportIssue(models.Model):
    """A row-level problem found in an import: line, column and reason."""

    job = models.ForeignKey(
        ImportJob, on_delete=models.CASCADE, related_name="issues", verbose_name=_("import")
    )
    line = models.PositiveIntegerField(_("line"), null=True, blank=True)
    column = models.CharField(_("column"), max_length=100, blank=True)
    value = models.CharField(_("value"), max_length=300, blank=True)
    code = models.CharField(_("code"), max_length=40)
    message = models.CharField(_("reason"), max_length=500)
    is_warning = models.BooleanField(_("warning"), default=False)

    class Meta:
        verbose_name = _("import issue")
        verbose_name_plural = _("import issues")
        ordering = ["line", "id"]

    def __str__(self) -> str:
        return f"{self.line}:{self.column} {self.message}"
