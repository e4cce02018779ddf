"""The REST API: one NinjaAPI, its routers, and the handlers that give every error the
same JSON shape: ``{"error": {"code", "message", "field", "row", "details"}}``.

OpenAPI: /api/docs (interactive) and /api/openapi.json.
"""

import functools
import json
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.urls import path, re_path
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, AuthorizationError, HttpError, ValidationError
from ninja.parser import Parser

from recobro.core.api import TOO_MANY_ROWS, ApiError, error_body, read_auth
from recobro.core.api import router as keys_router
from recobro.portfolio.api import router as portfolio_router


def _reject_constant(name: str):
    raise ValueError(f"{name} is not a number JSON allows")


class DecimalJSONParser(Parser):
    """JSON numbers become Decimal, never float: 1234.5 stays exactly 1234.5."""

    def parse_body(self, request: HttpRequest):
        return json.loads(request.body, parse_float=Decimal, parse_constant=_reject_constant)


DESCRIPTION = """
Recobro's REST API. Authenticate with an API key of your organization, sent as
`Authorization: Bearer rcb_…` (or `X-API-Key: rcb_…`). Keys with *read* scope can use
every GET; upserts need *write* scope.

* **Tenancy**: a key sees only its organization's rows; ids of other rows answer 404.
* **Lists** are paginated by an opaque cursor: pass `next_cursor` back as `cursor` until it
  is null. Pages are stable while rows are added (ordered by id).
* **Money** is a decimal string in responses (`"1234.50"`); requests accept a string or a
  JSON number (read exactly, never as a float).
* **Bulk upserts** take up to 10,000 rows. By default a call with any invalid row writes
  nothing and answers 422 with every row error. With `?skip_invalid=true` the valid rows
  are written and the answer is 200 with the counts and an `errors` list for the rest.
* **Errors** always have the shape
  `{"error": {"code": "…", "message": "…", "field": "…", "row": n, "details": […]}}`.
"""

api = NinjaAPI(
    title="Recobro API",
    version="1",
    description=DESCRIPTION,
    auth=read_auth,
    parser=DecimalJSONParser(),
    urls_namespace="api",
)


def respond(request: HttpRequest, status: int, body: dict) -> HttpResponse:
    return api.create_response(request, body, status=status)


@api.exception_handler(ApiError)
def on_api_error(request: HttpRequest, exc: ApiError) -> HttpResponse:
    return respond(request, exc.status, exc.body())


def _location(loc: tuple | list) -> tuple[str | None, int | None]:
    """A pydantic location as (dotted field path, 0-based row of a bulk request).

    ninja prefixes the source ("body", "query", "path"); body locations then start with
    the parameter's name, which the client never sees.
    """
    parts = list(loc)
    source = parts.pop(0) if parts else None
    if source == "body" and parts:
        parts.pop(0)
    row = None
    if len(parts) >= 2 and parts[0] == "rows" and isinstance(parts[1], int):
        row = parts[1]
        parts = parts[2:]
    field = ".".join(str(p) for p in parts) or None
    return field, row


@api.exception_handler(ValidationError)
def on_validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    details = []
    for error in exc.errors:
        field, row = _location(error.get("loc", ()))
        details.append(
            {
                "code": error.get("type", "invalid"),
                "message": error.get("msg", ""),
                "field": field,
                "row": row,
            }
        )
    too_many = next((d for d in details if d["code"] == TOO_MANY_ROWS), None)
    if too_many is not None:
        return respond(request, 413, error_body(TOO_MANY_ROWS, too_many["message"], field="rows"))
    first = details[0] if details else {"field": None, "row": None}
    message = ngettext(
        "The request is not valid: %(count)d problem.",
        "The request is not valid: %(count)d problems.",
        len(details),
    ) % {"count": len(details)}
    body = error_body("invalid_input", message, field=first["field"], row=first["row"], details=details)
    return respond(request, 422, body)


@api.exception_handler(AuthenticationError)
def on_authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    message = _("Send an API key: Authorization: Bearer <key>.")
    return respond(request, 401, error_body("authentication_required", message))


@api.exception_handler(AuthorizationError)
def on_authorization_error(request: HttpRequest, exc: AuthorizationError) -> HttpResponse:
    return respond(request, 403, error_body("forbidden", _("You may not do this.")))


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if exc.status_code == 400 and isinstance(exc.__cause__, ValueError):
        # ninja raises HttpError(400) from the parser's error: the body is not JSON.
        return respond(request, 400, error_body("malformed_json", _("The request body is not valid JSON.")))
    codes = {400: "bad_request", 404: "not_found", 405: "method_not_allowed", 429: "too_many_requests"}
    code = codes.get(exc.status_code, f"http_{exc.status_code}")
    return respond(request, exc.status_code, error_body(code, str(exc)))


@api.exception_handler(Http404)
def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return respond(request, 404, error_body("not_found", _("Not found.")))


@api.exception_handler(RequestDataTooBig)
def on_body_too_large(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    limit_mb = settings.DATA_UPLOAD_MAX_MEMORY_SIZE / (1024 * 1024)
    message = _("The request body is larger than the limit of %(limit)s MB; send fewer rows per call.")
    body = error_body("payload_too_large", message % {"limit": f"{limit_mb:g}"})
    return respond(request, 413, body)


api.add_router("/v1/", keys_router)
api.add_router("/v1/", portfolio_router)


def unknown_endpoint(request: HttpRequest, rest: str = "") -> JsonResponse:
    return JsonResponse(error_body("not_found", _("There is no such endpoint.")), status=404)


def method_not_allowed_as_json(view):
    """ninja answers a method an endpoint does not take with a bare text 405: give it the
    API's error shape (code ``method_not_allowed``), keeping the Allow header."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        response = view(request, *args, **kwargs)
        if not isinstance(response, HttpResponseNotAllowed):
            return response
        allowed = response["Allow"]
        message = _("The method %(method)s is not allowed here; this endpoint takes %(allowed)s.") % {
            "method": request.method,
            "allowed": allowed,
        }
        answer = respond(request, 405, error_body("method_not_allowed", message))
        answer["Allow"] = allowed
        return answer

    return wrapped


def _api_urls():
    patterns, app_name, namespace = api.urls
    for pattern in patterns:
        pattern.callback = method_not_allowed_as_json(pattern.callback)
    return patterns, app_name, namespace


urlpatterns = [
    path("", _api_urls()),
    re_path(r"^(?P<rest>.*)$", unknown_endpoint),
]
