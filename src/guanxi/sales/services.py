"""Writes for products and orders; keeps the customer's order figures current."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Max, Sum
from django.utils import timezone

from guanxi.accounts.models import User
from guanxi.audit.models import Source
from guanxi.audit.services import audit_record, diff, snapshot
from guanxi.core.errors import Conflict, ValidationFailed, require
from guanxi.customers.models import Customer
from guanxi.sales.models import Order, OrderLine, OrderStatus, Product

PRODUCT_FIELDS = ["code", "name", "category", "unit", "price", "cost", "is_active"]
ORDER_FIELDS = ["number", "ordered_on", "status", "amount", "notes"]
MAX_LINES = 500
CENT = Decimal("0.01")


@dataclass(frozen=True)
class LineInput:
    product: Product
    quantity: Decimal
    unit_price: Decimal | None = None  # defaults to the product's list price


def _decimal(value: Any, field: str, *, positive: bool = False) -> Decimal:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValidationFailed(f"{field} 不是数字", f"{field} is not a number", field=field) from None
    require(number.is_finite(), f"{field} 不是有限数字", f"{field} must be finite", field=field)
    require(
        number > 0 if positive else number >= 0,
        f"{field} 必须{'大于' if positive else '不小于'}0",
        f"{field} must be {'positive' if positive else 'zero or more'}",
        field=field,
    )
    require(abs(number) < Decimal("1e10"), f"{field} 过大", f"{field} is too large", field=field)
    return number.quantize(CENT)


@transaction.atomic
def product_create(
    *,
    actor: User,
    source: Source,
    code: str,
    name: str,
    price: Any = 0,
    category: str = "",
    unit: str = "件",
    is_active: bool = True,
    cost: Any = None,
) -> Product:
    code, name = (code or "").strip(), (name or "").strip()
    require(
        bool(code) and len(code) <= 40,
        "产品编码必填且不超过40字",
        "product code is required (max 40)",
        field="code",
    )
    require(
        bool(name) and len(name) <= 200,
        "产品名称必填且不超过200字",
        "product name is required (max 200)",
        field="name",
    )
    require(
        len(category) <= 60 and len(unit) <= 20,
        "类别或单位过长",
        "category or unit too long",
        field="category",
    )
    if Product.objects.filter(code=code).exists():
        raise Conflict("产品编码已存在", "product code already exists", field="code", code="duplicate_code")
    product = Product.objects.create(
        code=code,
        name=name,
        price=_decimal(price, "price"),
        cost=None if cost is None else _decimal(cost, "cost"),
        category=category,
        unit=unit,
        is_active=is_active,
    )
    audit_record(
        actor=actor,
        source=source,
        action="product.create",
        obj=product,
        changes=diff({}, snapshot(product, PRODUCT_FIELDS)),
    )
    return product


@transaction.atomic
def product_update(*, actor: User, source: Source, product: Product, **data: Any) -> Product:
    unknown = set(data) - set(PRODUCT_FIELDS)
    require(
        not unknown,
        f"未知字段：{', '.join(sorted(unknown))}",
        f"unknown fields: {', '.join(sorted(unknown))}",
    )
    before = snapshot(product, PRODUCT_FIELDS)
    if "price" in data:
        data["price"] = _decimal(data["price"], "price")
    if "cost" in data and data["cost"] is not None:
        data["cost"] = _decimal(data["cost"], "cost")  # unit cost (成本): margins in guanxi.value
    if "code" in data:
        data["code"] = (data["code"] or "").strip()
        require(
            bool(data["code"]) and len(data["code"]) <= 40,
            "产品编码必填且不超过40字",
            "product code is required (max 40)",
            field="code",
        )
        if Product.objects.filter(code=data["code"]).exclude(pk=product.pk).exists():
            raise Conflict(
                "产品编码已存在", "product code already exists", field="code", code="duplicate_code"
            )
    if "name" in data:
        data["name"] = (data["name"] or "").strip()
        require(
            bool(data["name"]) and len(data["name"]) <= 200,
            "产品名称必填",
            "product name is required",
            field="name",
        )
    for k, v in data.items():
        setattr(product, k, v)
    product.save()
    changes = diff(before, snapshot(product, PRODUCT_FIELDS))
    if "cost" in changes:
        refresh_order_costs(product_id=product.pk)
    if changes:
        audit_record(actor=actor, source=source, action="product.update", obj=product, changes=changes)
    return product


ORDER_COSTS_SQL = """
UPDATE sales_order SET
    cost = COALESCE((SELECT SUM(l.quantity * p.cost) FROM sales_orderline l
        JOIN sales_product p ON p.id = l.product_id
        WHERE l.order_id = sales_order.id AND p.cost IS NOT NULL), 0),
    uncosted = COALESCE((SELECT SUM(l.amount) FROM sales_orderline l
        JOIN sales_product p ON p.id = l.product_id
        WHERE l.order_id = sales_order.id AND p.cost IS NULL), 0)
"""


def refresh_order_costs(*, product_id: int | None = None) -> int:
    """Recompute the orders' ``cost`` and ``uncosted`` from their lines and today's unit costs: those
    with a line of ``product_id`` (its cost changed), or every order (the migration that adds them)."""
    sql, params = ORDER_COSTS_SQL, []
    if product_id is not None:
        sql += " WHERE id IN (SELECT order_id FROM sales_orderline WHERE product_id = %s)"
        params = [product_id]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return int(cursor.rowcount or 0)


def refresh_customer_order_figures(customer_id: int) -> None:
    """Recompute the customer's order count, revenue and last order date from its own orders."""
    figures = (
        Order.objects.filter(customer_id=customer_id)
        .exclude(status=OrderStatus.CANCELLED)
        .aggregate(n=Count("id"), total=Sum("amount"), last=Max("ordered_on"))
    )
    Customer.objects.filter(pk=customer_id).update(
        order_count=figures["n"] or 0, revenue_total=figures["total"] or 0, last_order_at=figures["last"]
    )


def _next_number(ordered_on: dt.date) -> str:
    """SO<date>-<n>: one more than the highest number used that day (gaps are fine, clashes retried)."""
    prefix = f"SO{ordered_on:%Y%m%d}-"
    used = Order.objects.filter(number__startswith=prefix).values_list("number", flat=True)
    highest = max((int(n[len(prefix) :]) for n in used if n[len(prefix) :].isdigit()), default=0)
    return f"{prefix}{highest + 1:04d}"


@transaction.atomic
def order_create(
    *,
    actor: User,
    source: Source,
    customer: Customer,
    lines: list[LineInput],
    ordered_on: dt.date | None = None,
    number: str = "",
    status: str = OrderStatus.CONFIRMED,
    notes: str = "",
) -> Order:
    require(bool(lines), "订单至少需要一行", "an order needs at least one line", field="lines")
    require(len(lines) <= MAX_LINES, f"订单最多 {MAX_LINES} 行", f"at most {MAX_LINES} lines", field="lines")
    require(status in OrderStatus.values, f"未知状态：{status}", f"unknown status: {status}", field="status")
    ordered_on = ordered_on or timezone.localdate()
    require(
        ordered_on <= timezone.localdate() + dt.timedelta(days=1),
        "下单日期不能在未来",
        "ordered_on cannot be in the future",
        field="ordered_on",
    )
    number = (number or "").strip()
    automatic = not number
    require(len(number) <= 40, "订单号不超过40字", "order number at most 40 characters", field="number")
    if number and Order.objects.filter(number=number).exists():
        raise Conflict("订单号已存在", "order number already exists", field="number", code="duplicate_number")
    built: list[OrderLine] = []
    for line in lines:
        quantity = _decimal(line.quantity, "quantity", positive=True)
        unit_price = _decimal(
            line.unit_price if line.unit_price is not None else line.product.price, "unit_price"
        )
        built.append(
            OrderLine(
                product=line.product,
                quantity=quantity,
                unit_price=unit_price,
                amount=(quantity * unit_price).quantize(CENT),
            )
        )
    amount = sum((b.amount for b in built), Decimal(0))
    require(amount < Decimal("1e12"), "订单金额过大", "order amount too large", field="lines")
    cost = sum((b.quantity * b.product.cost for b in built if b.product.cost is not None), Decimal(0))
    uncosted = sum((b.amount for b in built if b.product.cost is None), Decimal(0))
    number = number or _next_number(ordered_on)
    for attempt in range(5):
        try:
            with transaction.atomic():
                order = Order.objects.create(
                    customer=customer,
                    number=number,
                    ordered_on=ordered_on,
                    status=status,
                    amount=amount,
                    cost=cost,
                    uncosted=uncosted,
                    notes=notes,
                    created_by=actor,
                )
            break
        except IntegrityError:
            # Another order took the number between our read and our write: take the next one.
            if not automatic or attempt == 4:
                raise Conflict(
                    "订单号已存在", "order number already exists", field="number", code="duplicate_number"
                ) from None
            number = _next_number(ordered_on)
    for b in built:
        b.order = order
    OrderLine.objects.bulk_create(built)
    refresh_customer_order_figures(customer.pk)
    changes = diff({}, snapshot(order, ORDER_FIELDS))
    changes["lines"] = [[], [f"{b.product.code} × {b.quantity} @ {b.unit_price}" for b in built]]
    audit_record(
        actor=actor, source=source, action="order.create", obj=order, customer_id=customer.pk, changes=changes
    )
    return order


@transaction.atomic
def order_update(
    *, actor: User, source: Source, order: Order, status: str | None = None, notes: str | None = None
) -> Order:
    order = Order.objects.select_for_update().get(pk=order.pk)
    before = snapshot(order, ORDER_FIELDS)
    if status is not None:
        require(
            status in OrderStatus.values, f"未知状态：{status}", f"unknown status: {status}", field="status"
        )
        order.status = status
    if notes is not None:
        order.notes = notes
    order.save(update_fields=["status", "notes"])
    changes = diff(before, snapshot(order, ORDER_FIELDS))
    if "status" in changes:
        refresh_customer_order_figures(order.customer_id)
    if changes:
        audit_record(
            actor=actor,
            source=source,
            action="order.update",
            obj=order,
            customer_id=order.customer_id,
            changes=changes,
        )
    return order
