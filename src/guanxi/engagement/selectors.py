"""Reads of interactions and the customer timeline (interactions and audit events together)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch, Q, QuerySet

from guanxi.accounts.models import User
from guanxi.audit.models import AuditEvent
from guanxi.core.errors import NotFound, ValidationFailed
from guanxi.core.pagination import Page, SortSpec, decode_cursor, encode_cursor, paginate
from guanxi.customers.models import Contact, Customer
from guanxi.customers.selectors import (
    Branch,
    branch_matching,
    customer_queryset_for_user,
    search_branches,
    visibility_branches,
)
from guanxi.engagement.models import Interaction
from guanxi.search.documents import QueryTerm, parse_query
from guanxi.search.query import SEARCH_COLUMNS, newest_matches

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


# Note search, per visibility branch: where the index knows the branch (a salesperson's own
# customers, a managed team's, or everything for an administrator) it returns the newest matches
# of that branch directly; for explicitly shared customers (a short list) the planner starts from
# their interactions. Either way only the page's ids are checked and loaded.


def interaction_list(
    *,
    user: User,
    customer_id: int | None = None,
    q: str = "",
    cursor: str | None = None,
    size: int = 50,
    with_people: bool = True,
    branches: list[Branch] | None = None,
    fields: tuple[str, ...] = (),
) -> Page[Interaction]:
    """Interactions the user may see, newest first; with ``q``, those whose notes match it
    (most recently logged first). ``with_people=False`` skips loading contacts and participants."""
    terms = parse_query(q) if q.strip() else []
    if q.strip() and not terms:
        return Page([], None)

    def loaded(qs: QuerySet[Interaction]) -> QuerySet[Interaction]:
        if fields:  # only these columns (see customers.selectors.customer_list)
            qs = qs.select_related("customer").only(*fields)
        else:
            qs = qs.select_related("customer", "created_by").defer("search_doc", "customer__search_doc")
        return qs.prefetch_related("contacts", "participants") if with_people else qs

    if not terms:
        qs = interaction_queryset_for_user(user)
        if customer_id:
            qs = qs.filter(customer_id=customer_id)
        return paginate(loaded(qs), TIME_SORT, cursor=cursor, size=size)
    below = decode_cursor(cursor, SEARCH_SORT)[2] if cursor else None
    hits: set[int] = set()
    for branch in search_branches(visibility_branches(user) if branches is None else branches):
        hits.update(_note_hits(branch, terms, below=below, customer_id=customer_id, size=size))
    page = sorted(hits, reverse=True)[: size + 1]
    # The ids were checked against their branch already: load them by primary key only.
    items = list(loaded(Interaction.objects.filter(id__in=page)).order_by("-id"))
    if len(items) <= size:
        return Page(items, None)
    items = items[:size]
    return Page(items, encode_cursor(items[-1].pk, items[-1].pk))


def _note_hits(
    branch: Branch, terms: list[QueryTerm], *, below: int | None, customer_id: int | None, size: int
) -> list[int]:
    """Up to ``size + 1`` ids of the branch's matching interactions, newest first."""
    if not branch.indexed:
        qs = Interaction.objects.filter(branch.rule_through("customer"))
        if customer_id:
            qs = qs.filter(customer_id=customer_id)
        if below is not None:
            qs = qs.filter(id__lt=below)
        qs = branch_matching(branch, qs, terms)
        return list(qs.order_by("-id").values_list("id", flat=True)[: size + 1])
    hits: list[int] = []
    limit = size + 1
    while True:
        ids, complete = newest_matches(Interaction, terms, scope=branch.index_keys, below=below, limit=limit)
        hits += _in_branch(branch, ids, customer_id)
        if complete or len(hits) > size:
            return hits
        # Some matches were not the branch's after all (another customer's, or a key being
        # re-indexed): read further back, in bigger steps.
        below = ids[-1]
        limit = min(limit * 4, NOTE_BATCH_MAX)


NOTE_BATCH_MAX = 12_800


def _in_branch(branch: Branch, ids: list[int], customer_id: int | None) -> list[int]:
    """Those of ``ids`` (newest first) whose customer is in the branch, in two primary-key reads
    (the planners, given a visibility subquery and a list of ids together, tend to walk every
    visible customer instead)."""
    rows = Interaction.objects.filter(id__in=ids).values_list("id", "customer_id")
    if customer_id:
        rows = rows.filter(customer_id=customer_id)
    pairs = list(rows)
    mine = set(branch.customers.filter(id__in={c for _, c in pairs}).values_list("id", flat=True))
    return sorted((i for i, c in pairs if c in mine), reverse=True)


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
    interactions = customer.interactions.defer(*SEARCH_COLUMNS).select_related("created_by")
    interactions = interactions.prefetch_related(
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
