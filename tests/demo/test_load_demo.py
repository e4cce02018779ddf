"""``load_demo`` through the real importer and ledger engines, at a small scale."""

import datetime as dt
from io import StringIO

import phonenumbers
import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from stdnum.co import nit
from stdnum.mx import curp, rfc

from recobro.core.models import ApiKey, ApiKeyScope, AuditEntry, Membership, Organization, Role
from recobro.demo.load import is_complete, load_demo
from recobro.demo.spec import COLOMBIA, DEMO_PASSWORD, DEMO_SLUGS, MEXICO
from recobro.portfolio.models import (
    Allocation,
    Case,
    CaseStatus,
    ContactPoint,
    Debtor,
    Document,
    ImportJob,
    ImportStatus,
    Payment,
    Portfolio,
)

SCALE = 0.05
TABLES = (
    Organization,
    Portfolio,
    Debtor,
    ContactPoint,
    Document,
    Payment,
    Allocation,
    Case,
    ImportJob,
    ApiKey,
    AuditEntry,
)


def row_counts() -> dict[str, int]:
    counts = {model.__name__: model.objects.count() for model in TABLES}
    counts["User"] = get_user_model().objects.count()
    counts["Membership"] = Membership.objects.count()
    return counts


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    """Imported files are kept with their jobs: keep the tests' copies out of var/."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def demo(db, tmp_path):
    return load_demo(scale=SCALE, directory=tmp_path)


def test_both_organizations_are_loaded_through_the_importer(demo, tmp_path):
    assert [o.slug for o in demo.organizations] == list(DEMO_SLUGS)
    mx = Organization.objects.get(slug=MEXICO.slug)
    co = Organization.objects.get(slug=COLOMBIA.slug)
    assert (mx.country, mx.currency, mx.timezone, mx.locale) == ("MX", "MXN", "America/Mexico_City", "es-MX")
    assert (co.country, co.currency, co.timezone, co.locale) == ("CO", "COP", "America/Bogota", "es-CO")
    assert set(Portfolio.objects.filter(organization=co).values_list("creditor", flat=True)) == {
        "Banco Horizonte",
        "Conecta Telecomunicaciones",
    }
    for org in (mx, co):
        jobs = ImportJob.objects.filter(organization=org)
        assert {j.kind for j in jobs} == {"debtors", "contact_points", "documents", "payments"}
        assert all(j.status == ImportStatus.SUCCEEDED and j.created_by is not None for j in jobs)
        assert is_complete(org)
    assert (tmp_path / COLOMBIA.slug).is_dir() and any((tmp_path / MEXICO.slug).glob("*.xlsx"))
    # The Colombian files are semicolon-separated Windows-1252 with comma decimals.
    assignment = next((tmp_path / COLOMBIA.slug).glob("*_asignacion_*.csv")).read_bytes().decode("cp1252")
    header, first = assignment.splitlines()[:2]
    assert header.startswith("NIT/CC;") and "Fecha Vencimiento" in header and "Saldo" in header
    assert first.count(";") == header.count(";") and ",00;COP" in first


def test_every_aging_bucket_has_open_cases_and_some_cases_are_cured(demo):
    for summary in demo.organizations:
        org = Organization.objects.get(slug=summary.slug)
        open_buckets = set(
            Case.objects.filter(organization=org, status=CaseStatus.OPEN).values_list("bucket", flat=True)
        )
        assert open_buckets == {b["key"] for b in org.aging_buckets}, summary.slug
        assert Case.objects.filter(organization=org, status=CaseStatus.CLOSED).exists()
        assert all(count > 0 for count in summary.buckets.values())


def test_payments_are_allocated_with_partial_and_over_payments(demo):
    org = Organization.objects.get(slug=MEXICO.slug)
    payments = Payment.objects.filter(organization=org)
    assert payments.filter(unallocated_amount__gt=0).exists()  # overpayments left as credit
    assert Document.objects.filter(organization=org, status="paid").exists()
    partly_paid = Document.objects.filter(organization=org, status="open", balance__gt=0)
    assert any(d.balance < d.original_amount for d in partly_paid if d.kind != "credit_note")
    assert payments.filter(source="manual").count() > 0  # taken at the counter with record_payment
    assert payments.filter(source="import").count() > payments.filter(source="manual").count()
    assert Allocation.objects.filter(organization=org).exists()


def test_loaded_tax_ids_phones_and_emails_are_valid(demo):
    checks = {
        "rfc": lambda v: rfc.is_valid(v, validate_check_digits=True),
        "curp": curp.is_valid,
        "nit": nit.is_valid,
        "cc": lambda v: v.isdigit() and 6 <= len(v) <= 10,
    }
    debtors = Debtor.objects.filter(organization__slug__in=DEMO_SLUGS).select_related("organization")
    assert debtors.count() == sum(s.debtors for s in demo.organizations) > 90
    for debtor in debtors:
        assert checks[debtor.tax_id_type](debtor.tax_id), (debtor.name, debtor.tax_id)
        assert debtor.payment_reference
        assert set(debtor.attributes) >= {"region", "segment", "product"}
    phones = ContactPoint.objects.filter(kind__in=["mobile", "landline", "whatsapp"]).select_related(
        "organization"
    )
    assert phones.exists()
    for contact in phones:
        number = phonenumbers.parse(contact.normalized)
        assert phonenumbers.is_valid_number(number)
        assert phonenumbers.region_code_for_number(number) == contact.organization.country
    for contact in ContactPoint.objects.filter(kind="email"):
        assert contact.normalized.rsplit("@", 1)[1] in {"example.com", "example.org", "example.net"}


def test_custom_attributes_arrive_through_the_importer_and_are_audited(demo):
    for slug in DEMO_SLUGS:
        debtors = Debtor.objects.filter(organization__slug=slug)
        assert all(set(d.attributes) == {"region", "segment", "product", "city"} for d in debtors)
        assert {d.attributes["region"] for d in debtors} == {"Norte", "Centro", "Sur"}
        debtor = debtors.order_by("pk").first()
        created = AuditEntry.objects.get(
            object_type="portfolio.debtor", object_id=str(debtor.pk), action="create"
        )
        assert created.source == "import" and created.context.keys() == {"import_job"}
        assert created.after["attributes"] == debtor.attributes
        # Nothing set them behind the importer's back.
        assert (
            not AuditEntry.objects.filter(object_type="portfolio.debtor", object_id=str(debtor.pk))
            .exclude(action="create")
            .exists()
        )


def test_users_exist_for_every_role_with_the_printed_password(demo):
    for slug in DEMO_SLUGS:
        memberships = Membership.objects.filter(organization__slug=slug).select_related("user")
        roles = {m.role for m in memberships}
        assert {Role.ADMIN, Role.SUPERVISOR, Role.COLLECTOR, Role.AUDITOR} <= roles
        for membership in memberships:
            assert membership.user.is_staff and membership.user.check_password(DEMO_PASSWORD)
            if membership.role in (Role.COLLECTOR, Role.AGENCY):
                assert membership.portfolios.exists()
    assert Membership.objects.filter(organization__slug=COLOMBIA.slug, role=Role.AGENCY).exists()
    logins = {(login.username, login.role) for login in demo.logins}
    assert len(logins) == Membership.objects.filter(organization__slug__in=DEMO_SLUGS).count()
    keys = ApiKey.objects.filter(organization__slug__in=DEMO_SLUGS)
    assert keys.count() == 2 and all(k.scope == ApiKeyScope.WRITE for k in keys)
    assert all(
        s.api_key and ApiKey.hash_secret(s.api_key) in {k.key_hash for k in keys} for s in demo.organizations
    )


def test_a_second_load_adds_nothing(demo, tmp_path):
    before = row_counts()
    again = load_demo(scale=SCALE, directory=tmp_path)
    assert row_counts() == before
    assert not any(s.created for s in again.organizations)
    assert all(s.api_key is None for s in again.organizations)
    assert [s.documents for s in again.organizations] == [s.documents for s in demo.organizations]


def test_a_later_run_ages_the_cases_to_the_new_business_date_without_adding_rows(demo, tmp_path):
    org = Organization.objects.get(slug=MEXICO.slug)
    late = Case.objects.filter(organization=org, status=CaseStatus.OPEN, dpd__gt=0).order_by("pk").first()
    org.business_date_override = org.today() + dt.timedelta(days=10)
    org.save(update_fields=["business_date_override"])
    before = row_counts()
    load_demo(scale=SCALE, directory=tmp_path)
    late.refresh_from_db()
    assert late.as_of == org.business_date_override
    assert late.dpd == (org.business_date_override - late.oldest_due_date).days
    assert row_counts() == before


def test_reset_rebuilds_the_same_demo(demo, tmp_path):
    before = row_counts()
    old_ids = set(Organization.objects.values_list("pk", flat=True))
    rebuilt = load_demo(scale=SCALE, directory=tmp_path, reset=True)
    assert all(s.created for s in rebuilt.organizations)
    assert not old_ids & set(Organization.objects.values_list("pk", flat=True))
    assert row_counts() == before  # same seed, same data
    assert [s.buckets for s in rebuilt.organizations] == [s.buckets for s in demo.organizations]


def test_an_interrupted_load_is_rebuilt_on_the_next_run(db, tmp_path):
    Organization.objects.create(
        name=MEXICO.name, slug=MEXICO.slug, country="MX", currency="MXN", payment_reference_prefix=52
    )
    result = load_demo(scale=SCALE, directory=tmp_path)
    assert result.organizations[0].created and result.organizations[0].debtors > 0


def test_command_prints_logins_url_and_the_api_key_once(db, tmp_path, settings):
    settings.VAR_DIR = tmp_path
    out = StringIO()
    call_command("load_demo", scale=SCALE, stdout=out)
    first = out.getvalue()
    assert "http://127.0.0.1:8000/" in first and DEMO_PASSWORD in first
    for username in ("marisol", "lucia", "camilo", "wilson", "gloria"):
        assert username in first
    assert first.count("rcb_") == 2
    out = StringIO()
    call_command("load_demo", scale=SCALE, stdout=out)
    assert "rcb_" not in out.getvalue() and "already created" in out.getvalue()
