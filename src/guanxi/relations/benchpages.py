"""Timed bench pages of the relations package (see guanxi.bench.measure.page_providers)."""

from __future__ import annotations

import random

from guanxi.accounts.models import User
from guanxi.bench.measure import Page
from guanxi.customers.selectors import customer_queryset_for_user
from guanxi.relations.models import DecisionRole


def pages(*, sales: User, manager: User, rng: random.Random, n: int) -> list[Page]:
    visible = customer_queryset_for_user(sales)
    # Customers with a decision chain (the maps worth drawing); any visible customer otherwise.
    ids = list(
        DecisionRole.objects.filter(customer__in=visible.values("pk"))
        .order_by("customer_id")
        .values_list("customer_id", flat=True)
        .distinct()[:2000]
    ) or list(visible.order_by("id").values_list("id", flat=True)[:2000])
    if not ids:
        return []
    chosen = [rng.choice(ids) for _ in range(n)]
    return [
        Page(
            "relmap_api",
            "API: relationship map of a visible customer",
            [f"/api/v1/customers/{i}/relationship-map" for i in chosen],
        ),
        Page(
            "relmap_page",
            "Relationship map page (关系图谱)",
            [f"/relations/customers/{i}/map/" for i in chosen],
        ),
        Page(
            "relmap_card",
            "Customer page: relations card (htmx)",
            [f"/relations/customers/{i}/card/" for i in chosen],
        ),
        Page(
            "refgraph_page", "Referral network page (graph, value, 250 view)", ["/relations/referrals/"] * n
        ),
        Page("refgraph_api", "API: referral graph", ["/api/v1/referral-graph"] * n),
        Page(
            "refgraph_manager",
            "Manager: referral network page",
            ["/relations/referrals/"] * n,
            user="manager",
        ),
    ]
