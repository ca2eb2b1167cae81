"""Products (产品) and orders (订单) with their lines: enough for revenue and frequency analytics."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Product(models.Model):
    code = models.CharField(_("编码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=200)
    category = models.CharField(_("类别"), max_length=60, blank=True)
    unit = models.CharField(_("单位"), max_length=20, default="件")
    price = models.DecimalField(_("单价"), max_digits=12, decimal_places=2, default=0)
    # Unit cost (成本); when known, profit is the line's margin, else the value engine assumes a
    # configured default margin.
    cost = models.DecimalField(_("成本"), max_digits=12, decimal_places=2, null=True, blank=True)
    is_active = models.BooleanField(_("在售"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=models.Q(price__gte=0), name="product_price_nonneg"),
            models.CheckConstraint(
                condition=models.Q(cost__isnull=True) | models.Q(cost__gte=0), name="product_cost_nonneg"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class OrderStatus(models.TextChoices):
    CONFIRMED = "confirmed", _("已确认")
    SHIPPED = "shipped", _("已发货")
    COMPLETED = "completed", _("已完成")
    CANCELLED = "cancelled", _("已取消")


class Order(models.Model):
    """An order (订单). ``amount`` is the sum of its lines, kept by the service that writes them."""

    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="orders")
    number = models.CharField(_("订单号"), max_length=40, unique=True)
    ordered_on = models.DateField(_("下单日期"))
    status = models.CharField(
        _("状态"), max_length=10, choices=OrderStatus.choices, default=OrderStatus.CONFIRMED
    )
    amount = models.DecimalField(_("金额"), max_digits=14, decimal_places=2, default=0)
    # Kept by the services with the lines (and when a product's cost changes), so margins are read
    # without joining the lines: Σ quantity × unit cost over the lines whose product has a cost, and
    # Σ amount over the lines whose product has none (the value engine assumes their margin).
    cost = models.DecimalField(_("成本"), max_digits=18, decimal_places=4, default=0)
    uncosted = models.DecimalField(_("无成本金额"), max_digits=14, decimal_places=2, default=0)
    notes = models.TextField(_("备注"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["customer", "ordered_on", "id"], name="order_customer_date")]
        ordering = ["-ordered_on", "-id"]

    def __str__(self) -> str:
        return self.number


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="order_lines")
    quantity = models.DecimalField(_("数量"), max_digits=12, decimal_places=2)
    unit_price = models.DecimalField(_("单价"), max_digits=12, decimal_places=2)
    amount = models.DecimalField(_("金额"), max_digits=14, decimal_places=2)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(quantity__gt=0), name="orderline_quantity_pos"),
            models.CheckConstraint(condition=models.Q(unit_price__gte=0), name="orderline_price_nonneg"),
        ]

    def __str__(self) -> str:
        return f"{self.order_id}: {self.product_id} × {self.quantity}"
