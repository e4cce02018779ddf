"""List pages issue a fixed number of queries, however many rows they show (no N+1)."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from recobro.portfolio.engine import refresh_cases
from recobro.portfolio.models import Debtor
from tests.backoffice.conftest import client_for
from tests.conftest import AS_OF, make_document


def grow(cast, n: int, start: int) -> None:
    for i in range(start, start + n):
        debtor = Debtor.objects.create(organization=cast.mx, external_id=f"N-{i}", name=f"Deudor {i}")
        make_document(cast.retail, debtor, f"N-{i}", "100.00", AS_OF - dt.timedelta(days=i))
    refresh_cases(organization=cast.mx, as_of=AS_OF)


def count(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


# Session, user, memberships (cached on the user for the whole request), the portfolio
# filter's choices, the page's count and its rows: six, pinned so that a query per row, or a
# new one per page, shows up at once.
@pytest.mark.parametrize(
    ("model", "user", "expected"),
    [
        ("debtor", "ana", 6),
        ("debtor", "carlos", 6),
        ("document", "ana", 6),
        ("document", "carlos", 6),
    ],
)
def test_changelist_query_count_is_pinned_and_does_not_grow_with_rows(cast, ledger, model, user, expected):
    client = client_for(getattr(cast, user))
    url = reverse(f"admin:portfolio_{model}_changelist")
    grow(cast, 5, 0)
    few = count(client, url)
    grow(cast, 30, 5)
    many = count(client, url)
    assert few == many == expected
