from __future__ import annotations

import pytest
from django.urls import reverse

from guanxi.audit.models import AuditEvent
from guanxi.customers.models import Customer
from guanxi.engagement.models import Interaction

pytestmark = pytest.mark.django_db


def test_owner_sees_customer_list_and_page(world, client_for):
    client = client_for(world.owner)
    resp = client.get(reverse("customers:list"))
    assert resp.status_code == 200
    assert "华为技术有限公司" in resp.content.decode()
    resp = client.get(reverse("customers:detail", args=[world.customer.pk]))
    assert resp.status_code == 200
    body = resp.content.decode()
    assert "张伟" in body and "客户投诉报价太高" in body


def test_outsider_gets_404_on_customer_page(world, client_for):
    client = client_for(world.outsider)
    assert client.get(reverse("customers:detail", args=[world.customer.pk])).status_code == 404
    assert "华为技术有限公司" not in client.get(reverse("customers:list")).content.decode()


def test_teammate_sees_customer_only_after_team_share(world, client_for):
    client = client_for(world.teammate)
    url = reverse("customers:detail", args=[world.customer.pk])
    assert client.get(url).status_code == 404
    owner = client_for(world.owner)
    resp = owner.post(reverse("customers:share", args=[world.customer.pk]), {"team": world.east.pk})
    assert resp.status_code == 302
    assert client.get(url).status_code == 200


def test_manager_sees_team_customer(world, client_for):
    assert (
        client_for(world.manager).get(reverse("customers:detail", args=[world.customer.pk])).status_code
        == 200
    )


def test_create_customer_via_form_records_audit(world, client_for):
    client = client_for(world.owner)
    resp = client.post(
        reverse("customers:create"),
        {
            "kind": "company",
            "name": "深圳腾达贸易有限公司",
            "relationship_type": "end",
            "status": "prospect",
            "tags": "新客户, 展会",
        },
    )
    assert resp.status_code == 302, resp.content.decode()[:2000]
    customer = Customer.objects.get(name="深圳腾达贸易有限公司")
    assert customer.owner == world.owner
    assert sorted(customer.tags.values_list("name", flat=True)) == ["展会", "新客户"]
    event = AuditEvent.objects.get(action="customer.create", object_id=customer.pk)
    assert event.source == "ui" and event.actor == world.owner
    assert event.changes["name"] == [None, "深圳腾达贸易有限公司"]


def test_invalid_customer_form_is_400_and_writes_nothing(world, client_for):
    client = client_for(world.owner)
    before = Customer.objects.count()
    resp = client.post(
        reverse("customers:create"), {"kind": "company", "name": "", "relationship_type": "bogus"}
    )
    assert resp.status_code == 400
    assert Customer.objects.count() == before


def test_quick_log_with_htmx_returns_timeline_entry(world, client_for):
    client = client_for(world.owner)
    resp = client.post(
        reverse("engagement:log", args=[world.customer.pk]),
        {"channel": "phone", "direction": "out", "summary": "电话确认合同细节"},
        headers={"HX-Request": "true"},
    )
    assert resp.status_code == 200
    body = resp.content.decode()
    assert "电话确认合同细节" in body and 'hx-swap-oob="afterbegin:#timeline"' in body
    assert Interaction.objects.filter(customer=world.customer, summary="电话确认合同细节").exists()
    world.customer.refresh_from_db()
    assert world.customer.last_interaction_at is not None


def test_quick_log_empty_summary_is_rejected(world, client_for):
    client = client_for(world.owner)
    count = Interaction.objects.count()
    resp = client.post(
        reverse("engagement:log", args=[world.customer.pk]),
        {"channel": "phone", "direction": "out", "summary": "   "},
        headers={"HX-Request": "true"},
    )
    assert resp.status_code == 422
    assert Interaction.objects.count() == count


def test_field_history_page_lists_change(world, client_for):
    client = client_for(world.owner)
    resp = client.post(
        reverse("customers:edit", args=[world.customer.pk]),
        {
            "kind": "company",
            "name": "华为技术有限公司",
            "short_name": "华为",
            "relationship_type": "channel",
            "status": "active",
            "city": "东莞",
            "province": "广东",
            "industry": "通信",
            "tags": "重点",
        },
    )
    assert resp.status_code == 302, resp.content.decode()[:3000]
    resp = client.get(reverse("customers:history", args=[world.customer.pk]) + "?field=city")
    body = resp.content.decode()
    assert "深圳" in body and "东莞" in body


@pytest.mark.parametrize("persona", ["manager", "admin"])
def test_list_page_for_managers_and_admins_offers_owner_and_team_filters(world, client_for, persona):
    client = client_for(getattr(world, persona))
    resp = client.get(
        reverse("customers:list"),
        {"owner": world.owner.pk, "team": world.east.pk, "sort": "name", "tag": "重点"},
    )
    assert resp.status_code == 200
    body = resp.content.decode()
    assert "华为技术有限公司" in body and 'name="owner"' in body and 'name="team"' in body
    # The chosen filters stay chosen, and the row names its owner.
    assert f'<option value="{world.owner.pk}" selected>王丽</option>' in body
    assert f'<option value="{world.east.pk}" selected>{world.east.name}</option>' in body
    assert '<option value="重点" selected>重点</option>' in body
    assert "<td>王丽</td>" in body


def test_list_rejects_malformed_filters(world, client_for):
    client = client_for(world.owner)
    assert client.get(reverse("customers:list"), {"owner": "abc"}).status_code == 400
    assert client.get(reverse("customers:list"), {"sort": "drop table"}).status_code == 400
    assert client.get(reverse("customers:list"), {"cursor": "garbage"}).status_code == 400


def test_list_load_more_returns_rows_only_for_htmx(world, client_for):
    from guanxi.testing.factories import make_customer

    for i in range(55):
        make_customer(world.owner, name=f"批量客户{i}")
    client = client_for(world.owner)
    first = client.get(reverse("customers:list"), {"sort": "name"})
    body = first.content.decode()
    assert 'id="load-more"' in body
    cursor = first.context["page"].next_cursor
    more = client.get(
        reverse("customers:list"), {"sort": "name", "cursor": cursor}, headers={"HX-Request": "true"}
    )
    assert more.status_code == 200
    assert "<html" not in more.content.decode() and "<tr>" in more.content.decode()


def test_customer_page_shows_newest_timeline_and_pages_through_the_rest(world, client_for):
    import datetime as dt
    import re

    from django.utils import timezone

    from guanxi.customers.views import TIMELINE_PAGE
    from guanxi.engagement.selectors import customer_timeline
    from guanxi.testing.factories import make_interaction

    customer = world.customer
    same_moment = timezone.now() - dt.timedelta(days=1)
    for i in range(TIMELINE_PAGE + 7):
        # Several entries share one instant: the cursor must neither skip nor repeat them.
        when = same_moment if i % 3 == 0 else same_moment - dt.timedelta(minutes=i)
        make_interaction(customer, summary=f"第{i}次拜访", occurred_at=when)
    expected = [
        ("interaction" if e.kind == "interaction" else "event", e.payload.pk)
        for e in customer_timeline(customer, limit=500)
    ]
    client = client_for(world.owner)
    resp = client.get(reverse("customers:detail", args=[customer.pk]))
    html = resp.content.decode()
    seen = re.findall(r'id="interaction-(\d+)"', html)
    entries = len(re.findall(r'<li class="(?:interaction|event)"', html))
    assert entries == TIMELINE_PAGE
    pages = 1
    while match := re.search(r'hx-get="([^"]+/timeline/\?cursor=[^"]+)"', html):
        html = client.get(match.group(1).replace("&amp;", "&"), HTTP_HX_REQUEST="true").content.decode()
        seen += re.findall(r'id="interaction-(\d+)"', html)
        entries += len(re.findall(r'<li class="(?:interaction|event)"', html))
        pages += 1
    assert pages == 2 and entries == len(expected)
    assert [int(pk) for pk in seen] == [pk for kind, pk in expected if kind == "interaction"]


def test_timeline_page_rejects_a_bad_cursor_and_hides_other_customers(world, client_for):
    url = reverse("customers:timeline", args=[world.customer.pk])
    resp = client_for(world.owner).get(url, {"cursor": "not-a-cursor"})
    assert resp.status_code == 400
    assert client_for(world.outsider).get(url).status_code == 404
