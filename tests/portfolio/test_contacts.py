"""One normalisation of contact values, shared by imports, the API and the back-office form."""

import pytest
from django.utils import translation

from recobro.portfolio.contacts import ContactValueError, normalize_contact
from recobro.portfolio.forms import ContactPointForm


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.mark.parametrize(
    ("kind", "value", "country", "normalized"),
    [
        ("mobile", "55 1234 5678", "MX", "+525512345678"),
        ("whatsapp", " +52 (55) 1234-5678 ", "CO", "+525512345678"),  # international: any country
        ("landline", "601 234 5678", "co", "+576012345678"),
        ("mobile", "+57 310 123 4567", "", "+573101234567"),
        ("email", "  Eva.Martinez@Example.COM ", "MX", "eva.martinez@example.com"),
        ("address", "  Av. Juárez   10,\n Centro ", "MX", "Av. Juárez 10, Centro"),
    ],
)
def test_values_are_normalised(kind, value, country, normalized):
    assert normalize_contact(kind, value, country) == normalized


@pytest.mark.parametrize(
    ("kind", "value", "country", "code", "says"),
    [
        (
            "mobile",
            "12",
            "MX",
            "invalid_phone",
            "“12” is not a valid phone number (national numbers are read as MX)",
        ),
        ("mobile", "abc", "MX", "invalid_phone", "“abc”"),
        ("mobile", "55 1234 5678", "", "invalid_phone", "read as international"),
        ("email", "eva@", "MX", "invalid_email", "“eva@” is not a valid email address"),
    ],
)
def test_a_value_that_cannot_be_normalised_says_what_is_wrong(kind, value, country, code, says):
    with pytest.raises(ContactValueError) as raised:
        normalize_contact(kind, value, country)
    assert raised.value.code == code
    assert says in raised.value.message


def test_the_back_office_form_reports_and_stores_the_shared_normalisation(cast):
    form = ContactPointForm(data={"debtor": cast.eva.pk, "kind": "mobile", "value": "12"})
    assert not form.is_valid()
    assert form.errors["value"] == ["“12” is not a valid phone number (national numbers are read as MX)."]
    form = ContactPointForm(data={"debtor": cast.eva.pk, "kind": "mobile", "value": "55 1234 5678"})
    assert form.is_valid(), form.errors
    assert form.instance.normalized == "+525512345678"
