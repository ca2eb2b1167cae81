from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django import forms
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import get_language

from guanxi.core.errors import GuanxiError

T = TypeVar("T")


def add_service_error(form: forms.BaseForm, exc: GuanxiError) -> None:
    """Show a service's validation error on the matching field (or on the form), in the user's language."""
    language = get_language() or "zh-hans"
    if exc.details:
        for d in exc.details:
            name = d.get("field")
            msg = (
                d.get("message_en") if language.startswith("en") else d.get("message_zh", d.get("message_en"))
            )
            form.add_error(name if name in form.fields else None, str(msg))
        return
    name = exc.field.removesuffix("_id") if exc.field else None
    form.add_error(name if name in form.fields else None, exc.message(language))


def save_form(request: HttpRequest, form: forms.BaseForm, save: Callable[[dict[str, Any]], T]) -> T | None:
    """Validate a posted form and run ``save`` (the service calls) in one transaction.

    Returns what ``save`` returned, or None when nothing was saved: not a POST, invalid input, or a
    service error, which is then shown on the form and leaves the database as it was.
    """
    if request.method != "POST" or not form.is_valid():
        return None
    try:
        with transaction.atomic():
            return save(form.cleaned_data)
    except GuanxiError as exc:
        add_service_error(form, exc)
        return None


def form_status(request: HttpRequest) -> int:
    """400 for a form posted back with errors, 200 for a blank form."""
    return 400 if request.method == "POST" else 200
