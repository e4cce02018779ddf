"""Contact values in their one normalised form: E.164 phones, lower-case emails, postal
addresses with single spaces. Imports, the API and the back-office all go through
``normalize_contact``, so the same number typed two ways is the same contact point."""

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

from recobro.portfolio.models import ContactKind

PHONE_KINDS = frozenset({ContactKind.MOBILE, ContactKind.LANDLINE, ContactKind.WHATSAPP})


class ContactValueError(ValidationError):
    """A contact value that cannot be normalised; ``code`` is ``invalid_email`` or
    ``invalid_phone`` and the message names the value."""


def normalize_contact(kind: str, value: str, country: str) -> str:
    """The normalised form of ``value`` for a contact point of ``kind``.

    Phones become E.164; a national number is read as a number of ``country`` (an ISO
    code; empty accepts only international numbers). Emails are lower-cased and checked.
    Addresses and anything else keep their text with runs of spaces made one. Raises
    ``ContactValueError`` saying what is wrong with the value.
    """
    value = (value or "").strip()
    if kind in PHONE_KINDS:
        region = (country or "").upper() or None
        try:
            number = phonenumbers.parse(value, region)
            if not phonenumbers.is_valid_number(number):
                raise phonenumbers.NumberParseException(phonenumbers.NumberParseException.NOT_A_NUMBER, value)
        except phonenumbers.NumberParseException:
            raise ContactValueError(
                _("“%(value)s” is not a valid phone number (national numbers are read as %(country)s).")
                % {"value": value, "country": region or _("international")},
                code="invalid_phone",
            ) from None
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if kind == ContactKind.EMAIL:
        normalized = value.lower()
        try:
            validate_email(normalized)
        except ValidationError:
            raise ContactValueError(
                _("“%(value)s” is not a valid email address.") % {"value": value}, code="invalid_email"
            ) from None
        return normalized
    return " ".join(value.split())
