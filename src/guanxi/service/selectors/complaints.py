"""Reads of complaints: the visible queryset, one complaint, lists, its timeline, statistics."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Avg, Count, F, Q, QuerySet
from django.utils import timezone

from guanxi.accounts.models import User
from guanxi.audit.models import AuditEvent
from guanxi.core.errors import NotFound, ValidationFailed
from guanxi.core.pagination import Page, SortSpec, paginate
from guanxi.followup.cadence import DaysBetween
from guanxi.service.models import Complaint, ComplaintCategory, ComplaintStatus, Notice
from guanxi.service.selectors.common import active, visible_customer_q

RECEIVED_SORT = SortSpec("received_at", descending=True, kind="datetime")
VIEWS = ("open", "overdue", "escalated", "mine", "resolved", "all")
STAT_GROUPS = ("category", "handler", "team", "customer", "severity")


def complaint_queryset_for_user(user: User) -> QuerySet[Complaint]:
    if not active(user):
        return Complaint.objects.none()
    if user.is_admin:
        return Complaint.objects.all()
    return Complaint.objects.filter(visible_customer_q(user) | Q(escalated_to_id=user.pk))


def complaint_get_for_user(*, user: User, complaint_id: int) -> Complaint:
    complaint = (
        complaint_queryset_for_user(user)
        .select_related("customer", "contact", "handler", "escalated_to", "created_by")
        .filter(pk=complaint_id)
        .first()
    )
    if complaint is None:
        raise NotFound("投诉", "complaint")
    return complaint


def _view(qs: QuerySet[Complaint], user: User, view: str, now: dt.datetime) -> QuerySet[Complaint]:
    if view not in VIEWS:
        raise ValidationFailed("视图无效", "invalid view", field="view", code="invalid_choice")
    open_q = ~Q(status=ComplaintStatus.RESOLVED)
    if view == "open":
        return qs.filter(open_q)
    if view == "overdue":
        return qs.filter(open_q).filter(
            Q(status=ComplaintStatus.OPEN, respond_by__lte=now) | Q(resolve_by__lte=now)
        )
    if view == "escalated":
        return qs.filter(open_q, escalated_to_id=user.pk)
    if view == "mine":
        return qs.filter(open_q, handler_id=user.pk)
    if view == "resolved":
        return qs.filter(status=ComplaintStatus.RESOLVED)
    return qs


def complaint_list(
    *,
    user: User,
    view: str = "open",
    customer_id: int | None = None,
    category: str = "",
    severity: str = "",
    cursor: str | None = None,
    size: int = 50,
    now: dt.datetime | None = None,
) -> Page[Complaint]:
    now = now or timezone.now()
    qs = _view(complaint_queryset_for_user(user), user, view, now)
    if customer_id:
        qs = qs.filter(customer_id=customer_id)
    if category:
        qs = qs.filter(category=category)
    if severity:
        qs = qs.filter(severity=severity)
    qs = qs.select_related("customer", "contact", "handler", "escalated_to")
    return paginate(qs, RECEIVED_SORT, cursor=cursor, size=size)


def complaint_counts(user: User, now: dt.datetime | None = None) -> dict[str, int]:
    """The dashboard's head figures in one aggregate query."""
    now = now or timezone.now()
    open_q = ~Q(status=ComplaintStatus.RESOLVED)
    return complaint_queryset_for_user(user).aggregate(
        open=Count("id", filter=open_q),
        unanswered=Count("id", filter=Q(status=ComplaintStatus.OPEN)),
        response_overdue=Count("id", filter=Q(status=ComplaintStatus.OPEN, respond_by__lte=now)),
        resolution_overdue=Count("id", filter=open_q & Q(resolve_by__lte=now)),
        escalated_to_me=Count("id", filter=open_q & Q(escalated_to_id=user.pk)),
        mine=Count("id", filter=open_q & Q(handler_id=user.pk)),
    )


def complaint_stats(
    user: User, *, group: str = "category", since: dt.datetime | None = None, limit: int = 20
) -> list[dict[str, Any]]:
    """Complaints per category / handler / team / customer: counts, open, hours to first response and
    to resolution (averages over the answered / resolved ones), satisfaction, in one GROUP BY."""
    if group not in STAT_GROUPS:
        raise ValidationFailed("分组无效", "invalid group", field="group", code="invalid_choice")
    column = {
        "category": "category",
        "severity": "severity",
        "handler": "handler_id",
        "team": "customer__team_id",
        "customer": "customer_id",
    }[group]
    qs = complaint_queryset_for_user(user)
    if since is not None:
        qs = qs.filter(received_at__gte=since)
    rows = list(
        qs.values(key=F(column))
        .annotate(
            total=Count("id"),
            open=Count("id", filter=~Q(status=ComplaintStatus.RESOLVED)),
            response_hours=Avg(DaysBetween(F("acknowledged_at"), F("received_at")) * 24.0),
            resolution_hours=Avg(DaysBetween(F("resolved_at"), F("received_at")) * 24.0),
            late=Count(
                "id", filter=Q(resolved_at__gt=F("resolve_by")) | Q(resolution_breach_at__isnull=False)
            ),
            escalated=Count("id", filter=Q(escalation_level__gt=0)),
        )
        .order_by("-total", "key")[:limit]
    )
    labels = _labels(group, [r["key"] for r in rows])
    for r in rows:
        r["label"] = labels.get(r["key"], r["key"] if r["key"] is not None else "—")
    return rows


def _labels(group: str, keys: list[Any]) -> dict[Any, str]:
    from guanxi.accounts.models import Team
    from guanxi.customers.models import Customer
    from guanxi.service.models import Severity

    if group == "category":
        return {k: str(ComplaintCategory(k).label) for k in keys if k in ComplaintCategory.values}
    if group == "severity":
        return {k: str(Severity(k).label) for k in keys if k in Severity.values}
    ids = [k for k in keys if k is not None]
    if group == "handler":
        return {u.pk: str(u) for u in User.objects.filter(pk__in=ids)}
    if group == "team":
        return {t.pk: t.name for t in Team.objects.filter(pk__in=ids)}
    return {c.pk: str(c) for c in Customer.objects.filter(pk__in=ids).only("id", "name")}


def complaint_timeline(complaint: Complaint) -> list[AuditEvent]:
    """Every step of one complaint, oldest first (the same audit rows the customer timeline shows)."""
    return list(
        AuditEvent.objects.filter(object_type="complaint", object_id=complaint.pk)
        .select_related("actor")
        .order_by("created_at", "id")
    )


def complaint_steps(complaint: Complaint) -> list[dict[str, Any]]:
    """The timeline as a page shows it: who, when, what, the note, where it was escalated to."""
    steps = []
    for e in complaint_timeline(complaint):
        changes = e.changes or {}
        target = (changes.get("escalated_to") or [None, None])[1]
        steps.append(
            {
                "at": e.created_at,
                "actor": e.actor,
                "action": e.action,
                "label": e.action_label,
                "note": (changes.get("_note") or [None, ""])[1],
                "resolution": (changes.get("resolution") or [None, ""])[1]
                if e.action == "complaint.resolve"
                else "",
                "target": target.get("repr") if isinstance(target, dict) else "",
            }
        )
    return steps


def complaints_due(
    user: User, now: dt.datetime, *, within: dt.timedelta = dt.timedelta(days=1)
) -> list[Complaint]:
    """Open complaints the user handles or was escalated, with a deadline passed or within ``within``."""
    horizon = now + within
    qs = Complaint.objects.exclude(status=ComplaintStatus.RESOLVED).filter(
        Q(handler_id=user.pk) | Q(escalated_to_id=user.pk)
    )
    qs = qs.filter(Q(status=ComplaintStatus.OPEN, respond_by__lte=horizon) | Q(resolve_by__lte=horizon))
    return list(qs.select_related("customer").order_by("resolve_by", "id")[:50])


def notices_for(user: User, *, unread_only: bool = True, limit: int = 50) -> list[Notice]:
    qs = Notice.objects.filter(user=user)
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    return list(qs.select_related("complaint", "promise").order_by("-created_at", "-id")[:limit])
