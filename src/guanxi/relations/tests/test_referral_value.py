"""Referral value (转介绍价值) on a known graph with a cycle, and what each persona may see of it.

    老周 (outside partner) → A
    A → B            A's contact → C            B → D            D → A   (cycle A → B → D → A)
    C → E            bob (a colleague) → F      F → G (Charlie's: invisible to Alice)   G → H

Revenue: A 100, B 200, C 300, D 400, E 500, F 600, G 700, H 800.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from guanxi.audit.models import Source
from guanxi.customers.models import Customer
from guanxi.relations import selectors, services
from guanxi.testing.factories import make_contact, make_customer

pytestmark = pytest.mark.django_db

DAY = dt.date(2026, 1, 10)


@pytest.fixture
def graph(world):
    alice, charlie = world.owner, world.outsider
    names = "ABCDEFGH"
    c = {}
    for i, name in enumerate(names):
        owner = charlie if name == "G" else alice
        c[name] = make_customer(owner, name=f"客户{name}")
        Customer.objects.filter(pk=c[name].pk).update(revenue_total=Decimal(100 * (i + 1)))
    a_contact = make_contact(c["A"], name="阿强")

    def refer(target: str, **referrer):
        services.referral_create(
            actor=world.admin, source=Source.SYSTEM, customer=c[target], referred_on=DAY, **referrer
        )

    refer("A", referrer_name="老周")
    refer("B", referrer_customer_id=c["A"].pk)
    refer("C", referrer_contact_id=a_contact.pk)
    refer("D", referrer_customer_id=c["B"].pk)
    refer("A", referrer_customer_id=c["D"].pk)
    refer("E", referrer_customer_id=c["C"].pk)
    refer("F", referrer_user_id=world.teammate.pk)
    refer("G", referrer_customer_id=c["F"].pk)
    refer("H", referrer_customer_id=c["G"].pk)
    return c


def _table(values):
    return {
        v.label: (v.direct_customers, v.direct_revenue, v.indirect_customers, v.indirect_revenue)
        for v in values
    }


def test_referral_value_direct_and_indirect_with_a_cycle(world, graph):
    values = selectors.referral_values(user=world.owner)
    assert _table(values) == {
        "老周": (1, Decimal(100), 4, Decimal(1400)),
        "客户A": (2, Decimal(500), 2, Decimal(900)),  # B, C; then D, E (A itself is not its own result)
        "客户B": (1, Decimal(400), 3, Decimal(900)),  # D; then A, C, E round the cycle
        "客户D": (1, Decimal(100), 3, Decimal(1000)),  # A; then B, C, E
        "李波": (1, Decimal(600), 0, Decimal(0)),  # F; F → G is invisible to Alice
        "客户C": (1, Decimal(500), 0, Decimal(0)),
    }
    assert [v.label for v in values] == ["老周", "客户A", "客户B", "客户D", "李波", "客户C"]
    a = next(v for v in values if v.label == "客户A")
    assert a.people == ["阿强"]  # the contact who made the introduction, to thank in person
    assert a.total_customers == 4 and a.total_revenue == Decimal(1400)


def test_invisible_customers_are_neither_counted_nor_walked_through(world, graph):
    everything = _table(selectors.referral_values(user=world.admin))
    assert everything["李波"] == (1, Decimal(600), 2, Decimal(1500))  # F, then G and H
    assert everything["客户F"] == (1, Decimal(700), 1, Decimal(800))
    mine = _table(selectors.referral_values(user=world.owner))
    assert "客户F" not in mine and "客户G" not in mine  # no edge from or to G survives for Alice
    edges = selectors.referral_edges(user=world.owner)
    seen = {e.customer_name for e in edges} | {e.referrer_label for e in edges}
    assert "客户G" not in seen and "客户H" not in seen


def test_outsider_sees_nothing_of_alices_referrals(world, graph):
    assert selectors.referral_values(user=world.outsider) == []
    assert selectors.referral_edges(user=world.outsider) == []


def test_the_250_view_of_a_lost_customer(world, graph):
    Customer.objects.filter(pk=graph["A"].pk).update(status="lost")
    d = selectors.referral_downstream(user=world.owner, customer_id=graph["A"].pk)
    assert [r[1] for r in d.direct] == ["客户C", "客户B"]  # by revenue
    assert sorted(r[1] for r in d.indirect) == ["客户D", "客户E"]
    assert d.count == 4 and d.revenue == Decimal(1400)
    at_risk = selectors.referrers_at_risk(selectors.referral_values(user=world.owner))
    assert [v.label for v in at_risk] == ["客户A"]


def test_worth_thanking_leaves_out_lost_referrers_and_old_ones_without_revenue(world, graph):
    Customer.objects.filter(pk=graph["C"].pk).update(status="lost")
    values = selectors.referral_values(user=world.owner)
    thank = [v.label for v in selectors.worth_thanking(values, today=DAY + dt.timedelta(days=400))]
    assert "客户C" not in thank
    assert thank[0] == "老周"


def test_referral_graph_api_and_values_api(world, graph, api_for):
    api = api_for(world.owner)
    body = api.get("/referral-graph").json()
    names = {n["name"] for n in body["nodes"]}
    assert {"客户A", "客户B", "老周", "李波"} <= names
    assert "客户G" not in names and "客户H" not in names
    assert not body["truncated"]
    small = api.get("/referral-graph", {"limit": 2}).json()
    assert len(small["edges"]) == 2 and small["truncated"]
    values = api.get("/referral-values", {"top": 2}).json()
    assert [v["label"] for v in values] == ["老周", "客户A"]
    assert values[0]["total_revenue"] == "1500.00" or Decimal(values[0]["total_revenue"]) == 1500
    down = api.get(f"/customers/{graph['B'].pk}/referral-downstream").json()
    assert down["count"] == 4
    outsider = api_for(world.outsider)
    assert outsider.get(f"/customers/{graph['B'].pk}/referral-downstream").status_code == 404
    assert outsider.get("/referral-graph").json()["nodes"] == []
