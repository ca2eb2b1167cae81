from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from guanxi.audit.models import Source
from guanxi.service import services
from guanxi.service.models import Complaint, Objection, Promise


def _complaint(world):
    return services.complaint_create(
        actor=world.owner, source=Source.UI, customer=world.customer, summary="交货延迟", category="delivery"
    )


def _promise(world):
    return services.promise_create(
        actor=world.owner,
        source=Source.UI,
        customer=world.customer,
        what="寄送样品",
        due_on=timezone.localdate() + dt.timedelta(days=1),
    )


def _objection(world):
    return services.objection_create(
        actor=world.owner,
        source=Source.UI,
        customer=world.customer,
        category="price",
        customer_words="太贵了",
        response="批量折扣",
        outcome="won",
    )


def test_log_a_complaint_through_the_page(world, client_for):
    client = client_for(world.owner)
    assert client.get(f"/service/complaints/new/{world.customer.pk}/").status_code == 200
    resp = client.post(
        f"/service/complaints/new/{world.customer.pk}/",
        {
            "summary": "到货破损",
            "category": "quality",
            "severity": "high",
            "channel": "phone",
            "customer_words": "箱子全压坏了",
            "beyond_authority": "on",
        },
    )
    c = Complaint.objects.get()
    assert resp.status_code == 302 and resp["Location"] == f"/service/complaints/{c.pk}/"
    assert c.escalated_to == world.manager
    page = client.get(f"/service/complaints/{c.pk}/").content.decode()
    assert "到货破损" in page and "箱子全压坏了" in page and "升级了投诉" in page


def test_bad_complaint_form_shows_errors_and_writes_nothing(world, client_for):
    resp = client_for(world.owner).post(
        f"/service/complaints/new/{world.customer.pk}/",
        {"summary": "", "category": "nope", "severity": "high"},
    )
    assert resp.status_code == 400 and "errorlist" in resp.content.decode()
    assert not Complaint.objects.exists()


def test_complaint_steps_through_the_page(world, client_for):
    c = _complaint(world)
    client = client_for(world.owner)
    assert client.post(f"/service/complaints/{c.pk}/acknowledge/", {"note": "已致电"}).status_code == 302
    assert client.post(f"/service/complaints/{c.pk}/acknowledge/", {"note": ""}).status_code == 400  # twice
    assert client.post(f"/service/complaints/{c.pk}/action/", {"note": ""}).status_code == 400
    assert client.post(f"/service/complaints/{c.pk}/resolve/", {"resolution": "已补发"}).status_code == 302
    assert client.post(f"/service/complaints/{c.pk}/satisfaction/", {"satisfaction": "4"}).status_code == 302
    c.refresh_from_db()
    assert c.status == "resolved" and c.satisfaction == "4"


@pytest.mark.parametrize(
    "path",
    [
        "/service/complaints/{c}/",
        "/service/complaints/{c}/edit/",
        "/service/promises/{p}/",
        "/service/objections/{o}/",
        "/service/complaints/new/{cust}/",
        "/service/promises/new/{cust}/",
        "/service/surveys/new/{cust}/",
        "/service/prep/{cust}/",
    ],
)
def test_outsider_and_teammate_get_404_on_every_page(world, client_for, path):
    c, p, o = _complaint(world), _promise(world), _objection(world)
    url = path.format(c=c.pk, p=p.pk, o=o.pk, cust=world.customer.pk)
    for user in (world.outsider, world.teammate):
        assert client_for(user).get(url).status_code == 404, (user, url)
    assert client_for(world.owner).get(url).status_code == 200
    assert client_for(world.manager).get(url).status_code == 200


def test_outsider_posts_are_404_and_change_nothing(world, client_for):
    c, p = _complaint(world), _promise(world)
    client = client_for(world.outsider)
    assert client.post(f"/service/complaints/{c.pk}/resolve/", {"resolution": "x"}).status_code == 404
    assert client.post(f"/service/promises/{p.pk}/close/", {"outcome": "kept"}).status_code == 404
    assert Complaint.objects.get().status == "open" and Promise.objects.get().status == "open"


def test_dashboards_list_only_what_the_user_sees(world, client_for):
    _complaint(world), _promise(world), _objection(world)
    for url, text in (
        ("/service/complaints/?view=all", "交货延迟"),
        ("/service/promises/?view=all", "寄送样品"),
        ("/service/objections/", "太贵了"),
        ("/service/objections/knowledge/", "批量折扣"),
    ):
        assert text in client_for(world.owner).get(url).content.decode(), url
        assert text not in client_for(world.outsider).get(url).content.decode(), url


def test_prep_page_shows_open_promises_and_answers(world, client_for):
    _promise(world), _objection(world)
    html = client_for(world.owner).get(f"/service/prep/{world.customer.pk}/").content.decode()
    assert "寄送样品" in html and "批量折扣" in html


def test_survey_link_is_shown_once_on_the_page(world, client_for):
    client = client_for(world.owner)
    resp = client.post(f"/service/surveys/new/{world.customer.pk}/", {"channel": "link", "valid_days": "30"})
    assert resp.status_code == 200
    html = resp.content.decode()
    assert "/s/" in html and "no-cache" in resp["Cache-Control"]
    results = client.get(f"/service/surveys/?customer={world.customer.pk}").content.decode()
    assert "/s/" not in results


def test_absence_page_records_a_managers_leave(world, client_for):
    client = client_for(world.manager)
    resp = client.post(
        "/service/absences/", {"user": world.manager.pk, "starts_on": "2026-07-01", "ends_on": "2026-07-03"}
    )
    assert resp.status_code == 302
    bad = client.post(
        "/service/absences/", {"user": world.manager.pk, "starts_on": "2026-07-05", "ends_on": "2026-07-01"}
    )
    assert bad.status_code == 400
    assert client_for(world.owner).post("/service/absences/", {"user": world.manager.pk}).status_code == 404


def test_complaint_dashboard_query_count(world, client_for, django_assert_max_num_queries):
    for _ in range(15):
        _complaint(world)
    client = client_for(world.manager)
    with django_assert_max_num_queries(16):
        assert client.get("/service/complaints/?view=all").status_code == 200


def test_promise_dashboard_query_count(world, client_for, django_assert_max_num_queries):
    for _ in range(15):
        _promise(world)
    client = client_for(world.manager)
    with django_assert_max_num_queries(16):
        assert client.get("/service/promises/?view=all").status_code == 200


def test_objection_pages_render(world, client_for):
    o = _objection(world)
    client = client_for(world.owner)
    assert client.get("/service/objections/analysis/").status_code == 200
    resp = client.post(
        f"/service/objections/{o.pk}/",
        {
            "category": "price",
            "customer_words": "太贵了",
            "judgement": "pretext",
            "outcome": "won",
            "real_reason": "想压价",
        },
    )
    assert resp.status_code == 302
    assert Objection.objects.get().judgement == "pretext"


def test_today_page_and_api_show_complaints_and_promises_due(world, client_for, api_for):
    c = services.complaint_create(
        actor=world.owner,
        source=Source.UI,
        customer=world.customer,
        summary="交货延迟",
        category="delivery",
        received_at=timezone.now() - dt.timedelta(hours=20),
    )
    _promise(world)
    html = client_for(world.owner).get("/today/").content.decode()
    assert "交货延迟" in html and "寄送样品" in html and f"/service/complaints/{c.pk}/" in html
    resp = api_for(world.owner).get("/today")
    assert resp.status_code == 200, resp.content
    keys = {s["key"] for s in resp.json()["sections"]}
    assert {"complaints_due", "promises_due"} <= keys
