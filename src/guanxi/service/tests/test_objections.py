from __future__ import annotations

import pytest

from guanxi.audit.models import Source
from guanxi.core.errors import NotFound, ValidationFailed
from guanxi.service import services
from guanxi.service.selectors import objections as sel
from guanxi.testing.factories import make_customer


def _objection(world, customer=None, **kw):
    data = {"category": "style", "customer_words": "款式有点过时了", "customer": world.customer}
    data.update(kw)
    if customer is not None:
        data["customer"] = customer
    return services.objection_create(actor=kw.pop("actor", None) or world.owner, source=Source.UI, **data)


def test_log_and_probe_an_objection(world):
    o = _objection(world, judgement="unsure")
    o = services.objection_update(
        actor=world.owner,
        source=Source.UI,
        objection=o,
        judgement="pretext",
        indirect_questions="如果价格合适，这个款式您能接受吗？",
        real_reason="想压价",
        real_category="price",
        response="给出批量折扣，同时强调新款的工艺",
        outcome="won",
    )
    assert (o.judgement, o.real_category, o.outcome) == ("pretext", "price", "won")


def test_bad_objection_input_is_rejected(world):
    for kw in (
        {"category": "mood"},
        {"customer_words": " "},
        {"judgement": "maybe"},
        {"customer_words": "长" * 2001},
    ):
        with pytest.raises(ValidationFailed) as exc:
            _objection(world, **kw)
        assert exc.value.message_zh and exc.value.message_en


def test_analysis_pretext_rate_and_real_reasons(world):
    _objection(world, judgement="pretext", real_category="price", outcome="won", response="批量折扣")
    _objection(world, judgement="genuine", outcome="lost")
    _objection(world, judgement="unsure")
    _objection(world, category="price", judgement="genuine", outcome="won", response="分期付款")
    a = sel.objection_analysis(world.owner)
    style = next(r for r in a["by_category"] if r["category"] == "style")
    assert style["total"] == 3 and style["pretext_rate"] == 50.0 and style["win_rate"] == 50.0
    assert a["by_category"][0]["category"] == "style"  # most common first
    assert a["real_reasons"][0]["category"] == "style" and a["real_reasons"][0]["real_category"] == "price"


def test_knowledge_base_search_puts_winning_answers_first(world):
    _objection(world, response="强调售后服务", outcome="lost", customer_words="太贵了")
    won = _objection(world, response="给出批量折扣", outcome="won", customer_words="别家更便宜，太贵")
    _objection(world, response="")  # no answer: not knowledge
    items = sel.objection_knowledge(world.owner, q="太贵")
    assert items[0].pk == won.pk and len(items) == 2
    assert sel.objection_knowledge(world.owner, q="折扣") == [won]


def test_teammate_learns_from_team_answers_outsider_sees_nothing(world):
    o = _objection(world, response="给出批量折扣", outcome="won")
    # the teammate cannot open the objection (the customer is not shared) ...
    with pytest.raises(NotFound):
        sel.objection_get_for_user(user=world.teammate, objection_id=o.pk)
    # ... but finds the answer in the team's knowledge base
    assert sel.objection_knowledge(world.teammate) == [o]
    with pytest.raises(NotFound):
        sel.objection_get_for_user(user=world.outsider, objection_id=o.pk)
    assert sel.objection_knowledge(world.outsider) == []
    assert not sel.objection_list(user=world.outsider).items
    assert sel.objection_analysis(world.outsider)["by_category"] == []
    with pytest.raises(NotFound):
        services.objection_create(
            actor=world.outsider,
            source=Source.UI,
            customer=world.customer,
            category="price",
            customer_words="x",
        )


def test_objection_without_customer_is_private_to_its_author(world):
    o = services.objection_create(
        actor=world.owner, source=Source.UI, category="need", customer_words="现在不需要"
    )
    assert sel.objection_get_for_user(user=world.owner, objection_id=o.pk)
    with pytest.raises(NotFound):
        sel.objection_get_for_user(user=world.teammate, objection_id=o.pk)


def test_contact_must_belong_to_the_customer(world):
    other = make_customer(world.owner, name="别的客户")
    contact = world.customer.contacts.first()
    with pytest.raises(ValidationFailed):
        _objection(world, customer=other, contact=contact)
