"""The products and orders API: catalogue permissions, order figures on the customer, bad input."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from guanxi.audit.models import AuditEvent, Source
from guanxi.conftest import assert_api_error
from guanxi.customers.models import Customer, CustomerShare
from guanxi.sales.models import Order, OrderLine, Product
from guanxi.sales.services import product_update
from guanxi.testing.factories import ProductFactory

pytestmark = pytest.mark.django_db


def _counts() -> tuple[int, int, int, int]:
    return (
        Product.objects.count(),
        Order.objects.count(),
        OrderLine.objects.count(),
        AuditEvent.objects.count(),
    )


def _figures(customer: Customer) -> tuple[int, Decimal, dt.date | None]:
    customer.refresh_from_db()
    return customer.order_count, customer.revenue_total, customer.last_order_at


@pytest.fixture
def products(world):
    return [
        ProductFactory(code="A-100", name="路由器", price=Decimal("1200.00")),
        ProductFactory(code="B-200", name="交换机", price=Decimal("350.50")),
    ]


# --- Products: a shared catalogue; only managers and admins edit it ------------------------------


def test_salesperson_can_read_the_catalogue(world, api_for, products):
    api = api_for(world.outsider)
    items = api.get("/products").json()["items"]
    assert [p["code"] for p in items] == ["A-100", "B-200"]
    resp = api.get(f"/products/{products[0].pk}")
    assert resp.status_code == 200
    assert resp.json() == {
        "id": products[0].pk,
        "code": "A-100",
        "name": "路由器",
        "category": "",
        "unit": "件",
        "price": "1200.00",
        "cost": None,  # unit cost, when known: margins in guanxi.value
        "is_active": True,
    }
    assert_api_error(api.get("/products/987654"), 404, "not_found")


def test_salesperson_cannot_create_or_edit_products(world, api_for, products):
    api = api_for(world.owner)
    before = _counts()
    assert_api_error(api.post("/products", {"code": "C-1", "name": "网关"}), 403, "forbidden")
    assert_api_error(api.patch(f"/products/{products[0].pk}", {"price": "1.00"}), 403, "forbidden")
    assert _counts() == before
    products[0].refresh_from_db()
    assert products[0].price == Decimal("1200.00")


@pytest.mark.parametrize("role", ["manager", "admin"])
def test_manager_and_admin_can_create_and_edit_products(world, api_for, role):
    api = api_for(getattr(world, role))
    resp = api.post("/products", {"code": "C-1", "name": "网关", "price": "99.90", "unit": "台"})
    assert resp.status_code == 201, resp.content
    product = resp.json()
    assert product["price"] == "99.90" and product["unit"] == "台"
    resp = api.patch(f"/products/{product['id']}", {"price": "89.00", "is_active": False})
    assert resp.status_code == 200, resp.content
    assert resp.json()["price"] == "89.00" and resp.json()["is_active"] is False
    resp = api.patch(f"/products/{product['id']}", {"cost": "52.50"})
    assert resp.status_code == 200 and resp.json()["cost"] == "52.50"
    assert_api_error(api.patch(f"/products/{product['id']}", {"cost": "-1"}), 422)
    assert [p["code"] for p in api.get("/products", {"active_only": True}).json()["items"]] == []


def test_duplicate_product_code_is_409(world, api_for, products):
    api = api_for(world.admin)
    before = _counts()
    assert_api_error(api.post("/products", {"code": "A-100", "name": "重复"}), 409, "duplicate_code")
    assert_api_error(api.patch(f"/products/{products[1].pk}", {"code": "A-100"}), 409, "duplicate_code")
    assert _counts() == before


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param({"code": "C-1", "name": "网关", "price": "-1"}, id="negative-price"),
        pytest.param({"code": "C-1", "name": "网关", "price": "abc"}, id="price-not-a-number"),
        pytest.param({"code": "", "name": "网关"}, id="empty-code"),
        pytest.param({"code": "C-1", "name": " "}, id="blank-name"),
        pytest.param({"code": "C-1", "name": "网关", "colour": "red"}, id="unknown-field"),
        pytest.param({"code": "C-1", "name": "网关", "is_active": "sometimes"}, id="bad-bool"),
    ],
)
def test_malformed_product_is_422_and_nothing_is_written(world, api_for, payload):
    api = api_for(world.admin)
    before = _counts()
    assert_api_error(api.post("/products", payload), 422, "validation_error")
    assert _counts() == before


# --- Orders --------------------------------------------------------------------------------------


def test_order_creation_updates_customer_figures_and_cancel_reduces_revenue(world, api_for, products):
    api = api_for(world.owner)
    today = timezone.localdate()
    assert _figures(world.customer) == (0, Decimal(0), None)
    resp = api.post(
        "/orders",
        {
            "customer_id": world.customer.pk,
            "lines": [
                {"product_id": products[0].pk, "quantity": "2"},
                {"product_id": products[1].pk, "quantity": "1.5", "unit_price": "300.00"},
            ],
            "notes": "首单",
        },
    )
    assert resp.status_code == 201, resp.content
    first = resp.json()
    assert first["amount"] == "2850.00"  # 2 × 1200 + 1.5 × 300
    assert first["ordered_on"] == today.isoformat() and first["status"] == "confirmed"
    assert first["number"].startswith(f"SO{today:%Y%m%d}-")
    assert [ln["amount"] for ln in first["lines"]] == ["2400.00", "450.00"]
    assert _figures(world.customer) == (1, Decimal("2850.00"), today)

    back = today - dt.timedelta(days=40)
    second = api.post(
        "/orders",
        {
            "customer_id": world.customer.pk,
            "ordered_on": back.isoformat(),
            "lines": [{"product_id": products[1].pk, "quantity": "10"}],
        },
    ).json()
    assert second["amount"] == "3505.00"
    assert _figures(world.customer) == (2, Decimal("6355.00"), today)

    resp = api.patch(f"/orders/{first['id']}", {"status": "cancelled"})
    assert resp.status_code == 200, resp.content
    assert resp.json()["status"] == "cancelled"
    assert _figures(world.customer) == (1, Decimal("3505.00"), back)
    assert AuditEvent.objects.filter(action="order.update", object_id=first["id"]).exists()

    # Shown on the customer in the API too.
    customer = api.get(f"/customers/{world.customer.pk}").json()
    assert (customer["order_count"], customer["revenue_total"]) == (1, "3505.00")
    assert customer["last_order_at"] == back.isoformat()


def test_list_and_get_orders(world, api_for, products):
    api = api_for(world.owner)
    ids = [
        api.post(
            "/orders",
            {"customer_id": world.customer.pk, "lines": [{"product_id": products[0].pk, "quantity": 1}]},
        ).json()["id"]
        for _ in range(3)
    ]
    page = api.get("/orders", {"customer_id": world.customer.pk, "limit": 2}).json()
    assert len(page["items"]) == 2 and page["next_cursor"]
    rest = api.get("/orders", {"customer_id": world.customer.pk, "limit": 2, "cursor": page["next_cursor"]})
    assert {o["id"] for o in page["items"] + rest.json()["items"]} == set(ids)
    order = api.get(f"/orders/{ids[0]}").json()
    assert order["customer_name"] == "华为技术有限公司"
    assert order["lines"][0]["product_code"] == "A-100"
    assert_api_error(api.get("/orders", {"cursor": "!!"}), 400, "invalid_cursor")


def test_outsider_cannot_see_change_or_create_orders(world, api_for, products):
    owner = api_for(world.owner)
    order = owner.post(
        "/orders",
        {"customer_id": world.customer.pk, "lines": [{"product_id": products[0].pk, "quantity": 1}]},
    ).json()
    api = api_for(world.outsider)
    figures = _figures(world.customer)
    before = _counts()
    assert_api_error(api.get(f"/orders/{order['id']}"), 404, "not_found")
    assert_api_error(api.patch(f"/orders/{order['id']}", {"status": "cancelled"}), 404, "not_found")
    assert api.get("/orders").json()["items"] == []
    resp = api.post(
        "/orders",
        {"customer_id": world.customer.pk, "lines": [{"product_id": products[0].pk, "quantity": 1}]},
    )
    assert_api_error(resp, 404, "not_found")
    assert _counts() == before
    assert _figures(world.customer) == figures
    assert Order.objects.get(pk=order["id"]).status == "confirmed"


def test_teammate_sees_orders_only_after_share(world, api_for, products):
    owner = api_for(world.owner)
    order = owner.post(
        "/orders",
        {"customer_id": world.customer.pk, "lines": [{"product_id": products[0].pk, "quantity": 1}]},
    ).json()
    api = api_for(world.teammate)
    assert_api_error(api.get(f"/orders/{order['id']}"), 404)
    CustomerShare.objects.create(customer=world.customer, team=world.east, created_by=world.owner)
    assert api.get(f"/orders/{order['id']}").status_code == 200


MALFORMED_ORDERS = [
    pytest.param({"lines": []}, 422, "validation_error", "lines", id="zero-lines"),
    pytest.param({"lines": None}, 422, "validation_error", "lines", id="lines-null"),
    pytest.param({"lines": "many"}, 422, "validation_error", "lines", id="lines-not-a-list"),
    pytest.param(
        {"lines": [{"product_id": "P", "quantity": -1}]}, 422, "validation_error", None, id="neg-qty"
    ),
    pytest.param(
        {"lines": [{"product_id": "P", "quantity": 0}]}, 422, "validation_error", None, id="zero-qty"
    ),
    pytest.param(
        {"lines": [{"product_id": "P", "quantity": "x"}]},
        422,
        "validation_error",
        None,
        id="qty-not-a-number",
    ),
    pytest.param(
        {"lines": [{"product_id": "P", "quantity": 1, "unit_price": "-3"}]},
        422,
        "validation_error",
        None,
        id="negative-price",
    ),
    pytest.param(
        {"lines": [{"product_id": "P", "quantity": 1, "discount": 5}]},
        422,
        "validation_error",
        None,
        id="unknown-line-field",
    ),
    pytest.param(
        {"lines": [{"product_id": 987654, "quantity": 1}]}, 404, "not_found", None, id="unknown-product"
    ),
    pytest.param({"status": "lost"}, 422, "validation_error", "status", id="bad-enum-status"),
    pytest.param({"ordered_on": "2999-01-01"}, 400, "invalid", "ordered_on", id="future-date"),
    pytest.param({"ordered_on": "01/02/2025"}, 422, "validation_error", "ordered_on", id="bad-date"),
    pytest.param({"customer_id": 987654}, 404, "not_found", None, id="unknown-customer"),
    pytest.param({"rebate": "5%"}, 422, "validation_error", "rebate", id="unknown-field"),
]


@pytest.mark.parametrize(("override", "status", "code", "field"), MALFORMED_ORDERS)
def test_malformed_order_is_rejected_and_nothing_is_written(
    world, api_for, products, override, status, code, field
):
    api = api_for(world.owner)
    payload = {"customer_id": world.customer.pk, "lines": [{"product_id": products[0].pk, "quantity": 1}]}
    payload.update(override)
    for line in payload["lines"] if isinstance(payload["lines"], list) else []:
        if line.get("product_id") == "P":
            line["product_id"] = products[0].pk
    before = _counts()
    err = assert_api_error(api.post("/orders", payload), status, code)
    if field:
        assert err["field"] == field, err
    assert _counts() == before
    assert _figures(world.customer) == (0, Decimal(0), None)


def test_duplicate_order_number_is_409(world, api_for, products):
    api = api_for(world.owner)
    payload = {
        "customer_id": world.customer.pk,
        "number": "HT-2025-001",
        "lines": [{"product_id": products[0].pk, "quantity": 1}],
    }
    assert api.post("/orders", payload).status_code == 201
    before = _counts()
    assert_api_error(api.post("/orders", payload), 409, "duplicate_number")
    assert _counts() == before


def test_bad_order_patch_leaves_order_unchanged(world, api_for, products):
    api = api_for(world.owner)
    order = api.post(
        "/orders",
        {"customer_id": world.customer.pk, "lines": [{"product_id": products[0].pk, "quantity": 1}]},
    ).json()
    before = _counts()
    url = f"/orders/{order['id']}"
    assert_api_error(api.patch(url, {"status": "lost"}), 422, "validation_error")
    assert_api_error(api.patch(url, {"amount": "1.00"}), 422, "validation_error")
    assert _counts() == before
    assert api.get(url).json() == order


def test_automatic_order_numbers_skip_numbers_taken_by_hand(world):
    import datetime as dt
    from decimal import Decimal

    from django.utils import timezone

    from guanxi.sales.services import LineInput, order_create
    from guanxi.testing.factories import ProductFactory

    product = ProductFactory()
    today = timezone.localdate() - dt.timedelta(days=1)
    taken = f"SO{today:%Y%m%d}-0001"
    order_create(
        actor=world.owner,
        source="api",
        customer=world.customer,
        lines=[LineInput(product, Decimal(1))],
        ordered_on=today,
        number=taken,
    )
    auto = order_create(
        actor=world.owner,
        source="api",
        customer=world.customer,
        lines=[LineInput(product, Decimal(1))],
        ordered_on=today,
    )
    assert auto.number == f"SO{today:%Y%m%d}-0002"


def test_orders_keep_their_cost_and_follow_a_products_cost_change(world, api_for, products):
    """An order carries Σ quantity × unit cost of its costed lines and the amount of the others (the
    value engine's margin reads them); setting a product's cost re-derives both on its orders."""
    products[0].cost = Decimal("700.00")
    products[0].save()
    api = api_for(world.owner)
    resp = api.post(
        "/orders",
        {
            "customer_id": world.customer.pk,
            "lines": [
                {"product_id": products[0].pk, "quantity": "2"},
                {"product_id": products[1].pk, "quantity": "1.5", "unit_price": "300.00"},
            ],
        },
    )
    assert resp.status_code == 201, resp.content
    order = Order.objects.get(pk=resp.json()["id"])
    assert (order.cost, order.uncosted) == (Decimal("1400.0000"), Decimal("450.00"))
    other = Order.objects.create(customer=world.customer, number="X-1", ordered_on=order.ordered_on)
    manager = api_for(world.manager)
    resp = manager.patch(f"/products/{products[1].pk}", {"cost": "100.00"})
    assert resp.status_code == 200, resp.content
    order.refresh_from_db()
    assert (order.cost, order.uncosted) == (Decimal("1550.0000"), Decimal("0.00"))  # + 1.5 × 100
    other.refresh_from_db()
    assert (other.cost, other.uncosted) == (Decimal("0.0000"), Decimal("0.00"))  # no line of it: untouched
    product_update(
        actor=world.manager, source=Source.UI, product=products[0], cost=None
    )  # cost unknown again
    order.refresh_from_db()
    assert (order.cost, order.uncosted) == (Decimal("150.0000"), Decimal("2400.00"))
