"""Hot pages and endpoints use a bounded number of queries that does not grow with the rows shown.

Each test renders the same page over a small and a large data set and requires the large one to
use no more queries than the small one, under a ceiling (``django_assert_max_num_queries``), so an
N+1 (a query per row) fails here. (A short page sorted by last interaction may use one query *more*:
keyset pagination reads the customers never contacted in a second, indexed step to fill the page.)
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from guanxi.conftest import World
from guanxi.testing.factories import make_contact, make_customer, make_interaction

pytestmark = pytest.mark.django_db

LIST_FILTERS = {"q": "公司", "province": "广东", "status": "active", "tag": "重点", "sort": "name"}


def _customers(world: World, n: int) -> None:
    """n more customers of Alice matching LIST_FILTERS, each with tags, a contact and an interaction."""
    base = timezone.now() - dt.timedelta(days=3)
    for i in range(n):
        customer = make_customer(
            world.owner,
            name=f"广州测试{i:03d}贸易公司",
            province="广东",
            city="广州",
            status="active",
            tags=["重点", f"批次{i % 3}"],
        )
        make_contact(customer, name=f"联系人{i}", phones=[f"1390013{i:04d}"])
        make_interaction(customer, summary=f"拜访{i}", occurred_at=base + dt.timedelta(minutes=i))


def _count(client, url: str, params: dict | None = None, **headers: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        resp = client.get(url, params or {}, headers=headers or None)
    assert resp.status_code == 200, resp.content[:500]
    return len(ctx.captured_queries)


@pytest.mark.parametrize("params", [{}, LIST_FILTERS], ids=["plain", "filters+search"])
def test_customer_list_page_query_count_does_not_grow_with_rows(
    world, client_for, django_assert_max_num_queries, params
):
    client = client_for(world.owner)
    _customers(world, 5)
    small = _count(client, "/customers/", params)
    _customers(world, 55)  # 60 matching rows: a full page of 50 and a next cursor
    with django_assert_max_num_queries(12):
        resp = client.get("/customers/", params)
    assert resp.status_code == 200
    assert resp.content.decode().count('href="/customers/') >= 50
    assert _count(client, "/customers/", params) <= small


def test_customer_list_load_more_query_count_is_bounded(world, client_for, django_assert_max_num_queries):
    client = client_for(world.owner)
    _customers(world, 60)
    first = client.get("/customers/", LIST_FILTERS)
    cursor = first.context["page"].next_cursor
    assert cursor
    with django_assert_max_num_queries(12):
        resp = client.get("/customers/", {**LIST_FILTERS, "cursor": cursor}, headers={"HX-Request": "true"})
    assert resp.status_code == 200


def test_manager_list_page_query_count_is_bounded(world, client_for, django_assert_max_num_queries):
    client = client_for(world.manager)
    _customers(world, 5)
    small = _count(client, "/customers/", LIST_FILTERS)
    _customers(world, 55)
    with django_assert_max_num_queries(15):
        assert client.get("/customers/", LIST_FILTERS).status_code == 200
    assert _count(client, "/customers/", LIST_FILTERS) <= small


def _enrich(world: World, contacts: int, interactions: int, tags: int) -> None:
    customer = world.customer
    for i in range(contacts):
        make_contact(customer, name=f"联系人{i}", phones=[f"1380013{i:04d}"], emails=[f"c{i}@example.com"])
    people = list(customer.contacts.all()[:3])
    for i in range(interactions):
        make_interaction(customer, summary=f"第{i}次拜访", contacts=people, participants=[world.teammate])
    from guanxi.customers.services import customer_update

    customer_update(
        actor=world.owner,
        source="system",
        customer=customer,
        tags=["重点", *[f"标签{i}" for i in range(tags)]],
    )


def test_customer_page_query_count_does_not_grow_with_contacts_interactions_tags(
    world, client_for, django_assert_max_num_queries
):
    client = client_for(world.owner)
    url = f"/customers/{world.customer.pk}/"
    _enrich(world, contacts=2, interactions=2, tags=1)
    small = _count(client, url)
    _enrich(world, contacts=10, interactions=25, tags=6)
    with django_assert_max_num_queries(25):
        resp = client.get(url)
    body = resp.content.decode()
    assert "联系人9" in body and "第24次拜访" in body and "标签5" in body
    assert _count(client, url) == small


def test_api_customer_list_query_count_does_not_grow_with_rows(world, api_for, django_assert_max_num_queries):
    api = api_for(world.owner)
    api.get("/me")  # the token's last_used_at is touched at most once a minute: do it before counting
    _customers(world, 5)
    small = _count(api.client, "/api/v1/customers", LIST_FILTERS)
    _customers(world, 55)
    with django_assert_max_num_queries(8):
        resp = api.client.get("/api/v1/customers", LIST_FILTERS)
    assert len(resp.json()["items"]) == 50
    assert _count(api.client, "/api/v1/customers", LIST_FILTERS) <= small
    assert (
        _count(api.client, "/api/v1/customers", {"limit": 200})
        <= _count(api.client, "/api/v1/customers", {"limit": 2}) + 1
    )  # the short page also reads the never-contacted customers


def test_api_timeline_and_contacts_query_count_is_bounded(world, api_for, django_assert_max_num_queries):
    api = api_for(world.owner)
    api.get("/me")
    _enrich(world, contacts=2, interactions=2, tags=0)
    timeline = f"/api/v1/customers/{world.customer.pk}/timeline"
    small = (_count(api.client, timeline), _count(api.client, "/api/v1/contacts"))
    _enrich(world, contacts=12, interactions=20, tags=0)
    with django_assert_max_num_queries(12):
        api.client.get(timeline)
    assert (_count(api.client, timeline), _count(api.client, "/api/v1/contacts")) == small
