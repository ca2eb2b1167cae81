"""The follow-up API: Today, tasks, appointments, cadence, route ordering, visit plans, greetings;
bad input rejected clearly; three personas."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from guanxi.audit.models import AuditEvent, Source
from guanxi.conftest import assert_api_error
from guanxi.followup import reminders, services
from guanxi.followup.models import Appointment, AppointmentChange, Reminder
from guanxi.testing.factories import make_contact, make_customer, make_interaction

pytestmark = pytest.mark.django_db


def test_today_endpoint(world, api_for):
    api = api_for(world.owner)
    stale = make_customer(world.owner, name="久未联系", status="active")
    make_interaction(stale, occurred_at=timezone.now() - dt.timedelta(days=90))
    services.task_create(
        actor=world.owner,
        source=Source.API,
        title="逾期任务",
        due_on=timezone.localdate() - dt.timedelta(days=2),
    )
    resp = api.get("/today")
    assert resp.status_code == 200, resp.content
    body = resp.json()
    assert body["day"] == timezone.localdate().isoformat()
    assert [t["title"] for t in body["tasks"]] == ["逾期任务"] and body["tasks"][0]["overdue"]
    assert body["overdue_tasks"] == 1
    assert body["cadence_breaches"][0]["customer"]["name"] == "久未联系"
    assert body["cadence_breaches"][0]["overdue_days"] == pytest.approx(60, abs=0.2)
    other = api_for(world.outsider).get("/today").json()
    assert other["cadence_breaches"] == [] and other["tasks"] == []


def test_tasks_api_create_update_and_scope(world, api_for):
    api = api_for(world.owner)
    due = (timezone.localdate() + dt.timedelta(days=3)).isoformat()
    resp = api.post("/tasks", {"title": "寄资料", "due_on": due, "customer_id": world.customer.pk})
    assert resp.status_code == 201, resp.content
    task = resp.json()
    assert task["customer"]["id"] == world.customer.pk and task["assignee"]["id"] == world.owner.pk
    assert api.patch(f"/tasks/{task['id']}", {"status": "done"}).json()["status"] == "done"
    assert api.patch(f"/tasks/{task['id']}", {"status": "open"}).json()["status"] == "open"
    snoozed = api.patch(
        f"/tasks/{task['id']}", {"snoozed_until": (timezone.localdate() + dt.timedelta(days=9)).isoformat()}
    )
    assert snoozed.json()["effective_due"] == (timezone.localdate() + dt.timedelta(days=9)).isoformat()
    assert AuditEvent.objects.filter(action__startswith="task.", object_id=task["id"]).count() >= 4
    for persona in (world.outsider, world.teammate):
        assert_api_error(api_for(persona).get(f"/tasks/{task['id']}"), 404, "not_found")
    # the outsider cannot attach a task to Alice's customer, nor give Bob one about it
    assert_api_error(
        api_for(world.outsider).post(
            "/tasks", {"title": "x", "due_on": due, "customer_id": world.customer.pk}
        ),
        404,
    )
    resp = api.post(
        "/tasks",
        {"title": "给Bob", "due_on": due, "customer_id": world.customer.pk, "assignee_id": world.teammate.pk},
    )
    assert_api_error(resp, 403)


@pytest.mark.parametrize(
    ("payload", "status", "field"),
    [
        ({"title": "x", "due_on": "2026-02-30"}, 422, "due_on"),  # impossible date
        ({"title": "x", "due_on": "2026-13-01"}, 422, "due_on"),
        ({"title": "   ", "due_on": "2026-07-01"}, 422, "title"),
        ({"title": "x", "due_on": "2126-07-01"}, 400, "due_on"),  # a century away: a typo
        ({"title": "x", "due_on": "2026-07-01", "extra": 1}, 422, "extra"),
    ],
)
def test_tasks_api_rejects_bad_input(world, api_for, payload, status, field):
    err = assert_api_error(api_for(world.owner).post("/tasks", payload), status)
    assert field in (err["field"] or "")


def test_appointments_api_and_the_reason_for_changes(world, api_for):
    api = api_for(world.owner)
    contact = world.customer.contacts.get()
    start = (timezone.now() + dt.timedelta(days=1)).replace(microsecond=0)
    body = {
        "customer_id": world.customer.pk,
        "title": "方案讲解",
        "starts_at": start.isoformat(),
        "ends_at": (start - dt.timedelta(minutes=30)).isoformat(),
        "contact_ids": [contact.pk],
    }
    assert_api_error(api.post("/appointments", body), 400, "ends_before_start")
    assert not Appointment.objects.exists()
    assert_api_error(api.post("/appointments", {**body, "ends_at": start.isoformat(), "latitude": "91"}), 422)
    resp = api.post("/appointments", {**body, "ends_at": (start + dt.timedelta(hours=1)).isoformat()})
    assert resp.status_code == 201, resp.content
    a = resp.json()
    assert a["contacts"] == [{"id": contact.pk, "name": contact.name}] and a["ics_url"].endswith("/ics/")
    later = start + dt.timedelta(days=2)
    resp = api.post(
        f"/appointments/{a['id']}/reschedule",
        {
            "starts_at": later.isoformat(),
            "ends_at": (later + dt.timedelta(hours=1)).isoformat(),
            "reason_kind": "own",
            "reason": "另有安排",
        },
    )
    assert resp.status_code == 200, resp.content
    change = resp.json()["changes"][0]
    assert (change["kind"], change["reason_kind"], change["changed_by"]["id"]) == (
        "rescheduled",
        "own",
        world.owner.pk,
    )
    assert_api_error(api.post(f"/appointments/{a['id']}/cancel", {"reason_kind": "own", "reason": " "}), 422)
    assert (
        api.post(f"/appointments/{a['id']}/cancel", {"reason_kind": "customer", "reason": "客户出差"}).json()[
            "status"
        ]
        == "cancelled"
    )
    assert AppointmentChange.objects.count() == 2
    assert_api_error(
        api.post(f"/appointments/{a['id']}/cancel", {"reason_kind": "own", "reason": "再取消"}),
        400,
        "appointment_closed",
    )
    listed = api.get("/appointments").json()
    assert [x["id"] for x in listed] == [a["id"]]
    assert_api_error(api_for(world.outsider).get(f"/appointments/{a['id']}"), 404)


def test_cadence_api(world, api_for):
    api = api_for(world.owner)
    url = f"/customers/{world.customer.pk}/cadence"
    got = api.get(url).json()
    assert (got["days"], got["override"], got["default_days"]) == (14, None, 14)
    assert api.client.put("/api/v1" + url, {"days": 5}, content_type="application/json").json()["days"] == 5
    resp = api.client.put("/api/v1" + url, {"days": 0}, content_type="application/json")
    assert_api_error(resp, 422)
    assert (
        api.client.put("/api/v1" + url, {"days": None}, content_type="application/json").json()["override"]
        is None
    )
    assert_api_error(api_for(world.teammate).get(url), 404)


def _shanghai(world, n):
    return [
        make_customer(
            world.owner,
            name=f"沪{i}",
            latitude=Decimal(f"{31.15 + 0.02 * i:.6f}"),
            longitude=Decimal(f"{121.40 + 0.015 * (i % 4):.6f}"),
        )
        for i in range(n)
    ]


def test_route_api_orders_visible_customers(world, api_for):
    api = api_for(world.owner)
    customers = _shanghai(world, 6)
    ids = [c.pk for c in customers] + [world.customer.pk]  # the last has no coordinates
    resp = api.get("/route", {"customer_ids": ids, "start_lat": "31.2304", "start_lon": "121.4737"})
    assert resp.status_code == 200, resp.content
    body = resp.json()
    assert sorted(body["order"]) == sorted(c.pk for c in customers) and body["exact"]
    assert body["without_coordinates"] == [{"id": world.customer.pk, "name": world.customer.name}]
    assert body["total_km"] > 0 and len(body["legs"]) == 6
    assert_api_error(api.get("/route", {"customer_ids": ids, "start_lat": "95", "start_lon": "121"}), 422)
    assert_api_error(api.get("/route", {"customer_ids": ids, "start_lat": "31"}), 400)
    assert_api_error(
        api_for(world.outsider).get("/route", {"customer_ids": ids, "start_lat": "31", "start_lon": "121"}),
        404,
    )


def test_visit_plan_api_build_and_hand_order(world, api_for):
    api = api_for(world.owner)
    customers = _shanghai(world, 4)
    services.planner_update(
        actor=world.owner,
        source=Source.API,
        user=world.owner,
        office_latitude=Decimal("31.23"),
        office_longitude=Decimal("121.47"),
    )
    day = timezone.localdate().isoformat()
    resp = api.post("/visit-plans", {"day": day, "customer_ids": [c.pk for c in customers]})
    assert resp.status_code == 201, resp.content
    plan = resp.json()
    stops = [s["id"] for s in plan["stops"]]
    assert plan["exact"] and len(stops) == 4
    reordered = api.post(f"/visit-plans/{plan['id']}/order", {"stop_ids": stops[::-1]}).json()
    assert [s["id"] for s in reordered["stops"]] == stops[::-1] and reordered["hand_ordered"]
    assert reordered["total_km"] >= plan["total_km"] - 1e-6  # the optimum cannot be beaten by hand
    assert_api_error(
        api.post(f"/visit-plans/{plan['id']}/order", {"stop_ids": stops[:2]}), 400, "invalid_order"
    )
    assert_api_error(api.post("/visit-plans", {"day": "2026-02-30"}), 422)
    assert_api_error(api_for(world.teammate).get(f"/visit-plans/{plan['id']}"), 404)


def test_greeting_api_drafts_and_wechat(world, api_for):
    contact = make_contact(
        world.customer, name="寿星", birthday=timezone.localdate() + dt.timedelta(days=1), language="en"
    )
    reminders.reminders_generate()
    r = Reminder.objects.get(contact=contact)
    api = api_for(world.owner)
    drafts = api.get(f"/reminders/{r.pk}/drafts").json()
    assert drafts[0]["language"] == "en" and drafts[0]["body"].startswith("Dear 寿星")
    resp = api.post(f"/reminders/{r.pk}/greetings", {"contact_id": contact.pk, "channel": "wechat"})
    assert resp.status_code == 201, resp.content
    assert resp.json()["status"] == "copied" and resp.json()["interaction_id"]
    assert_api_error(
        api.post(f"/reminders/{r.pk}/greetings", {"contact_id": contact.pk, "channel": "wechat"}), 409
    )
    other = world.customer.contacts.exclude(pk=contact.pk).first()
    assert_api_error(
        api.post(f"/reminders/{r.pk}/greetings", {"contact_id": other.pk, "channel": "wechat"}), 404
    )
    assert api.patch(f"/reminders/{r.pk}", {"status": "dismissed"}).json()["status"] == "dismissed"


def test_festivals_api(world, api_for):
    body = api_for(world.owner).get("/festivals", {"year": 2025}).json()
    dates = {f["code"]: f["date"] for f in body}
    assert (
        dates["spring"] == "2025-01-29"
        and dates["mid_autumn"] == "2025-10-06"
        and dates["qingming"] == "2025-04-04"
    )
    assert_api_error(api_for(world.owner).get("/festivals", {"year": 1800}), 422)


def test_contact_dates_api(world, api_for):
    api = api_for(world.owner)
    contact = world.customer.contacts.get()
    url = f"/contacts/{contact.pk}/dates"
    resp = api.post(url, {"kind": "wedding", "label": "结婚纪念日", "date": "2010-10-10"})
    assert resp.status_code == 201, resp.content
    assert resp.json()["next_on"][5:] == "10-10"
    lunar = api.post(url, {"kind": "other", "label": "入职", "date": "2015-08-15", "is_lunar": True}).json()
    assert lunar["next_on"] in {"2026-09-25", "2027-09-15"}
    assert [d["label"] for d in api.get(url).json()] == ["入职", "结婚纪念日"]
    future = (timezone.localdate() + dt.timedelta(days=30)).isoformat()
    assert_api_error(api.post(url, {"date": future}), 400, "date_in_future")
    assert_api_error(api.post(url, {"date": "2010-02-30"}), 422)
    assert_api_error(api.post(url, {"date": "2010-02-03", "lunar_leap_month": True}), 400)
    assert_api_error(api_for(world.outsider).get(url), 404)
    assert_api_error(api_for(world.teammate).post(url, {"date": "2010-01-01"}), 404)
