"""The committed OpenAPI schema (docs/openapi.json) is the contract.

* the schema the code generates must equal the committed file (`make openapi` regenerates it);
* real responses of the API must validate against the committed response schemas, with every
  ``$ref`` resolved through a registry over the whole document.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from guanxi.conftest import ApiClient, assert_api_error
from guanxi.testing.factories import ProductFactory

pytestmark = pytest.mark.django_db

SCHEMA_FILE = Path(settings.PROJECT_DIR) / "docs" / "openapi.json"
COMMITTED: dict[str, Any] = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
BASE_URI = "urn:guanxi:openapi"
REGISTRY: Registry = Registry().with_resource(
    BASE_URI, Resource.from_contents(COMMITTED, default_specification=DRAFT202012)
)
PREFIX = "/api/v1"

# jsonschema only checks "date-time" with an optional extra installed; check both formats here.
FORMATS = FormatChecker()


@FORMATS.checks("date-time", raises=ValueError)
def _is_datetime(value: object) -> bool:
    if not isinstance(value, str):
        return True
    parsed = dt.datetime.fromisoformat(value)
    return parsed.tzinfo is not None and "T" in value


@FORMATS.checks("date", raises=ValueError)
def _is_date(value: object) -> bool:
    if not isinstance(value, str):
        return True
    dt.date.fromisoformat(value)
    return len(value) == 10


def _pointer(*parts: str) -> str:
    return "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


def response_validator(template: str, method: str, status: int) -> Draft202012Validator | None:
    """The validator for one documented response, or None when it has no JSON body (204)."""
    operation = COMMITTED["paths"][PREFIX + template][method]
    responses = operation["responses"]
    assert str(status) in responses, f"{method.upper()} {template} answered {status}, undocumented"
    content = responses[str(status)].get("content")
    if content is None:
        return None
    ref = f"{BASE_URI}#/" + _pointer(
        "paths", PREFIX + template, method, "responses", str(status), "content", "application/json", "schema"
    )
    return Draft202012Validator({"$ref": ref}, registry=REGISTRY, format_checker=FORMATS)


class Contract:
    """Calls the API and validates every response against the committed schema; records coverage."""

    def __init__(self, api: ApiClient) -> None:
        self.api = api
        self.covered: set[tuple[str, str]] = set()

    def call(self, method: str, template: str, body: Any = None, params: dict | None = None, **ids: Any):
        path = template.format(**ids)
        if method == "get":
            resp = self.api.get(path, params)
        elif method == "delete":
            resp = self.api.delete(path)
        else:
            resp = getattr(self.api, method)(path, body)
        validator = response_validator(template, method, resp.status_code)
        if validator is None:
            assert resp.content == b"", resp.content
        else:
            assert resp["Content-Type"].startswith("application/json")
            errors = sorted(validator.iter_errors(resp.json()), key=lambda e: list(e.path))
            assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:10])
        if resp.status_code < 300:
            self.covered.add((PREFIX + template, method))
        return resp


def test_generated_schema_equals_committed_file():
    from guanxi.api import api

    generated = json.loads(json.dumps(api.get_openapi_schema(), ensure_ascii=False, sort_keys=True))
    assert generated == COMMITTED, "docs/openapi.json drifted from the code; run `make openapi`"


def test_committed_schema_is_valid_openapi_31_with_resolvable_refs():
    assert COMMITTED["openapi"].startswith("3.1")
    resolver = REGISTRY.resolver(base_uri=BASE_URI)

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "$ref" in node:
                resolver.lookup(node["$ref"])  # raises when the target is missing
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(COMMITTED)
    for schema in COMMITTED["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)


def test_validator_rejects_a_response_that_breaks_the_contract(world, api_for):
    """Guards the helper itself: a body missing a field or with a wrong type must not validate."""
    body = api_for(world.owner).get(f"/customers/{world.customer.pk}").json()
    validator = response_validator("/customers/{customer_id}", "get", 200)
    assert validator is not None and validator.is_valid(body)
    assert not validator.is_valid({k: v for k, v in body.items() if k != "name"})
    assert not validator.is_valid(body | {"order_count": "many"})
    assert not validator.is_valid(body | {"created_at": "last tuesday"})
    assert not validator.is_valid(body | {"owner": {"id": 1}})


def test_every_operation_answers_as_documented(world, api_for):
    """One successful call per operation, each response validated against the committed schema."""
    c = Contract(api_for(world.owner))
    manager = Contract(api_for(world.manager))
    customer_id = world.customer.pk
    product = ProductFactory(code="A-1", name="路由器", price=Decimal("99.50"))

    c.call("get", "/me")
    created = c.call(
        "post", "/customers", {"name": "深圳腾达贸易有限公司", "latitude": "22.5", "tags": ["展会"]}
    ).json()
    assert created["latitude"] == "22.500000"
    c.call("get", "/customers", params={"limit": 1})
    c.call("get", "/customers/{customer_id}", customer_id=customer_id)
    c.call(
        "patch",
        "/customers/{customer_id}",
        {"city": "东莞", "founded_on": "1987-09-15"},
        customer_id=customer_id,
    )
    c.call("get", "/customers/{customer_id}/history", customer_id=customer_id)
    share = c.call(
        "post", "/customers/{customer_id}/shares", {"team_id": world.east.pk}, customer_id=customer_id
    ).json()
    c.call(
        "delete", "/customers/{customer_id}/shares/{share_id}", customer_id=customer_id, share_id=share["id"]
    )

    contact = c.call(
        "post",
        "/contacts",
        {"customer_id": customer_id, "name": "李娜", "phones": ["13900139001"], "birthday": "1990-05-01"},
    ).json()
    c.call("get", "/contacts", params={"customer_id": customer_id})
    c.call("get", "/contacts/{contact_id}", contact_id=contact["id"])
    c.call("patch", "/contacts/{contact_id}", {"title": "总经理"}, contact_id=contact["id"])
    c.call("get", "/contacts/{contact_id}/history", contact_id=contact["id"])

    interaction = c.call(
        "post",
        "/interactions",
        {
            "customer_id": customer_id,
            "channel": "visit",
            "summary": "拜访",
            "contact_ids": [contact["id"]],
            "duration_minutes": 30,
            "next_step_due": "2030-01-01",
        },
    ).json()
    c.call("get", "/interactions", params={"customer_id": customer_id})
    c.call("get", "/interactions/{interaction_id}", interaction_id=interaction["id"])
    c.call("patch", "/interactions/{interaction_id}", {"outcome": "满意"}, interaction_id=interaction["id"])
    c.call("get", "/customers/{customer_id}/timeline", customer_id=customer_id)
    c.call("delete", "/interactions/{interaction_id}", interaction_id=interaction["id"])
    c.call("delete", "/contacts/{contact_id}", contact_id=contact["id"])

    new_product = manager.call("post", "/products", {"code": "B-1", "name": "交换机", "price": "10"}).json()
    manager.call("patch", "/products/{product_id}", {"price": "12.5"}, product_id=new_product["id"])
    c.call("get", "/products")
    c.call("get", "/products/{product_id}", product_id=product.pk)
    order = c.call(
        "post", "/orders", {"customer_id": customer_id, "lines": [{"product_id": product.pk, "quantity": 3}]}
    ).json()
    assert order["amount"] == "298.50"
    c.call("get", "/orders")
    c.call("get", "/orders/{order_id}", order_id=order["id"])
    c.call("patch", "/orders/{order_id}", {"status": "shipped"}, order_id=order["id"])
    c.call("get", "/search", params={"q": "华为"})
    token = c.call("post", "/tokens", {"name": "脚本"}).json()
    c.call("delete", "/tokens/{token_id}", token_id=token["id"])

    # relations: decision chain, links, referrals, playbooks, profile reviews
    zhang = c.call("post", "/contacts", {"customer_id": customer_id, "name": "张总"}).json()
    boss = c.call("post", "/contacts", {"customer_id": customer_id, "name": "李总"}).json()
    c.call("patch", "/contacts/{contact_id}/decision", {"roles": ["decision_maker"]}, contact_id=boss["id"])
    c.call("get", "/contacts/{contact_id}/decision", contact_id=boss["id"])
    c.call("get", "/contacts/{contact_id}/approach", contact_id=boss["id"])
    link = c.call(
        "post",
        "/person-links",
        {"from_contact_id": zhang["id"], "to_contact_id": boss["id"], "kind": "reports_to"},
    ).json()
    c.call("get", "/person-links", params={"customer_id": customer_id})
    c.call("get", "/person-links/{link_id}", link_id=link["id"])
    c.call("patch", "/person-links/{link_id}", {"strength": 5}, link_id=link["id"])
    c.call("get", "/customers/{customer_id}/relationship-map", customer_id=customer_id)
    c.call("get", "/relationship-gaps")
    c.call("delete", "/person-links/{link_id}", link_id=link["id"])
    referred = c.call("post", "/customers", {"name": "深圳转介绍有限公司"}).json()
    referral = c.call(
        "post", "/referrals", {"customer_id": referred["id"], "referrer_customer_id": customer_id}
    ).json()
    c.call("get", "/referrals/{referral_id}", referral_id=referral["id"])
    c.call("patch", "/referrals/{referral_id}", {"note": "展会认识"}, referral_id=referral["id"])
    c.call("get", "/customers/{customer_id}/referrals", customer_id=customer_id)
    c.call("get", "/customers/{customer_id}/referral-downstream", customer_id=customer_id)
    c.call("get", "/referral-graph")
    c.call("get", "/referral-values")
    c.call("delete", "/referrals/{referral_id}", referral_id=referral["id"])
    c.call("get", "/playbooks")
    c.call("get", "/playbooks/{relationship_type}", relationship_type="channel")
    admin = Contract(api_for(world.admin))
    admin.call("patch", "/playbooks/{relationship_type}", {"cadence_days": 10}, relationship_type="channel")
    c.call("post", "/customers/{customer_id}/profile-review", {}, customer_id=customer_id)
    c.call("get", "/stale-profiles")
    _follow_up_operations(c, world)
    _value_operations(c, manager, admin, world)
    from guanxi.service.tests.contract_ops import service_operations

    service_operations(c, world)
    _dataio_operations(c)
    from guanxi.pipeline.tests.contract_ops import pipeline_operations

    pipeline_operations(c, world)

    documented = {(p, m) for p, ops in COMMITTED["paths"].items() for m in ops}
    missing = documented - c.covered - manager.covered - admin.covered
    assert not missing, f"operations without a contract check: {sorted(missing)}"


def _value_operations(c: Contract, manager: Contract, admin: Contract, world: Any) -> None:
    from guanxi.value.engine.run import classify

    run = classify()
    assert run is not None
    customer_id = world.customer.pk
    c.call("get", "/value/customers/{customer_id}", customer_id=customer_id)
    manager.call(
        "put",
        "/value/customers/{customer_id}/override",
        {"value_class": "B", "reason": "战略客户"},
        customer_id=customer_id,
    )
    c.call("get", "/value/summary")
    c.call("get", "/value/runs")
    c.call("get", "/value/runs/{run_id}/movement", run_id=run.pk)
    c.call("get", "/value/policies")
    manager.call("post", "/value/classify")
    admin.call("get", "/value/config")
    admin.call("patch", "/value/config", {"weight_referral": 4})


def _follow_up_operations(c: Contract, world: Any) -> None:
    from django.utils import timezone

    from guanxi.followup.models import Reminder
    from guanxi.followup.reminders import reminders_generate
    from guanxi.testing.factories import make_contact

    customer_id = world.customer.pk
    today = timezone.localdate()
    c.call("put", "/customers/{customer_id}/cadence", {"days": 10}, customer_id=customer_id)
    c.call("get", "/customers/{customer_id}/cadence", customer_id=customer_id)
    task = c.call(
        "post", "/tasks", {"title": "回访", "due_on": today.isoformat(), "customer_id": customer_id}
    ).json()
    c.call("get", "/tasks")
    c.call("get", "/tasks/{task_id}", task_id=task["id"])
    c.call("patch", "/tasks/{task_id}", {"status": "done"}, task_id=task["id"])
    start = (timezone.now() + dt.timedelta(hours=3)).replace(microsecond=0)
    appointment = c.call(
        "post",
        "/appointments",
        {
            "customer_id": customer_id,
            "title": "拜访",
            "starts_at": start.isoformat(),
            "ends_at": (start + dt.timedelta(hours=1)).isoformat(),
            "latitude": "22.54",
            "longitude": "114.05",
        },
    ).json()
    c.call("get", "/appointments")
    c.call("get", "/appointments/{appointment_id}", appointment_id=appointment["id"])
    c.call("get", "/today")
    later = start + dt.timedelta(days=1)
    c.call(
        "post",
        "/appointments/{appointment_id}/reschedule",
        {
            "starts_at": later.isoformat(),
            "ends_at": (later + dt.timedelta(hours=1)).isoformat(),
            "reason_kind": "customer",
            "reason": "客户开会",
        },
        appointment_id=appointment["id"],
    )
    c.call(
        "post",
        "/appointments/{appointment_id}/cancel",
        {"reason_kind": "own", "reason": "出差"},
        appointment_id=appointment["id"],
    )
    contact = make_contact(
        world.customer, name="寿星", birthday=today + dt.timedelta(days=1), emails=["s@example.com"]
    )
    c.call(
        "post",
        "/contacts/{contact_id}/dates",
        {"kind": "wedding", "date": "2001-05-20"},
        contact_id=contact.pk,
    )
    c.call("get", "/contacts/{contact_id}/dates", contact_id=contact.pk)
    reminders_generate()
    reminder = Reminder.objects.get(contact=contact)
    c.call("get", "/reminders")
    c.call("get", "/reminders/{reminder_id}", reminder_id=reminder.pk)
    c.call("get", "/reminders/{reminder_id}/drafts", reminder_id=reminder.pk)
    c.call(
        "post",
        "/reminders/{reminder_id}/greetings",
        {"contact_id": contact.pk, "channel": "email"},
        reminder_id=reminder.pk,
    )
    c.call("patch", "/reminders/{reminder_id}", {"status": "done"}, reminder_id=reminder.pk)
    c.call("get", "/festivals", params={"year": 2026})
    located = c.call(
        "post", "/customers", {"name": "坐标客户", "latitude": "22.55", "longitude": "114.06"}
    ).json()
    c.call(
        "get", "/route", params={"customer_ids": [located["id"]], "start_lat": "22.5", "start_lon": "114.0"}
    )
    plan = c.call("post", "/visit-plans", {"day": today.isoformat(), "customer_ids": [located["id"]]}).json()
    c.call("get", "/visit-plans/{plan_id}", plan_id=plan["id"])
    c.call("post", "/visit-plans/{plan_id}/order", {"stop_ids": [plan["stops"][0]["id"]]}, plan_id=plan["id"])


def test_error_responses_match_the_documented_error_shape(world, api_for):
    c = Contract(api_for(world.owner))
    outsider = Contract(api_for(world.outsider))
    customer_id = world.customer.pk

    assert_api_error(outsider.call("get", "/customers/{customer_id}", customer_id=customer_id), 404)
    assert_api_error(c.call("get", "/orders/{order_id}", order_id=987654), 404)
    assert_api_error(c.call("post", "/customers", {"name": ""}), 422, "validation_error")
    assert_api_error(c.call("post", "/interactions", {"customer_id": customer_id}), 422)
    assert_api_error(c.call("get", "/customers", params={"cursor": "@@"}), 400, "invalid_cursor")
    assert_api_error(c.call("post", "/products", {"code": "X", "name": "Y"}), 403, "forbidden")
    assert_api_error(c.call("get", "/search", params={"q": ""}), 422)
    anonymous = Contract(ApiClient(world.owner, "gx_revoked-or-never-was"))
    assert_api_error(anonymous.call("get", "/me"), 401, "unauthenticated")
    admin = Contract(api_for(world.admin))
    admin.call("post", "/products", {"code": "DUP", "name": "产品"})
    assert_api_error(admin.call("post", "/products", {"code": "DUP", "name": "产品"}), 409)


def test_unknown_api_path_is_a_json_404(world, api_for):
    resp = api_for(world.owner).get("/no-such-thing")
    assert_api_error(resp, 404, "not_found")


def _dataio_operations(c: Contract) -> None:
    """Imports (multipart upload), duplicates, merges and undo, exports and personal-data requests.
    Downloads (exports, the person zip) are files, not JSON: checked for status and type."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    csv = "客户名称,联系人,手机\n契约测试有限公司,赵六,13700137099\n".encode()
    resp = c.api.client.post(PREFIX + "/imports", {"file": SimpleUploadedFile("a.csv", csv)})
    assert resp.status_code == 201, resp.content
    validator = response_validator("/imports", "post", 201)
    assert validator is not None and not list(validator.iter_errors(resp.json()))
    c.covered.add((PREFIX + "/imports", "post"))
    job = resp.json()
    c.call("get", "/imports/{job_id}", job_id=job["id"])
    c.call("post", "/imports/{job_id}/confirm", {}, job_id=job["id"])
    c.call("get", "/duplicates")
    a = c.call("post", "/customers", {"name": "合并甲有限公司"}).json()
    b = c.call("post", "/customers", {"name": "合并乙有限公司"}).json()
    record = c.call("post", "/merges/customers", {"survivor_id": a["id"], "merged_id": b["id"]}).json()
    c.call("post", "/merges/{record_id}/undo", record_id=record["id"])
    x = c.call("post", "/contacts", {"customer_id": a["id"], "name": "钱七"}).json()
    y = c.call(
        "post", "/contacts", {"customer_id": a["id"], "name": "钱七", "phones": ["13700137098"]}
    ).json()
    c.call("post", "/merges/contacts", {"survivor_id": x["id"], "merged_id": y["id"]})
    for template, url, kind in (
        ("/exports/{kind}.{file_format}", "/exports/customers.csv", "text/csv"),
        (
            "/privacy/{object_type}/{object_id}/export",
            f"/privacy/contact/{x['id']}/export",
            "application/zip",
        ),
    ):
        resp = c.api.get(url)
        assert resp.status_code == 200 and resp["Content-Type"].startswith(kind)
        c.covered.add((PREFIX + template, "get"))
    c.call(
        "post",
        "/privacy/{object_type}/{object_id}/erase",
        {"confirm": True},
        object_type="contact",
        object_id=x["id"],
    )
