"""Choice labels, translated once per language instead of on every call.

``Model.get_FOO_display()`` rebuilds the choices dict and resolves every lazy translation of it on
each call: two such calls per row were 15 % of the customer list page. The cache is per process and
per language; choices are code, so it never goes stale.
"""

from __future__ import annotations

from django.db import models
from django.utils import translation

_LABELS: dict[tuple[type[models.Choices], str], dict[str, str]] = {}


def choice_label(choices: type[models.Choices], value: str) -> str:
    key = (choices, translation.get_language() or "")
    labels = _LABELS.get(key)
    if labels is None:
        labels = _LABELS[key] = {str(v): str(label) for v, label in choices.choices}
    return labels.get(value, value)
