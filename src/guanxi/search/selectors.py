"""The global search: customers, contacts and interaction notes the user may see."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from guanxi.accounts.models import User
from guanxi.customers.selectors import CustomerFilters, contact_list, customer_list, visibility_branches
from guanxi.engagement.selectors import interaction_list
from guanxi.search.query import search_settings


@dataclass
class SearchResults:
    query: str
    customers: list[dict[str, Any]] = field(default_factory=list)
    contacts: list[dict[str, Any]] = field(default_factory=list)
    interactions: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "customers": self.customers,
            "contacts": self.contacts,
            "interactions": self.interactions,
        }

    @property
    def empty(self) -> bool:
        return not (self.customers or self.contacts or self.interactions)


def search_all(*, user: User, query: str, limit: int = 10) -> SearchResults:
    results = SearchResults(query=query)
    if not query.strip():
        return results
    with search_settings():
        return _search_all(results, user=user, query=query, limit=limit)


def _search_all(results: SearchResults, *, user: User, query: str, limit: int) -> SearchResults:
    branches = visibility_branches(user)  # read once for the three lists
    customers = customer_list(
        user=user,
        filters=CustomerFilters(q=query, sort="name"),
        size=limit,
        branches=branches,
        fields=("id", "name", "city", "industry", "sort_key"),
    )
    for c in customers.items:
        results.customers.append(
            {
                "id": c.pk,
                "name": c.name,
                "detail": " ".join(filter(None, [c.city, c.industry])),
                "customer_id": c.pk,
            }
        )
    contacts = contact_list(
        user=user,
        q=query,
        size=limit,
        with_points=False,
        branches=branches,
        fields=("id", "name", "title", "sort_key", "customer", "customer__name"),
    )
    for ct in contacts.items:
        results.contacts.append(
            {
                "id": ct.pk,
                "name": ct.name,
                "detail": " · ".join(filter(None, [ct.customer.name, ct.title])),
                "customer_id": ct.customer_id,
            }
        )
    interactions = interaction_list(
        user=user,
        q=query,
        size=limit,
        with_people=False,
        branches=branches,
        fields=("id", "summary", "occurred_at", "customer", "customer__name"),
    )
    for i in interactions.items:
        results.interactions.append(
            {
                "id": i.pk,
                "name": i.summary[:80],
                "detail": f"{i.customer.name} · {i.occurred_at:%Y-%m-%d}",
                "customer_id": i.customer_id,
            }
        )
    return results
