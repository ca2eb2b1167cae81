"""Value pages for the three personas, drill-down links, the customer's value card (404 outside
scope, bounded queries), the override form, re-evaluation button, settings (administrators)."""

from __future__ import annotations

import datetime as dt

import pytest
from django_tasks_db.models import DBTaskResult

from guanxi.customers.models import Customer
from guanxi.testing.factories import make_customer
from guanxi.value.engine.run import classify
from guanxi.value.tests.helpers import order, product

pytestmark = pytest.mark.django_db

PAGES = [
    "/value/",
    "/value/pareto/",
    "/value/rfm/",
    "/value/structure/",
    "/value/structure/?dimension=size",
    "/value/analysis/",
    "/value/movement/",
    "/value/pruning/",
]


@pytest.fixture
def evaluated(world):
    p = product("P1", category="设备")
    north = make_customer(world.outsider, name="北方客户", province="北京")
    order(world.customer, dt.date(2026, 5, 1), product_=p, quantity=3)
    order(north, dt.date(2026, 5, 1), product_=p, quantity=1)
    classify(as_of=dt.date(2026, 5, 31))
    order(north, dt.date(2026, 6, 10), product_=p, quantity=30)
    classify(as_of=dt.date(2026, 6, 30))
    return north


@pytest.mark.parametrize("url", PAGES)
def test_pages_render_for_every_persona(world, evaluated, client_for, url):
    for user in (world.owner, world.teammate, world.outsider, world.manager, world.admin):
        resp = client_for(user).get(url)
        assert resp.status_code == 200, (url, user, resp.content[:300])
        assert b'id="value-charts"' in resp.content


def test_pages_without_any_run(world, client_for):
    for url in PAGES:
        assert client_for(world.owner).get(url).status_code == 200


def test_overview_counts_and_drilldown(world, evaluated, client_for):
    body = client_for(world.owner).get("/value/").content.decode()
    # Two customers, shares 20/30/30/20: positions 1 and 2 → A and C. The northern customer overtook
    # Alice's (now C); she sees only hers.
    assert 'data-count="class-C">1<' in body and 'data-count="class-A">0<' in body
    assert "/customers/?value_class=C" in body and "/customers/?lifecycle=" in body
    admin = client_for(world.admin).get("/value/").content.decode()
    assert 'data-count="class-A">1<' in admin and 'data-count="class-C">1<' in admin
    # The drill-down lands on the customer list filtered accordingly, visibility included.
    listing = client_for(world.owner).get("/customers/", {"value_class": "C"}).content.decode()
    assert world.customer.name in listing
    assert "北方客户" not in client_for(world.owner).get("/customers/", {"value_class": "A"}).content.decode()
    assert "北方客户" in client_for(world.admin).get("/customers/", {"value_class": "A"}).content.decode()
    tiers = client_for(world.admin).get("/customers/", {"tier": "important", "lifecycle": "new"})
    assert tiers.status_code == 200
    assert client_for(world.admin).get("/customers/", {"value_class": "Z"}).status_code == 400


def test_movement_page_shows_who_moved_and_why(world, evaluated, client_for):
    admin = client_for(world.admin).get("/value/movement/").content.decode()
    assert f'data-move="{evaluated.pk}"' in admin and f'data-move="{world.customer.pk}"' in admin
    assert "销售额" in admin  # the indicator that moved
    mine = client_for(world.owner).get("/value/movement/").content.decode()
    assert f'data-move="{evaluated.pk}"' not in mine and f'data-move="{world.customer.pk}"' in mine
    assert client_for(world.owner).get("/value/movement/?run=999999").status_code == 404
    assert client_for(world.owner).get("/value/movement/?direction=sideways").status_code == 404


def test_customer_card_and_path_up(world, evaluated, client_for, django_assert_max_num_queries):
    url = f"/value/customers/{world.customer.pk}/card/"
    client = client_for(world.owner)
    client.get(url)  # warm the per-process service-policy cache
    classify(as_of=dt.date(2026, 7, 31))  # more history must not mean more queries
    with django_assert_max_num_queries(8):
        resp = client.get(url)
    body = resp.content.decode()
    assert resp.status_code == 200
    assert 'data-value-class="C"' in body and "data-path-up" in body and "data-score-gap" in body
    assert "升到 A 类还差" in body or ("升到 B 类还差" in body and 'data-weak="revenue"' in body)
    assert "投诉时限" in body
    assert client_for(world.outsider).get(url).status_code == 404
    # The customer page loads the card lazily: no query added to the page itself.
    page = client_for(world.owner).get(f"/customers/{world.customer.pk}/").content.decode()
    assert f'hx-get="/value/customers/{world.customer.pk}/card/"' in page


def test_override_form(world, evaluated, client_for):
    url = f"/value/customers/{world.customer.pk}/override/"
    assert client_for(world.owner).get(url).status_code == 404  # salespeople cannot override
    assert client_for(world.outsider).get(url).status_code == 404
    manager = client_for(world.manager)
    resp = manager.post(url, {"value_class": "A", "reason": ""})
    assert resp.status_code == 400 and "请填写调整原因" in resp.content.decode()
    resp = manager.post(url, {"value_class": "A", "reason": "战略客户"})
    assert resp.status_code == 302
    c = Customer.objects.get(pk=world.customer.pk)
    assert (c.value_class, c.value_override_reason) == ("A", "战略客户")
    card = manager.get(f"/value/customers/{world.customer.pk}/card/").content.decode()
    assert "data-override" in card and "战略客户" in card


def test_classify_button_enqueues_for_managers_only(world, client_for):
    assert client_for(world.owner).post("/value/classify/").status_code == 404
    before = DBTaskResult.objects.count()
    resp = client_for(world.manager).post("/value/classify/")
    assert resp.status_code == 302
    assert DBTaskResult.objects.count() == before + 1
    assert client_for(world.manager).get("/value/classify/").status_code == 405


def test_settings_admin_only_and_bad_input_rejected(world, client_for):
    assert client_for(world.manager).get("/value/settings/").status_code == 404
    admin = client_for(world.admin)
    page = admin.get("/value/settings/")
    assert page.status_code == 200
    form = {k: v for k, v in page.context["form"].initial.items() if k != "id"}
    bad = {**form, "share_d": 30}
    resp = admin.post("/value/settings/", bad)
    assert resp.status_code == 400 and "100" in resp.content.decode()
    ok = {**form, "weight_referral": 0}
    assert admin.post("/value/settings/", ok).status_code == 302
    resp = admin.post(
        "/value/settings/policies/new/",
        {
            "value_class": "A",
            "tier": "key",
            "complaint_response_hours": 10,
            "complaint_resolution_hours": 5,
            "weight": "1",
        },
    )
    assert resp.status_code == 400
    resp = admin.post(
        "/value/settings/policies/new/",
        {
            "value_class": "A",
            "tier": "key",
            "complaint_response_hours": 1,
            "complaint_resolution_hours": 5,
            "weight": "1",
            "contact_cadence_days": 3,
        },
    )
    assert resp.status_code == 302
    resp = admin.post(
        "/value/settings/tiers/new/", {"position": 1, "tier": "key", "classes": "A", "min_score": "-3"}
    )
    assert resp.status_code == 400
