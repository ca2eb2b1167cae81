"""Every service endpoint, called once for the OpenAPI contract test (core/tests/test_openapi_contract)."""

from __future__ import annotations

from typing import Any


def service_operations(c: Any, world: Any) -> None:
    from django.utils import timezone

    customer_id = world.customer.pk
    today = timezone.localdate().isoformat()
    complaint = c.call(
        "post", "/complaints", {"customer_id": customer_id, "summary": "账单错误", "category": "billing"}
    ).json()
    cid = complaint["id"]
    c.call("get", "/complaints", params={"view": "all"})
    c.call("get", "/complaints/stats", params={"group": "handler"})
    c.call("get", "/complaints/{complaint_id}", complaint_id=cid)
    c.call("patch", "/complaints/{complaint_id}", {"severity": "high"}, complaint_id=cid)
    c.call("post", "/complaints/{complaint_id}/acknowledge", {"note": "已回电"}, complaint_id=cid)
    c.call("post", "/complaints/{complaint_id}/actions", {"note": "重开发票"}, complaint_id=cid)
    c.call("post", "/complaints/{complaint_id}/escalate", {}, complaint_id=cid)
    c.call("post", "/complaints/{complaint_id}/resolve", {"resolution": "已重开"}, complaint_id=cid)
    c.call("post", "/complaints/{complaint_id}/satisfaction", {"satisfaction": "4"}, complaint_id=cid)
    c.call("post", "/complaints/{complaint_id}/reopen", {"reason": "又错了"}, complaint_id=cid)
    c.call("get", "/complaints/{complaint_id}", complaint_id=999_999_999)  # 404 shape

    promise = c.call(
        "post", "/promises", {"customer_id": customer_id, "what": "寄样品", "due_on": today}
    ).json()
    pid = promise["id"]
    c.call("get", "/promises", params={"view": "all"})
    c.call("get", "/promises/rates")
    c.call("get", "/promises/overpromising")
    c.call("get", "/promises/{promise_id}", promise_id=pid)
    c.call("patch", "/promises/{promise_id}", {"details": "顺丰"}, promise_id=pid)
    c.call("post", "/promises/{promise_id}/close", {"outcome": "kept"}, promise_id=pid)

    objection = c.call(
        "post",
        "/objections",
        {"customer_id": customer_id, "category": "price", "customer_words": "太贵", "response": "批量折扣"},
    ).json()
    oid = objection["id"]
    c.call("get", "/objections", params={"q": "贵"})
    c.call("get", "/objections/analysis")
    c.call("get", "/objections/knowledge", params={"q": "贵"})
    c.call("get", "/objections/{objection_id}", objection_id=oid)
    c.call("patch", "/objections/{objection_id}", {"outcome": "won"}, objection_id=oid)

    c.call("get", "/surveys/templates")
    invitation = c.call(
        "post", "/surveys/invitations", {"customer_id": customer_id, "channel": "link"}
    ).json()
    c.call("get", "/surveys/invitations", params={"customer_id": customer_id})
    c.call("post", "/surveys/invitations/{invitation_id}/revoke", {}, invitation_id=invitation["id"])
    c.call("get", "/surveys/results", params={"segment": "status"})
