"""API keys for the shared cast and a small client that sends them."""

import json
from dataclasses import dataclass

import pytest
from django.test import Client

from recobro.core.api import create_api_key
from recobro.core.models import ApiKey


class ApiClient:
    """Django's test client with an API key and JSON bodies."""

    def __init__(self, secret: str | None):
        self.client = Client()
        self.headers = {"HTTP_AUTHORIZATION": f"Bearer {secret}"} if secret else {}

    def get(self, path: str, params: dict | None = None, **extra):
        return self.client.get(path, params or {}, **self.headers, **extra)

    def put(self, path: str, body, **extra):
        return self.client.put(
            path, json.dumps(body), content_type="application/json", **self.headers, **extra
        )

    def post(self, path: str, body, **extra):
        data = body if isinstance(body, str | bytes) else json.dumps(body)
        return self.client.post(path, data, content_type="application/json", **self.headers, **extra)


@dataclass
class Keys:
    mx_write: ApiKey
    mx_write_secret: str
    mx_read: ApiKey
    mx_read_secret: str
    co_write: ApiKey
    co_write_secret: str


@pytest.fixture
def keys(cast) -> Keys:
    actor = cast.actor()
    mx_write, mx_write_secret = create_api_key(
        organization=cast.mx, name="ERP sync", scope="write", actor=actor
    )
    mx_read, mx_read_secret = create_api_key(organization=cast.mx, name="BI", scope="read", actor=actor)
    co_write, co_write_secret = create_api_key(
        organization=cast.co, name="ERP sync", scope="write", actor=cast.actor(cast.oscar)
    )
    return Keys(mx_write, mx_write_secret, mx_read, mx_read_secret, co_write, co_write_secret)


@pytest.fixture
def api(keys) -> ApiClient:
    """Comercial del Norte's write key."""
    return ApiClient(keys.mx_write_secret)


@pytest.fixture
def api_read(keys) -> ApiClient:
    return ApiClient(keys.mx_read_secret)


@pytest.fixture
def api_co(keys) -> ApiClient:
    """Cobranzas Andinas' write key: must see nothing of Comercial del Norte."""
    return ApiClient(keys.co_write_secret)


def error_of(response) -> dict:
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "field", "row", "details"}, body
    return body["error"]
