"""Field history (字段历史), read from the audit log."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from guanxi.audit.models import AuditEvent


@dataclass(frozen=True)
class FieldChange:
    at: dt.datetime
    actor: str | None
    source: str
    action: str
    field: str
    before: Any
    after: Any


def field_history(
    *, object_type: str, object_id: int, field: str | None = None, limit: int = 500
) -> list[FieldChange]:
    """Every recorded change of an object's fields, newest first (optionally of one field)."""
    events = (
        AuditEvent.objects.filter(object_type=object_type, object_id=object_id)
        .select_related("actor")
        .order_by("-created_at", "-id")[:limit]
    )
    changes: list[FieldChange] = []
    for event in events:
        for name, pair in (event.changes or {}).items():
            if name.startswith("_") or (field and name != field):
                continue
            before, after = pair if isinstance(pair, list) and len(pair) == 2 else (None, pair)
            changes.append(
                FieldChange(
                    event.created_at,
                    str(event.actor) if event.actor else None,
                    event.source,
                    event.action,
                    name,
                    before,
                    after,
                )
            )
    return changes
