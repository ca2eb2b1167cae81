"""JSON endpoints for products and orders."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status
from pydantic import ConfigDict

from guanxi.audit.models import Source
from guanxi.core.api import ERRORS, actor
from guanxi.core.errors import NotFound, PermissionDenied
from guanxi.customers.selectors import customer_get_for_user
from guanxi.sales import selectors, services
from guanxi.sales.models import Order, Product

router = Router(tags=["sales"])
StatusLit = Literal["confirmed", "shipped", "completed", "cancelled"]
Money = Annotated[Decimal, Field(ge=0, lt=Decimal("1e10"), max_digits=12, decimal_places=2)]


class ProductIn(Schema):
    model_config = ConfigDict(extra="forbid")
    code: Annotated[str, Field(min_length=1, max_length=40, pattern=r"\S")]
    name: Annotated[str, Field(min_length=1, max_length=200, pattern=r"\S")]
    category: Annotated[str, Field(max_length=60)] = ""
    unit: Annotated[str, Field(min_length=1, max_length=20)] = "件"
    price: Money = Decimal(0)
    cost: Money | None = None
    is_active: bool = True


class ProductPatch(Schema):
    model_config = ConfigDict(extra="forbid")
    code: Annotated[str, Field(min_length=1, max_length=40, pattern=r"\S")] | None = None
    name: Annotated[str, Field(min_length=1, max_length=200, pattern=r"\S")] | None = None
    category: Annotated[str, Field(max_length=60)] | None = None
    unit: Annotated[str, Field(min_length=1, max_length=20)] | None = None
    price: Money | None = None
    cost: Money | None = None
    is_active: bool | None = None


class ProductOut(Schema):
    id: int
    code: str
    name: str
    category: str
    unit: str
    price: Decimal
    cost: Decimal | None
    is_active: bool


class ProductPage(Schema):
    items: list[ProductOut]
    next_cursor: str | None


class LineIn(Schema):
    model_config = ConfigDict(extra="forbid")
    product_id: int
    quantity: Annotated[Decimal, Field(gt=0, lt=Decimal("1e9"), max_digits=12, decimal_places=2)]
    unit_price: Money | None = None


class OrderIn(Schema):
    model_config = ConfigDict(extra="forbid")
    customer_id: int
    number: Annotated[str, Field(max_length=40)] = ""
    ordered_on: dt.date | None = None
    status: StatusLit = "confirmed"
    notes: Annotated[str, Field(max_length=5000)] = ""
    lines: Annotated[list[LineIn], Field(min_length=1, max_length=500)]


class OrderPatch(Schema):
    model_config = ConfigDict(extra="forbid")
    status: StatusLit | None = None
    notes: Annotated[str, Field(max_length=5000)] | None = None


class LineOut(Schema):
    product_id: int
    product_code: str
    product_name: str
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal


class OrderOut(Schema):
    id: int
    customer_id: int
    customer_name: str
    number: str
    ordered_on: dt.date
    status: str
    amount: Decimal
    notes: str
    lines: list[LineOut]
    created_at: dt.datetime


class OrderPage(Schema):
    items: list[OrderOut]
    next_cursor: str | None


def product_out(p: Product) -> dict[str, Any]:
    return {k: getattr(p, k) for k in ("code", "name", "category", "unit", "price", "cost", "is_active")} | {
        "id": p.pk
    }


def order_out(o: Order) -> dict[str, Any]:
    return {
        "id": o.pk,
        "customer_id": o.customer_id,
        "customer_name": o.customer.name,
        "number": o.number,
        "ordered_on": o.ordered_on,
        "status": o.status,
        "amount": o.amount,
        "notes": o.notes,
        "created_at": o.created_at,
        "lines": [
            {
                "product_id": ln.product_id,
                "product_code": ln.product.code,
                "product_name": ln.product.name,
                "quantity": ln.quantity,
                "unit_price": ln.unit_price,
                "amount": ln.amount,
            }
            for ln in o.lines.all()
        ],
    }


def _require_catalog_editor(request: HttpRequest) -> Any:
    user = actor(request)
    if not (user.is_admin or user.is_manager):
        raise PermissionDenied(
            "只有经理或管理员可以维护产品", "only managers and administrators edit products", code="forbidden"
        )
    return user


@router.get("/products", response={200: ProductPage, **ERRORS}, summary="Product catalogue")
def list_products(
    request: HttpRequest,
    active_only: bool = False,
    cursor: Annotated[str, Field(max_length=500)] | None = None,
    limit: Annotated[int, Field(ge=1, le=200)] = 50,
) -> dict[str, Any]:
    page = selectors.product_list(active_only=active_only, cursor=cursor, size=limit)
    return {"items": [product_out(p) for p in page.items], "next_cursor": page.next_cursor}


@router.post("/products", response={201: ProductOut, **ERRORS}, summary="Create a product")
def create_product(request: HttpRequest, payload: ProductIn) -> Status[dict[str, Any]]:
    user = _require_catalog_editor(request)
    product = services.product_create(actor=user, source=Source.API, **payload.model_dump())
    return Status(201, product_out(product))


@router.get("/products/{product_id}", response={200: ProductOut, **ERRORS}, summary="One product")
def get_product(request: HttpRequest, product_id: int) -> dict[str, Any]:
    return product_out(selectors.product_get(product_id=product_id))


@router.patch("/products/{product_id}", response={200: ProductOut, **ERRORS}, summary="Update a product")
def update_product(request: HttpRequest, product_id: int, payload: ProductPatch) -> dict[str, Any]:
    user = _require_catalog_editor(request)
    product = selectors.product_get(product_id=product_id)
    data = {k: v for k, v in payload.model_dump(exclude_unset=True).items() if v is not None}
    return product_out(services.product_update(actor=user, source=Source.API, product=product, **data))


@router.get("/orders", response={200: OrderPage, **ERRORS}, summary="Orders of customers you can see")
def list_orders(
    request: HttpRequest,
    customer_id: int | None = None,
    cursor: Annotated[str, Field(max_length=500)] | None = None,
    limit: Annotated[int, Field(ge=1, le=200)] = 50,
) -> dict[str, Any]:
    page = selectors.order_list(user=actor(request), customer_id=customer_id, cursor=cursor, size=limit)
    return {"items": [order_out(o) for o in page.items], "next_cursor": page.next_cursor}


@router.post("/orders", response={201: OrderOut, **ERRORS}, summary="Record an order")
def create_order(request: HttpRequest, payload: OrderIn) -> Status[dict[str, Any]]:
    user = actor(request)
    customer = customer_get_for_user(user=user, customer_id=payload.customer_id)
    products = Product.objects.in_bulk({ln.product_id for ln in payload.lines})
    lines = []
    for ln in payload.lines:
        if ln.product_id not in products:
            raise NotFound("产品", "product")
        lines.append(services.LineInput(products[ln.product_id], ln.quantity, ln.unit_price))
    order = services.order_create(
        actor=user,
        source=Source.API,
        customer=customer,
        lines=lines,
        ordered_on=payload.ordered_on,
        number=payload.number,
        status=payload.status,
        notes=payload.notes,
    )
    return Status(201, order_out(selectors.order_get_for_user(user=user, order_id=order.pk)))


@router.get("/orders/{order_id}", response={200: OrderOut, **ERRORS}, summary="One order")
def get_order(request: HttpRequest, order_id: int) -> dict[str, Any]:
    return order_out(selectors.order_get_for_user(user=actor(request), order_id=order_id))


@router.patch(
    "/orders/{order_id}", response={200: OrderOut, **ERRORS}, summary="Change an order's status or notes"
)
def update_order(request: HttpRequest, order_id: int, payload: OrderPatch) -> dict[str, Any]:
    user = actor(request)
    order = selectors.order_get_for_user(user=user, order_id=order_id)
    services.order_update(
        actor=user, source=Source.API, order=order, status=payload.status, notes=payload.notes
    )
    return order_out(selectors.order_get_for_user(user=user, order_id=order_id))
