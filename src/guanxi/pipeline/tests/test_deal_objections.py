"""The objections raised and the promises made in a deal, on the pipeline's side: win rate by objection
category from real objection rows (hand-computed), the real reason of a loss, the opportunity page."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from guanxi.audit.models import Source
from guanxi.conftest import assert_api_error
from guanxi.core.errors import ValidationFailed
from guanxi.pipeline import services
from guanxi.pipeline.forecast import analysis, objection_categories
from guanxi.pipeline.models import LostReason, Opportunity
from guanxi.pipeline.tests.conftest import make_opportunity
from guanxi.sales.services import LineInput, order_create
from guanxi.service import services as service_services
from guanxi.service.models import ObjectionCategory
from guanxi.testing.factories import make_customer

pytestmark = pytest.mark.django_db


def _objection(world, deal, category="price", customer_words="太贵了", actor=None, **kw):
    return service_services.objection_create(
        actor=actor or world.owner,
        source=Source.UI,
        customer=deal.customer if deal is not None else world.customer,
        opportunity=deal,
        category=category,
        customer_words=customer_words,
        **kw,
    )


def _win(world, deal, product):
    order = order_create(
        actor=deal.owner, source=Source.UI, customer=deal.customer, lines=[LineInput(product, Decimal(1))]
    )
    return services.opportunity_win(
        actor=deal.owner, source=Source.UI, opportunity=deal, version=deal.version, order=order
    )


def _lose(world, deal, reason="price", **kw):
    return services.opportunity_lose(
        actor=deal.owner, source=Source.UI, opportunity=deal, version=deal.version, reason=reason, **kw
    )


def test_objection_categories_are_the_objection_logs_plus_no_decision():
    keys = [k for k, _ in objection_categories()]
    assert keys == [*ObjectionCategory.values, "no_decision"]
    # LostReason and ObjectionCategory stay one vocabulary: every objection category is a lost reason.
    assert set(ObjectionCategory.values) <= set(LostReason.values)
    assert set(LostReason.values) - set(ObjectionCategory.values) == {"no_decision"}


def test_win_rate_by_objection_category_from_the_objection_log(world, stages, product):
    """d1 won (price ×2, timing), d2 lost (price, competitor), d3 lost (competitor), d4 won (none),
    d5 open (price), plus a price objection with no deal and one on Bob's deal (not visible).

    price: d1 won, d2 lost → 1/2 · timing: d1 won → 1/1 · competitor: d2, d3 lost → 0/2."""
    d1, d2, d3, d4, d5 = (make_opportunity(world.customer, name=n) for n in ("d1", "d2", "d3", "d4", "d5"))
    _objection(world, d1)
    _objection(world, d1, customer_words="还是贵")  # a second price objection counts the deal once
    _objection(world, d1, category="timing")
    _objection(world, d2)
    _objection(world, d2, category="competitor")
    _objection(world, d3, category="competitor")
    _objection(world, d5)
    _objection(world, None)
    bobs = make_opportunity(make_customer(world.teammate, name="李波的客户"), name="b", actor=world.teammate)
    _objection(world, bobs, actor=world.teammate)
    _win(world, d1, product)
    _win(world, d4, product)
    _lose(world, d2, reason="competitor")
    _lose(world, d3, reason="competitor")
    _lose(world, bobs)

    a = analysis(user=world.owner)
    assert [(r.key, r.won, r.lost) for r in a.by_objection] == [
        ("price", 1, 1),
        ("timing", 1, 0),
        ("competitor", 0, 2),
    ]
    rates = {r.key: r.rate for r in a.by_objection}
    assert rates == {"price": 0.5, "timing": 1.0, "competitor": 0.0}
    assert {r.key: r.label for r in a.by_objection}["competitor"] == "竞争对手"
    # The manager sees Alice's and Bob's deals: Bob's lost price deal is counted too.
    m = {r.key: (r.won, r.lost) for r in analysis(user=world.manager).by_objection}
    assert m["price"] == (1, 2)
    assert analysis(user=world.outsider).by_objection == []


def test_lose_with_the_objection_that_really_lost_it(world, stages):
    deal = make_opportunity(world.customer)
    objection = _objection(world, deal, judgement="pretext", real_category="competitor")
    deal = _lose(world, deal, reason="competitor", objection=objection)
    assert deal.lost_objection_id == objection.pk
    deal = services.opportunity_reopen(
        actor=world.owner, source=Source.UI, opportunity=deal, version=deal.version
    )
    assert deal.lost_objection_id is None


def test_lose_with_an_objection_of_another_deal_is_rejected(world, stages):
    deal, other = make_opportunity(world.customer), make_opportunity(world.customer, name="另一单")
    foreign = _objection(world, other)
    with pytest.raises(ValidationFailed) as exc:
        _lose(world, deal, objection=foreign)
    assert exc.value.code == "wrong_opportunity" and exc.value.message_en and exc.value.message_zh
    deal.refresh_from_db()
    assert deal.is_open and deal.lost_objection_id is None and deal.version == 1


def test_api_lose_accepts_objection_id_and_refuses_others(world, stages, api_for):
    deal, other = make_opportunity(world.customer), make_opportunity(world.customer, name="另一单")
    mine, foreign = _objection(world, deal), _objection(world, other)
    bobs = make_opportunity(make_customer(world.teammate, name="李波的客户"), name="b", actor=world.teammate)
    hidden = _objection(world, bobs, actor=world.teammate)
    api = api_for(world.owner)
    url = f"/opportunities/{deal.pk}/lose"
    err = assert_api_error(api.post(url, {"version": 1, "reason": "price", "objection_id": foreign.pk}), 400)
    assert err["code"] == "wrong_opportunity" and err["field"] == "objection_id"
    assert_api_error(api.post(url, {"version": 1, "reason": "price", "objection_id": hidden.pk}), 404)
    assert Opportunity.objects.get(pk=deal.pk).is_open
    r = api.post(url, {"version": 1, "reason": "price", "objection_id": mine.pk})
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["lost_objection_id"] == mine.pk
    assert [o["id"] for o in body["objections"]] == [mine.pk]
    r = api.get(f"/opportunities/{deal.pk}")
    assert r.json()["objections"][0]["category"] == "price" and r.json()["promises"] == []


def test_opportunity_page_lists_the_deals_objections_and_promises(
    world, stages, client_for, django_assert_max_num_queries
):
    deal = make_opportunity(world.customer)
    o = _objection(world, deal, customer_words="款式太旧")
    p = service_services.promise_create(
        actor=world.owner,
        source=Source.UI,
        customer=world.customer,
        opportunity=deal,
        what="周五前寄样品",
        due_on=timezone.localdate() - dt.timedelta(days=1),
    )
    _objection(world, make_opportunity(world.customer, name="另一单"), customer_words="别的商机的异议")
    c = client_for(world.owner)
    url = reverse("pipeline:detail", args=[deal.pk])
    with django_assert_max_num_queries(20):
        r = c.get(url)
    html = r.content.decode()
    assert reverse("service:objection", args=[o.pk]) in html and "款式太旧" in html
    assert reverse("service:promise", args=[p.pk]) in html and "周五前寄样品" in html
    assert "别的商机的异议" not in html
    assert 'class="overdue"' in html  # the promise is past its due date
    assert (
        f"{reverse('service:objection_create')}?customer={world.customer.pk}&amp;opportunity={deal.pk}"
        in html
    )
    assert f"{reverse('service:promise_create', args=[world.customer.pk])}?opportunity={deal.pk}" in html
    assert "记录异议" in html and "记录承诺" in html
    assert client_for(world.outsider).get(url).status_code == 404


def test_lose_form_offers_the_deals_objections(world, stages, client_for):
    deal = make_opportunity(world.customer)
    o = _objection(world, deal, customer_words="预算被砍了")
    other = _objection(world, make_opportunity(world.customer, name="另一单"))
    c = client_for(world.owner)
    url = reverse("pipeline:lose", args=[deal.pk])
    r = c.get(url)
    assert "预算被砍了" in r.content.decode()
    r = c.post(url, {"reason": "price", "objection": other.pk, "version": 1})
    assert r.status_code == 400
    r = c.post(url, {"reason": "price", "objection": o.pk, "version": 1})
    assert r.status_code == 302
    deal.refresh_from_db()
    assert deal.lost_objection_id == o.pk
    assert "预算被砍了" in c.get(reverse("pipeline:detail", args=[deal.pk])).content.decode()
    # a deal without objections has no such question
    plain = make_opportunity(world.customer, name="无异议")
    assert "objection" not in c.get(reverse("pipeline:lose", args=[plain.pk])).context["form"].fields
