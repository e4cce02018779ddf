import datetime as dt
from decimal import Decimal

from django.utils import formats, translation

from recobro.core.middleware import activate_organization_formats
from recobro.core.money import format_money, round_money


def test_a_mexican_organization_gets_mexican_formats_with_the_spanish_catalogue(cast):
    with translation.override("es"):
        activate_organization_formats(cast.mx)
        assert translation.get_language() == "es-mx"
        assert formats.date_format(dt.date(2026, 3, 31), "SHORT_DATE_FORMAT") == "31/03/2026"
        assert translation.gettext("Spanish") == "Español"


def test_english_users_keep_english(cast):
    with translation.override("en"):
        activate_organization_formats(cast.co)
        assert translation.get_language() == "en"


def test_money_is_formatted_for_the_organization_locale():
    assert format_money(Decimal("1234567.5"), "MXN", "es-MX") == "$1,234,567.50"
    assert format_money(Decimal("1234567"), "COP", "es-CO").replace("\xa0", " ") == "$1.234.567,00"
    assert format_money(Decimal("1500"), "CLP", "es-CL").replace("\xa0", " ") == "$1.500"


def test_rounding_follows_the_currency_minor_unit():
    assert round_money(Decimal("10.005"), "MXN") == Decimal("10.01")
    assert round_money(Decimal("1500.5"), "CLP") == Decimal("1501")
