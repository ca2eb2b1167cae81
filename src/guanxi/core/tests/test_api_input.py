"""Input the database cannot take is refused at the API's edge with a 400, never a 500.

Found by the schemathesis run: a NUL character in any text crashed PostgreSQL writes and filters
("text fields cannot contain NUL"), and an id beyond 64 bits crashed SQLite ("Python int too large").
"""

from __future__ import annotations

import pytest

from guanxi.audit.models import AuditEvent
from guanxi.conftest import assert_api_error
from guanxi.customers.models import Contact, Customer
from guanxi.engagement.models import Interaction

pytestmark = pytest.mark.django_db


def _counts() -> tuple[int, int, int, int]:
    return (
        Customer.objects.count(),
        Contact.objects.count(),
        Interaction.objects.count(),
        AuditEvent.objects.count(),
    )


@pytest.mark.parametrize(
    ("path", "payload"),
    [
        ("/customers", {"name": "华为\x00技术"}),
        ("/customers", {"name": "某公司", "tags": ["重\x00点"]}),
        ("/customers", {"name": "某公司", "\x00": 1}),
        ("/contacts", {"customer_id": "CUSTOMER", "name": "李娜", "emails": ["a\x00@b.cn"]}),
        ("/interactions", {"customer_id": "CUSTOMER", "channel": "visit", "summary": "\x00"}),
    ],
)
def test_nul_character_in_body_is_400_and_writes_nothing(world, api_for, path, payload):
    api = api_for(world.owner)
    payload = {k: (world.customer.pk if v == "CUSTOMER" else v) for k, v in payload.items()}
    before = _counts()
    assert_api_error(api.post(path, payload), 400, "nul_character")
    assert _counts() == before


def test_nul_character_in_patch_leaves_record_unchanged(world, api_for):
    api = api_for(world.owner)
    assert_api_error(api.patch(f"/customers/{world.customer.pk}", {"city": "深\x00圳"}), 400, "nul_character")
    world.customer.refresh_from_db()
    assert world.customer.city == "深圳"


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/customers", {"province": "广\x00东"}),
        ("/customers", {"q": "\x00"}),
        ("/contacts", {"q": "张\x00"}),
        ("/search", {"q": "华为\x00"}),
    ],
)
def test_nul_character_in_query_is_400(world, api_for, path, params):
    assert_api_error(api_for(world.owner).get(path, params), 400, "nul_character")


@pytest.mark.parametrize(
    ("path", "payload"),
    [
        (
            "/interactions",
            {"customer_id": "CUSTOMER", "channel": "visit", "summary": "x", "contact_ids": [2**70]},
        ),
        ("/interactions", {"customer_id": 2**64, "channel": "visit", "summary": "x"}),
        ("/orders", {"customer_id": "CUSTOMER", "lines": [{"product_id": 2**63, "quantity": 1}]}),
        ("/customers", {"name": "某公司", "owner_id": -(2**63) - 5}),
    ],
)
def test_integer_beyond_64_bits_is_400(world, api_for, path, payload):
    api = api_for(world.owner)
    payload = {k: (world.customer.pk if v == "CUSTOMER" else v) for k, v in payload.items()}
    before = _counts()
    assert_api_error(api.post(path, payload), 400, "number_out_of_range")
    assert _counts() == before


def test_huge_id_in_path_is_404(world, api_for):
    assert_api_error(api_for(world.owner).get(f"/customers/{2**70}"), 404, "not_found")


@pytest.mark.parametrize(
    "raw",
    [
        b"{not json",
        b'{"name": NaN}',
        b'{"name": "x", "latitude": Infinity}',
        b"\xff\xfe",
        b"",
    ],
)
def test_body_that_is_not_json_is_a_4xx_in_the_error_shape(world, api_for, raw):
    api = api_for(world.owner)
    before = _counts()
    resp = api.client.post("/api/v1/customers", raw, content_type="application/json")
    if raw:
        assert_api_error(resp, 400, "invalid_json")
    else:  # no body at all: the required payload is missing
        assert_api_error(resp, 422, "validation_error")
    assert _counts() == before


# Python accepts UTC offsets up to ±23:59, PostgreSQL only up to ±15:59: such datetimes crashed
# queries and writes on PostgreSQL (found by schemathesis on GET /customers/{id}/timeline?before=).
ODD_OFFSET = "2024-05-01T10:00:00-23:30"


def test_datetime_with_extreme_utc_offset_is_stored_as_the_same_instant(world, api_for):
    api = api_for(world.owner)
    resp = api.post(
        "/interactions",
        {
            "customer_id": world.customer.pk,
            "channel": "phone",
            "summary": "跨时区电话",
            "occurred_at": ODD_OFFSET,
        },
    )
    assert resp.status_code == 201, resp.content
    interaction = Interaction.objects.get(pk=resp.json()["id"])
    assert interaction.occurred_at.isoformat() == "2024-05-02T09:30:00+00:00"
    resp = api.patch(f"/interactions/{interaction.pk}", {"occurred_at": "2024-05-01T10:00:00+23:00"})
    assert resp.status_code == 200, resp.content


def test_timeline_before_with_extreme_utc_offset_is_answered(world, api_for):
    resp = api_for(world.owner).get(f"/customers/{world.customer.pk}/timeline", {"before": ODD_OFFSET})
    assert resp.status_code == 200, resp.content


@pytest.mark.parametrize("value", ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-10:00"])
def test_datetime_at_the_edge_of_the_calendar_is_a_4xx_or_answered(world, api_for, value):
    api = api_for(world.owner)
    resp = api.get(f"/customers/{world.customer.pk}/timeline", {"before": value})
    assert resp.status_code in (200, 400), resp.content
    before = _counts()
    resp = api.post(
        "/interactions",
        {"customer_id": world.customer.pk, "channel": "phone", "summary": "x", "occurred_at": value},
    )
    assert resp.status_code in (201, 400), resp.content
    if resp.status_code == 400:
        assert _counts() == before


def test_cursor_with_extreme_utc_offset_is_answered(world, api_for):
    import base64
    import json

    raw = json.dumps({"p": 0, "v": ODD_OFFSET, "i": 1}).encode()
    cursor = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    api = api_for(world.owner)
    assert api.get("/customers", {"cursor": cursor}).status_code == 200
    assert api.get("/interactions", {"cursor": cursor}).status_code == 200
