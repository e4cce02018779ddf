"""Writing the audit log. Every service that changes state calls ``record`` (or
``record_many`` for set-based work) inside its transaction."""

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import models

from recobro.core.models import AuditAction, AuditEntry, AuditSource


@dataclass(frozen=True)
class Actor:
    """Who is making a change, and through which door."""

    source: str
    user: Any = None
    api_key: Any = None
    label: str = ""

    @classmethod
    def for_user(cls, user, source: str = AuditSource.BACKOFFICE) -> "Actor":
        return cls(source=source, user=user, label=user.get_username())

    @classmethod
    def for_api_key(cls, api_key) -> "Actor":
        return cls(source=AuditSource.API, api_key=api_key, label=f"API key {api_key}")

    @classmethod
    def system(cls, label: str = "system") -> "Actor":
        return cls(source=AuditSource.SYSTEM, label=label)

    def display(self) -> str:
        return self.label or (self.user.get_username() if self.user else self.source)


def to_json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk
    return value


def snapshot(obj: models.Model, fields: list[str] | None = None) -> dict[str, Any]:
    """The concrete field values of a row, JSON-safe, foreign keys as ids."""
    data = {}
    for field in obj._meta.concrete_fields:
        if fields is not None and field.name not in fields:
            continue
        data[field.attname] = to_json_value(getattr(obj, field.attname))
    return data


def changed(before: dict | None, after: dict | None) -> bool:
    return before != after


def entry(
    *,
    organization,
    actor: Actor,
    action: str,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: Any = "",
    object_repr: str = "",
    before: dict | None = None,
    after: dict | None = None,
    context: dict | None = None,
) -> AuditEntry:
    """Build (without saving) an entry, for ``record_many``."""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or obj.pk
        object_repr = object_repr or str(obj)[:200]
    return AuditEntry(
        organization=organization,
        source=actor.source,
        user=actor.user,
        api_key=actor.api_key,
        actor_label=actor.display()[:200],
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        object_repr=object_repr[:200],
        before=before,
        after=after,
        context=context or {},
    )


def record(**kwargs) -> AuditEntry:
    e = entry(**kwargs)
    e.save()
    return e


def record_many(entries: list[AuditEntry], batch_size: int = 2000) -> int:
    AuditEntry.objects.bulk_create(entries, batch_size=batch_size)
    return len(entries)


__all__ = ["Actor", "AuditAction", "AuditSource", "entry", "record", "record_many", "snapshot"]
