"""The interactions and timeline API: logging, correcting, deleting, visibility and bad input."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from guanxi.audit.models import AuditEvent
from guanxi.conftest import assert_api_error
from guanxi.customers.models import CustomerShare
from guanxi.engagement.models import Interaction
from guanxi.testing.factories import make_contact, make_customer

pytestmark = pytest.mark.django_db


def _later() -> dt.datetime:
    """A moment after the world fixture's interaction (logged an hour before the real now)."""
    return timezone.now().replace(microsecond=0) + dt.timedelta(days=2)


def _counts() -> tuple[int, int]:
    return Interaction.objects.count(), AuditEvent.objects.count()


def _iso(when: dt.datetime) -> str:
    return when.isoformat()


# --- Logging -------------------------------------------------------------------------------------


def test_owner_logs_interaction_and_customer_last_interaction_moves_forward(world, api_for):
    api = api_for(world.owner)
    contact = world.customer.contacts.get()
    now = _later()
    with time_machine.travel(now, tick=False):
        resp = api.post(
            "/interactions",
            {
                "customer_id": world.customer.pk,
                "channel": "visit",
                "summary": "上门拜访，演示新产品",
                "occurred_at": _iso(now - dt.timedelta(minutes=5)),
                "duration_minutes": 45,
                "contact_ids": [contact.pk],
                "participant_ids": [world.teammate.pk],
                "next_step": "寄送报价",
                "next_step_due": "2026-03-12",
            },
        )
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert body["customer"] == {"id": world.customer.pk, "name": "华为技术有限公司"}
    assert body["contacts"] == [{"id": contact.pk, "name": "张伟"}]
    assert {p["id"] for p in body["participants"]} == {world.owner.pk, world.teammate.pk}
    assert body["created_by"]["id"] == world.owner.pk
    world.customer.refresh_from_db()
    assert world.customer.last_interaction_at == now - dt.timedelta(minutes=5)
    assert api.get(f"/interactions/{body['id']}").json() == body
    assert api.get(f"/customers/{world.customer.pk}").json()["last_interaction_at"] is not None


def test_back_dated_interaction_does_not_move_last_interaction_backwards(world, api_for):
    api = api_for(world.owner)
    world.customer.refresh_from_db()
    latest = world.customer.last_interaction_at
    assert latest is not None
    resp = api.post(
        "/interactions",
        {
            "customer_id": world.customer.pk,
            "channel": "phone",
            "summary": "补记上个月的电话",
            "occurred_at": _iso(latest - dt.timedelta(days=30)),
        },
    )
    assert resp.status_code == 201, resp.content
    world.customer.refresh_from_db()
    assert world.customer.last_interaction_at == latest


def test_interaction_without_occurred_at_uses_now(world, api_for):
    api = api_for(world.owner)
    now = _later()
    with time_machine.travel(now, tick=False):
        resp = api.post(
            "/interactions", {"customer_id": world.customer.pk, "channel": "wechat", "summary": "微信沟通"}
        )
    assert resp.status_code == 201
    assert dt.datetime.fromisoformat(resp.json()["occurred_at"]) == now
    world.customer.refresh_from_db()
    assert world.customer.last_interaction_at == now


def test_naive_occurred_at_is_read_in_local_time(world, api_for):
    resp = api_for(world.owner).post(
        "/interactions",
        {
            "customer_id": world.customer.pk,
            "channel": "phone",
            "summary": "电话",
            "occurred_at": "2025-01-02T10:00:00",
        },
    )
    assert resp.status_code == 201, resp.content
    interaction = Interaction.objects.get(pk=resp.json()["id"])
    assert timezone.localtime(interaction.occurred_at).hour == 10


def test_correcting_occurred_at_recomputes_last_interaction(world, api_for):
    api = api_for(world.owner)
    interaction = world.customer.interactions.get()
    earlier = interaction.occurred_at - dt.timedelta(days=3)
    resp = api.patch(f"/interactions/{interaction.pk}", {"occurred_at": _iso(earlier), "outcome": "已报价"})
    assert resp.status_code == 200, resp.content
    assert resp.json()["outcome"] == "已报价"
    world.customer.refresh_from_db()
    assert world.customer.last_interaction_at == earlier
    assert AuditEvent.objects.filter(action="interaction.update", object_id=interaction.pk).exists()


def test_deleting_the_latest_interaction_recomputes_last_interaction(world, api_for):
    api = api_for(world.owner)
    old = world.customer.interactions.get()
    latest = api.post(
        "/interactions", {"customer_id": world.customer.pk, "channel": "sms", "summary": "短信提醒"}
    ).json()
    assert api.delete(f"/interactions/{latest['id']}").status_code == 204
    assert_api_error(api.get(f"/interactions/{latest['id']}"), 404, "not_found")
    world.customer.refresh_from_db()
    assert world.customer.last_interaction_at == old.occurred_at


def test_list_and_search_interactions(world, api_for):
    api = api_for(world.owner)
    other = make_customer(world.owner, name="深圳腾达贸易有限公司")
    api.post("/interactions", {"customer_id": other.pk, "channel": "email", "summary": "发送合同草案"})
    items = api.get("/interactions").json()["items"]
    assert len(items) == 2
    only = api.get("/interactions", {"customer_id": world.customer.pk}).json()["items"]
    assert [i["customer"]["id"] for i in only] == [world.customer.pk]
    found = api.get("/interactions", {"q": "报价"}).json()["items"]
    assert [i["customer"]["id"] for i in found] == [world.customer.pk]
    page = api.get("/interactions", {"limit": 1}).json()
    assert len(page["items"]) == 1 and page["next_cursor"]
    rest = api.get("/interactions", {"limit": 1, "cursor": page["next_cursor"]}).json()
    assert rest["items"][0]["id"] != page["items"][0]["id"]
    assert_api_error(api.get("/interactions", {"cursor": "xx"}), 400, "invalid_cursor")


# --- Timeline ------------------------------------------------------------------------------------


def test_timeline_shows_interactions_and_changes_newest_first(world, api_for):
    api = api_for(world.owner)
    api.patch(f"/customers/{world.customer.pk}", {"city": "东莞"})
    api.post("/interactions", {"customer_id": world.customer.pk, "channel": "phone", "summary": "确认交期"})
    entries = api.get(f"/customers/{world.customer.pk}/timeline").json()
    kinds = [e["kind"] for e in entries]
    assert "interaction" in kinds and "event" in kinds
    ats = [e["at"] for e in entries]
    assert ats == sorted(ats, reverse=True)
    summaries = [e["interaction"]["summary"] for e in entries if e["kind"] == "interaction"]
    assert {"确认交期", "客户投诉报价太高，需要重新报价"} <= set(summaries)
    update = next(e for e in entries if e["kind"] == "event" and e["action"] == "customer.update")
    assert update["changes"]["city"] == ["深圳", "东莞"] and update["source"] == "api"
    # Logging an interaction is shown once (as the interaction), not again as an audit event.
    assert not any(e.get("action") == "interaction.create" for e in entries)
    assert len(api.get(f"/customers/{world.customer.pk}/timeline", {"limit": 1}).json()) == 1


def test_outsider_cannot_read_timeline(world, api_for):
    assert_api_error(api_for(world.outsider).get(f"/customers/{world.customer.pk}/timeline"), 404)


# --- Visibility ----------------------------------------------------------------------------------


def test_outsider_cannot_see_change_or_delete_interaction(world, api_for):
    interaction = world.customer.interactions.get()
    api = api_for(world.outsider)
    before = _counts()
    url = f"/interactions/{interaction.pk}"
    assert_api_error(api.get(url), 404, "not_found")
    assert_api_error(api.patch(url, {"summary": "篡改"}), 404, "not_found")
    assert_api_error(api.delete(url), 404, "not_found")
    assert api.get("/interactions").json()["items"] == []
    assert api.get("/interactions", {"q": "报价"}).json()["items"] == []
    resp = api.post("/interactions", {"customer_id": world.customer.pk, "channel": "visit", "summary": "x"})
    assert_api_error(resp, 404, "not_found")
    assert _counts() == before
    interaction.refresh_from_db()
    assert interaction.summary == "客户投诉报价太高，需要重新报价"


def test_teammate_sees_interactions_only_after_share(world, api_for):
    interaction = world.customer.interactions.get()
    api = api_for(world.teammate)
    assert_api_error(api.get(f"/interactions/{interaction.pk}"), 404)
    CustomerShare.objects.create(customer=world.customer, team=world.east, created_by=world.owner)
    assert api.get(f"/interactions/{interaction.pk}").status_code == 200
    resp = api.post(
        "/interactions", {"customer_id": world.customer.pk, "channel": "visit", "summary": "陪同拜访"}
    )
    assert resp.status_code == 201
    assert resp.json()["created_by"]["id"] == world.teammate.pk


def test_contact_of_another_customer_cannot_be_attached(world, api_for):
    other = make_customer(world.owner, name="另一家公司")
    stranger = make_contact(other, name="王五")
    api = api_for(world.owner)
    before = _counts()
    resp = api.post(
        "/interactions",
        {"customer_id": world.customer.pk, "channel": "visit", "summary": "x", "contact_ids": [stranger.pk]},
    )
    assert_api_error(resp, 404, "not_found")
    assert _counts() == before


# --- Malformed input -----------------------------------------------------------------------------

MALFORMED = [
    pytest.param({"channel": "pigeon"}, 422, "validation_error", "channel", id="bad-enum-channel"),
    pytest.param({"direction": "sideways"}, 422, "validation_error", "direction", id="bad-enum-direction"),
    pytest.param({"summary": ""}, 422, "validation_error", "summary", id="empty-summary"),
    pytest.param({"summary": "  \n "}, 422, "validation_error", "summary", id="blank-summary"),
    pytest.param({"summary": ["a"]}, 422, "validation_error", "summary", id="wrong-type-summary"),
    pytest.param({"mood": "happy"}, 422, "validation_error", "mood", id="unknown-field"),
    pytest.param({"occurred_at": "yesterday"}, 422, "validation_error", "occurred_at", id="bad-datetime"),
    pytest.param({"duration_minutes": -5}, 422, "validation_error", "duration_minutes", id="neg-duration"),
    pytest.param({"duration_minutes": 5000}, 422, "validation_error", "duration_minutes", id="long"),
    pytest.param({"customer_id": "abc"}, 422, "validation_error", "customer_id", id="wrong-type-id"),
    pytest.param({"customer_id": 987654}, 404, "not_found", None, id="unknown-customer"),
    pytest.param({"participant_ids": [987654]}, 404, "not_found", None, id="unknown-participant"),
    pytest.param({"contact_ids": [987654]}, 404, "not_found", None, id="unknown-contact"),
]


@pytest.mark.parametrize(("override", "status", "code", "field"), MALFORMED)
def test_malformed_interaction_is_rejected_and_nothing_is_written(
    world, api_for, override, status, code, field
):
    api = api_for(world.owner)
    payload = {"customer_id": world.customer.pk, "channel": "visit", "summary": "拜访", **override}
    world.customer.refresh_from_db()
    last = world.customer.last_interaction_at
    before = _counts()
    err = assert_api_error(api.post("/interactions", payload), status, code)
    if field:
        assert err["field"] == field, err
    assert _counts() == before
    world.customer.refresh_from_db()
    assert world.customer.last_interaction_at == last


def test_future_occurred_at_is_rejected_and_nothing_is_written(world, api_for):
    api = api_for(world.owner)
    world.customer.refresh_from_db()
    last = world.customer.last_interaction_at
    before = _counts()
    future = timezone.now() + dt.timedelta(days=3)
    resp = api.post(
        "/interactions",
        {
            "customer_id": world.customer.pk,
            "channel": "visit",
            "summary": "未来拜访",
            "occurred_at": _iso(future),
        },
    )
    err = assert_api_error(resp, 400, "invalid")
    assert err["field"] == "occurred_at"
    assert _counts() == before
    world.customer.refresh_from_db()
    assert world.customer.last_interaction_at == last


def test_future_occurred_at_on_update_is_rejected(world, api_for):
    api = api_for(world.owner)
    interaction = world.customer.interactions.get()
    before = _counts()
    future = timezone.now() + dt.timedelta(days=3)
    resp = api.patch(f"/interactions/{interaction.pk}", {"occurred_at": _iso(future)})
    assert_api_error(resp, 400, "invalid")
    assert _counts() == before
    old = interaction.occurred_at
    interaction.refresh_from_db()
    assert interaction.occurred_at == old


def test_malformed_patch_leaves_interaction_unchanged(world, api_for):
    api = api_for(world.owner)
    interaction = world.customer.interactions.get()
    url = f"/interactions/{interaction.pk}"
    before = _counts()
    assert_api_error(api.patch(url, {"summary": ""}), 422, "validation_error")
    assert_api_error(api.patch(url, {"channel": "telepathy"}), 422, "validation_error")
    assert_api_error(api.patch(url, {"customer_id": 1}), 422, "validation_error")
    assert_api_error(api.patch(url, {"contact_ids": [987654]}), 404, "not_found")
    assert _counts() == before
    interaction.refresh_from_db()
    assert interaction.channel == "visit" and interaction.contacts.count() == 1
