from __future__ import annotations

from django import forms
from django.utils.translation import get_language

from guanxi.core.errors import GuanxiError


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
