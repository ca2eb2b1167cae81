"""The bench pages of the relations package point at pages that answer for their user."""

from __future__ import annotations

import random

import pytest

from guanxi.audit.models import Source
from guanxi.relations import benchpages, services

pytestmark = pytest.mark.django_db


def test_bench_pages_answer(world, client_for):
    contact = world.customer.contacts.get()
    services.contact_decision_set(
        actor=world.owner, source=Source.UI, contact=contact, roles=["decision_maker"]
    )
    pages = benchpages.pages(sales=world.owner, manager=world.manager, rng=random.Random(1), n=2)
    assert {p.key for p in pages} >= {"relmap_api", "relmap_page", "refgraph_page", "refgraph_api"}
    for page in pages:
        client = client_for(world.manager if page.user == "manager" else world.owner)
        assert len(page.paths) == 2
        for path in page.paths:
            assert client.get(path).status_code == 200, path
