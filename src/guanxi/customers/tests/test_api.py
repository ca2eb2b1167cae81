"""The customers and contacts API: CRUD, the three personas, auth, CSRF and malformed input."""

from __future__ import annotations

import base64

import pytest
from django.test import Client

from guanxi.audit.models import AuditEvent
from guanxi.conftest import assert_api_error
from guanxi.customers.models import Contact, ContactPoint, Customer, CustomerShare

pytestmark = pytest.mark.django_db


def _counts() -> tuple[int, int, int, int, int]:
    return (
        Customer.objects.count(),
        Contact.objects.count(),
        ContactPoint.objects.count(),
        CustomerShare.objects.count(),
        AuditEvent.objects.count(),
    )


# --- Visibility: owner, teammate, outsider -------------------------------------------------------


def test_owner_can_read_customer(world, api_for):
    resp = api_for(world.owner).get(f"/customers/{world.customer.pk}")
    assert resp.status_code == 200
    body = resp.json()
    assert body["name"] == "华为技术有限公司"
    assert body["owner"] == {"id": world.owner.pk, "name": "王丽"}
    assert body["team"] == {"id": world.east.pk, "name": "华东组"}
    assert body["tags"] == ["重点"]
    assert body["last_interaction_at"] is not None


def test_outsider_cannot_see_customer(world, api_for):
    api = api_for(world.outsider)
    assert_api_error(api.get(f"/customers/{world.customer.pk}"), 404, "not_found")
    assert world.customer.pk not in [c["id"] for c in api.get("/customers").json()["items"]]


def test_outsider_cannot_update_customer(world, api_for):
    api = api_for(world.outsider)
    before = _counts()
    resp = api.patch(f"/customers/{world.customer.pk}", {"name": "被篡改"})
    assert_api_error(resp, 404, "not_found")
    world.customer.refresh_from_db()
    assert world.customer.name == "华为技术有限公司"
    assert _counts() == before


def test_missing_customer_is_404_like_an_invisible_one(world, api_for):
    assert_api_error(api_for(world.owner).get("/customers/987654321"), 404, "not_found")


def test_teammate_sees_customer_only_after_it_is_shared_with_the_team(world, api_for):
    teammate, owner = api_for(world.teammate), api_for(world.owner)
    url = f"/customers/{world.customer.pk}"
    assert_api_error(teammate.get(url), 404, "not_found")

    resp = owner.post(f"/customers/{world.customer.pk}/shares", {"team_id": world.east.pk})
    assert resp.status_code == 201, resp.content
    share = resp.json()
    assert share["team"] == {"id": world.east.pk, "name": "华东组"} and share["user"] is None
    assert teammate.get(url).status_code == 200
    assert world.customer.pk in [c["id"] for c in teammate.get("/customers").json()["items"]]
    # Sharing is a timeline event.
    assert AuditEvent.objects.filter(customer_id=world.customer.pk, action="customer.share").exists()

    assert owner.delete(f"/customers/{world.customer.pk}/shares/{share['id']}").status_code == 204
    assert_api_error(teammate.get(url), 404, "not_found")


def test_teammate_sees_customer_after_share_with_him_personally(world, api_for):
    owner = api_for(world.owner)
    resp = owner.post(f"/customers/{world.customer.pk}/shares", {"user_id": world.teammate.pk})
    assert resp.status_code == 201
    assert api_for(world.teammate).get(f"/customers/{world.customer.pk}").status_code == 200
    # Still invisible to the outsider.
    assert_api_error(api_for(world.outsider).get(f"/customers/{world.customer.pk}"), 404)


def test_teammate_with_a_share_cannot_reshare_the_customer(world, api_for):
    CustomerShare.objects.create(customer=world.customer, user=world.teammate, created_by=world.owner)
    api = api_for(world.teammate)
    before = _counts()
    resp = api.post(f"/customers/{world.customer.pk}/shares", {"user_id": world.outsider.pk})
    assert_api_error(resp, 403, "share_forbidden")
    assert _counts() == before


def test_outsider_cannot_share_or_unshare(world, api_for):
    share = CustomerShare.objects.create(customer=world.customer, team=world.east, created_by=world.owner)
    api = api_for(world.outsider)
    before = _counts()
    resp = api.post(f"/customers/{world.customer.pk}/shares", {"user_id": world.outsider.pk})
    assert_api_error(resp, 404, "not_found")
    assert_api_error(api.delete(f"/customers/{world.customer.pk}/shares/{share.pk}"), 404, "not_found")
    assert _counts() == before


def test_share_needs_exactly_one_target(world, api_for):
    owner = api_for(world.owner)
    before = _counts()
    assert_api_error(owner.post(f"/customers/{world.customer.pk}/shares", {}), 400, "invalid")
    both = {"user_id": world.teammate.pk, "team_id": world.east.pk}
    assert_api_error(owner.post(f"/customers/{world.customer.pk}/shares", both), 400, "invalid")
    unknown = {"user_id": 987654}
    assert_api_error(owner.post(f"/customers/{world.customer.pk}/shares", unknown), 404, "not_found")
    assert _counts() == before


def test_manager_sees_team_customers(world, api_for):
    api = api_for(world.manager)
    assert api.get(f"/customers/{world.customer.pk}").status_code == 200
    ids = [c["id"] for c in api.get("/customers", {"team_id": world.east.pk}).json()["items"]]
    assert world.customer.pk in ids


# --- CRUD ----------------------------------------------------------------------------------------


def test_create_customer_returns_201_and_records_audit(world, api_for):
    api = api_for(world.owner)
    resp = api.post(
        "/customers",
        {
            "name": "  深圳腾达贸易有限公司 ",
            "province": "广东",
            "city": "深圳",
            "relationship_type": "partner",
            "tags": ["展会", "新客户"],
            "latitude": "22.543096",
            "email": "info@tengda.example.com",
        },
    )
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert body["name"] == "深圳腾达贸易有限公司"
    assert body["owner"]["id"] == world.owner.pk and body["team"]["id"] == world.east.pk
    assert sorted(body["tags"]) == ["展会", "新客户"]
    assert body["order_count"] == 0 and body["last_interaction_at"] is None
    event = AuditEvent.objects.get(action="customer.create", object_id=body["id"])
    assert event.source == "api" and event.actor == world.owner
    assert api.get(f"/customers/{body['id']}").json() == body


def test_salesperson_cannot_assign_customer_to_someone_else(world, api_for):
    api = api_for(world.owner)
    before = _counts()
    resp = api.post("/customers", {"name": "某公司", "owner_id": world.teammate.pk})
    assert_api_error(resp, 403, "owner_not_assignable")
    assert _counts() == before


def test_manager_can_assign_customer_to_team_member(world, api_for):
    resp = api_for(world.manager).post("/customers", {"name": "某公司", "owner_id": world.teammate.pk})
    assert resp.status_code == 201, resp.content
    assert resp.json()["owner"]["id"] == world.teammate.pk
    assert api_for(world.teammate).get(f"/customers/{resp.json()['id']}").status_code == 200


def test_patch_customer_changes_only_given_fields_and_history_lists_them(world, api_for):
    api = api_for(world.owner)
    url = f"/customers/{world.customer.pk}"
    resp = api.patch(url, {"city": "东莞", "status": "active", "tags": ["重点", "大客户"]})
    assert resp.status_code == 200, resp.content
    body = resp.json()
    assert body["city"] == "东莞" and body["status"] == "active" and body["province"] == "广东"
    assert sorted(body["tags"]) == ["大客户", "重点"]

    history = api.get(f"{url}/history", {"field": "city"}).json()
    assert (history[0]["field"], history[0]["before"], history[0]["after"]) == ("city", "深圳", "东莞")
    assert history[0]["source"] == "api" and history[0]["actor"] == "王丽"
    fields = {h["field"] for h in api.get(f"{url}/history").json()}
    assert {"city", "status", "tags", "name"} <= fields


def test_outsider_cannot_read_field_history(world, api_for):
    assert_api_error(api_for(world.outsider).get(f"/customers/{world.customer.pk}/history"), 404)


def test_list_customers_filters_and_paginates_with_cursor(world, api_for):
    api = api_for(world.owner)
    for i in range(4):
        assert api.post("/customers", {"name": f"测试公司{i}", "province": "浙江"}).status_code == 201
    page1 = api.get("/customers", {"province": "浙江", "limit": 3, "sort": "name"}).json()
    assert len(page1["items"]) == 3 and page1["next_cursor"]
    page2 = api.get(
        "/customers", {"province": "浙江", "limit": 3, "sort": "name", "cursor": page1["next_cursor"]}
    ).json()
    assert len(page2["items"]) == 1 and page2["next_cursor"] is None
    names = [c["name"] for c in page1["items"] + page2["items"]]
    assert names == [f"测试公司{i}" for i in range(4)]
    tagged = api.get("/customers", {"tag": "重点"}).json()["items"]
    assert [c["id"] for c in tagged] == [world.customer.pk]
    assert api.get("/customers", {"q": "华为"}).json()["items"][0]["id"] == world.customer.pk


# --- Contacts ------------------------------------------------------------------------------------


def test_contact_crud_by_owner(world, api_for):
    api = api_for(world.owner)
    resp = api.post(
        "/contacts",
        {
            "customer_id": world.customer.pk,
            "name": "李娜",
            "title": "总经理",
            "phones": ["139 0013 9001", "0755-8888 6666"],
            "emails": ["Li.Na@Example.com"],
            "is_key": True,
        },
    )
    assert resp.status_code == 201, resp.content
    contact = resp.json()
    assert contact["customer"] == {"id": world.customer.pk, "name": "华为技术有限公司"}
    assert [p["value"] for p in contact["phones"]] == ["+8613900139001", "+8675588886666"]
    assert contact["emails"] == ["Li.Na@Example.com"]
    url = f"/contacts/{contact['id']}"
    assert api.get(url).json() == contact

    resp = api.patch(url, {"title": "董事长", "phones": ["13900139002"]})
    assert resp.status_code == 200, resp.content
    assert resp.json()["title"] == "董事长"
    assert [p["raw"] for p in resp.json()["phones"]] == ["13900139002"]
    assert resp.json()["emails"] == ["Li.Na@Example.com"]
    history = api.get(f"{url}/history", {"field": "title"}).json()
    assert (history[0]["before"], history[0]["after"]) == ("总经理", "董事长")

    listed = api.get("/contacts", {"customer_id": world.customer.pk}).json()["items"]
    assert {c["name"] for c in listed} == {"张伟", "李娜"}

    assert api.delete(url).status_code == 204
    assert_api_error(api.get(url), 404, "not_found")
    assert not Contact.objects.filter(pk=contact["id"]).exists()
    assert AuditEvent.objects.filter(action="contact.delete", object_id=contact["id"]).exists()


def test_outsider_cannot_see_change_or_delete_contact(world, api_for):
    contact = world.customer.contacts.get()
    api = api_for(world.outsider)
    before = _counts()
    assert_api_error(api.get(f"/contacts/{contact.pk}"), 404, "not_found")
    assert_api_error(api.get(f"/contacts/{contact.pk}/history"), 404, "not_found")
    assert_api_error(api.patch(f"/contacts/{contact.pk}", {"name": "改名"}), 404, "not_found")
    assert_api_error(api.delete(f"/contacts/{contact.pk}"), 404, "not_found")
    assert api.get("/contacts").json()["items"] == []
    assert api.get("/contacts", {"customer_id": world.customer.pk}).json()["items"] == []
    resp = api.post("/contacts", {"customer_id": world.customer.pk, "name": "混入者"})
    assert_api_error(resp, 404, "not_found")
    assert _counts() == before
    contact.refresh_from_db()
    assert contact.name == "张伟"


def test_teammate_sees_contacts_once_customer_is_shared(world, api_for):
    contact = world.customer.contacts.get()
    api = api_for(world.teammate)
    assert_api_error(api.get(f"/contacts/{contact.pk}"), 404)
    CustomerShare.objects.create(customer=world.customer, team=world.east, created_by=world.owner)
    assert api.get(f"/contacts/{contact.pk}").json()["name"] == "张伟"


# --- Malformed input: a 4xx with the error shape, nothing written --------------------------------

MALFORMED_CUSTOMERS = [
    pytest.param({"name": "某公司", "colour": "red"}, 422, "validation_error", "colour", id="unknown-field"),
    pytest.param({"name": 123}, 422, "validation_error", "name", id="wrong-type-name"),
    pytest.param({"name": "某公司", "tags": "重点"}, 422, "validation_error", "tags", id="wrong-type-tags"),
    pytest.param(
        {"name": "某公司", "latitude": "north"}, 422, "validation_error", "latitude", id="bad-number"
    ),
    pytest.param({"name": "某公司", "latitude": 91}, 422, "validation_error", "latitude", id="lat-range"),
    pytest.param({"name": ""}, 422, "validation_error", "name", id="empty-name"),
    pytest.param({"name": "   "}, 422, "validation_error", "name", id="blank-name"),
    pytest.param({}, 422, "validation_error", "name", id="missing-name"),
    pytest.param({"name": "某公司", "status": "vip"}, 422, "validation_error", "status", id="bad-enum"),
    pytest.param(
        {"name": "某公司", "relationship_type": "friend"},
        422,
        "validation_error",
        "relationship_type",
        id="bad-enum-relationship",
    ),
    pytest.param(
        {"name": "某公司", "founded_on": "去年"}, 422, "validation_error", "founded_on", id="bad-date"
    ),
    pytest.param(
        {"name": "某公司", "email": "not-an-email"}, 400, "validation_error", "email", id="bad-email"
    ),
    pytest.param({"name": "x" * 201}, 422, "validation_error", "name", id="name-too-long"),
    pytest.param({"name": "某公司", "team_id": 987654}, 404, "not_found", None, id="unknown-team"),
    pytest.param(["某公司"], 422, "validation_error", None, id="not-an-object"),
]


@pytest.mark.parametrize(("payload", "status", "code", "field"), MALFORMED_CUSTOMERS)
def test_malformed_customer_is_rejected_and_nothing_is_written(world, api_for, payload, status, code, field):
    api = api_for(world.owner)
    before = _counts()
    err = assert_api_error(api.post("/customers", payload), status, code)
    if field:
        assert err["field"] == field, err
    assert _counts() == before


def test_malformed_json_body_is_a_4xx_not_a_500(world, api_for):
    api = api_for(world.owner)
    before = _counts()
    resp = api.client.post("/api/v1/customers", "{not json", content_type="application/json")
    assert_api_error(resp, 400, "invalid_json")
    assert _counts() == before


def test_malformed_patch_leaves_customer_unchanged(world, api_for):
    api = api_for(world.owner)
    url = f"/customers/{world.customer.pk}"
    before = _counts()
    assert_api_error(api.patch(url, {"name": ""}), 422, "validation_error")
    assert_api_error(api.patch(url, {"size": "huge"}), 422, "validation_error")
    assert_api_error(api.patch(url, {"id": 5}), 422, "validation_error")
    assert_api_error(api.patch(url, {"email": "nope"}), 400, "validation_error")
    world.customer.refresh_from_db()
    assert world.customer.email == "" and world.customer.size == ""
    assert _counts() == before


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage!!",
        base64.urlsafe_b64encode(b'{"p":0,"v":"x","i":"y"}').decode(),
        base64.urlsafe_b64encode(b'{"p":7,"v":null,"i":1}').decode(),
        base64.urlsafe_b64encode(b'{"p":0,"v":"2024-01-01T00:00:00","i":1}').decode(),
        base64.urlsafe_b64encode(b"[]").decode(),
    ],
)
def test_bad_cursor_is_400_invalid_cursor(world, api_for, cursor):
    err = assert_api_error(api_for(world.owner).get("/customers", {"cursor": cursor}), 400, "invalid_cursor")
    assert err["field"] == "cursor"


def test_bad_list_parameters_are_422(world, api_for):
    api = api_for(world.owner)
    assert_api_error(api.get("/customers", {"sort": "revenue"}), 422, "validation_error")
    assert_api_error(api.get("/customers", {"limit": 0}), 422, "validation_error")
    assert_api_error(api.get("/customers", {"limit": "many"}), 422, "validation_error")
    assert_api_error(api.get("/customers", {"owner_id": "alice"}), 422, "validation_error")


MALFORMED_CONTACTS = [
    pytest.param({"phones": ["not a phone"]}, 400, "invalid_phone", "phones", id="invalid-phone"),
    # Numbers that merely fail to parse are kept raw and flagged ambiguous; only digit-less text is refused.
    pytest.param({"phones": ["N/A"]}, 400, "invalid_phone", "phones", id="no-digits-phone"),
    pytest.param({"emails": ["zhang@"]}, 400, "invalid_email", "emails", id="invalid-email"),
    pytest.param({"emails": "a@b.cn"}, 422, "validation_error", "emails", id="emails-not-a-list"),
    pytest.param({"name": ""}, 422, "validation_error", "name", id="empty-name"),
    pytest.param({"gender": "x"}, 422, "validation_error", "gender", id="bad-enum"),
    pytest.param({"birthday": "2024-02-30"}, 422, "validation_error", "birthday", id="bad-date"),
    pytest.param({"is_key": "perhaps"}, 422, "validation_error", "is_key", id="bad-bool"),
    pytest.param({"hobby": "golf"}, 422, "validation_error", "hobby", id="unknown-field"),
    pytest.param({"customer_id": 987654}, 404, "not_found", None, id="unknown-customer"),
]


@pytest.mark.parametrize(("override", "status", "code", "field"), MALFORMED_CONTACTS)
def test_malformed_contact_is_rejected_and_nothing_is_written(world, api_for, override, status, code, field):
    payload = {"customer_id": world.customer.pk, "name": "李娜", **override}
    api = api_for(world.owner)
    before = _counts()
    err = assert_api_error(api.post("/contacts", payload), status, code)
    if field:
        assert err["field"] == field, err
    assert _counts() == before


def test_invalid_phone_on_contact_update_keeps_old_numbers(world, api_for):
    contact = world.customer.contacts.get()
    api = api_for(world.owner)
    before = _counts()
    resp = api.patch(f"/contacts/{contact.pk}", {"phones": ["abc"], "title": "新职务"})
    assert_api_error(resp, 400, "invalid_phone")
    contact.refresh_from_db()
    assert contact.title == "采购经理"
    assert [p.raw for p in contact.points.filter(kind="phone")] == ["13900139000"]
    assert _counts() == before


# --- Authentication ------------------------------------------------------------------------------


def test_bearer_token_authenticates(world, api_for):
    resp = api_for(world.owner).get("/customers")
    assert resp.status_code == 200
    assert [c["id"] for c in resp.json()["items"]] == [world.customer.pk]


@pytest.mark.parametrize(
    "header",
    ["Bearer gx_not-a-real-token", "Bearer not-even-prefixed", "Basic YWxpY2U6cHc=", "Bearer ", ""],
)
def test_bad_or_missing_token_is_401(world, header):
    client = Client(headers={"Authorization": header} if header else {})
    assert_api_error(client.get("/api/v1/customers"), 401, "unauthenticated")
    before = _counts()
    resp = client.post("/api/v1/customers", {"name": "某公司"}, content_type="application/json")
    assert_api_error(resp, 401, "unauthenticated")
    assert _counts() == before


def test_token_of_deactivated_user_is_401(world, api_for):
    api = api_for(world.owner)
    world.owner.is_active = False
    world.owner.save(update_fields=["is_active"])
    assert_api_error(api.get("/customers"), 401, "unauthenticated")


def _csrf_session_client(user) -> tuple[Client, str]:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    client.get("/customers/")  # renders {% csrf_token %}, which sets the CSRF cookie
    return client, client.cookies["csrftoken"].value


def test_session_auth_reads_without_csrf(world):
    client, _ = _csrf_session_client(world.owner)
    assert client.get(f"/api/v1/customers/{world.customer.pk}").status_code == 200


def test_session_auth_write_without_csrf_header_is_403(world):
    client, _ = _csrf_session_client(world.owner)
    before = _counts()
    resp = client.post("/api/v1/customers", {"name": "某公司"}, content_type="application/json")
    assert_api_error(resp, 403, "forbidden")
    resp = client.patch(
        f"/api/v1/customers/{world.customer.pk}", {"name": "改名"}, content_type="application/json"
    )
    assert_api_error(resp, 403, "forbidden")
    assert _counts() == before


def test_session_auth_write_with_csrf_header_succeeds(world):
    client, token = _csrf_session_client(world.owner)
    resp = client.post(
        "/api/v1/customers",
        {"name": "某公司"},
        content_type="application/json",
        headers={"X-CSRFToken": token},
    )
    assert resp.status_code == 201, resp.content
    resp = client.patch(
        f"/api/v1/customers/{world.customer.pk}",
        {"city": "广州"},
        content_type="application/json",
        headers={"X-CSRFToken": token},
    )
    assert resp.status_code == 200 and resp.json()["city"] == "广州"


def test_bearer_token_write_needs_no_csrf(world, api_for):
    api = api_for(world.owner)
    api.client = Client(enforce_csrf_checks=True, headers={"Authorization": f"Bearer {api.token}"})
    assert api.post("/customers", {"name": "某公司"}).status_code == 201
