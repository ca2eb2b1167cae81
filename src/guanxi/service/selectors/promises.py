"""Reads of the promise ledger: visible promises, lists, kept-on-time rates, over-promising."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db.models import Case, Count, F, Q, QuerySet, When
from django.utils import timezone

from guanxi.accounts.models import User
from guanxi.core.errors import NotFound, ValidationFailed
from guanxi.core.pagination import Page, SortSpec, paginate
from guanxi.service.models import Promise, PromiseStatus
from guanxi.service.selectors.common import active, visible_customer_q

DUE_SORT = SortSpec("due_on", descending=False, kind="date")
VIEWS = ("open", "overdue", "due_soon", "mine", "closed", "all")
RATE_GROUPS = ("promised_by", "customer", "team")


def promise_queryset_for_user(user: User) -> QuerySet[Promise]:
    if not active(user):
        return Promise.objects.none()
    if user.is_admin:
        return Promise.objects.all()
    return Promise.objects.filter(visible_customer_q(user))


def promise_get_for_user(*, user: User, promise_id: int) -> Promise:
    promise = (
        promise_queryset_for_user(user)
        .select_related("customer", "contact", "interaction", "opportunity", "promised_by", "created_by")
        .filter(pk=promise_id)
        .first()
    )
    if promise is None:
        raise NotFound("承诺", "promise")
    return promise


def opportunity_promises(*, user: User, opportunity_id: int, limit: int = 100) -> list[Promise]:
    """The promises made in one deal: the open ones by due date, then the closed ones."""
    return list(
        promise_queryset_for_user(user)
        .filter(opportunity_id=opportunity_id)
        .select_related("contact", "promised_by")
        .order_by(Case(When(status=PromiseStatus.OPEN, then=0), default=1), "due_on", "id")[:limit]
    )


def promise_list(
    *,
    user: User,
    view: str = "open",
    customer_id: int | None = None,
    cursor: str | None = None,
    size: int = 50,
    today: dt.date | None = None,
) -> Page[Promise]:
    if view not in VIEWS:
        raise ValidationFailed("视图无效", "invalid view", field="view", code="invalid_choice")
    today = today or timezone.localdate()
    qs = promise_queryset_for_user(user)
    is_open = Q(status=PromiseStatus.OPEN)
    qs = {
        "open": qs.filter(is_open),
        "overdue": qs.filter(is_open, due_on__lt=today),
        "due_soon": qs.filter(is_open, due_on__gte=today, due_on__lte=today + dt.timedelta(days=7)),
        "mine": qs.filter(is_open, promised_by_id=user.pk),
        "closed": qs.exclude(is_open),
        "all": qs,
    }[view]
    if customer_id:
        qs = qs.filter(customer_id=customer_id)
    return paginate(
        qs.select_related("customer", "contact", "promised_by", "opportunity"),
        DUE_SORT,
        cursor=cursor,
        size=size,
    )


def promise_rates(user: User, *, group: str = "promised_by", limit: int = 30) -> list[dict[str, Any]]:
    """Kept-on-time rate (kept ÷ kept + kept late + broken; withdrawn promises do not count) per
    salesperson, customer or team, in one GROUP BY over the visible ledger."""
    if group not in RATE_GROUPS:
        raise ValidationFailed("分组无效", "invalid group", field="group", code="invalid_choice")
    column = {"promised_by": "promised_by_id", "customer": "customer_id", "team": "promised_by__team_id"}[
        group
    ]
    today = timezone.localdate()
    rows = list(
        promise_queryset_for_user(user)
        .values(key=F(column))
        .annotate(
            total=Count("id"),
            kept=Count("id", filter=Q(status=PromiseStatus.KEPT)),
            kept_late=Count("id", filter=Q(status=PromiseStatus.KEPT_LATE)),
            broken=Count("id", filter=Q(status=PromiseStatus.BROKEN)),
            withdrawn=Count("id", filter=Q(status=PromiseStatus.WITHDRAWN)),
            open=Count("id", filter=Q(status=PromiseStatus.OPEN)),
            overdue=Count("id", filter=Q(status=PromiseStatus.OPEN, due_on__lt=today)),
        )
        .order_by("-total", "key")[:limit]
    )
    labels = _labels(group, [r["key"] for r in rows])
    for r in rows:
        decided = r["kept"] + r["kept_late"] + r["broken"]
        r["rate"] = round(100.0 * r["kept"] / decided, 1) if decided else None
        r["label"] = labels.get(r["key"], "—")
    return rows


def _labels(group: str, keys: list[Any]) -> dict[Any, str]:
    from guanxi.accounts.models import Team
    from guanxi.customers.models import Customer

    ids = [k for k in keys if k is not None]
    if group == "promised_by":
        return {u.pk: str(u) for u in User.objects.filter(pk__in=ids)}
    if group == "team":
        return {t.pk: t.name for t in Team.objects.filter(pk__in=ids)}
    return {c.pk: str(c) for c in Customer.objects.filter(pk__in=ids).only("id", "name")}


def overpromise_limit() -> tuple[int, int]:
    """(open promises, within days) from which a salesperson is warned of over-promising."""
    return (
        int(getattr(settings, "GUANXI_OVERPROMISE_LIMIT", 6)),
        int(getattr(settings, "GUANXI_OVERPROMISE_DAYS", 7)),
    )


def overpromising(user: User, *, today: dt.date | None = None) -> list[dict[str, Any]]:
    """Salespeople in the user's view with many open promises due soon or overdue (DOMAIN §6:
    "promising too much" is one of the reasons customers leave)."""
    today = today or timezone.localdate()
    limit, days = overpromise_limit()
    qs = promise_queryset_for_user(user).filter(
        status=PromiseStatus.OPEN, due_on__lte=today + dt.timedelta(days=days)
    )
    if not (user.is_admin or user.is_manager):
        qs = qs.filter(promised_by_id=user.pk)
    rows = list(
        qs.values("promised_by_id")
        .annotate(count=Count("id"), overdue=Count("id", filter=Q(due_on__lt=today)))
        .filter(count__gte=limit)
        .order_by("-count")[:20]
    )
    names = {u.pk: str(u) for u in User.objects.filter(pk__in=[r["promised_by_id"] for r in rows])}
    return [{**r, "name": names.get(r["promised_by_id"], "—"), "days": days, "limit": limit} for r in rows]


def promises_due(user: User, today: dt.date, *, days: int = 2) -> list[Promise]:
    return list(
        Promise.objects.filter(
            promised_by_id=user.pk, status=PromiseStatus.OPEN, due_on__lte=today + dt.timedelta(days=days)
        )
        .select_related("customer")
        .order_by("due_on", "id")[:50]
    )
