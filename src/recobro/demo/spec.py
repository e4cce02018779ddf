"""What the demo contains: two organizations, their portfolios and their people.

Plain data, no database: the generator reads it to build debtors and ledgers, the loader
to create the rows. The names are fictional (and differ from the test cast on purpose).
"""

from dataclasses import dataclass
from decimal import Decimal

from recobro.core.models import Role

#: One password for every demo login, printed at the end of ``load_demo``.
DEMO_PASSWORD = "recobro-demo"  # noqa: S105 - a published demo credential, not a secret
DEMO_API_KEY_NAME = "Demo ERP integration"
DEMO_URL = "http://127.0.0.1:8000/"


@dataclass(frozen=True)
class PortfolioSpec:
    code: str
    name: str
    creditor: str
    allocation_order: str  # AllocationOrder value
    product: str  # "tarjeta" | "prestamo" | "hogar"
    principal_kind: str  # DocumentKind of the monthly document
    doc_prefix: str  # start of document external ids ("EC", "PP", …)
    payment_prefix: str
    #: Share of the organization's debtors that hold an account in this portfolio.
    share: float
    #: Monthly amount range of the principal document, in the currency's units.
    amount_min: Decimal
    amount_max: Decimal
    #: A loan's installments are all equal; a card statement or a bill varies a little.
    fixed_installment: bool
    company_share: float  # share of company debtors among this portfolio's debtors
    late_fee: Decimal  # "gastos de cobranza" charged on accounts more than 30 days late
    monthly_interest: Decimal  # moratory interest rate per month late


@dataclass(frozen=True)
class UserSpec:
    username: str
    first_name: str
    last_name: str
    role: str
    portfolios: tuple[str, ...] = ()  # portfolio codes, for collectors and agency agents


@dataclass(frozen=True)
class OrganizationSpec:
    slug: str
    name: str
    country: str
    timezone: str
    currency: str
    locale: str
    faker_locale: str
    reference_prefix: int  # preferred payment reference prefix (the dialling code)
    debtors: int  # at scale 1.0
    debtor_prefix: str  # start of debtor external ids, when the ERP numbers its customers
    portfolios: tuple[PortfolioSpec, ...]
    users: tuple[UserSpec, ...]
    both_share: float = 0.12  # share of debtors with an account in two portfolios
    email_domain: str = "example.com"


MEXICO = OrganizationSpec(
    slug="almacenes-altamira",
    name="Almacenes Altamira",
    country="MX",
    timezone="America/Mexico_City",
    currency="MXN",
    locale="es-MX",
    faker_locale="es_MX",
    reference_prefix=52,
    debtors=1100,
    debtor_prefix="CTE",
    email_domain="example.com",
    portfolios=(
        PortfolioSpec(
            code="tarjeta-altamira",
            name="Tarjeta Altamira (crédito en tienda)",
            creditor="Almacenes Altamira",
            allocation_order="oldest_due",
            product="tarjeta",
            principal_kind="invoice",
            doc_prefix="EC",
            payment_prefix="CJ",
            share=0.72,
            amount_min=Decimal("650"),
            amount_max=Decimal("5800"),
            fixed_installment=False,
            company_share=0.08,
            late_fee=Decimal("290.00"),
            monthly_interest=Decimal("0.045"),
        ),
        PortfolioSpec(
            code="prestamos-altamira",
            name="Préstamos personales Altamira",
            creditor="Almacenes Altamira",
            allocation_order="waterfall",
            product="prestamo",
            principal_kind="installment",
            doc_prefix="PP",
            payment_prefix="PG",
            share=0.40,
            amount_min=Decimal("1200"),
            amount_max=Decimal("9500"),
            fixed_installment=True,
            company_share=0.18,
            late_fee=Decimal("450.00"),
            monthly_interest=Decimal("0.06"),
        ),
    ),
    users=(
        UserSpec("marisol", "Marisol", "Treviño", Role.ADMIN),
        UserSpec("rodrigo", "Rodrigo", "Garza", Role.SUPERVISOR),
        UserSpec("lucia", "Lucía", "Villarreal", Role.COLLECTOR, ("tarjeta-altamira",)),
        UserSpec("jorge", "Jorge", "Salinas", Role.COLLECTOR, ("prestamos-altamira",)),
        UserSpec("teresa", "Teresa", "Cantú", Role.AUDITOR),
    ),
)

COLOMBIA = OrganizationSpec(
    slug="recaudos-del-valle",
    name="Recaudos del Valle S.A.S.",
    country="CO",
    timezone="America/Bogota",
    currency="COP",
    locale="es-CO",
    faker_locale="es_CO",
    reference_prefix=57,
    debtors=900,
    debtor_prefix="",  # the agency knows its debtors by NIT or cédula
    email_domain="example.org",
    portfolios=(
        PortfolioSpec(
            code="banco-horizonte-tc",
            name="Banco Horizonte — tarjetas de crédito",
            creditor="Banco Horizonte",
            allocation_order="waterfall",
            product="tarjeta",
            principal_kind="installment",
            doc_prefix="TC",
            payment_prefix="BH",
            share=0.62,
            amount_min=Decimal("95000"),
            amount_max=Decimal("1850000"),
            fixed_installment=False,
            company_share=0.05,
            late_fee=Decimal("48000"),
            monthly_interest=Decimal("0.028"),
        ),
        PortfolioSpec(
            code="conecta-hogar",
            name="Conecta — servicios hogar",
            creditor="Conecta Telecomunicaciones",
            allocation_order="oldest_due",
            product="hogar",
            principal_kind="invoice",
            doc_prefix="FV",
            payment_prefix="CH",
            share=0.50,
            amount_min=Decimal("62000"),
            amount_max=Decimal("289000"),
            fixed_installment=True,
            company_share=0.16,
            late_fee=Decimal("15000"),
            monthly_interest=Decimal("0.025"),
        ),
    ),
    users=(
        UserSpec("camilo", "Camilo", "Restrepo", Role.ADMIN),
        UserSpec("paola", "Paola", "Ospina", Role.SUPERVISOR),
        UserSpec("andres", "Andrés", "Cardona", Role.COLLECTOR, ("banco-horizonte-tc",)),
        UserSpec("valentina", "Valentina", "Quintero", Role.COLLECTOR, ("conecta-hogar",)),
        UserSpec("wilson", "Wilson", "Mosquera", Role.AGENCY, ("banco-horizonte-tc",)),
        UserSpec("gloria", "Gloria", "Zapata", Role.AUDITOR),
    ),
)

ORGANIZATIONS: tuple[OrganizationSpec, ...] = (MEXICO, COLOMBIA)
DEMO_SLUGS: tuple[str, ...] = tuple(spec.slug for spec in ORGANIZATIONS)
