"""Every dashboard number counts only the customers the user may see (owner, teammate with a
share, outsider, manager of the team, administrator)."""

from __future__ import annotations

import datetime as dt

import pytest

from guanxi.customers.models import Customer, CustomerShare
from guanxi.testing.factories import make_customer
from guanxi.value import analytics, selectors
from guanxi.value.engine.run import classify
from guanxi.value.tests.helpers import order, product

pytestmark = pytest.mark.django_db


@pytest.fixture
def population(world):
    p = product("P1", cost="50", category="设备")
    q = product("P2", category="耗材")
    alice2 = make_customer(world.owner, name="阿里巴巴", province="浙江", industry="电商", size="large")
    bob1 = make_customer(world.teammate, name="腾讯", province="广东", industry="互联网")
    north1 = make_customer(world.outsider, name="京东", province="北京", industry="电商")
    north2 = make_customer(world.outsider, name="百度", province="北京", industry="互联网")
    CustomerShare.objects.create(customer=alice2, user=world.teammate)
    for i, c in enumerate([world.customer, alice2, bob1, north1, north2]):
        order(c, dt.date(2025, 9, 1), product_=p, quantity=i + 1)
        order(c, dt.date(2026, 5, 1), product_=q, quantity=2 * (i + 1))
    classify(as_of=dt.date(2026, 5, 31))
    order(world.customer, dt.date(2026, 6, 15), product_=q, quantity=40)
    classify(as_of=dt.date(2026, 6, 30))
    return {"alice2": alice2, "bob1": bob1, "north1": north1, "north2": north2}


def _expected(world):
    return {
        world.owner: 2,  # own two
        world.teammate: 2,  # own one + one shared with him
        world.outsider: 2,
        world.manager: 3,  # the East team's customers
        world.admin: 5,
    }


def test_every_dashboard_number_respects_visibility(world, population):
    run = selectors.latest_run()
    assert run is not None
    for user, n in _expected(world).items():
        visible_ids = set(analytics.visible_customers(user).values_list("id", flat=True))
        assert len(visible_ids) == n, user
        dist = analytics.distribution(user)
        assert dist["total"] == n == sum(dist["classes"].values()) == sum(dist["tiers"].values())
        assert sum(dist["lifecycle"].values()) == n
        trend = analytics.trend(user)
        assert sum(trend["series"][c][-1] for c in "ABCD") == n
        assert len(trend["periods"]) == 2
        ups = sum(trend["up"]) + sum(trend["down"])
        assert ups == selectors.visible_snapshots(user, run).exclude(movement=0).count()
        assert analytics.pareto(user, run)["customers"] == n
        rfm = analytics.rfm_grid(user, run)
        assert sum(cell["n"] for cell in rfm["cells"].values()) == n
        assert sum(rfm["segments"].values()) == n
        for dim in analytics.DIMENSIONS:
            assert sum(g["total"] for g in analytics.structure(user, dim)["groups"]) == n
        assert sum(r["buyers"] for r in analytics.loyalty(user, run)["classes"]) == n
        assert sum(t["n"] for t in analytics.loyalty(user, run)["tenure"]) == n
        assert sum(r["customers"] for r in analytics.profit(user, run)["classes"]) == n
        prod = analytics.products(user, run)
        # What the classes bought adds up to the visible customers' revenue in the window.
        snap_revenue = sum(selectors.visible_snapshots(user, run).values_list("revenue", flat=True)) / 100
        assert round(sum(sum(v) for v in prod["series"].values()), 2) == round(snap_revenue, 2)
        moves = selectors.movement_list(user=user, run=run)
        assert {m["customer"].pk for m in moves} <= visible_ids
        assert {s.customer_id for s in selectors.pruning_list(user=user, run=run)} <= visible_ids


def test_pareto_is_cumulative_and_ends_at_100(world, population):
    data = analytics.pareto(world.admin, selectors.latest_run())
    revenue = [p["revenue"] for p in data["points"]]
    assert revenue == sorted(revenue) and revenue[-1] == 100.0
    # Five customers: the biggest (world.customer after its June order) is the top 20 %.
    biggest = Customer.objects.get(pk=world.customer.pk)
    assert biggest.value_class == "A"
    assert data["revenue_top20"] > 20


def test_structure_rejects_unknown_dimension(world):
    from guanxi.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed):
        analytics.structure(world.admin, "owner__password")


def _all_figures(user, run):
    return {
        "distribution": analytics.distribution(user),
        "trend": analytics.trend(user),
        "pareto": analytics.pareto(user, run),
        "rfm": analytics.rfm_grid(user, run),
        "structure": [analytics.structure(user, dim) for dim in analytics.DIMENSIONS],
        "loyalty": analytics.loyalty(user, run),
        "profit": analytics.profit(user, run),
        "products": analytics.products(user, run),
    }


def test_pre_aggregated_figures_equal_the_live_ones(world, population):
    """The cube (owner/team rows + shared customers live) gives exactly the live figures, for every
    persona; a customer shared with its own owner counts once."""
    from guanxi.value.engine import cube

    CustomerShare.objects.create(customer=world.customer, user=world.owner)  # shared and own
    CustomerShare.objects.create(customer=population["north1"], team=world.owner.team)  # team share
    run = selectors.latest_run()
    assert cube.is_fresh(run)
    from_cube = {user: _all_figures(user, run) for user in _expected(world)}
    for user in _expected(world):
        assert analytics.cube_scope(user, run) is not None, user
    cube.invalidate()
    assert not cube.is_fresh(selectors.latest_run())
    for user in _expected(world):
        assert analytics.cube_scope(user, run) is None
        live = _all_figures(user, run)
        assert live == from_cube[user], user
    # The owner now sees own two + north1 (shared with the team) = 3, the shared own one once.
    assert from_cube[world.owner]["distribution"]["total"] == 3


def test_reassigning_or_archiving_a_customer_makes_the_cube_stale(world, population):
    from guanxi.value.engine import cube

    run = selectors.latest_run()
    assert cube.is_fresh(run)
    bob1 = population["bob1"]
    bob1.name = "腾讯控股"  # not a visibility column: still fresh
    bob1.save()
    assert cube.is_fresh(selectors.latest_run())
    bob1.owner = world.outsider
    bob1.team = world.outsider.team
    bob1.save()
    assert not cube.is_fresh(selectors.latest_run())
    # Live until rebuilt; the figures follow the new owner at once.
    assert analytics.distribution(world.outsider)["total"] == 3
    assert analytics.distribution(world.teammate)["total"] == 1
    assert cube.refresh_latest()
    assert cube.is_fresh(selectors.latest_run())
    assert analytics.distribution(world.outsider)["total"] == 3
    assert analytics.distribution(world.teammate)["total"] == 1
    assert not cube.refresh_latest()
    Customer.objects.filter(pk=population["north2"].pk).update(status="archived")
    assert not cube.is_fresh(selectors.latest_run())
    assert analytics.distribution(world.outsider)["total"] == 2


def test_a_dropped_trigger_is_recreated_by_the_next_build(world, population):
    """On SQLite a later migration that rebuilds the customers table drops its triggers."""
    from django.db import connection

    from guanxi.value.engine import cube

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("DROP TRIGGER value_cube_upd ON customers_customer")
        else:
            cursor.execute("DROP TRIGGER value_cube_upd")
    cube.invalidate()
    assert cube.refresh_latest()
    bob1 = population["bob1"]
    bob1.owner = world.outsider
    bob1.save()
    assert not cube.is_fresh(selectors.latest_run())
