"""Write operations on the ledger: one function per use case, each in a transaction.

``payments``: record_payment, allocate_payments, reverse_payment.
"""

from django.core.exceptions import ValidationError


class LedgerError(ValidationError):
    """A ledger operation was refused; the message says what and where. Nothing was stored."""


__all__ = ["LedgerError"]
