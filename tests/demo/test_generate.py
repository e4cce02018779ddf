"""The demo generator: real-looking identities, contacts and ledgers, reproducible by seed."""

import datetime as dt
from collections import Counter

import phonenumbers
import pytest
from stdnum.co import nit
from stdnum.mx import curp, rfc

from recobro.core.models import DEFAULT_AGING_BUCKETS
from recobro.demo.accounts import CURED, HISTORY, generate_organization, spread
from recobro.demo.generate import EXAMPLE_DOMAINS, company_rfc, person_curp, person_rfc
from recobro.demo.spec import COLOMBIA, MEXICO, ORGANIZATIONS

AS_OF = dt.date(2026, 11, 22)
SCALE = 0.1


@pytest.fixture(scope="module")
def generated():
    return {
        spec.country: generate_organization(spec, seed=7, as_of=AS_OF, scale=SCALE) for spec in ORGANIZATIONS
    }


def test_person_rfc_computes_sat_check_digit():
    assert person_rfc("Gómez", "Díaz", "Emma", dt.date(1956, 12, 31), "GR") == "GODE561231GR8"


def test_rfc_skips_maria_and_particles_and_avoids_rude_words():
    # "María" is skipped when a second name follows; "de la" does not count in a surname.
    key = person_rfc("de la Cruz", "Pérez", "María Fernanda", dt.date(1990, 5, 4), "A1")[:4]
    assert key == "CUPF"
    # P-U-T-O would spell a word SAT avoids: the fourth letter becomes X.
    assert person_rfc("Puente", "Torres", "Octavio", dt.date(1980, 1, 2), "B2")[:4] == "PUTX"


def test_company_rfc_and_curp_pass_stdnum_with_check_digits():
    import random

    assert rfc.is_valid(company_rfc("Ferretería Garza, S.A. de C.V.", dt.date(2004, 3, 9), "K7"), True)
    value = person_curp("Núñez", "Ortega", "José Luis", dt.date(2001, 7, 15), "H", "NL", random.Random(1))
    assert curp.is_valid(value)
    assert value.startswith("NUOL010715HNLXRS")


def test_every_tax_id_passes_python_stdnum(generated):
    checks = {
        "rfc": lambda v: rfc.is_valid(v, validate_check_digits=True),
        "curp": curp.is_valid,
        "nit": nit.is_valid,
        "cc": lambda v: v.isdigit() and 6 <= len(v) <= 10,
    }
    seen = Counter()
    for data in generated.values():
        for debtor in data.debtors:
            assert checks[debtor.tax_id_type](debtor.tax_id), (debtor.name, debtor.tax_id)
            seen[debtor.tax_id_type, debtor.kind] += 1
        assert len({d.tax_id for d in data.debtors}) == len(data.debtors)
    # Mexican persons carry an RFC or a CURP and companies an RFC; Colombian persons a cédula
    # and companies a NIT.
    assert set(seen) == {
        ("rfc", "person"), ("curp", "person"), ("rfc", "company"), ("cc", "person"), ("nit", "company")
    }  # fmt: skip
    assert all(len(d.tax_id) == 12 for d in generated["MX"].debtors if d.kind == "company")


def test_phones_are_valid_e164_numbers_of_the_organizations_country(generated):
    phones = 0
    for country, data in generated.items():
        for debtor in data.debtors:
            for contact in debtor.contacts:
                if contact.kind not in {"mobile", "landline", "whatsapp"}:
                    continue
                phones += 1
                number = phonenumbers.parse(contact.normalized)
                assert contact.normalized.startswith("+")
                assert phonenumbers.is_valid_number(number), contact
                assert phonenumbers.region_code_for_number(number) == country
                assert contact.normalized == phonenumbers.format_number(
                    number, phonenumbers.PhoneNumberFormat.E164
                )
                # What the file says, read with the organization's country, is the same number.
                assert phonenumbers.parse(contact.value, country) == number
                if country == "CO":
                    wanted = (
                        phonenumbers.PhoneNumberType.MOBILE
                        if contact.kind != "landline"
                        else (phonenumbers.PhoneNumberType.FIXED_LINE)
                    )
                    assert phonenumbers.number_type(number) == wanted
    assert phones > 100


def test_emails_are_at_example_domains(generated):
    emails = [c for data in generated.values() for d in data.debtors for c in d.contacts if c.kind == "email"]
    assert len(emails) > 50
    for contact in emails:
        local, _, domain = contact.normalized.partition("@")
        assert domain in EXAMPLE_DOMAINS
        assert local and local.isascii() and contact.normalized == contact.value.lower()
    assert len({c.normalized for c in emails}) == len(emails)


def test_same_seed_gives_the_same_data_and_another_seed_does_not():
    first = generate_organization(COLOMBIA, seed=11, as_of=AS_OF, scale=0.05)
    again = generate_organization(COLOMBIA, seed=11, as_of=AS_OF, scale=0.05)
    other = generate_organization(COLOMBIA, seed=12, as_of=AS_OF, scale=0.05)
    assert first.debtors == again.debtors
    assert first.documents == again.documents
    assert first.payments == again.payments
    assert first.debtors != other.debtors


def test_every_aging_bucket_and_cured_accounts_are_planned_in_every_portfolio(generated):
    for data in generated.values():
        for portfolio in data.spec.portfolios:
            planned = {a.bucket for a in data.accounts if a.portfolio == portfolio.code}
            assert planned == {b["key"] for b in DEFAULT_AGING_BUCKETS} | {CURED}


def test_planned_days_past_due_fall_inside_their_bucket(generated):
    buckets = {b["key"]: b for b in DEFAULT_AGING_BUCKETS}
    for data in generated.values():
        for account in data.accounts:
            if account.bucket == CURED:
                assert account.dpd is None
                continue
            bucket = buckets[account.bucket]
            assert bucket["min"] is None or account.dpd >= bucket["min"]
            assert bucket["max"] is None or account.dpd <= bucket["max"]


def test_oldest_unpaid_document_is_due_where_the_plan_says(generated):
    """History payments cover the documents due before the target date exactly, so the
    allocation (oldest due first) leaves the planned oldest due date open."""
    for data in generated.values():
        for account in data.accounts:
            if account.dpd is None:
                continue
            oldest_open = AS_OF - dt.timedelta(days=account.dpd)
            docs = [
                d for d in data.documents
                if d.portfolio == account.portfolio and d.debtor == account.debtor and d.kind != "credit_note"
            ]  # fmt: skip
            paid = sum(d.amount for d in docs if d.due_date < oldest_open)
            history = sum(
                p.amount for p in data.payments_of(account.portfolio, HISTORY) if p.debtor == account.debtor
            )
            assert history == paid
            assert min(d.due_date for d in docs if d.due_date >= oldest_open) == oldest_open


def test_ledger_has_the_mix_a_demo_needs(generated):
    data = generated["MX"]
    kinds = Counter(d.kind for d in data.documents)
    assert set(kinds) == {"invoice", "installment", "interest", "fee", "credit_note"}
    assert all(d.amount < 0 for d in data.documents if d.kind == "credit_note")
    assert all(d.amount > 0 for d in data.documents if d.kind != "credit_note")
    assert all(p.amount > 0 and p.paid_on <= AS_OF for p in data.payments)
    debtors = data.debtors
    assert {d.attributes["region"] for d in debtors} == {"Norte", "Centro", "Sur"}
    assert {d.attributes["product"] for d in debtors} == {"tarjeta", "prestamo"}
    assert {d.attributes["product"] for d in generated["CO"].debtors} == {"tarjeta", "hogar"}
    assert Counter(d.kind for d in debtors)["company"] > 0


def test_scale_sets_the_size_and_full_scale_is_about_the_issues_numbers():
    small = generate_organization(MEXICO, seed=1, as_of=AS_OF, scale=0.05)
    assert len(small.debtors) == 55
    full = [generate_organization(spec, seed=20261122, as_of=AS_OF) for spec in ORGANIZATIONS]
    assert sum(len(d.debtors) for d in full) == 2000
    assert 9_000 <= sum(len(d.documents) for d in full) <= 12_000


def test_spread_keeps_proportions_and_every_state_at_least_once():
    import random

    states = spread({"a": 90, "b": 9, "c": 1}, 20, random.Random(3))
    assert len(states) == 20
    assert Counter(states)["c"] == 1 and Counter(states)["b"] >= 1
