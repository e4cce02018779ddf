"""Domain events: how a lower layer tells a higher one that something happened.

Handlers subscribed in an AppConfig.ready() run synchronously, inside the publisher's
transaction; anything with side effects must use ``transaction.on_commit`` itself.
"""

from collections import defaultdict
from collections.abc import Callable
from typing import Any

Handler = Callable[..., Any]
_handlers: dict[str, list[Handler]] = defaultdict(list)

# Event names published by the lower layers (payload keys in the comment).
PAYMENT_RECORDED = "portfolio.payment_recorded"  # organization, payment
PAYMENT_REVERSED = "portfolio.payment_reversed"  # organization, payment
PAYMENTS_ALLOCATED = "portfolio.payments_allocated"  # organization, payment_ids (set-based allocation)
CASES_REFRESHED = "portfolio.cases_refreshed"  # organization, case_ids (None = all)
IMPORT_FINISHED = "portfolio.import_finished"  # organization, job


def subscribe(event: str, handler: Handler) -> None:
    if handler not in _handlers[event]:
        _handlers[event].append(handler)


def unsubscribe(event: str, handler: Handler) -> None:
    if handler in _handlers[event]:
        _handlers[event].remove(handler)


def publish(event: str, **payload: Any) -> None:
    for handler in list(_handlers[event]):
        handler(**payload)
