"""Reads of interactions and the customer timeline (interactions and audit events together)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Prefetch, Q, QuerySet

from guanxi.accounts.models import User
from guanxi.audit.models import AuditEvent
from guanxi.core.errors import NotFound, ValidationFailed
from guanxi.core.pagination import Page, SortSpec, decode_cursor, encode_cursor, paginate
from guanxi.customers.models import Contact, Customer
from guanxi.customers.selectors import customer_queryset_for_user
from guanxi.engagement.models import Interaction
from guanxi.search.documents import QueryTerm, parse_query
from guanxi.search.query import filter_matching, newest_matches

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


# The note search asks the index first for at most NOTE_PROBE matches. A rare word (a name, a
# phone number, most of what people type) has fewer: those ids are all there is, and only they are
# read. A frequent word (报价) is answered from the newest rows: SQLite's FTS5 hands out matches
# newest first, in growing batches; on PostgreSQL, whose GIN index has no order, the search reads
# id windows from the newest down, widening them while it has found too few.
NOTE_PROBE = 400
NOTE_BATCH_MAX = 12_800
SEARCH_WINDOW = 20_000
SEARCH_WINDOW_GROWTH = 8


def interaction_list(
    *,
    user: User,
    customer_id: int | None = None,
    q: str = "",
    cursor: str | None = None,
    size: int = 50,
    with_people: bool = True,
) -> Page[Interaction]:
    """Interactions the user may see, newest first; with ``q``, those whose notes match it
    (most recently logged first). ``with_people=False`` skips loading contacts and participants."""
    qs = interaction_queryset_for_user(user)
    if customer_id:
        qs = qs.filter(customer_id=customer_id)
    terms = parse_query(q) if q.strip() else []
    if q.strip() and not terms:
        return Page([], None)
    qs = qs.select_related("customer", "created_by").defer("search_doc", "customer__search_doc")
    if with_people:
        qs = qs.prefetch_related("contacts", "participants")
    if not terms:
        return paginate(qs, TIME_SORT, cursor=cursor, size=size)
    below = decode_cursor(cursor, SEARCH_SORT)[2] if cursor else None
    hits: list[int] = []
    batch = NOTE_PROBE
    while True:
        ids, complete = newest_matches(Interaction, terms, below=below, limit=batch)
        if not complete and connection.vendor != "sqlite":
            return _page_of_hits(_note_windows(qs, terms, below=below, size=size), size)
        hits += _visible(user, ids, customer_id)
        if complete or len(hits) > size:
            break
        below = ids[-1]
        batch = min(batch * 4, NOTE_BATCH_MAX)
    hits = hits[: size + 1]
    return _page_of_hits(list(qs.filter(id__in=hits).order_by("-id")), size)


def _visible(user: User, ids: list[int], customer_id: int | None) -> list[int]:
    """Those of ``ids`` (newest first) the user may see, in two primary-key reads: the planners,
    given the visibility subquery and a list of ids together, tend to walk every visible customer."""
    rows = Interaction.objects.filter(id__in=ids).values_list("id", "customer_id")
    if customer_id:
        rows = rows.filter(customer_id=customer_id)
    pairs = list(rows)
    visible = set(
        customer_queryset_for_user(user).filter(id__in={c for _, c in pairs}).values_list("id", flat=True)
    )
    return sorted((i for i, c in pairs if c in visible), reverse=True)


def _page_of_hits(items: list[Interaction], size: int) -> Page[Interaction]:
    if len(items) <= size:
        return Page(items, None)
    items = items[:size]
    return Page(items, encode_cursor(items[-1].pk, items[-1].pk))


def _note_windows(
    qs: QuerySet[Interaction], terms: list[QueryTerm], *, below: int | None, size: int
) -> list[Interaction]:
    """Up to ``size + 1`` matches, newest first, read in id windows widening from the newest down."""
    upper = (Interaction.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
    if below is not None:
        upper = min(upper, below)
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
    return items


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
    customer: Customer,
    *,
    limit: int = 50,
    before: dt.datetime | None = None,
    cursor: str | None = None,
    with_participants: bool = True,
) -> list[TimelineEntry]:
    """The latest ``limit`` entries of a customer's shared timeline, newest first (two indexed reads).

    Order: time, then interactions before events at the same instant, then id — all descending.
    ``cursor`` (from ``timeline_cursor``) continues after an entry, ``before`` after an instant.
    The page does not show participants (``with_participants=False`` saves their query).
    """
    interactions = customer.interactions.select_related("created_by").prefetch_related(
        Prefetch("contacts", queryset=Contact.objects.only("id", "name", "customer_id"))
    )
    if with_participants:
        interactions = interactions.prefetch_related("participants")
    events = AuditEvent.objects.filter(customer_id=customer.pk).exclude(action__in=_TIMELINE_HIDDEN_ACTIONS)
    events = events.select_related("actor")
    if before is not None:
        interactions = interactions.filter(occurred_at__lt=before)
        events = events.filter(created_at__lt=before)
    if cursor:
        _, at, key = decode_cursor(cursor, TIME_SORT)
        if at is None:
            raise ValidationFailed(
                "分页游标无效", "invalid pagination cursor", field="cursor", code="invalid_cursor"
            )
        if key > 0:  # after an interaction: older interactions, and events at or before its time
            interactions = interactions.filter(
                Q(occurred_at__lt=at) | Q(occurred_at=at, id__lt=key), occurred_at__lte=at
            )
            events = events.filter(created_at__lte=at)
        else:  # after an event: older interactions, and older events
            interactions = interactions.filter(occurred_at__lt=at)
            events = events.filter(Q(created_at__lt=at) | Q(created_at=at, id__lt=-key), created_at__lte=at)
    entries = [
        TimelineEntry("interaction", i.occurred_at, interaction=i)
        for i in interactions.order_by("-occurred_at", "-id")[:limit]
    ]
    entries += [
        TimelineEntry("event", e.created_at, event=e) for e in events.order_by("-created_at", "-id")[:limit]
    ]
    entries.sort(key=_timeline_key, reverse=True)
    return entries[:limit]


def _timeline_key(entry: TimelineEntry) -> tuple[dt.datetime, int, int]:
    return (entry.at, 1 if entry.kind == "interaction" else 0, entry.payload.pk)


def timeline_cursor(entry: TimelineEntry) -> str:
    """Where the next page of the timeline starts: after ``entry``."""
    return encode_cursor(entry.at, entry.payload.pk if entry.kind == "interaction" else -entry.payload.pk)
