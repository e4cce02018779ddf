"""Aging buckets (antigüedad de saldos): validation, and the bucket of a number of days past
due in Python and in SQL.

An organization configures its buckets as a list of ``{"key", "label", "min", "max"}`` in
``Organization.aging_buckets`` (inclusive bounds in days past due; ``None`` is open-ended).
The buckets must be sorted, contiguous and cover every day: the first starts open (``None``)
or at 0 or below, the last is open-ended.

Days past due are never negative in Recobro (a document not yet due has dpd 0), so the
first bucket also takes any value below its ``min``: ``bucket_for`` and ``bucket_case_sql``
are total functions and always agree (see tests/portfolio/test_aging.py).
"""

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext as _

#: Case.bucket is a CharField(max_length=20).
KEY_MAX_LENGTH = 20


def bucket_label(bucket: dict) -> str:
    """The label people read. The default labels ("Current", "Over 360") are in the message
    catalogue; a label the organization typed itself comes back as typed."""
    label = bucket.get("label") or bucket["key"]
    return gettext(label) if label else label


def _bound(value, bucket_no: int, name: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            return int(value)
        raise ValidationError(
            _("Aging bucket %(no)s: %(name)s must be a whole number of days or empty, not %(value)r.")
            % {"no": bucket_no, "name": name, "value": value},
            code="bucket_bound",
        )
    return value


def validate_buckets(buckets) -> list[dict]:
    """Check an aging bucket configuration and return it normalised.

    Raises ``ValidationError`` naming the bucket at fault: missing or duplicate keys,
    unsorted or overlapping ranges, gaps, a first bucket that does not start open or at 0 or
    below, a last bucket that is not open-ended.
    """
    if not isinstance(buckets, list | tuple) or not buckets:
        raise ValidationError(_("Aging buckets must be a non-empty list."), code="buckets_empty")
    result: list[dict] = []
    seen: set[str] = set()
    for no, raw in enumerate(buckets, start=1):
        if not isinstance(raw, dict):
            raise ValidationError(
                _("Aging bucket %(no)s must be an object with key, label, min and max.") % {"no": no},
                code="bucket_shape",
            )
        key = str(raw.get("key") or "").strip()
        if not key:
            raise ValidationError(_("Aging bucket %(no)s has no key.") % {"no": no}, code="bucket_key")
        if len(key) > KEY_MAX_LENGTH:
            raise ValidationError(
                _("Aging bucket key %(key)r is longer than %(max)s characters.")
                % {"key": key, "max": KEY_MAX_LENGTH},
                code="bucket_key",
            )
        if key in seen:
            raise ValidationError(
                _("Aging bucket key %(key)r is used twice.") % {"key": key}, code="bucket_duplicate"
            )
        seen.add(key)
        low = _bound(raw.get("min"), no, "min")
        high = _bound(raw.get("max"), no, "max")
        label = str(raw.get("label") or key)
        if low is not None and high is not None and low > high:
            raise ValidationError(
                _("Aging bucket %(key)r starts at %(min)s, after its end %(max)s.")
                % {"key": key, "min": low, "max": high},
                code="bucket_range",
            )
        if no == 1:
            if low is not None and low > 0:
                raise ValidationError(
                    _(
                        "The first aging bucket (%(key)r) must start open or at day 0 or before, "
                        "not at %(min)s."
                    )
                    % {"key": key, "min": low},
                    code="bucket_first",
                )
        else:
            prev = result[-1]
            if prev["max"] is None:
                raise ValidationError(
                    _("Aging bucket %(prev)r is open-ended, so no bucket may follow it (%(key)r does).")
                    % {"prev": prev["key"], "key": key},
                    code="bucket_order",
                )
            if low is None:
                raise ValidationError(
                    _("Only the first aging bucket may start open; %(key)r needs a minimum.") % {"key": key},
                    code="bucket_order",
                )
            if prev["min"] is not None and low <= prev["min"]:
                raise ValidationError(
                    _(
                        "Aging buckets are not sorted: %(key)r (from %(min)s) comes after "
                        "%(prev)r (from %(pmin)s)."
                    )
                    % {"key": key, "min": low, "prev": prev["key"], "pmin": prev["min"]},
                    code="bucket_order",
                )
            if low <= prev["max"]:
                raise ValidationError(
                    _("Aging buckets %(prev)r (to %(pmax)s) and %(key)r (from %(min)s) overlap.")
                    % {"prev": prev["key"], "pmax": prev["max"], "key": key, "min": low},
                    code="bucket_overlap",
                )
            if low > prev["max"] + 1:
                raise ValidationError(
                    _("Gap between aging buckets %(prev)r (to %(pmax)s) and %(key)r (from %(min)s).")
                    % {"prev": prev["key"], "pmax": prev["max"], "key": key, "min": low},
                    code="bucket_gap",
                )
        result.append({"key": key, "label": label, "min": low, "max": high})
    if result[-1]["max"] is not None:
        raise ValidationError(
            _("The last aging bucket (%(key)r) must be open-ended (no maximum).")
            % {"key": result[-1]["key"]},
            code="bucket_last",
        )
    return result


def bucket_for(dpd: int, buckets: Iterable[dict]) -> str:
    """The key of the bucket holding ``dpd`` days past due (buckets already validated)."""
    buckets = list(buckets)
    for bucket in buckets:
        if bucket["max"] is None or dpd <= bucket["max"]:
            return bucket["key"]
    return buckets[-1]["key"]  # unreachable for validated buckets: the last is open-ended


def bucket_case_sql(buckets: Iterable[dict], dpd_sql: str) -> tuple[str, list]:
    """A SQL ``CASE`` giving the bucket key of the integer expression ``dpd_sql``, and its params.

    ``dpd_sql`` is repeated once per bounded bucket, so pass a column or a cheap expression.
    Because validated buckets are sorted and contiguous, comparing with each upper bound in
    order is the same as ``bucket_for``.
    """
    buckets = list(buckets)
    whens: list[str] = []
    params: list = []
    for bucket in buckets[:-1]:
        whens.append(f"WHEN {dpd_sql} <= %s THEN %s")
        params.extend([int(bucket["max"]), bucket["key"]])
    params.append(buckets[-1]["key"])
    if not whens:
        return "%s", params
    return f"(CASE {' '.join(whens)} ELSE %s END)", params


def organization_buckets(organization) -> list[dict]:
    """The organization's validated buckets (a broken configuration raises ValidationError)."""
    return validate_buckets(organization.aging_buckets)
