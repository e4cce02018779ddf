"""Payment references: stable per debtor, with ISO 7064 MOD 97-10 check digits.

A reference is the organization's 2-3 digit prefix, the debtor id in 9 digits and two
check digits, chosen so that the whole number mod 97 is 1 (as in IBAN). It catches every
single mistyped digit and every swap of two adjacent digits.

Set-based: references are assigned with one UPDATE that computes the digits in SQL, so an
import of 300,000 debtors does not loop in Python.
"""

from django.db import connection

from recobro.portfolio.models import Debtor

ID_DIGITS = 9
_ID_SPAN = 10**ID_DIGITS


def _base(prefix: int, debtor_id: int) -> int:
    if not 10 <= prefix <= 999:
        raise ValueError(f"payment reference prefix must have 2 or 3 digits, not {prefix}")
    if not 0 < debtor_id < _ID_SPAN:
        raise ValueError(f"debtor id {debtor_id} does not fit in {ID_DIGITS} digits")
    return prefix * _ID_SPAN + debtor_id


def make_reference(prefix: int, debtor_id: int) -> str:
    base = _base(prefix, debtor_id)
    check = 98 - (base * 100) % 97
    return f"{base}{check:02d}"


def normalize(reference: str) -> str:
    """Drop the spaces, dashes and dots people type or banks print."""
    return "".join(ch for ch in str(reference) if ch.isalnum())


def is_valid(reference: str) -> bool:
    ref = normalize(reference)
    return ref.isdigit() and len(ref) >= ID_DIGITS + 4 and int(ref) % 97 == 1


def debtor_id_from(reference: str) -> int | None:
    """The debtor id a valid reference names, or None when the check digits fail."""
    if not is_valid(reference):
        return None
    return int(normalize(reference)[:-2]) % _ID_SPAN


def format_reference(reference: str) -> str:
    """Groups of four digits for print: 1100 0001 2345 6."""
    ref = normalize(reference)
    return " ".join(ref[i : i + 4] for i in range(0, len(ref), 4))


def assign_payment_references(*, organization) -> int:
    """Give every debtor of the organization that has none its reference. Returns the count."""
    prefix = int(organization.payment_reference_prefix)
    base = f"(CAST({prefix} AS BIGINT) * {_ID_SPAN} + id)"
    expr = f"CAST({base} * 100 + (98 - ({base} * 100) %% 97) AS {_text_type()})"
    table = Debtor._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET payment_reference = {expr} "
            "WHERE organization_id = %s AND payment_reference IS NULL",
            [organization.pk],
        )
        return cursor.rowcount


def _text_type() -> str:
    return "TEXT" if connection.vendor in {"sqlite", "postgresql"} else "CHAR(20)"
