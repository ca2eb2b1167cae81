"""Every pipeline endpoint, called once for the OpenAPI contract test (core/tests/test_openapi_contract),
including a loss that names the objection raised in the deal."""

from __future__ import annotations

import datetime as dt
from typing import Any


def pipeline_operations(c: Any, world: Any) -> None:
    from django.utils import timezone

    from guanxi.customers.models import Contact

    customer_id = world.customer.pk
    close = (timezone.localdate() + dt.timedelta(days=30)).isoformat()
    pipelines = c.call("get", "/pipelines").json()
    stages = [s for s in pipelines[0]["stages"] if s["kind"] == "open"]
    deal = c.call(
        "post", "/opportunities", {"customer_id": customer_id, "name": "年度采购", "expected_close_on": close}
    ).json()
    oid = deal["id"]
    c.call("get", "/opportunities")
    c.call("get", "/opportunities/{opportunity_id}", opportunity_id=oid)
    deal = c.call(
        "patch", "/opportunities/{opportunity_id}", {"version": 1, "next_step": "报价"}, opportunity_id=oid
    ).json()
    deal = c.call(
        "post",
        "/opportunities/{opportunity_id}/move",
        {"stage_id": stages[1]["id"], "version": deal["version"]},
        opportunity_id=oid,
    ).json()
    contact = Contact.objects.filter(customer_id=customer_id).order_by("id").first()
    assert contact is not None
    people = c.call(
        "post",
        "/opportunities/{opportunity_id}/people",
        {"contact_id": contact.pk, "role": "decision_maker", "engaged": True},
        opportunity_id=oid,
    ).json()
    c.call("get", "/opportunities/{opportunity_id}/people", opportunity_id=oid)
    c.call(
        "delete",
        "/opportunities/{opportunity_id}/people/{person_id}",
        opportunity_id=oid,
        person_id=people["people"][0]["id"],
    )
    c.call("get", "/opportunities/{opportunity_id}/history", opportunity_id=oid)
    objection = c.call(
        "post",
        "/objections",
        {"customer_id": customer_id, "opportunity_id": oid, "category": "price", "customer_words": "太贵"},
    ).json()
    deal = c.call("get", "/opportunities/{opportunity_id}", opportunity_id=oid).json()
    deal = c.call(
        "post",
        "/opportunities/{opportunity_id}/lose",
        {"version": deal["version"], "reason": "price", "objection_id": objection["id"]},
        opportunity_id=oid,
    ).json()
    assert deal["lost_objection_id"] == objection["id"]
    deal = c.call(
        "post", "/opportunities/{opportunity_id}/reopen", {"version": deal["version"]}, opportunity_id=oid
    ).json()
    order = c.call(
        "post",
        "/orders",
        {"customer_id": customer_id, "lines": [{"product_id": _product_id(), "quantity": 1}]},
    ).json()
    c.call(
        "post",
        "/opportunities/{opportunity_id}/win",
        {"version": deal["version"], "order_id": order["id"]},
        opportunity_id=oid,
    )
    c.call("get", "/pipeline/board")
    c.call("get", "/pipeline/forecast")
    c.call("get", "/pipeline/analysis")


def _product_id() -> int:
    from guanxi.sales.models import Product

    product = Product.objects.filter(is_active=True).order_by("id").first()
    assert product is not None
    return product.pk
