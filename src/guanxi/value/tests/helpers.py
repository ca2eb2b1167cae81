"""Test helpers: orders with known amounts and margins, written straight to the tables (the value
engine reads them set-based; sales' own services are tested in guanxi.sales)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from itertools import count

from guanxi.customers.models import Customer
from guanxi.sales.models import Order, OrderLine, Product

_numbers = count(1)


def product(code: str, *, price: str = "100", cost: str | None = None, category: str = "设备") -> Product:
    return Product.objects.create(
        code=code,
        name=code,
        price=Decimal(price),
        cost=Decimal(cost) if cost is not None else None,
        category=category,
    )


def order(
    customer: Customer,
    day: dt.date,
    *,
    product_: Product,
    quantity: int = 1,
    unit_price: str | None = None,
    status: str = "completed",
) -> Order:
    price = Decimal(unit_price) if unit_price is not None else product_.price
    amount = price * quantity
    o = Order.objects.create(
        customer=customer,
        number=f"T{next(_numbers):06d}",
        ordered_on=day,
        amount=amount,
        status=status,
        # As sales.services.order_create keeps them: the cost of costed lines, the amount of the rest.
        cost=quantity * product_.cost if product_.cost is not None else 0,
        uncosted=amount if product_.cost is None else 0,
    )
    OrderLine.objects.create(order=o, product=product_, quantity=quantity, unit_price=price, amount=amount)
    return o
