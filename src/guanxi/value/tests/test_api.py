"""Value API: a customer's value (404 outside scope), overrides (managers only, reasons required),
summary by visibility, runs and movement, re-evaluation (202), configuration (administrators)."""

from __future__ import annotations

import datetime as dt

import pytest

from guanxi.conftest import assert_api_error
from guanxi.testing.factories import make_customer
from guanxi.value.engine.run import classify
from guanxi.value.tests.helpers import order, product

pytestmark = pytest.mark.django_db


@pytest.fixture
def evaluated(world):
    p = product("P1")
    north = make_customer(world.outsider, name="北方客户")
    order(world.customer, dt.date(2026, 5, 1), product_=p, quantity=3)
    order(north, dt.date(2026, 5, 1), product_=p, quantity=1)
    classify(as_of=dt.date(2026, 5, 31))
    order(north, dt.date(2026, 6, 10), product_=p, quantity=30)
    return classify(as_of=dt.date(2026, 6, 30))


def test_customer_value(world, evaluated, api_for):
    resp = api_for(world.owner).get(f"/value/customers/{world.customer.pk}")
    assert resp.status_code == 200, resp.content
    body = resp.json()
    assert body["value_class"] == "C" and body["latest"]["revenue_cents"] == 30000
    assert len(body["history"]) == 2 and body["next_class"] == "A"
    assert {i["name"] for i in body["indicators"]} >= {"revenue", "profit", "recency"}
    assert body["terms"]["complaint_response_hours"] == 24
    assert_api_error(api_for(world.outsider).get(f"/value/customers/{world.customer.pk}"), 404, "not_found")


def test_override(world, evaluated, api_for):
    url = f"/value/customers/{world.customer.pk}/override"
    assert_api_error(api_for(world.owner).put(url, {"value_class": "A", "reason": "x"}), 403)
    assert_api_error(api_for(world.manager).put(url, {"value_class": "A"}), 400)
    assert_api_error(api_for(world.manager).put(url, {"value_class": "Q", "reason": "x"}), 422)
    resp = api_for(world.manager).put(url, {"value_class": "A", "reason": "战略合作"})
    assert resp.status_code == 200 and resp.json()["value_class"] == "A" and resp.json()["override"] == "A"
    assert_api_error(api_for(world.outsider).put(url, {"value_class": "", "reason": ""}), 404)


def test_summary_runs_and_movement(world, evaluated, api_for):
    owner = api_for(world.owner).get("/value/summary").json()
    admin = api_for(world.admin).get("/value/summary").json()
    assert owner["total"] == 1 and admin["total"] == 2 and admin["period"] == "2026-06"
    runs = api_for(world.owner).get("/value/runs").json()
    assert [r["period"] for r in runs] == ["2026-06", "2026-05"]
    moves = api_for(world.owner).get(f"/value/runs/{evaluated.pk}/movement").json()
    assert [m["customer_id"] for m in moves] == [world.customer.pk]
    assert moves[0]["why"][0]["name"] in {
        "revenue",
        "profit",
        "frequency",
        "recency",
        "growth",
        "cost_to_serve",
    }
    all_moves = api_for(world.admin).get(f"/value/runs/{evaluated.pk}/movement", {"direction": "up"}).json()
    assert all(m["movement"] > 0 for m in all_moves) and all_moves
    assert_api_error(api_for(world.owner).get("/value/runs/999999/movement"), 404)


def test_classify_endpoint(world, api_for):
    assert_api_error(api_for(world.owner).post("/value/classify"), 403)
    resp = api_for(world.admin).post("/value/classify")
    assert resp.status_code == 202 and resp.json()["job_id"]


def test_config_endpoint(world, api_for):
    assert_api_error(api_for(world.manager).get("/value/config"), 403)
    admin = api_for(world.admin)
    assert admin.get("/value/config").json()["share_a"] == 20
    err = assert_api_error(admin.patch("/value/config", {"share_a": 50}), 400)
    assert "100" in err["message_en"]
    err = assert_api_error(admin.patch("/value/config", {"threshold_c": -1}), 400)
    assert "negative" in err["message_en"]
    assert_api_error(admin.patch("/value/config", {"bogus": 1}), 422)
    resp = admin.patch("/value/config", {"share_a": 25, "share_d": 15})
    assert resp.status_code == 200 and resp.json()["share_a"] == 25
    policies = api_for(world.owner).get("/value/policies").json()
    assert {p["tier"] for p in policies} >= {"key", "important", "general", "maintain"}


def test_customer_list_api_filters(world, evaluated, api_for):
    body = api_for(world.admin).get("/customers", {"value_class": "A"}).json()
    assert [c["name"] for c in body["items"]] == ["北方客户"]
    assert_api_error(api_for(world.admin).get("/customers", {"tier": "vip"}), 422)
