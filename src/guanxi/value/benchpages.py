"""Timed value dashboards for ``make bench`` (p95 target 300 ms at medium, issue 7).

The generated data has no evaluation yet; the first call runs one (idempotent with ``--keep``: a
period already evaluated is left alone). The dashboards are timed as users meet them after the
periodic tick: with the latest run's summary cube built (the tick rebuilds it when a reassignment
made it stale; until then the dashboards compute from the snapshot, which is slower).
"""

from __future__ import annotations

import random

from guanxi.accounts.models import User
from guanxi.bench.measure import Page
from guanxi.customers.selectors import customer_queryset_for_user
from guanxi.value.engine import cube
from guanxi.value.engine.run import classify, latest_run

TARGET_MS = 300


def pages(*, sales: User, manager: User, rng: random.Random, n: int) -> list[Page]:
    if latest_run() is None:
        classify()
    cube.refresh_latest()
    ids = list(customer_queryset_for_user(sales).order_by("id").values_list("id", flat=True)[:500])
    cards = [f"/value/customers/{rng.choice(ids)}/card/" for _ in range(n)] if ids else []
    out = []
    for user in ("sales", "manager"):
        who = "salesperson" if user == "sales" else "manager"
        out += [
            Page(
                f"value_overview_{user}",
                f"Value overview: classes, tiers, funnel, trend ({who})",
                ["/value/"] * n,
                user=user,
                target_ms=TARGET_MS,
            ),
            Page(
                f"value_pareto_{user}",
                f"Value: Pareto curve ({who})",
                ["/value/pareto/"] * n,
                user=user,
                target_ms=TARGET_MS,
            ),
            Page(
                f"value_rfm_{user}",
                f"Value: RFM grid ({who})",
                ["/value/rfm/"] * n,
                user=user,
                target_ms=TARGET_MS,
            ),
            Page(
                f"value_structure_{user}",
                f"Value: customer structure by region ({who})",
                ["/value/structure/"] * n,
                user=user,
                target_ms=TARGET_MS,
            ),
            Page(
                f"value_analysis_{user}",
                f"Value: loyalty, profit, products ({who})",
                ["/value/analysis/"] * n,
                user=user,
                target_ms=TARGET_MS,
            ),
            Page(
                f"value_movement_{user}",
                f"Value: movement list ({who})",
                ["/value/movement/"] * n,
                user=user,
                target_ms=TARGET_MS,
            ),
        ]
    if cards:
        out.append(
            Page(
                "value_card",
                "Value card with path up (customer page section)",
                cards,
                user="sales",
                target_ms=TARGET_MS,
            )
        )
    return out
