"""The shared template tags."""

from __future__ import annotations

from django.template import engines


def render(source: str, **context: object) -> str:
    return engines["django"].from_string("{% load guanxi_tags %}" + source).render(context)


def test_options_marks_the_selected_value_and_escapes() -> None:
    html = render(
        "{% options choices current %}",
        choices=[("a", "甲"), (2, "<b>二</b>"), ('x"y', "引号")],
        current="2",
    )
    assert html == (
        '<option value="a">甲</option>'
        '<option value="2" selected>&lt;b&gt;二&lt;/b&gt;</option>'
        '<option value="x&quot;y">引号</option>'
    )


def test_options_takes_plain_values_and_a_missing_selection() -> None:
    # An unknown variable resolves to "" in templates: nothing is selected.
    html = render("{% options names form.data.tag %}", names=["VIP", "老客户"], form={"data": {}})
    assert html == '<option value="VIP">VIP</option><option value="老客户">老客户</option>'
    assert render("{% options names none %}", names=["a"]) == '<option value="a">a</option>'


def test_display_is_the_choice_label_in_the_active_language() -> None:
    from django.utils import translation

    from guanxi.engagement.models import Channel, Interaction

    visit = Interaction(channel=Channel.VISIT)
    shown = {}
    for language in ("zh-hans", "en"):
        with translation.override(language):
            shown[language] = render('{{ i|display:"channel" }}', i=visit)
            assert shown[language] == str(visit.get_channel_display())
    assert shown["zh-hans"] == "拜访" and shown["en"] != shown["zh-hans"]
    # An unknown value shows as itself; nothing shows for a missing object.
    assert render('{{ i|display:"channel" }}', i=Interaction(channel="pigeon")) == "pigeon"
    assert render('{{ i|display:"channel" }}', i=None) == ""


def test_url_for_is_reverse_remembered_per_script_prefix():
    from django.template import Context, Template
    from django.urls import reverse, set_script_prefix

    from guanxi.core.templatetags import guanxi_tags

    template = Template(
        "{% load guanxi_tags %}{% url_for 'customers:detail' 12 %}|{% url_for 'customers:list' %}"
    )
    expected = f"{reverse('customers:detail', args=[12])}|{reverse('customers:list')}"
    guanxi_tags._reverse.cache_clear()
    assert template.render(Context()) == expected
    assert template.render(Context()) == expected
    assert guanxi_tags._reverse.cache_info().hits == 2
    try:
        set_script_prefix("/crm/")
        assert template.render(Context()) == "/crm" + expected.replace("|/", "|/crm/", 1)
    finally:
        set_script_prefix("/")
    assert (
        Template("{% load guanxi_tags %}{% url_for 'customers:detail' 7 as u %}[{{ u }}]").render(Context())
        == f"[{reverse('customers:detail', args=[7])}]"
    )
