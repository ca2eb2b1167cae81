"""Checks shared by the service package's writes."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from guanxi.accounts.models import User
from guanxi.core.errors import NotFound, ValidationFailed, require
from guanxi.customers.models import Contact, Customer
from guanxi.customers.selectors import customer_queryset_for_user
from guanxi.pipeline.models import Opportunity
from guanxi.pipeline.selectors import opportunity_queryset_for_user

# Dates further than this from today are almost certainly typing mistakes (2062 for 2026).
DATE_HORIZON_DAYS = 3 * 366


def text(value: Any, field: str, *, label_zh: str, max_length: int, required: bool = False) -> str:
    require(
        isinstance(value, str) or value is None, f"{label_zh}格式无效", f"{field} must be text", field=field
    )
    cleaned = str(value or "").strip()
    if required:
        require(bool(cleaned), f"请填写{label_zh}", f"{field} is required", field=field, code="required")
    require(
        len(cleaned) <= max_length,
        f"{label_zh}不超过{max_length}字",
        f"{field} is at most {max_length} characters",
        field=field,
        code="too_long",
    )
    return cleaned


def choice(value: Any, choices: Any, field: str, label_zh: str, *, blank: bool = False) -> str:
    if blank and not value:
        return ""
    require(
        value in choices.values, f"{label_zh}无效", f"invalid {field}", field=field, code="invalid_choice"
    )
    return str(value)


def aware(when: Any, field: str) -> dt.datetime:
    require(isinstance(when, dt.datetime), "时间无效", f"{field} must be a date and time", field=field)
    if timezone.is_naive(when):
        when = timezone.make_aware(when)
    try:
        when = when.astimezone(dt.UTC)
    except OverflowError:
        raise ValidationFailed("时间超出范围", f"{field} is out of range", field=field) from None
    require(
        abs((when - timezone.now()).days) <= DATE_HORIZON_DAYS,
        "时间离现在太远（超过三年）",
        f"{field} is more than three years from now",
        field=field,
        code="date_out_of_range",
    )
    return when  # type: ignore[no-any-return]


def date(value: Any, field: str) -> dt.date:
    require(
        isinstance(value, dt.date) and not isinstance(value, dt.datetime),
        "日期无效",
        f"{field} must be a date",
        field=field,
    )
    require(
        abs((value - timezone.localdate()).days) <= DATE_HORIZON_DAYS,
        "日期离今天太远（超过三年）",
        f"{field} is more than three years from today",
        field=field,
        code="date_out_of_range",
    )
    return value  # type: ignore[no-any-return]


def check_customer(user: User, customer: Customer | None) -> None:
    if customer is not None and not customer_queryset_for_user(user).filter(pk=customer.pk).exists():
        raise NotFound("客户", "customer")


def check_contact(customer: Customer | None, contact: Contact | None) -> None:
    if contact is None:
        return
    require(customer is not None, "请先选择客户", "a contact needs its customer", field="contact_id")
    assert customer is not None
    require(
        contact.customer_id == customer.pk,
        "联系人不属于该客户",
        "contact does not belong to this customer",
        field="contact_id",
    )


def check_opportunity(user: User, customer: Customer | None, opportunity: Opportunity | None) -> None:
    """A deal a promise or objection is linked to: one the user may see (404 otherwise, so its
    existence is not revealed — the pipeline's own visibility rule) and on the same customer."""
    if opportunity is None:
        return
    if not opportunity_queryset_for_user(user).filter(pk=opportunity.pk).exists():
        raise NotFound("商机", "opportunity")
    require(
        customer is not None and opportunity.customer_id == customer.pk,
        "商机不属于该客户",
        "the opportunity belongs to another customer",
        field="opportunity_id",
        code="wrong_customer",
    )
