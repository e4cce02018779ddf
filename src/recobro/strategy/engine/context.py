"""What every statement of one cycle run needs: the organization, the dates, the configuration."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from .config import Config

#: Scratch tables of one chunk (private to the connection; dropped at commit on PostgreSQL).
FACTS = "recobro_cycle_facts"
DECISIONS = "recobro_cycle_decisions"
DUE = "recobro_cycle_due"

#: Windows of the history facts, in days before as_of: "as_of - N < date <= as_of".
PAYMENT_WINDOW_DAYS = 30
PROMISE_WINDOW_DAYS = 90


@dataclass
class CycleContext:
    organization_id: int
    timezone: str
    as_of: dt.date
    #: The latest completed cycle before as_of (None: this is the first).
    previous: dt.date | None
    config: Config
    vendor: str

    def days_before(self, days: int) -> dt.date:
        return self.as_of - dt.timedelta(days=days)

    @property
    def postgresql(self) -> bool:
        return self.vendor == "postgresql"

    def fence(self) -> str:
        """Keeps a subquery from being merged into the query around it, so that an expression
        it computes once (a CASE over every segment rule) is not pasted into every place the
        outer query reads it."""
        return "OFFSET 0" if self.postgresql else "LIMIT -1 OFFSET 0"
