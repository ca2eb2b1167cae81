"""The form renderer (``FORM_RENDERER``): Django's, with its common widget templates written in Python.

Django renders each widget through templates: a ``<select>`` is one template for the element, one
per option and one for each element's attributes. On the customer page the interaction form's
eight widgets took ~2.5 ms of the page's ~16 ms (measured in-process, 300 pages) — more than the
twenty timeline entries. ``FastRenderer`` produces the same bytes for Django's own input, select,
textarea and multiple-choice templates from the same widget context in Python (~10× faster);
anything else — a template it does not know, or one a project overrides — goes through the
templates as before. ``core/tests/test_formrender.py`` checks, widget by widget, that both give
identical output.

The Python mirrors Django 5.2's ``django/forms/widgets/*.html`` exactly, including how the template
language prints values (``render_value_in_context``: localisation, escaping) and tests them
(``{% if value %}`` is Python truthiness, a missing key is falsy).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cached_property
from pathlib import Path
from typing import Any

import django.forms
from django.forms.renderers import DjangoTemplates
from django.template import Context, TemplateDoesNotExist
from django.template.base import render_value_in_context
from django.utils.html import conditional_escape

_CONTEXT = Context(autoescape=True)
W = "django/forms/widgets/"


def _text(value: Any) -> str:
    """``{{ value }}``: localised, then escaped, as the template language prints it."""
    return render_value_in_context(value, _CONTEXT)


def _s(value: Any) -> str:
    """``{{ value|stringformat:'s' }}``."""
    try:
        return conditional_escape("%s" % (value,))  # noqa: UP031 - what stringformat:'s' does
    except (ValueError, TypeError):
        return ""


def _attrs(widget: Mapping[str, Any]) -> str:
    parts = []
    for name, value in widget["attrs"].items():
        if value is False:
            continue
        parts.append(f" {_text(name)}" if value is True else f' {_text(name)}="{_s(value)}"')
    return "".join(parts)


# Each function returns what its template renders *included* (every file ends with a newline, which
# an include keeps); the renderer strips the outermost one, as Django's does.


def _input(widget: Mapping[str, Any], r: FastRenderer) -> str:
    value = widget["value"]
    shown = f' value="{_s(value)}"' if value is not None else ""
    return f'<input type="{_text(widget["type"])}" name="{_text(widget["name"])}"{shown}{_attrs(widget)}>\n'


def _textarea(widget: Mapping[str, Any], r: FastRenderer) -> str:
    value = _text(widget["value"]) if widget["value"] else ""
    return f'<textarea name="{_text(widget["name"])}"{_attrs(widget)}>\n{value}</textarea>\n'


def _select(widget: Mapping[str, Any], r: FastRenderer) -> str:
    out = [f'<select name="{_text(widget["name"])}"{_attrs(widget)}>']
    for group_name, group_choices, _index in widget["optgroups"]:
        if group_name:
            out.append(f'\n  <optgroup label="{_text(group_name)}">')
        for option in group_choices:
            out.append("\n  " + r.include(option))
        if group_name:
            out.append("\n  </optgroup>")
    out.append("\n</select>\n")
    return "".join(out)


def _select_option(option: Mapping[str, Any], r: FastRenderer) -> str:
    return f'<option value="{_s(option["value"])}"{_attrs(option)}>{_text(option["label"])}</option>\n'


def _multiple_input(widget: Mapping[str, Any], r: FastRenderer) -> str:
    attrs = widget["attrs"]
    element_id = attrs.get("id", "")
    css = attrs.get("class", "")
    out = ["<div"]
    if element_id:
        out.append(f' id="{_text(element_id)}"')
    if css:
        out.append(f' class="{_text(css)}"')
    out.append(">")
    for group, options, _index in widget["optgroups"]:
        if group:
            out.append(f"\n  <div><label>{_text(group)}</label>")
        for option in options:
            out.append("<div>\n    " + r.include(option) + "</div>")
        if group:
            out.append("\n  </div>")
    out.append("\n</div>\n")
    return "".join(out)


def _input_option(option: Mapping[str, Any], r: FastRenderer) -> str:
    if not option["wrap_label"]:
        return _input(option, r) + "\n"
    option_id = option["attrs"].get("id", "")
    label_for = f' for="{_text(option_id)}"' if option_id else ""
    return f"<label{label_for}>{_input(option, r)} {_text(option['label'])}</label>\n"


def _including(
    render: Callable[[Mapping[str, Any], FastRenderer], str],
) -> Callable[[Mapping[str, Any], FastRenderer], str]:
    """A template that is ``{% include "other.html" %}`` and its own final newline."""
    return lambda widget, r: render(widget, r) + "\n"


_WIDGETS: dict[str, Callable[[Mapping[str, Any], FastRenderer], str]] = {
    f"{W}input.html": _input,
    **{
        f"{W}{name}.html": _including(_input)
        for name in (
            "text",
            "email",
            "number",
            "date",
            "datetime",
            "time",
            "url",
            "tel",
            "search",
            "password",
            "hidden",
            "checkbox",
        )
    },
    f"{W}textarea.html": _textarea,
    f"{W}select.html": _select,
    f"{W}select_option.html": _select_option,
    f"{W}multiple_input.html": _multiple_input,
    f"{W}checkbox_select.html": _including(_multiple_input),
    f"{W}radio.html": _including(_multiple_input),
    f"{W}input_option.html": _input_option,
    f"{W}checkbox_option.html": _including(_input_option),
    f"{W}radio_option.html": _including(_input_option),
}


# An error list's templates print nothing when there are no errors ({% if errors %} around it all).
_ERROR_LISTS = ("django/forms/errors/list/default.html", "django/forms/errors/list/ul.html")


class FastRenderer(DjangoTemplates):
    """Django's default form renderer, with Django's own widget templates rendered in Python —
    each only while the engine finds Django's own file for it (a project's override is rendered as
    a template, as it should be)."""

    @cached_property
    def own(self) -> frozenset[str]:
        """The names of ``_WIDGETS`` and ``_ERROR_LISTS`` the engine resolves to Django's own files."""
        root = Path(django.forms.__file__).parent / "templates"
        names = set()
        for name in (*_WIDGETS, *_ERROR_LISTS):
            try:
                origin = getattr(self.engine.get_template(name), "origin", None)
            except TemplateDoesNotExist:
                continue
            if origin is not None and Path(origin.name) == root / name:
                names.add(name)
        return frozenset(names)

    def render(self, template_name: str, context: dict[str, Any], request: Any = None) -> str:
        if request is None and template_name in self.own:
            if template_name in _WIDGETS and context.keys() == {"widget"}:
                return _WIDGETS[template_name](context["widget"], self).strip()
            if template_name in _ERROR_LISTS and not context.get("errors"):
                return ""  # every field's empty error list, on every form shown
        return super().render(template_name, context, request)

    def include(self, option: Mapping[str, Any]) -> str:
        """``{% include option.template_name with widget=option %}``: not stripped."""
        name = option["template_name"]
        if name in self.own and name in _WIDGETS:
            return _WIDGETS[name](option, self)
        return str(self.get_template(name).template.render(Context({"widget": option})))
