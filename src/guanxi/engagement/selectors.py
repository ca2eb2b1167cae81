"""Reads of interactions and the customer timeline (interactions and audit events together)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from guanxi.accounts.models import User
from guanxi.audit.models import AuditEvent
from guanxi.core.errors import NotFound
from guanxi.core.pagination import Page, SortSpec, paginate
from guanxi.customers.models import Customer
from guanxi.customers.selectors import customer_queryset_for_user
from guanxi.engagement.models import Interaction
from guanxi.search.documents import parse_query
from guanxi.search.query import filter_matching

TIME_SORT = SortSpec("occurred_at", descending=True, kind="datetime")
SEARCH_SORT = SortSpec("id", descending=True, kind="int")


def interaction_queryset_for_user(user: User) -> QuerySet[Interaction]:
    return Interaction.objects.filter(customer__in=customer_queryset_for_user(user))


def interaction_get_for_user(*, user: User, interaction_id: int) -> Interaction:
    interaction = (
        interaction_queryset_for_user(user)
        .select_related("customer", "created_by")
        .prefetch_related("contacts", "participants")
        .filter(pk=interaction_id)
        .first()
    )
    if interaction is None:
        raise NotFound("联系记录", "interaction")
    return interaction


def interaction_list(
    *, user: User, customer_id: int | None = None, q: str = "", cursor: str | None = None, size: int = 50
) -> Page[Interaction]:
    qs = interaction_queryset_for_user(user)
    if customer_id:
        qs = qs.filter(customer_id=customer_id)
    terms = parse_query(q) if q.strip() else []
    if q.strip() and not terms:
        return Page([], None)
    if terms:
        qs = filter_matching(qs, terms)
    qs = qs.select_related("customer", "created_by").prefetch_related("contacts", "participants")
    # A text search is ordered by most recently logged (id), which both FTS engines deliver in index
    # order; ordering matches by occurrence time would sort every match of a frequent word (报价).
    spec = SEARCH_SORT if terms else TIME_SORT
    return paginate(qs, spec, cursor=cursor, size=size)


@dataclass
class TimelineEntry:
    kind: str  # "interaction" | "event"
    at: dt.datetime
    interaction: Interaction | None = None
    event: AuditEvent | None = None

    @property
    def payload(self) -> Any:
        return self.interaction or self.event


# Interactions appear as themselves; their own audit rows would only repeat them.
_TIMELINE_HIDDEN_ACTIONS = ("interaction.create",)


def customer_timeline(
    customer: Customer, *, limit: int = 50, before: dt.datetime | None = None
) -> list[TimelineEntry]:
    """The latest ``limit`` entries of a customer's shared timeline, newest first (two indexed reads)."""
    interactions = customer.interactions.select_related("created_by").prefetch_related(
        "contacts", "participants"
    )
    events = AuditEvent.objects.filter(customer_id=customer.pk).exclude(action__in=_TIMELINE_HIDDEN_ACTIONS)
    events = events.select_related("actor")
    if before is not None:
        interactions = interactions.filter(occurred_at__lt=before)
        events = events.filter(created_at__lt=before)
    entries = [
        TimelineEntry("interaction", i.occurred_at, interaction=i)
        for i in interactions.order_by("-occurred_at", "-id")[:limit]
    ]
    entries += [
        TimelineEntry("event", e.created_at, event=e) for e in events.order_by("-created_at", "-id")[:limit]
    ]
    entries.sort(key=lambda e: e.at, reverse=True)
    return entries[:limit]
