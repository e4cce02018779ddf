"""Helpers for the import engine's tests: each test writes its own small file into tmp_path."""

from pathlib import Path

import pytest
from django.utils import translation

from recobro.core.audit import Actor
from recobro.portfolio.importers import create_job, run_import
from recobro.portfolio.models import Debtor, ImportProfile


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def english():
    """The assertions read the English source text of messages."""
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    """The cast's users need no strong hashing here."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def write(tmp_path):
    """write(name, text_or_bytes, encoding="utf-8") -> Path; text is written byte for byte."""

    def write(name: str, content: str | bytes, encoding: str = "utf-8") -> Path:
        path = tmp_path / name
        path.write_bytes(content if isinstance(content, bytes) else content.encode(encoding))
        return path

    return write


@pytest.fixture
def run(cast, write):
    """run(kind, content, ...) -> the finished ImportJob."""

    def run(
        kind: str,
        content,
        *,
        name: str = "import.csv",
        portfolio=None,
        profile=None,
        skip_invalid: bool = False,
        organization=None,
        encoding: str = "utf-8",
        progress=None,
    ):
        path = content if isinstance(content, Path) else write(name, content, encoding)
        job = create_job(
            organization=organization or cast.mx,
            kind=kind,
            file=path,
            file_name=path.name,
            actor=Actor.for_user(cast.ana),
            portfolio=portfolio,
            profile=profile,
            skip_invalid=skip_invalid,
        )
        return run_import(job, progress=progress)

    return run


@pytest.fixture
def profile(cast):
    """profile(kind, **fields) -> a saved ImportProfile of Comercial del Norte."""

    def make(kind: str, name: str = "ERP", **fields) -> ImportProfile:
        return ImportProfile.objects.create(organization=cast.mx, name=name, kind=kind, **fields)

    return make


@pytest.fixture
def debtors(cast):
    """Two more debtors of Comercial del Norte next to Eva (C-1001): C-1002 and C-1003."""
    return [
        cast.eva,
        Debtor.objects.create(organization=cast.mx, external_id="C-1002", name="Bruno Díaz"),
        Debtor.objects.create(organization=cast.mx, external_id="C-1003", name="Celia Ruiz"),
    ]
