"""Reads of interactions and the customer timeline (interactions and audit events together)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from guanxi.accounts.models import User
from guanxi.audit.models import AuditEvent
from guanxi.core.errors import NotFound
from guanxi.core.pagination import Page, SortSpec, decode_cursor, encode_cursor, paginate
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


# The note search looks at the newest interactions first and widens the window only when it found
# too few: a frequent word (报价) is answered from the newest rows, a rare one from its few matches.
SEARCH_WINDOW = 20_000
SEARCH_WINDOW_GROWTH = 8


def interaction_list(
    *, user: User, customer_id: int | None = None, q: str = "", cursor: str | None = None, size: int = 50
) -> Page[Interaction]:
    qs = interaction_queryset_for_user(user)
    if customer_id:
        qs = qs.filter(customer_id=customer_id)
    terms = parse_query(q) if q.strip() else []
    if q.strip() and not terms:
        return Page([], None)
    qs = (
        qs.select_related("customer", "created_by")
        .prefetch_related("contacts", "participants")
        .defer("search_doc", "customer__search_doc")
    )
    if not terms:
        return paginate(qs, TIME_SORT, cursor=cursor, size=size)
    # A text search lists the most recently logged first (by id) and reads the newest ids first,
    # widening the id window only while it has found too few: a frequent word (报价) is answered
    # from the newest rows, a rare one from its few matches; neither reads every match.
    upper = (Interaction.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
    if cursor:
        upper = min(upper, decode_cursor(cursor, SEARCH_SORT)[2])
    items: list[Interaction] = []
    window = SEARCH_WINDOW
    while len(items) <= size:
        lower = max(upper - window, 0)
        part = filter_matching(qs, terms, id_above=lower, id_below=upper).filter(id__gt=lower, id__lt=upper)
        items += list(part.order_by("-id")[: size + 1 - len(items)])
        if lower == 0:
            break
        upper = lower + 1
        window *= SEARCH_WINDOW_GROWTH
    if len(items) <= size:
        return Page(items, None)
    items = items[:size]
    return Page(items, encode_cursor(items[-1].pk, items[-1].pk))


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
