from __future__ import annotations

from django.utils import timezone

from guanxi.conftest import assert_api_error
from guanxi.service.models import Complaint


def test_complaint_lifecycle_over_the_api(world, api_for):
    api = api_for(world.owner)
    resp = api.post(
        "/complaints",
        {"customer_id": world.customer.pk, "summary": "账单错误", "category": "billing", "severity": "high"},
    )
    assert resp.status_code == 201, resp.content
    body = resp.json()
    cid = body["id"]
    assert body["status"] == "open" and body["steps"][0]["action"] == "complaint.create"
    assert api.post(f"/complaints/{cid}/acknowledge", {"note": "已回电"}).status_code == 200
    assert api.post(f"/complaints/{cid}/actions", {"note": "财务重开发票"}).status_code == 200
    assert api.post(f"/complaints/{cid}/escalate", {}).json()["escalated_to"]["id"] == world.manager.pk
    resolved = api.post(f"/complaints/{cid}/resolve", {"resolution": "发票已重开"}).json()
    assert resolved["status"] == "resolved" and len(resolved["steps"]) == 5
    assert api.post(f"/complaints/{cid}/satisfaction", {"satisfaction": "5"}).json()["satisfaction"] == "5"
    assert api.get("/complaints", {"view": "resolved"}).json()["items"][0]["id"] == cid
    assert api.get("/complaints/stats", {"group": "category"}).json()[0]["key"] == "billing"


def test_complaint_api_rejects_bad_input_clearly(world, api_for):
    api = api_for(world.owner)
    for payload in (
        {"customer_id": world.customer.pk, "summary": "", "category": "billing"},
        {"customer_id": world.customer.pk, "summary": "x", "category": "weather"},
        {"customer_id": world.customer.pk, "summary": "x", "category": "billing", "extra": 1},
        {
            "customer_id": world.customer.pk,
            "summary": "x",
            "category": "billing",
            "received_at": "2090-01-01T00:00:00Z",
        },
    ):
        resp = api.post("/complaints", payload)
        assert resp.status_code in (400, 422), (payload, resp.content)
        assert_api_error(resp, resp.status_code)
    assert not Complaint.objects.exists()
    c = api.post(
        "/complaints", {"customer_id": world.customer.pk, "summary": "x", "category": "billing"}
    ).json()
    assert_api_error(api.post(f"/complaints/{c['id']}/resolve", {"resolution": " "}), 422)
    api.post(f"/complaints/{c['id']}/acknowledge", {})
    assert_api_error(api.post(f"/complaints/{c['id']}/acknowledge", {}), 409)


def test_outsider_gets_404_everywhere_in_the_api(world, api_for):
    owner = api_for(world.owner)
    c = owner.post(
        "/complaints", {"customer_id": world.customer.pk, "summary": "x", "category": "other"}
    ).json()
    p = owner.post(
        "/promises", {"customer_id": world.customer.pk, "what": "报价", "due_on": str(timezone.localdate())}
    ).json()
    o = owner.post(
        "/objections", {"customer_id": world.customer.pk, "category": "price", "customer_words": "贵"}
    ).json()
    outsider = api_for(world.outsider)
    for path in (f"/complaints/{c['id']}", f"/promises/{p['id']}", f"/objections/{o['id']}"):
        assert_api_error(outsider.get(path), 404, "not_found")
    assert_api_error(outsider.post(f"/complaints/{c['id']}/resolve", {"resolution": "x"}), 404)
    assert_api_error(outsider.post(f"/promises/{p['id']}/close", {"outcome": "kept"}), 404)
    assert_api_error(
        outsider.post("/complaints", {"customer_id": world.customer.pk, "summary": "x", "category": "other"}),
        404,
    )
    assert outsider.get("/complaints", {"view": "all"}).json()["items"] == []
    assert outsider.get("/promises", {"view": "all"}).json()["items"] == []
    assert outsider.get("/objections").json()["items"] == []
    assert outsider.get("/surveys/results").json()["overall"]["answers"] == 0


def test_promise_and_survey_endpoints(world, api_for):
    api = api_for(world.owner)
    p = api.post(
        "/promises", {"customer_id": world.customer.pk, "what": "寄样品", "due_on": str(timezone.localdate())}
    ).json()
    closed = api.post(f"/promises/{p['id']}/close", {"outcome": "broken"})
    assert_api_error(closed, 400)
    closed = api.post(f"/promises/{p['id']}/close", {"outcome": "broken", "reason": "缺货"}).json()
    assert closed["status"] == "broken"
    assert api.get("/promises/rates").json()[0]["broken"] == 1
    created = api.post("/surveys/invitations", {"customer_id": world.customer.pk, "channel": "link"})
    assert created.status_code == 201 and "/s/" in created.json()["link"]
    listed = api.get("/surveys/invitations").json()
    assert "link" not in listed[0]
    assert api.get("/surveys/templates").json()[0]["questions"]
    knowledge = api.get("/objections/knowledge", {"q": "贵"})
    assert knowledge.status_code == 200
