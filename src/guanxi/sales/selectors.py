"""Reads of products and orders; orders follow their customer's visibility."""

from __future__ import annotations

from django.db.models import QuerySet

from guanxi.accounts.models import User
from guanxi.core.errors import NotFound
from guanxi.core.pagination import Page, SortSpec, paginate
from guanxi.customers.selectors import customer_queryset_for_user
from guanxi.sales.models import Order, Product


def product_list(*, active_only: bool = False, cursor: str | None = None, size: int = 50) -> Page[Product]:
    qs = Product.objects.all()
    if active_only:
        qs = qs.filter(is_active=True)
    return paginate(qs, SortSpec("code", descending=False), cursor=cursor, size=size)


def product_get(*, product_id: int) -> Product:
    product = Product.objects.filter(pk=product_id).first()
    if product is None:
        raise NotFound("产品", "product")
    return product


def order_queryset_for_user(user: User) -> QuerySet[Order]:
    return Order.objects.filter(customer__in=customer_queryset_for_user(user))


def order_get_for_user(*, user: User, order_id: int) -> Order:
    order = (
        order_queryset_for_user(user)
        .select_related("customer")
        .prefetch_related("lines__product")
        .filter(pk=order_id)
        .first()
    )
    if order is None:
        raise NotFound("订单", "order")
    return order


def order_list(
    *, user: User, customer_id: int | None = None, cursor: str | None = None, size: int = 50
) -> Page[Order]:
    qs = order_queryset_for_user(user)
    if customer_id:
        qs = qs.filter(customer_id=customer_id)
    qs = qs.select_related("customer").prefetch_related("lines__product")
    return paginate(qs, SortSpec("ordered_on", descending=True, kind="date"), cursor=cursor, size=size)
