"""The REST API's base: API keys (authentication and the services that issue and revoke
them), the one error type and its JSON shape, tenancy for keys, and cursor pagination.

Every app's router builds on these; ``recobro.api`` assembles the routers into one NinjaAPI.
"""

import base64
import binascii
import datetime as dt
import hmac
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Generic, TypeVar

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models, transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema
from ninja.security import APIKeyHeader, HttpBearer
from pydantic import PlainSerializer, WithJsonSchema

from recobro.core import audit, clock
from recobro.core.audit import Actor
from recobro.core.models import ApiKey, ApiKeyScope, AuditAction, Organization

#: last_used_at is written at most this often per key, so reads stay reads.
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)

#: Page sizes for list endpoints.
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 500

KEY_SCHEME = "rcb"

#: The error code (and pydantic error type) of a bulk request over RECOBRO_API_MAX_BULK_ROWS.
TOO_MANY_ROWS = "too_many_rows"


# --- Errors ------------------------------------------------------------------


class ApiError(Exception):
    """An error the API answers with its stable JSON shape (see ``ErrorOut``)."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        field: str | None = None,
        row: int | None = None,
        details: list[dict] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = str(message)
        self.field = field
        self.row = row
        self.details = details or []

    def body(self) -> dict:
        return error_body(self.code, self.message, field=self.field, row=self.row, details=self.details)


def error_body(
    code: str, message: str, *, field: str | None = None, row: int | None = None, details: list | None = None
) -> dict:
    return {
        "error": {
            "code": code,
            "message": str(message),
            "field": field,
            "row": row,
            "details": details or [],
        }
    }


class ErrorDetail(Schema):
    code: str
    message: str
    field: str | None = None
    row: int | None = Field(None, description="0-based position of the row in the request's `rows`")
    value: str | None = None


class ErrorInfo(Schema):
    code: str = Field(..., description="Stable, machine-readable code, e.g. `not_found`, `invalid_input`")
    message: str = Field(..., description="Human-readable explanation, translated to the request's language")
    field: str | None = Field(None, description="The failing field, as a dotted path")
    row: int | None = Field(
        None, description="The failing row of a bulk request: its 0-based position in `rows`"
    )
    details: list[ErrorDetail] = Field(default_factory=list, description="Every problem found")


class ErrorOut(Schema):
    error: ErrorInfo


#: Responses every authenticated endpoint may give, for the OpenAPI document.
AUTH_ERRORS = {401: ErrorOut, 403: ErrorOut, 422: ErrorOut}
#: ... and those of endpoints that take a body.
WRITE_ERRORS = {**AUTH_ERRORS, 400: ErrorOut, 404: ErrorOut, 413: ErrorOut}


# --- Money in JSON -------------------------------------------------------------

#: Money out: a decimal string, never a float ("1234.50").
Money = Annotated[
    Decimal,
    PlainSerializer(lambda value: str(value), return_type=str),
    WithJsonSchema({"type": "string", "format": "decimal", "examples": ["1234.50"]}),
]


# --- Authentication ----------------------------------------------------------


def parse_key(raw: str) -> str | None:
    """The prefix of a well-formed key (``rcb_<prefix>_<secret>``), or None."""
    parts = raw.strip().split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_SCHEME or not parts[2]:
        return None
    prefix = parts[1]
    if len(prefix) != ApiKey.PREFIX_LENGTH:
        return None
    return prefix


def authenticate_key(raw: str | None, *, scope: str = ApiKeyScope.READ) -> ApiKey:
    """The active key that ``raw`` is, with its organization; raises ApiError otherwise.

    The key is found by its public prefix, then the hash of the whole key is compared in
    constant time. A key without write scope on a write endpoint gets 403.
    """
    if not raw or not raw.strip():
        raise ApiError(401, "authentication_required", _("Send an API key: Authorization: Bearer <key>."))
    raw = raw.strip()
    prefix = parse_key(raw)
    key = None
    if prefix is not None:
        key = ApiKey.objects.select_related("organization").filter(prefix=prefix).first()
    if key is None or not hmac.compare_digest(key.key_hash, ApiKey.hash_secret(raw)):
        raise ApiError(401, "invalid_api_key", _("The API key is not valid."))
    if key.revoked_at is not None:
        raise ApiError(401, "api_key_revoked", _("The API key has been revoked."))
    if scope == ApiKeyScope.WRITE and not key.can_write:
        raise ApiError(
            403, "insufficient_scope", _("This API key can only read; this operation needs write scope.")
        )
    touch_last_used(key)
    return key


def touch_last_used(key: ApiKey) -> None:
    """Record use, at most once per LAST_USED_RESOLUTION per key (one cheap UPDATE)."""
    now = clock.now()
    cutoff = now - LAST_USED_RESOLUTION
    if key.last_used_at is not None and key.last_used_at > cutoff:
        return
    ApiKey.objects.filter(pk=key.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lte=cutoff)
    ).update(last_used_at=now)
    key.last_used_at = now


class ApiKeyBearer(HttpBearer):
    """``Authorization: Bearer rcb_…``"""

    openapi_description = "An API key of your organization: `Authorization: Bearer rcb_…`."

    def __init__(self, scope: str = ApiKeyScope.READ) -> None:
        self.scope = scope
        super().__init__()

    def authenticate(self, request: HttpRequest, token: str) -> ApiKey:
        return authenticate_key(token, scope=self.scope)


class ApiKeyInHeader(APIKeyHeader):
    """``X-API-Key: rcb_…``, for clients that cannot set Authorization."""

    param_name = "X-API-Key"
    openapi_description = "The same key in a header of its own: `X-API-Key: rcb_…`."

    def __init__(self, scope: str = ApiKeyScope.READ) -> None:
        self.scope = scope
        super().__init__()

    def authenticate(self, request: HttpRequest, key: str | None) -> ApiKey | None:
        if key is None:
            return None  # not sent: ninja answers 401 authentication_required
        return authenticate_key(key, scope=self.scope)


#: Any active key of the organization.
read_auth = [ApiKeyBearer(), ApiKeyInHeader()]
#: Only keys with write scope (others get 403 insufficient_scope).
write_auth = [ApiKeyBearer(ApiKeyScope.WRITE), ApiKeyInHeader(ApiKeyScope.WRITE)]


# --- Tenancy for keys --------------------------------------------------------


def key_of(request: HttpRequest) -> ApiKey:
    return request.auth  # type: ignore[attr-defined]


def organization_of(request: HttpRequest) -> Organization:
    """The organization every query of this request is scoped to: the key's."""
    return key_of(request).organization


def actor_of(request: HttpRequest) -> Actor:
    return Actor.for_api_key(key_of(request))


def scoped(queryset: models.QuerySet, request: HttpRequest) -> models.QuerySet:
    """The rows of the key's organization, and no others."""
    return queryset.filter(organization=organization_of(request))


def get_or_404(queryset: models.QuerySet, request: HttpRequest, **lookup: Any) -> Any:
    """The one helper endpoints use to find a row: 404 when it is missing *or* belongs to
    another organization, so the existence of other tenants' rows never leaks."""
    obj = scoped(queryset, request).filter(**lookup).first()
    if obj is None:
        raise ApiError(404, "not_found", _("Not found."))
    return obj


# --- Cursor pagination -------------------------------------------------------

T = TypeVar("T")


class PageParams(Schema):
    """Query parameters of every list endpoint. Filters extend this schema."""

    cursor: str | None = Field(
        None, description="Opaque cursor from the previous page's `next_cursor`; omit for the first page"
    )
    limit: int = Field(DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE, description="Rows per page")


class ListParams(PageParams):
    """Page parameters plus filters. Subclasses declare their filters as optional fields
    and map each to an ORM lookup in ``lookups``; a filter not sent is not applied."""

    lookups: ClassVar[dict[str, str]] = {}

    def apply(self, queryset: models.QuerySet) -> models.QuerySet:
        conditions = {
            lookup: getattr(self, name)
            for name, lookup in self.lookups.items()
            if getattr(self, name) is not None
        }
        return queryset.filter(**conditions)


class Page(Schema, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(
        None, description="Pass as `cursor` to get the next page; null on the last page"
    )


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"id:{last_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int | None:
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        text = base64.urlsafe_b64decode(padded.encode("ascii")).decode("ascii")
        kind, _sep, value = text.partition(":")
        if kind != "id" or not value.isdigit():
            raise ValueError(text)
        return int(value)
    except (ValueError, UnicodeError, binascii.Error):
        raise ApiError(422, "invalid_cursor", _("The cursor is not valid."), field="cursor") from None


def paginate(queryset: models.QuerySet, params: PageParams) -> dict:
    """One page of ``queryset`` in id order, after the cursor's id.

    Stable under inserts: the cursor is the last id seen, so rows inserted while a client
    walks the pages appear at the end (new ids are higher) and nothing repeats or is skipped.
    One query per page: it fetches ``limit + 1`` rows to know whether another page follows.
    """
    after = decode_cursor(params.cursor)
    queryset = queryset.order_by("pk")
    if after is not None:
        queryset = queryset.filter(pk__gt=after)
    rows = list(queryset[: params.limit + 1])
    has_more = len(rows) > params.limit
    rows = rows[: params.limit]
    return {"items": rows, "next_cursor": encode_cursor(rows[-1].pk) if has_more else None}


# --- Key management (services; the back-office calls these) -------------------


@transaction.atomic
def create_api_key(*, organization: Organization, name: str, scope: str, actor: Actor) -> tuple[ApiKey, str]:
    """Issue a named key. Returns the key and its secret, which is shown once and never stored."""
    name = (name or "").strip()
    if not name:
        raise DjangoValidationError({"name": _("Give the key a name.")})
    if scope not in ApiKeyScope.values:
        raise DjangoValidationError({"scope": _("Unknown scope %(scope)s.") % {"scope": scope}})
    if ApiKey.objects.filter(organization=organization, name=name).exists():
        raise DjangoValidationError({"name": _("There is already a key with this name.")})
    prefix, secret = ApiKey.generate()
    while ApiKey.objects.filter(prefix=prefix).exists():  # 32-bit prefixes: collisions are rare
        prefix, secret = ApiKey.generate()
    key = ApiKey.objects.create(
        organization=organization,
        name=name,
        prefix=prefix,
        key_hash=ApiKey.hash_secret(secret),
        scope=scope,
        created_by=actor.user,
    )
    audit.record(
        organization=organization,
        actor=actor,
        action=AuditAction.CREATE,
        obj=key,
        after=audit.snapshot(key, fields=["organization", "name", "prefix", "scope", "created_by"]),
    )
    return key, secret


@transaction.atomic
def revoke_api_key(*, api_key: ApiKey, actor: Actor) -> ApiKey:
    """Revoke a key at once. Revoking a revoked key changes nothing and records nothing."""
    now = clock.now()
    revoked = ApiKey.objects.filter(pk=api_key.pk, revoked_at__isnull=True).update(revoked_at=now)
    api_key.refresh_from_db(fields=["revoked_at"])
    if revoked:
        audit.record(
            organization=api_key.organization,
            actor=actor,
            action=AuditAction.UPDATE,
            obj=api_key,
            before={"revoked_at": None},
            after={"revoked_at": audit.to_json_value(api_key.revoked_at)},
        )
    return api_key


# --- The key's own endpoint --------------------------------------------------

router = Router(tags=["API keys"])


class KeyOut(Schema):
    name: str
    prefix: str
    scope: str
    organization: str = Field(..., description="The organization's code")
    business_date: dt.date = Field(..., description="Today's business date in the organization's clock")

    @staticmethod
    def resolve_organization(obj: ApiKey) -> str:
        return obj.organization.slug

    @staticmethod
    def resolve_business_date(obj: ApiKey) -> dt.date:
        return obj.organization.today()


@router.get("/me", response={200: KeyOut, **AUTH_ERRORS}, summary="The key in use and its organization")
def me(request: HttpRequest):
    return key_of(request)
