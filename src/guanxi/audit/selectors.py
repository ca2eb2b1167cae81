"""Field history (字段历史), read from the audit log."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db.models import Model
from django.utils.translation import gettext_lazy as _

from guanxi.audit.models import AuditEvent, Source


@lru_cache(maxsize=1)
def _models_by_name() -> dict[str, type[Model]]:
    return {m._meta.model_name or "": m for m in apps.get_models() if m._meta.app_label in GUANXI_APPS}


GUANXI_APPS = {"accounts", "customers", "engagement", "sales", "relations"}

# Values audited on an object that live in another model (e.g. a contact's decision roles, kept by
# the relations package): their label and choices come from that model's field.
_EXTRA_FIELDS: dict[tuple[str, str], Any] = {}


def register_extra_field(object_type: str, name: str, field: Any) -> None:
    _EXTRA_FIELDS[(object_type, name)] = field


def _field(object_type: str, name: str) -> Any:
    if (object_type, name) in _EXTRA_FIELDS:
        return _EXTRA_FIELDS[(object_type, name)]
    model = _models_by_name().get(object_type)
    if model is None:
        return None
    try:
        return model._meta.get_field(name)
    except FieldDoesNotExist:
        return None


def field_label(object_type: str, name: str) -> str:
    """The field's verbose name in the active language (phones/emails/tags are not model fields)."""
    extra = {
        "phones": _("电话"),
        "emails": _("邮箱"),
        "tags": _("标签"),
        "contacts": _("联系人"),
        "lines": _("订单明细"),
        "shared_with": _("共享"),
    }
    if name in extra:
        return str(extra[name])
    field = _field(object_type, name)
    return str(getattr(field, "verbose_name", name)) if field is not None else name


def display_value(object_type: str, name: str, value: Any) -> Any:
    """A stored value as a person reads it: choice labels instead of codes, related objects by name."""
    if isinstance(value, dict) and "repr" in value:
        return value["repr"]
    if isinstance(value, bool):
        return str(_("是") if value else _("否"))
    field = _field(object_type, name)
    choices = dict(getattr(field, "flatchoices", None) or [])
    if isinstance(value, list):
        return "、".join(str(choices.get(v, v)) for v in value)
    if value in choices:
        return str(choices[value])
    return value


@dataclass(frozen=True)
class FieldChange:
    at: dt.datetime
    actor: str | None
    source: str
    action: str
    field: str
    before: Any
    after: Any
    object_type: str = ""

    @property
    def label(self) -> str:
        return field_label(self.object_type, self.field)

    @property
    def source_label(self) -> str:
        return str(Source(self.source).label) if self.source in Source.values else self.source

    @property
    def before_display(self) -> Any:
        return display_value(self.object_type, self.field, self.before)

    @property
    def after_display(self) -> Any:
        return display_value(self.object_type, self.field, self.after)


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
                    object_type,
                )
            )
    return changes
