"""core.formrender: every widget renders byte for byte as Django's templates render it."""

from __future__ import annotations

import datetime as dt
from functools import cached_property
from pathlib import Path

import django.forms
import pytest
from django import forms
from django.forms.renderers import DjangoTemplates
from django.utils.translation import gettext_lazy, override

from guanxi.core.formrender import _WIDGETS, FastRenderer

CHOICES = [("a", "甲 <A>"), (1, gettext_lazy("渠道")), ("", "---")]
GROUPED = [("组一", [("x", "X & x"), ("y", "Y")]), ("z", "Z")]


def widgets() -> list[tuple[str, forms.Widget, object, dict[str, object] | None]]:
    attrs = {"class": "wide", "data-x": '"quoted" & <b>', "required": True, "disabled": False, "min": 3}
    return [
        ("text", forms.TextInput(), "张伟 <script>", None),
        ("text-none", forms.TextInput(attrs=attrs), None, {"id": "id_t"}),
        ("text-int", forms.TextInput(), 1234567, None),
        ("email", forms.EmailInput(), "a@b.cn", None),
        ("number", forms.NumberInput(), 3.5, None),
        ("password", forms.PasswordInput(render_value=True), "s3cret", None),
        ("hidden", forms.HiddenInput(), "7", None),
        ("url", forms.URLInput(), "https://x.cn/?a=1&b=2", None),
        ("date", forms.DateInput(attrs={"type": "date"}), dt.date(2026, 11, 24), None),
        (
            "datetime",
            forms.DateTimeInput(attrs={"type": "datetime-local"}),
            dt.datetime(2026, 1, 2, 3, 4),  # noqa: DTZ001 - a naive value, as a form shows it
            None,
        ),
        ("time", forms.TimeInput(), dt.time(9, 30), None),
        ("checkbox-on", forms.CheckboxInput(), True, {"id": "id_c"}),
        ("checkbox-off", forms.CheckboxInput(), False, None),
        ("textarea", forms.Textarea(attrs={"rows": 3}), "第一行\n<第二行>", {"id": "id_s"}),
        ("textarea-empty", forms.Textarea(), "", None),
        ("textarea-none", forms.Textarea(), None, None),
        ("select", forms.Select(choices=CHOICES), "a", {"id": "id_sel"}),
        ("select-int", forms.Select(choices=CHOICES), 1, None),
        ("select-grouped", forms.Select(choices=GROUPED), "y", None),
        ("select-multiple", forms.SelectMultiple(choices=CHOICES), ["a", "1"], {"id": "id_m"}),
        ("checkboxes", forms.CheckboxSelectMultiple(choices=CHOICES), ["a"], {"id": "id_cb"}),
        ("checkboxes-noid", forms.CheckboxSelectMultiple(choices=CHOICES, attrs={"class": "c"}), [], None),
        ("checkboxes-grouped", forms.CheckboxSelectMultiple(choices=GROUPED), ["x"], {"id": "id_g"}),
        ("radio", forms.RadioSelect(choices=CHOICES), "", {"id": "id_r"}),
        ("radio-grouped", forms.RadioSelect(choices=GROUPED), "z", None),
        ("null-boolean", forms.NullBooleanSelect(), None, None),
        ("split-datetime", forms.SplitDateTimeWidget(), dt.datetime(2026, 5, 6, 7, 8), None),  # noqa: DTZ001
        ("select-date", forms.SelectDateWidget(years=[2025, 2026]), dt.date(2026, 2, 3), None),
        ("clearable-file", forms.ClearableFileInput(), None, None),
    ]


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("case", widgets(), ids=lambda c: c[0])
def test_fast_widgets_render_exactly_as_the_templates(case, language):
    _, widget, value, attrs = case
    with override(language):
        expected = widget.render("field", value, attrs=attrs, renderer=DjangoTemplates())
        fast = CountingRenderer()
        assert widget.render("field", value, attrs=attrs, renderer=fast) == expected
    # Django's own widget templates took the Python path: none was loaded as a template.
    assert fast.own and not [name for name in fast.loaded if name in _WIDGETS]


class CountingRenderer(FastRenderer):
    """Records the templates it loads to render (the Python path loads none)."""

    def __init__(self) -> None:
        self.loaded: list[str] = []

    def get_template(self, template_name):
        self.loaded.append(template_name)
        return super().get_template(template_name)


def test_a_whole_form_with_errors_renders_as_with_the_templates():
    class Form(forms.Form):
        name = forms.CharField(label="名称", max_length=5)
        kind = forms.ChoiceField(choices=CHOICES)
        tags = forms.MultipleChoiceField(choices=GROUPED, widget=forms.CheckboxSelectMultiple)
        when = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    data = {"name": "太长的一个名字", "kind": "nope", "tags": ["x", "q"], "when": "bad"}
    slow = Form(data, renderer=DjangoTemplates())
    fast = Form(data, renderer=FastRenderer())
    assert not fast.is_valid() and not slow.is_valid()
    assert str(fast) == str(slow)
    assert str(Form(renderer=FastRenderer())) == str(Form(renderer=DjangoTemplates()))
    fast, slow = Form(renderer=FastRenderer()), Form(renderer=DjangoTemplates())
    for name in ("name", "kind", "tags", "when"):
        assert str(fast[name].errors) == str(slow[name].errors) == ""
        assert str(Form(data, renderer=FastRenderer())[name].errors) == str(
            Form(data, renderer=DjangoTemplates())[name].errors
        )
    assert "django/forms/errors/list/ul.html" in FastRenderer().own


def test_an_overridden_widget_template_is_rendered_as_a_template(tmp_path):
    override_dir = tmp_path / "django" / "forms" / "widgets"
    override_dir.mkdir(parents=True)
    (override_dir / "select.html").write_text('<select class="overridden" name="{{ widget.name }}"></select>')

    class Renderer(FastRenderer):
        """A project whose template directories come before Django's forms templates."""

        @cached_property
        def engine(self):
            from django.template.backends.django import DjangoTemplates as Backend

            own = Path(django.forms.__file__).parent / "templates"
            return Backend({"APP_DIRS": True, "DIRS": [tmp_path, own], "NAME": "forms", "OPTIONS": {}})

    renderer = Renderer()
    html = forms.Select(choices=CHOICES).render("f", "a", renderer=renderer)
    assert html == '<select class="overridden" name="f"></select>'
    assert "django/forms/widgets/select.html" not in renderer.own
    assert "django/forms/widgets/text.html" in renderer.own

    # An overridden option template inside a fast <select>: included as a template, unstripped.
    (override_dir / "select.html").unlink()
    (override_dir / "select_option.html").write_text("<option>{{ widget.label }}!</option>\n")
    renderer = Renderer()
    html = forms.Select(choices=[("a", "<A>")]).render("f", "a", renderer=renderer)
    assert html == '<select name="f">\n  <option>&lt;A&gt;!</option>\n\n</select>'
    assert "django/forms/widgets/select.html" in renderer.own


def test_the_project_uses_the_fast_renderer():
    from django.forms.renderers import get_default_renderer

    assert isinstance(get_default_renderer(), FastRenderer)
