from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import get_language

from guanxi.relations.models import Playbook

register = template.Library()


@register.filter
def get_item(mapping: dict[str, Any], key: Any) -> Any:
    """``{{ labels.roles|get_item:role }}``: a dictionary lookup by a variable key."""
    return mapping.get(str(key), key) if isinstance(mapping, dict) else key


@register.filter
def playbook_lines(playbook: Playbook, name: str) -> list[str]:
    """A playbook's actions or checks, one per line, in the active language."""
    return playbook.lines(name, get_language())


@register.filter
def playbook_text(playbook: Playbook, name: str) -> str:
    return playbook.text(name, get_language())
