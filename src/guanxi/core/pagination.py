"""Keyset pagination: the page after a cursor is an index range scan, however deep the page.

A cursor is an opaque, URL-safe string holding the sort values of the last row seen. For a
nullable sort column (last interaction), rows with a value come first and then the NULL rows,
each part read in index order ("phase" 0 then 1) so no OR across NULLs defeats the index.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.db.models import Model, Q, QuerySet

from guanxi.core.errors import ValidationFailed

M = TypeVar("M", bound=Model)


@dataclass(frozen=True)
class SortSpec:
    field: str  # column to sort on; "id" always breaks ties
    descending: bool
    nullable: bool = False
    kind: str = "str"  # str | datetime | date


@dataclass
class Page(Generic[M]):
    items: list[M]
    next_cursor: str | None


def _encode(payload: dict[str, Any]) -> str:
    raw = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _bad_cursor() -> ValidationFailed:
    return ValidationFailed(
        "分页游标无效", "invalid pagination cursor", field="cursor", code="invalid_cursor"
    )


def _decode(cursor: str, spec: SortSpec) -> tuple[int, Any, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        payload = json.loads(base64.urlsafe_b64decode(padded.encode()))
        phase, value, last_id = int(payload["p"]), payload["v"], int(payload["i"])
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise _bad_cursor() from None
    if phase not in (0, 1) or (phase == 1) != (value is None):
        raise _bad_cursor()
    if value is not None:
        try:
            if spec.kind == "datetime":
                value = dt.datetime.fromisoformat(value)
                if value.tzinfo is None:
                    raise _bad_cursor()
            elif spec.kind == "date":
                value = dt.date.fromisoformat(value)
            elif not isinstance(value, str):
                raise _bad_cursor()
        except (TypeError, ValueError):
            raise _bad_cursor() from None
    return phase, value, last_id


def _after(field: str, value: Any, last_id: int, descending: bool) -> Q:
    op = "lt" if descending else "gt"
    op_eq = "lte" if descending else "gte"
    # The redundant first condition gives both planners a range start on the (field, id) index.
    return Q(**{f"{field}__{op_eq}": value}) & (
        Q(**{f"{field}__{op}": value}) | Q(**{field: value, f"id__{op}": last_id})
    )


def paginate(queryset: QuerySet[M], spec: SortSpec, *, cursor: str | None, size: int) -> Page[M]:
    prefix = "-" if spec.descending else ""
    id_order = f"{prefix}id"
    phase, value, last_id = _decode(cursor, spec) if cursor else (0, None, None)
    items: list[M] = []

    if phase == 0:
        part = queryset
        if spec.nullable:
            part = part.filter(**{f"{spec.field}__isnull": False})
        if last_id is not None:
            part = part.filter(_after(spec.field, value, last_id, spec.descending))
        items = list(part.order_by(f"{prefix}{spec.field}", id_order)[: size + 1])
    if spec.nullable and len(items) <= size:
        part = queryset.filter(**{f"{spec.field}__isnull": True})
        if phase == 1 and last_id is not None:
            part = part.filter(**{f"id__{'lt' if spec.descending else 'gt'}": last_id})
        items += list(part.order_by(id_order)[: size + 1 - len(items)])

    if len(items) <= size:
        return Page(items, None)
    items = items[:size]
    last = items[-1]
    last_value = getattr(last, spec.field)
    if isinstance(last_value, dt.datetime | dt.date):
        last_value = last_value.isoformat()
    next_cursor = _encode({"p": 0 if last_value is not None else 1, "v": last_value, "i": last.pk})
    return Page(items, next_cursor)
