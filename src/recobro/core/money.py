"""Money: Decimal amounts with a currency code, rounded by the currency's minor unit."""

from decimal import ROUND_HALF_UP, Decimal

from babel.numbers import format_currency, get_currency_precision

# ISO 4217 says COP has 2 minor units, but Colombian ERPs and banks work in whole pesos;
# babel already reports 0 for CLP. Overrides live here, in one place.
MINOR_UNIT_OVERRIDES: dict[str, int] = {}

MONEY_MAX_DIGITS = 18
MONEY_DECIMAL_PLACES = 2


def minor_units(currency: str) -> int:
    currency = currency.upper()
    if currency in MINOR_UNIT_OVERRIDES:
        return MINOR_UNIT_OVERRIDES[currency]
    return min(get_currency_precision(currency), MONEY_DECIMAL_PLACES)


def quantum(currency: str) -> Decimal:
    return Decimal(1).scaleb(-minor_units(currency))


def round_money(amount: Decimal | int | str, currency: str) -> Decimal:
    """Round to the currency's minor unit (half up, as banks and ERPs do)."""
    return Decimal(amount).quantize(quantum(currency), rounding=ROUND_HALF_UP)


def is_exact(amount: Decimal, currency: str) -> bool:
    """True when the amount has no more decimals than the currency allows."""
    return round_money(amount, currency) == amount


def format_money(amount: Decimal, currency: str, locale: str = "es_MX") -> str:
    """Format for people, in the organization's locale ("es-MX" or "es_MX")."""
    return format_currency(round_money(amount, currency), currency, locale=locale.replace("-", "_"))
