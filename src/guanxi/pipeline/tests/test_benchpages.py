"""The pipeline's bench pages work on small data and create their deals once (the lead runs them at scale)."""

from __future__ import annotations

import random

import pytest

from guanxi.pipeline import benchpages
from guanxi.pipeline.models import Opportunity, StageKind, StageStay
from guanxi.testing.factories import make_customer

pytestmark = pytest.mark.django_db


def test_bench_pages_answer_and_seed_once(world, client_for, api_for):
    for i in range(20):
        make_customer(world.owner if i % 2 else world.teammate, name=f"客户{i}")
    pages = benchpages.pages(sales=world.owner, manager=world.manager, rng=random.Random(1), n=1)
    assert Opportunity.objects.count() == 1000
    assert StageStay.objects.count() > 1000
    assert Opportunity.objects.filter(status=StageKind.WON).exists()
    benchpages.pages(sales=world.owner, manager=world.manager, rng=random.Random(1), n=1)
    assert Opportunity.objects.count() == 1000  # seeded once
    assert {p.target_ms for p in pages if p.key.startswith("pipeline_board")} == {150}
    users = {"sales": world.owner, "manager": world.manager}
    for page in pages:
        for path in page.paths:
            if path.startswith("/api/"):
                resp = api_for(users[page.user]).client.get(path)
            else:
                resp = client_for(users[page.user]).get(path)
            assert resp.status_code == 200, (path, resp.content[:300])
