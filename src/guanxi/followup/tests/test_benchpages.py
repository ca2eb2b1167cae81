"""The bench pages of the follow-up engine work on small data (the lead runs them at scale)."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest

from guanxi.followup import benchpages
from guanxi.followup.models import FollowUpTask
from guanxi.testing.factories import make_customer

pytestmark = pytest.mark.django_db


def test_bench_pages_answer_and_report_the_route_quality(world, client_for):
    rng = random.Random(3)
    for i in range(64):
        make_customer(
            world.owner,
            name=f"杭州客户{i}",
            city="杭州",
            latitude=Decimal(f"{30.20 + rng.random() * 0.15:.6f}"),
            longitude=Decimal(f"{120.10 + rng.random() * 0.15:.6f}"),
        )
    pages = benchpages.pages(sales=world.owner, manager=world.manager, rng=random.Random(1), n=2)
    assert {p.key for p in pages} == {"today", "api_today", "route_20", "route_60"}
    assert FollowUpTask.objects.filter(assignee=world.owner).count() == 40
    benchpages.pages(sales=world.owner, manager=world.manager, rng=random.Random(1), n=1)
    assert FollowUpTask.objects.filter(assignee=world.owner).count() == 40  # seeded once
    route = next(p for p in pages if p.key == "route_20")
    assert "mean gap" in route.label
    client = client_for(world.owner)
    for page in pages:
        for path in page.paths:
            resp = client.get(path)
            assert resp.status_code == 200, (path[:80], resp.content[:300])
    gap = benchpages.quality_gap(benchpages._city_points(world.owner), random.Random(5))
    assert gap is not None and -1e-9 <= gap < 0.05
