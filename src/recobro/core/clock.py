"""The business clock. Business dates come from the caller's ``as_of`` or from here.

An organization's business date is today's date in its timezone, unless the simulator
(or a test) has frozen its clock with ``business_date_override``.
"""

import datetime as dt
from zoneinfo import ZoneInfo

from django.utils import timezone


def now() -> dt.datetime:
    """The current instant (aware, UTC). The one place that reads the wall clock."""
    return timezone.now()


def business_date(organization) -> dt.date:
    override = getattr(organization, "business_date_override", None)
    if override:
        return override
    return now().astimezone(ZoneInfo(organization.timezone)).date()
