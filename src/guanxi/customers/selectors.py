"""Every read of customers and contacts goes through here: the visibility rule lives in one place.

* administrator: everything;
* manager: customers of the teams they manage (and sub-teams), their own, and those shared with them;
* salesperson: their own customers and those shared with them or their team.

Anything outside that scope is reported as "not found" (404), never "forbidden", so a user cannot
probe which ids exist.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import reduce
from typing import Any, TypeVar, cast

from django.db.models import Model, Prefetch, Q, QuerySet, prefetch_related_objects

from guanxi.accounts.models import User
from guanxi.accounts.selectors import managed_team_ids
from guanxi.core.errors import NotFound, ValidationFailed
from guanxi.core.pagination import Page, SortSpec, paginate
from guanxi.customers.models import Contact, ContactPoint, Customer, CustomerShare
from guanxi.search.documents import QueryTerm, grantee_keys, parse_query
from guanxi.search.query import SEARCH_COLUMNS, Window, filter_matching, first_page, first_window


def customer_visibility_q(user: User) -> Q:
    if user.is_admin:
        return Q()
    shared = CustomerShare.objects.filter(
        Q(user_id=user.pk) | Q(team_id=user.team_id) if user.team_id else Q(user_id=user.pk)
    )
    q = Q(owner_id=user.pk) | Q(id__in=shared.values("customer_id"))
    if user.is_manager:
        teams = managed_team_ids(user)
        if teams:
            q |= Q(team_id__in=teams)
    return q


# Above this many explicitly shared customers the share branch stays a subquery instead of an id list.
SHARED_ID_LIST_LIMIT = 2000

M = TypeVar("M", bound=Model)


@dataclass
class Branch:
    """One rule by which a user sees customers, and its key in the search index (if it has one)."""

    rule: Q  # the branch's customers, as a condition on Customer
    scope: str | None = None  # documents.scope key(s): "o<owner>" / "t<team>"; None = no index key
    everything: bool = False  # every customer (an administrator): the index needs no key either
    few: bool = False  # a short id list (explicit shares)
    team_id: int | None = None  # the managed team whose customers this branch is
    shared_keys: str | None = None  # the shares' index keys: "u<me>" or "u<me> s<my team>" (either)

    @property
    def customers(self) -> QuerySet[Customer]:
        return Customer.objects.filter(self.rule)

    def rule_through(self, relation: str) -> Q:
        """The rule as a condition on a model that reaches Customer through ``relation``
        (``customer``: contacts, interactions) — a join rather than an ``IN (SELECT …)``."""
        return _relabelled(self.rule, lambda lookup: f"{relation}__{lookup}")

    def rule_as(self, columns: dict[str, str]) -> Q:
        """The rule as a condition on another model's copies of the customer's columns (the deal's
        ``customer_owner_id`` …): ``columns`` maps each customer column the rule names to its copy;
        a column not in it is an error, never a silently wrong test."""
        return _relabelled(self.rule, _copied_column(columns))

    @property
    def index_keys(self) -> str | None:
        """The keys to ask the search index for (see documents.scope), or None for none."""
        return self.scope or self.shared_keys

    @property
    def indexed(self) -> bool:
        """Whether the search index alone can tell which rows belong to this branch."""
        return self.everything or self.index_keys is not None


def visibility_branches(user: User) -> list[Branch]:
    """The user's visible customers as a union of index-friendly branches (see core.pagination).

    owner_id = me → index (owner, last_interaction_at, id) and search key o<me>; team_id = t for
    each managed team → index (team, …) and key t<t>; explicitly shared customers → a short id
    list (a subquery past SHARED_ID_LIST_LIMIT) and keys u<me> s<my team>. The OR of these in one
    query makes PostgreSQL walk the whole sort index at 1M customers; a search, which starts from
    the index's few matches, takes them as one (search_branches).
    """
    if not user.is_authenticated or not user.is_active:
        return [Branch(Q(pk__in=[]))]
    if user.is_admin:
        return [Branch(Q(), everything=True)]
    branches = [Branch(Q(owner_id=user.pk), f"o{user.pk}")]
    if user.is_manager:
        branches += [
            Branch(Q(team_id=team_id), f"t{team_id}", team_id=team_id)
            for team_id in sorted(managed_team_ids(user))
        ]
    share_q = Q(user_id=user.pk) | Q(team_id=user.team_id) if user.team_id else Q(user_id=user.pk)
    shared_ids = list(
        CustomerShare.objects.filter(share_q).values_list("customer_id", flat=True)[
            : SHARED_ID_LIST_LIMIT + 1
        ]
    )
    # Whatever the number of shares, the index finds their rows by the grantee's keys.
    keys = grantee_keys(user.pk, user.team_id)
    if len(shared_ids) > SHARED_ID_LIST_LIMIT:
        shares = CustomerShare.objects.filter(share_q).values("customer_id")
        branches.append(Branch(Q(id__in=shares), shared_keys=keys))
    elif shared_ids:
        branches.append(Branch(Q(id__in=sorted(set(shared_ids))), few=True, shared_keys=keys))
    return branches


def search_branches(branches: list[Branch]) -> list[Branch]:
    """For a search: the user's branches as one, asking the index for all their keys at once
    (``o<me> u<me> s<my team>``, a manager's ``t<team>`` too).

    Each branch costs the index a lookup of the user's words, and a prefix word (three initials,
    a phone suffix) gathers the postings of every word it begins however few rows the key leaves:
    one lookup instead of two to four per searched table. The rows the index returns are then
    tested against the OR of the rules — cheap for a search's few matches, while for a list
    without words that OR would walk the whole sort index (hence the branches elsewhere)."""
    if len(branches) < 2 or not all(b.index_keys for b in branches):
        return branches
    keys = " ".join(str(b.index_keys) for b in branches)
    return [Branch(reduce(operator.or_, (b.rule for b in branches)), scope=keys)]


def _relabelled(rule: Q, relabel: Callable[[str], str]) -> Q:
    """``rule`` with each lookup (``owner_id``, ``id__in`` …) passed through ``relabel``."""
    out = Q()
    out.connector, out.negated = rule.connector, rule.negated
    for child in rule.children:
        if isinstance(child, Q):
            out.children.append(_relabelled(child, relabel))
        else:
            lookup, value = cast(tuple[str, Any], child)
            out.children.append((relabel(lookup), value))
    return out


def _copied_column(columns: dict[str, str]) -> Callable[[str], str]:
    def relabel(lookup: str) -> str:
        column, _, rest = lookup.partition("__")
        if column not in columns:
            raise ValueError(f"no copy of the customer column {column!r} in {sorted(columns)}")
        return columns[column] + (f"__{rest}" if rest else "")

    return relabel


def branch_matching(
    branch: Branch, queryset: QuerySet[M], terms: list[QueryTerm], *, first: Window | None = None
) -> QuerySet[M]:
    """The rows of ``queryset`` (already limited to the branch) whose documents match ``terms``
    (``first``: see search.query.filter_matching)."""
    if not terms:
        return queryset
    return filter_matching(queryset, terms, scope=branch.index_keys, first=first)


def customer_visible_check(user: User) -> Callable[[int, int | None, int | None], bool]:
    """``customer_visibility_q`` as a test on a customer's (id, owner id, team id) already in hand,
    for code that reads many rows of other tables joined to customers (referral graphs): one query
    for the shares instead of one visibility subquery per row. Kept beside the rule it mirrors and
    tested against it."""
    if not user.is_authenticated or not user.is_active:
        return lambda _id, _owner, _team: False
    if user.is_admin:
        return lambda _id, _owner, _team: True
    teams = managed_team_ids(user) if user.is_manager else set()
    share_q = Q(user_id=user.pk) | Q(team_id=user.team_id) if user.team_id else Q(user_id=user.pk)
    shared = set(CustomerShare.objects.filter(share_q).values_list("customer_id", flat=True))
    me = user.pk
    return lambda cid, owner, team: owner == me or (team is not None and team in teams) or cid in shared


def customer_queryset_for_user(user: User) -> QuerySet[Customer]:
    if not user.is_authenticated or not user.is_active:
        return Customer.objects.none()
    return Customer.objects.filter(customer_visibility_q(user))


SORTS: dict[str, SortSpec] = {
    "last_interaction": SortSpec("last_interaction_at", descending=True, nullable=True, kind="datetime"),
    "name": SortSpec("sort_key", descending=False),
    "created": SortSpec("created_at", descending=True, kind="datetime"),
}


@dataclass
class CustomerFilters:
    q: str = ""
    owner_id: int | None = None
    team_id: int | None = None
    relationship_type: str = ""
    status: str = ""
    province: str = ""
    city: str = ""
    industry: str = ""
    tag: str = ""
    size: str = ""
    # Customer value (guanxi.value): the maintained columns, for the dashboards' drill-down.
    value_class: str = ""
    tier: str = ""
    lifecycle: str = ""
    rfm_segment: str = ""
    sort: str = "last_interaction"
    extra: dict[str, str] = field(default_factory=dict)


def customer_list(
    *,
    user: User,
    filters: CustomerFilters,
    cursor: str | None = None,
    size: int = 50,
    with_tags: bool = False,
    branches: list[Branch] | None = None,
    fields: tuple[str, ...] = (),
) -> Page[Customer]:
    """``branches``: the user's visibility_branches, when the caller has them already; ``fields``:
    load only these columns (the sort's among them; ``owner__…`` joins the owner) — on PostgreSQL
    most of a customer's text is stored out of line (customers 0006), and reading it for rows that
    only show a name costs, as does building the full objects in Python."""
    if filters.sort not in SORTS:
        raise ValidationFailed(
            f"未知排序：{filters.sort}", f"unknown sort: {filters.sort}", field="sort", code="invalid_sort"
        )
    terms = parse_query(filters.q) if filters.q.strip() else []
    if filters.q.strip() and not terms:
        return Page([], None)
    exact = {
        "owner_id": filters.owner_id,
        "team_id": filters.team_id,
        "relationship_type": filters.relationship_type,
        "status": filters.status,
        "province": filters.province,
        "city": filters.city,
        "industry": filters.industry,
        "size": filters.size,
        "value_class": filters.value_class,
        "tier": filters.tier,
        "lifecycle": filters.lifecycle,
        "rfm_segment": filters.rfm_segment,
    }
    conditions = {k: v for k, v in exact.items() if v}

    def narrow(branch: Branch, first: Window | None) -> QuerySet[Customer]:
        qs = branch_matching(branch, branch.customers, terms, first=first)
        if conditions:
            qs = qs.filter(**conditions)
        if filters.tag:
            qs = qs.filter(tags__name=filters.tag)
        if fields:
            related = {f.split("__", 1)[0] for f in fields if "__" in f}
            return (qs.select_related(*related) if related else qs).only(*fields)
        # search_doc is only ever matched in SQL; not loading it halves the bytes per row.
        return qs.select_related("owner", "team").defer("search_doc")

    rules = visibility_branches(user) if branches is None else branches
    if terms:
        rules = search_branches(rules)

    def read(first: Window | None) -> Page[Customer]:
        queries = [narrow(branch, first) for branch in rules]
        return paginate(queries, SORTS[filters.sort], cursor=cursor, size=size)

    by_name = filters.sort == "name" and cursor is None and bool(terms)
    page = first_page(read, first_window(size) if by_name else None)
    if with_tags:
        prefetch_related_objects(page.items, "tags")
    return page


def customer_get_for_user(*, user: User, customer_id: int, defer: tuple[str, ...] = ()) -> Customer:
    """The customer, if ``user`` may see it (NotFound otherwise). ``defer``: columns a read-only
    page does not need (``SEARCH_COLUMNS``); an instance read so must not be saved whole."""
    customer = (
        customer_queryset_for_user(user)
        .select_related("owner", "team")
        .prefetch_related("tags")
        .defer(*defer)
        .filter(pk=customer_id)
        .first()
    )
    if customer is None:
        raise NotFound("客户", "customer")
    return customer


def customer_contacts(customer: Customer) -> list[Contact]:
    """The customer's contacts with their phones and e-mails, to show (search columns deferred)."""
    return list(
        customer.contacts.defer(*SEARCH_COLUMNS)
        .order_by("-is_key", "sort_key", "id")
        .prefetch_related(Prefetch("points", queryset=ContactPoint.objects.order_by("position", "id")))
    )


def contact_queryset_for_user(user: User) -> QuerySet[Contact]:
    return Contact.objects.filter(customer__in=customer_queryset_for_user(user))


def contact_get_for_user(*, user: User, contact_id: int) -> Contact:
    contact = (
        contact_queryset_for_user(user)
        .select_related("customer", "customer__owner")
        .prefetch_related("points")
        .filter(pk=contact_id)
        .first()
    )
    if contact is None:
        raise NotFound("联系人", "contact")
    return contact


def contact_list(
    *,
    user: User,
    customer_id: int | None = None,
    q: str = "",
    cursor: str | None = None,
    size: int = 50,
    with_points: bool = True,
    branches: list[Branch] | None = None,
    fields: tuple[str, ...] = (),
) -> Page[Contact]:
    """``with_points=False`` skips loading phones and e-mails; ``branches``, ``fields`` (which may
    name ``customer__…``): see customer_list."""
    terms = parse_query(q) if q.strip() else []
    if q.strip() and not terms:
        return Page([], None)
    # One branch per visibility rule (see visibility_branches), each index-friendly.
    rules = visibility_branches(user) if branches is None else branches
    if terms:
        rules = search_branches(rules)

    def read(first: Window | None) -> Page[Contact]:
        queries = []
        for branch in rules:
            qs = Contact.objects.filter(branch.rule_through("customer"))
            if customer_id:
                qs = qs.filter(customer_id=customer_id)
            qs = branch_matching(branch, qs, terms, first=first)
            qs = qs.select_related("customer")
            queries.append(qs.only(*fields) if fields else qs.defer("search_doc", "customer__search_doc"))
        return paginate(queries, SortSpec("sort_key", descending=False), cursor=cursor, size=size)

    page = first_page(read, first_window(size) if terms and cursor is None else None)
    if with_points:
        prefetch_related_objects(page.items, "points")
    return page
