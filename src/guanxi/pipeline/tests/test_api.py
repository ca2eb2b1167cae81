"""The JSON API: create, read, edit with version checks (409), move, win/lose, people, board,
forecast, analysis; three personas; bad input in the one error shape."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from guanxi.conftest import assert_api_error
from guanxi.pipeline.models import Opportunity
from guanxi.testing.factories import make_contact

pytestmark = pytest.mark.django_db


def _close(days: int = 20) -> str:
    return (timezone.localdate() + dt.timedelta(days=days)).isoformat()


@pytest.fixture
def created(api_for, world, stages, product):
    r = api_for(world.owner).post(
        "/opportunities",
        {
            "customer_id": world.customer.pk,
            "name": "API 商机",
            "expected_close_on": _close(),
            "lines": [{"product_id": product.pk, "quantity": "4"}],
            "source": "exhibition",
            "competitors": "西门子",
        },
    )
    assert r.status_code == 201, r.content
    return r.json()


def test_create_and_read(api_for, world, created, stages):
    assert created["amount"] == "4000.00" and created["version"] == 1
    assert created["stage"]["name_en"] == "Qualification" and created["weighted_amount"] == "400.00"
    assert created["lines"][0]["quantity"] == "4.00"
    r = api_for(world.owner).get(f"/opportunities/{created['id']}")
    assert r.status_code == 200 and r.json()["name"] == "API 商机"


def test_three_personas(api_for, world, created):
    assert api_for(world.manager).get(f"/opportunities/{created['id']}").status_code == 200
    assert_api_error(api_for(world.teammate).get(f"/opportunities/{created['id']}"), 404, "not_found")
    assert_api_error(api_for(world.outsider).get(f"/opportunities/{created['id']}"), 404, "not_found")
    assert api_for(world.outsider).get("/opportunities").json()["items"] == []
    assert_api_error(
        api_for(world.outsider).patch(f"/opportunities/{created['id']}", {"version": 1, "name": "x"}), 404
    )
    board = api_for(world.outsider).get("/pipeline/board").json()
    assert board["open_count"] == 0 and all(c["count"] == 0 for c in board["columns"])


def test_stale_version_answers_409(api_for, world, created):
    owner, manager = api_for(world.owner), api_for(world.manager)
    r = owner.patch(
        f"/opportunities/{created['id']}", {"version": 1, "next_step": "寄样品", "next_step_on": _close(2)}
    )
    assert r.status_code == 200 and r.json()["version"] == 2
    err = assert_api_error(
        manager.patch(f"/opportunities/{created['id']}", {"version": 1, "competitors": ""}), 409
    )
    assert err["code"] == "stale_version" and err["field"] == "version"
    assert Opportunity.objects.get(pk=created["id"]).competitors == "西门子"


def test_move_win_and_history(api_for, world, created, stages):
    c = api_for(world.owner)
    r = c.post(f"/opportunities/{created['id']}/move", {"stage_id": stages["Proposal"].pk, "version": 1})
    assert r.status_code == 200 and r.json()["probability"] == 40
    assert_api_error(
        c.post(f"/opportunities/{created['id']}/move", {"stage_id": 424242, "version": 2}),
        400,
        "unknown_stage",
    )
    r = c.post(f"/opportunities/{created['id']}/win", {"version": 2, "create_order": True})
    assert r.status_code == 200 and r.json()["status"] == "won" and r.json()["order_id"]
    history = c.get(f"/opportunities/{created['id']}/history").json()
    assert [h["stage"]["name"] for h in history] == ["线索确认", "方案报价", "赢单"]
    assert history[0]["days"] is not None and history[-1]["left_at"] is None


def test_lose_with_reason(api_for, world, created):
    c = api_for(world.owner)
    assert_api_error(
        c.post(f"/opportunities/{created['id']}/lose", {"version": 1, "reason": "bad luck"}), 422
    )
    r = c.post(
        f"/opportunities/{created['id']}/lose", {"version": 1, "reason": "no_decision", "note": "预算冻结"}
    )
    assert r.status_code == 200 and r.json()["lost_reason"] == "no_decision"
    r = c.post(f"/opportunities/{created['id']}/reopen", {"version": 2})
    assert r.status_code == 200 and r.json()["status"] == "open"


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"amount": "-100", "lines": None}, 400, "negative_amount"),
        ({"expected_close_on": "1990-01-01"}, 400, "close_date_past"),
        ({"stage_id": 987654}, 400, "unknown_stage"),
        ({"lines": [{"product_id": 987654, "quantity": "1"}]}, 400, "unknown_product"),
        ({"lines": [{"product_id": None, "quantity": "-1"}]}, 422, None),
        ({"probability": 120}, 422, None),
        ({"surprise": 1}, 422, None),
    ],
)
def test_bad_input_is_refused_clearly(api_for, world, stages, product, change, status, code):
    body = {"customer_id": world.customer.pk, "name": "坏", "expected_close_on": _close(), **change}
    if body.get("lines") is None:
        body.pop("lines", None)
    assert_api_error(api_for(world.owner).post("/opportunities", body), status, code)
    assert not Opportunity.objects.exists()


def test_people_and_the_decision_maker_warning(api_for, world, created):
    c = api_for(world.owner)
    r = c.get(f"/opportunities/{created['id']}/people")
    assert r.json()["warning"]["code"] == "no_decision_maker"
    boss = make_contact(world.customer, name="刘总")
    r = c.post(f"/opportunities/{created['id']}/people", {"contact_id": boss.pk, "role": "decision_maker"})
    assert r.json()["warning"]["code"] == "decision_maker_not_engaged"
    r = c.post(f"/opportunities/{created['id']}/people", {"contact_id": boss.pk, "engaged": True})
    body = r.json()
    assert body["warning"] is None and body["decision_maker_engaged"]
    r = c.delete(f"/opportunities/{created['id']}/people/{body['people'][0]['id']}")
    assert r.json()["people"] == []


def test_board_forecast_and_analysis(api_for, world, created):
    c = api_for(world.manager)
    board = c.get("/pipeline/board").json()
    assert board["open_count"] == 1 and board["open_amount"] == "4000.00"
    f = c.get("/pipeline/forecast", {"kind": "month", "periods": 3}).json()
    assert f["kind"] == "month" and len(f["totals"]) == 3
    a = c.get("/pipeline/analysis").json()
    assert a["stages"][0]["reached"] == 1
    assert_api_error(c.get("/pipeline/forecast", {"periods": 99}), 422)
    assert api_for(world.owner).get("/pipelines").json()[0]["stages"][0]["probability"] == 10


def test_list_keyset(api_for, world, created):
    r = api_for(world.owner).get("/opportunities", {"limit": 1, "status": "open"})
    assert [o["id"] for o in r.json()["items"]] == [created["id"]]
    assert_api_error(api_for(world.owner).get("/opportunities", {"cursor": "garbage"}), 400, "invalid_cursor")
