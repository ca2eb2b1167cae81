"""Objections and promises linked to the deal they were raised / made in (issue 6 × issue 8): the
link is checked (same customer, a deal the user may see — 404 otherwise), audited, offered in the
forms and the API, and the objection analysis reads a closed deal's result."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from guanxi.audit.models import AuditEvent, Source
from guanxi.conftest import assert_api_error
from guanxi.core.errors import NotFound, ValidationFailed
from guanxi.customers.models import CustomerShare
from guanxi.pipeline import services as deals
from guanxi.pipeline.tests.conftest import make_opportunity
from guanxi.sales.services import LineInput, order_create
from guanxi.service import services
from guanxi.service.models import Objection, Promise
from guanxi.service.selectors import objections as objection_sel
from guanxi.testing.factories import ProductFactory, make_customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def deal(world):
    return make_opportunity(world.customer, name="华为年度采购")


@pytest.fixture
def bobs_deal(world):
    bobs = make_customer(world.teammate, name="李波的客户")
    return make_opportunity(bobs, name="李波的商机", actor=world.teammate)


def _objection(world, **kw):
    data = {"category": "price", "customer_words": "太贵了", "customer": world.customer}
    data.update(kw)
    actor = data.pop("actor", world.owner)
    return services.objection_create(actor=actor, source=Source.UI, **data)


def _promise(world, **kw):
    data = {
        "customer": world.customer,
        "what": "周五前寄样品",
        "due_on": timezone.localdate() + dt.timedelta(days=3),
    }
    data.update(kw)
    actor = data.pop("actor", world.owner)
    return services.promise_create(actor=actor, source=Source.UI, **data)


# --- Services -------------------------------------------------------------------------------------


def test_objection_and_promise_are_linked_to_the_deal_and_audited(world, deal):
    o = _objection(world, opportunity=deal)
    p = _promise(world, opportunity=deal)
    assert list(deal.objections.all()) == [o] and list(deal.promises.all()) == [p]
    for obj, kind in ((o, "objection"), (p, "promise")):
        event = AuditEvent.objects.get(object_type=kind, object_id=obj.pk, action=f"{kind}.create")
        assert event.changes["opportunity"][1]["id"] == deal.pk
        assert event.customer_id == world.customer.pk


def test_an_objection_raised_in_a_deal_takes_the_deals_customer(world, deal):
    o = _objection(world, customer=None, opportunity=deal)
    assert o.customer_id == world.customer.pk and o.opportunity_id == deal.pk


def test_a_deal_of_another_customer_is_refused_and_nothing_is_written(world, deal):
    other = make_customer(world.owner, name="另一个客户")
    before = (Objection.objects.count(), Promise.objects.count(), AuditEvent.objects.count())
    for make in (_objection, _promise):
        with pytest.raises(ValidationFailed) as exc:
            make(world, customer=other, opportunity=deal)
        assert exc.value.code == "wrong_customer"
        assert exc.value.message_zh == "商机不属于该客户"
        assert exc.value.message_en == "the opportunity belongs to another customer"
    assert (Objection.objects.count(), Promise.objects.count(), AuditEvent.objects.count()) == before


def test_an_outsider_cannot_attach_someone_elses_deal(world, deal, bobs_deal):
    # Bob's deal is on a customer Alice does not see: it does not exist for her (404), even on
    # her own customer's objection.
    for make in (_objection, _promise):
        with pytest.raises(NotFound):
            make(world, opportunity=bobs_deal)
    o = _objection(world)
    with pytest.raises(NotFound):
        services.objection_update(actor=world.owner, source=Source.UI, objection=o, opportunity=bobs_deal)
    p = _promise(world)
    with pytest.raises(NotFound):
        services.promise_update(actor=world.owner, source=Source.UI, promise=p, opportunity=bobs_deal)
    o.refresh_from_db()
    p.refresh_from_db()
    assert o.opportunity_id is None and p.opportunity_id is None


def test_a_teammate_with_the_customer_shared_may_link_its_deal(world, deal):
    CustomerShare.objects.create(customer=world.customer, user=world.teammate)
    o = _objection(world, opportunity=deal, actor=world.teammate)
    assert o.opportunity_id == deal.pk


def test_linking_an_existing_objection_later_and_unlinking_it(world, deal):
    o = _objection(world)
    o = services.objection_update(actor=world.owner, source=Source.UI, objection=o, opportunity=deal)
    assert o.opportunity_id == deal.pk
    o = services.objection_update(actor=world.owner, source=Source.UI, objection=o, opportunity=None)
    assert o.opportunity_id is None
    actions = list(
        AuditEvent.objects.filter(object_type="objection", object_id=o.pk).values_list("action", flat=True)
    )
    assert actions.count("objection.update") == 2


# --- Objection analysis ---------------------------------------------------------------------------


def test_analysis_counts_a_won_deal_as_a_won_outcome(world, deal):
    """The objection's own outcome is left pending; the deal it was raised in was won."""
    _objection(world, opportunity=deal, response="讲清楚总拥有成本")
    lost_deal = make_opportunity(world.customer, name="丢掉的单")
    _objection(world, opportunity=lost_deal, outcome="won")  # the deal says otherwise: lost
    _objection(world, outcome="won")  # no deal: its own outcome
    _objection(world, category="timing", outcome="lost")
    order = order_create(
        actor=world.owner,
        source=Source.UI,
        customer=world.customer,
        lines=[LineInput(ProductFactory(price=Decimal("100")), Decimal(1))],
    )
    deals.opportunity_win(actor=world.owner, source=Source.UI, opportunity=deal, version=1, order=order)
    deals.opportunity_lose(
        actor=world.owner, source=Source.UI, opportunity=lost_deal, version=1, reason="price"
    )
    rows = {r["category"]: r for r in objection_sel.objection_analysis(world.owner)["by_category"]}
    assert (rows["price"]["total"], rows["price"]["won"], rows["price"]["lost"]) == (3, 2, 1)
    assert rows["price"]["win_rate"] == pytest.approx(66.7)
    assert (rows["timing"]["won"], rows["timing"]["lost"]) == (0, 1)
    # The knowledge base puts the answer that preceded the won deal first.
    first = objection_sel.objection_knowledge(world.owner)[0]
    assert first.opportunity_id == deal.pk
    assert objection_sel.objection_analysis(world.outsider)["by_category"] == []


# --- Pages ----------------------------------------------------------------------------------------


def test_objection_form_is_prefilled_from_the_deal_and_offers_only_the_customers_visible_deals(
    world, deal, bobs_deal, client_for
):
    other_deal = make_opportunity(make_customer(world.owner, name="另一个客户"), name="别的客户的商机")
    c = client_for(world.owner)
    url = reverse("service:objection_create") + f"?opportunity={deal.pk}"
    r = c.get(url)
    assert r.status_code == 200
    field = r.context["form"]["opportunity"]
    assert field.value() == deal.pk
    assert r.context["customer"] == world.customer
    choices = [int(v.value) for v, _ in field.field.choices if v]
    assert choices == [deal.pk]
    assert other_deal.pk not in choices and bobs_deal.pk not in choices
    r = c.post(
        url,
        {
            "category": "price",
            "customer_words": "太贵",
            "judgement": "unsure",
            "outcome": "pending",
            "opportunity": deal.pk,
        },
    )
    assert r.status_code == 302  # back to the deal, where the objection is listed
    assert r["Location"] == reverse("pipeline:detail", args=[deal.pk]) + "#deal-objections"
    assert Objection.objects.get().opportunity_id == deal.pk


def test_promise_form_prefilled_and_another_customers_deal_is_rejected(world, deal, client_for):
    other_deal = make_opportunity(make_customer(world.owner, name="另一个客户"), name="别的客户的商机")
    c = client_for(world.owner)
    url = reverse("service:promise_create", args=[world.customer.pk])
    r = c.get(url + f"?opportunity={deal.pk}")
    assert r.status_code == 200 and r.context["form"]["opportunity"].value() == deal.pk
    due = (timezone.localdate() + dt.timedelta(days=2)).isoformat()
    r = c.post(url, {"what": "寄样品", "due_on": due, "opportunity": other_deal.pk})
    assert r.status_code == 400 and not Promise.objects.exists()
    r = c.post(url, {"what": "寄样品", "due_on": due, "opportunity": deal.pk})
    assert r.status_code == 302 and Promise.objects.get().opportunity_id == deal.pk


def test_forms_answer_404_for_a_deal_outside_the_users_scope(world, bobs_deal, client_for):
    c = client_for(world.owner)
    assert c.get(reverse("service:objection_create") + f"?opportunity={bobs_deal.pk}").status_code == 404
    url = reverse("service:promise_create", args=[world.customer.pk]) + f"?opportunity={bobs_deal.pk}"
    assert c.get(url).status_code == 404


# --- API ------------------------------------------------------------------------------------------


def test_api_links_objections_and_promises_to_deals(world, deal, bobs_deal, api_for):
    api = api_for(world.owner)
    r = api.post(
        "/objections",
        {
            "customer_id": world.customer.pk,
            "category": "price",
            "customer_words": "太贵",
            "opportunity_id": deal.pk,
        },
    )
    assert r.status_code == 201, r.content
    assert r.json()["opportunity"] == {"id": deal.pk, "name": deal.name}
    due = (timezone.localdate() + dt.timedelta(days=2)).isoformat()
    r = api.post(
        "/promises",
        {"customer_id": world.customer.pk, "what": "寄样品", "due_on": due, "opportunity_id": deal.pk},
    )
    assert r.status_code == 201 and r.json()["opportunity"]["id"] == deal.pk
    # someone else's deal: 404, nothing written
    before = (Objection.objects.count(), Promise.objects.count())
    r = api.post(
        "/objections",
        {
            "customer_id": world.customer.pk,
            "category": "price",
            "customer_words": "贵",
            "opportunity_id": bobs_deal.pk,
        },
    )
    assert_api_error(r, 404, "not_found")
    r = api.post(
        "/promises",
        {"customer_id": world.customer.pk, "what": "x", "due_on": due, "opportunity_id": bobs_deal.pk},
    )
    assert_api_error(r, 404, "not_found")
    # a deal of another visible customer: 400 with both languages
    other = make_customer(world.owner, name="另一个客户")
    r = api.post(
        "/promises", {"customer_id": other.pk, "what": "x", "due_on": due, "opportunity_id": deal.pk}
    )
    err = assert_api_error(r, 400)
    assert err["field"] == "opportunity_id" and "商机" in err["message_zh"]
    assert (Objection.objects.count(), Promise.objects.count()) == before
    r = api.get("/objections", {"opportunity_id": deal.pk})
    assert [o["opportunity"]["id"] for o in r.json()["items"]] == [deal.pk]
    # PATCH: link, then unlink with null
    o = _objection(world)
    r = api.patch(f"/objections/{o.pk}", {"opportunity_id": deal.pk})
    assert r.status_code == 200 and r.json()["opportunity"]["id"] == deal.pk
    r = api.patch(f"/objections/{o.pk}", {"opportunity_id": None})
    assert r.status_code == 200 and r.json()["opportunity"] is None


# --- CLI ------------------------------------------------------------------------------------------


def _run(*args: str) -> str:
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_cli_links_to_a_deal_and_refuses_an_invisible_one(world, deal, bobs_deal):
    import json

    from django.core.management.base import CommandError

    o = json.loads(
        _run(
            "objections",
            "--user",
            "alice",
            "--json",
            "add",
            "--category",
            "price",
            "--words",
            "贵",
            "--opportunity",
            str(deal.pk),
        )
    )
    assert o["opportunity"]["id"] == deal.pk and o["customer"]["id"] == world.customer.pk
    due = (timezone.localdate() + dt.timedelta(days=2)).isoformat()
    p = json.loads(
        _run(
            "promises",
            "--user",
            "alice",
            "--json",
            "add",
            "--customer",
            str(world.customer.pk),
            "--what",
            "寄样品",
            "--due",
            due,
            "--opportunity",
            str(deal.pk),
        )
    )
    assert p["opportunity"]["id"] == deal.pk
    with pytest.raises(CommandError) as exc:
        _run(
            "promises",
            "--user",
            "alice",
            "add",
            "--customer",
            str(world.customer.pk),
            "--what",
            "x",
            "--due",
            due,
            "--opportunity",
            str(bobs_deal.pk),
        )
    assert "商机不存在或无权访问" in str(exc.value) and "opportunity not found" in str(exc.value)
    _run(
        "pipeline",
        "lose",
        "--user",
        "alice",
        "--id",
        str(deal.pk),
        "--version",
        "1",
        "--reason",
        "price",
        "--objection",
        str(o["id"]),
    )
    deal.refresh_from_db()
    assert deal.lost_objection_id == o["id"]
