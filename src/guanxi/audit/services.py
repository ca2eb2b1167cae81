"""The one place audit events are written. Every service calls ``audit_record`` in its transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.db import models
from django.utils import timezone

from guanxi.audit.models import AuditEvent, Source


def _plain(value: Any) -> Any:
    if isinstance(value, models.Model):
        return {"id": value.pk, "repr": str(value)[:100]}
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list | tuple | set):
        return [_plain(v) for v in value]
    return value


def snapshot(obj: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """Current values of ``fields`` (foreign keys as id + display text), ready for JSON."""
    data: dict[str, Any] = {}
    for name in fields:
        field = obj._meta.get_field(name)
        if isinstance(field, models.ForeignKey):
            related = getattr(obj, name)
            data[name] = _plain(related) if related is not None else None
        else:
            data[name] = _plain(getattr(obj, name))
    return data


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    return {k: [before.get(k), after[k]] for k in after if before.get(k) != after[k]}


def audit_record(
    *,
    actor: Any,
    source: Source | str,
    action: str,
    obj: models.Model,
    customer_id: int | None = None,
    changes: dict[str, list[Any]] | None = None,
) -> AuditEvent:
    return AuditEvent.objects.create(
        created_at=timezone.now(),
        actor=actor if getattr(actor, "pk", None) else None,
        source=str(source),
        action=action,
        object_type=obj._meta.model_name or "",
        object_id=obj.pk,
        object_repr=str(obj)[:200],
        customer_id=customer_id,
        changes=changes or {},
    )
