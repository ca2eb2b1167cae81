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
    kind: str = "str"  # str | int | datetime | date


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
                value = value.astimezone(dt.UTC)  # PostgreSQL refuses UTC offsets beyond ±15:59
            elif spec.kind == "date":
                value = dt.date.fromisoformat(value)
            elif spec.kind == "int":
                if not isinstance(value, int) or isinstance(value, bool):
                    raise _bad_cursor()
            elif not isinstance(value, str):
                raise _bad_cursor()
        except (TypeError, ValueError, OverflowError):
            raise _bad_cursor() from None
    return phase, value, last_id


def decode_cursor(cursor: str, spec: SortSpec) -> tuple[int, Any, int]:
    """(phase, last sort value, last id) of a cursor made by ``paginate`` or ``encode_cursor``."""
    return _decode(cursor, spec)


def encode_cursor(value: Any, pk: int) -> str:
    if isinstance(value, dt.datetime | dt.date):
        value = value.isoformat()
    return _encode({"p": 0 if value is not None else 1, "v": value, "i": pk})


def _after(field: str, value: Any, last_id: int, descending: bool) -> Q:
    op = "lt" if descending else "gt"
    op_eq = "lte" if descending else "gte"
    # The redundant first condition gives both planners a range start on the (field, id) index.
    return Q(**{f"{field}__{op_eq}": value}) & (
        Q(**{f"{field}__{op}": value}) | Q(**{field: value, f"id__{op}": last_id})
    )


def _page_of(
    queryset: QuerySet[M], spec: SortSpec, phase: int, value: Any, last_id: int | None, size: int
) -> list[M]:
    """Up to ``size + 1`` rows after the cursor from one queryset, in sort order."""
    prefix = "-" if spec.descending else ""
    id_order = f"{prefix}id"
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
    return items


def _merge(pages: list[list[M]], spec: SortSpec) -> list[M]:
    """Merge already-sorted pages from several branches, dropping rows seen in more than one."""

    def key(obj: M) -> tuple[Any, ...]:
        value = getattr(obj, spec.field)
        if spec.nullable:
            # Rows with a value come first, then NULLs; ties broken by id like the SQL order.
            has_value = value is not None
            return (has_value if spec.descending else not has_value, value if has_value else 0, obj.pk)
        return (value, obj.pk)

    seen: set[Any] = set()
    merged: list[M] = []
    rows = [obj for page in pages for obj in page]
    rows.sort(key=key, reverse=spec.descending)
    for obj in rows:
        if obj.pk not in seen:
            seen.add(obj.pk)
            merged.append(obj)
    return merged


def paginate(
    queryset: QuerySet[M] | list[QuerySet[M]], spec: SortSpec, *, cursor: str | None, size: int
) -> Page[M]:
    """One page after ``cursor``.

    ``queryset`` may be a list of branches whose union is the result (e.g. "customers I own",
    "customers of team 3", "customers shared with me"): each branch is read with its own index in
    sort order and the pages are merged. This replaces one query with an OR across branches, which
    PostgreSQL answers by walking the whole sort index and filtering.
    """
    phase, value, last_id = _decode(cursor, spec) if cursor else (0, None, None)
    branches = queryset if isinstance(queryset, list) else [queryset]
    pages = [_page_of(branch, spec, phase, value, last_id, size) for branch in branches]
    items = pages[0] if len(pages) == 1 else _merge(pages, spec)[: size + 1]

    if len(items) <= size:
        return Page(items, None)
    items = items[:size]
    last = items[-1]
    return Page(items, encode_cursor(getattr(last, spec.field), last.pk))
