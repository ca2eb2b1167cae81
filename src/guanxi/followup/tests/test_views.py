"""The follow-up pages for the owner, their forms' errors, and the Today page's query count."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import icalendar
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from guanxi.audit.models import Source
from guanxi.followup import reminders, services
from guanxi.followup.models import (
    Appointment,
    AppointmentChange,
    FollowUpTask,
    PlannerProfile,
    Reminder,
    VisitPrep,
)
from guanxi.testing.factories import make_contact, make_customer, make_interaction

pytestmark = pytest.mark.django_db


def _office(user, lat=31.2304, lon=121.4737):
    services.planner_update(
        actor=user,
        source=Source.UI,
        user=user,
        office_latitude=Decimal(str(lat)),
        office_longitude=Decimal(str(lon)),
    )


def _customers_near_office(world, n: int):
    out = []
    for i in range(n):
        c = make_customer(
            world.owner,
            name=f"上海客户{i}",
            status="active",
            latitude=Decimal(f"{31.20 + i * 0.01:.6f}"),
            longitude=Decimal(f"{121.45 + (i % 3) * 0.01:.6f}"),
        )
        make_interaction(c, occurred_at=timezone.now() - dt.timedelta(days=40 + i))
        out.append(c)
    return out


def _today_setup(world, n: int):
    customers = _customers_near_office(world, n)
    for i, c in enumerate(customers):
        services.task_create(
            actor=world.owner, source=Source.UI, title=f"跟进{i}", due_on=timezone.localdate(), customer=c
        )
        make_contact(c, name=f"寿星{i}", birthday=timezone.localdate() + dt.timedelta(days=1), is_key=True)
        start = timezone.now() + dt.timedelta(hours=1 + i)
        services.appointment_create(
            actor=world.owner,
            source=Source.UI,
            customer=c,
            title=f"拜访{i}",
            starts_at=start,
            ends_at=start + dt.timedelta(hours=1),
        )
    reminders.reminders_generate()
    return customers


def test_today_page_shows_the_days_work(world, client_for):
    _office(world.owner)
    _today_setup(world, 3)
    resp = client_for(world.owner).get("/today/")
    assert resp.status_code == 200
    body = resp.content.decode()
    for text in ("今日", "跟进0", "上海客户1", "寿星2", "拜访0", "该联系了"):
        assert text in body, text


def test_today_page_query_count_does_not_grow(world, client_for, django_assert_max_num_queries):
    _office(world.owner)
    client = client_for(world.owner)
    _today_setup(world, 2)
    with CaptureQueriesContext(connection) as small:
        assert client.get("/today/").status_code == 200
    _today_setup(world, 12)
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert client.get("/today/").status_code == 200


def test_root_and_login_land_on_today(world, client_for):
    resp = client_for(world.owner).get("/")
    assert resp.status_code == 302 and resp["Location"] == "/today/"


def test_task_pages_create_complete_snooze(world, client_for):
    client = client_for(world.owner)
    resp = client.post(
        f"/followup/tasks/?customer={world.customer.pk}", {"title": "寄样品", "due_on": "2026-13-01"}
    )
    assert resp.status_code == 400  # impossible date: the form says so
    due = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    resp = client.post("/followup/tasks/", {"title": "寄样品", "due_on": due, "customer": world.customer.pk})
    assert resp.status_code == 302
    task = FollowUpTask.objects.get(title="寄样品")
    assert task.customer == world.customer and task.assignee == world.owner
    until = (timezone.localdate() + dt.timedelta(days=5)).isoformat()
    assert client.post(f"/followup/tasks/{task.pk}/snooze/", {"until": until}).status_code == 302
    assert client.post(f"/followup/tasks/{task.pk}/done/").status_code == 302
    task.refresh_from_db()
    assert task.status == "done" and task.snoozed_until == dt.date.fromisoformat(until)
    assert client.get(f"/followup/tasks/{task.pk}/").status_code == 200
    assert client.post(f"/followup/tasks/{task.pk}/frobnicate/").status_code == 404
    assert client.post(f"/followup/tasks/{task.pk}/reopen/").status_code == 302
    assert client.post(f"/followup/tasks/{task.pk}/cancel/").status_code == 302
    task.refresh_from_db()
    assert task.status == "cancelled"


def test_appointment_pages_create_reschedule_cancel_and_ics(world, client_for):
    client = client_for(world.owner)
    url = f"/followup/appointments/new/{world.customer.pk}/"
    assert client.get(url).status_code == 200
    resp = client.post(url, {"title": "演示", "starts_at": "2026-12-01T10:00", "ends_at": "2026-12-01T09:00"})
    assert resp.status_code == 400 and "结束时间必须晚于开始时间" in resp.content.decode()
    contact = world.customer.contacts.get()
    resp = client.post(
        url,
        {
            "title": "演示",
            "starts_at": "2026-12-01T10:00",
            "ends_at": "2026-12-01T11:00",
            "contacts": [contact.pk],
        },
    )
    assert resp.status_code == 302
    a = Appointment.objects.get()
    detail = f"/followup/appointments/{a.pk}/"
    resp = client.post(
        detail,
        {
            "action": "reschedule",
            "starts_at": "2026-12-02T10:00",
            "ends_at": "2026-12-02T11:00",
            "reason_kind": "own",
            "reason": "",
        },
    )
    assert resp.status_code == 400  # a reason is required
    resp = client.post(
        detail,
        {
            "action": "reschedule",
            "starts_at": "2026-12-02T10:00",
            "ends_at": "2026-12-02T11:00",
            "reason_kind": "own",
            "reason": "临时出差",
        },
    )
    assert resp.status_code == 302
    change = AppointmentChange.objects.get()
    assert (change.kind, change.reason_kind, change.reason, change.changed_by) == (
        "rescheduled",
        "own",
        "临时出差",
        world.owner,
    )
    resp = client.get(f"/followup/appointments/{a.pk}/ics/")
    assert resp.status_code == 200 and resp["Content-Type"].startswith("text/calendar")
    cal = icalendar.Calendar.from_ical(resp.content)
    event = next(iter(cal.walk("VEVENT")))
    assert event["UID"] and event["DTSTAMP"] and int(event["SEQUENCE"]) == 1
    assert event.decoded("DTSTART").isoformat() == "2026-12-02T10:00:00+08:00"
    assert cal.walk("VTIMEZONE")[0]["TZID"] == "Asia/Shanghai"
    assert (
        client.post(detail, {"action": "cancel", "reason_kind": "customer", "reason": "客户有事"}).status_code
        == 302
    )
    a.refresh_from_db()
    assert a.status == "cancelled" and AppointmentChange.objects.count() == 2
    assert "临时出差" in client.get(detail).content.decode()


def test_plan_page_builds_reorders_prepares_and_logs_a_visit(world, client_for):
    _office(world.owner)
    customers = _customers_near_office(world, 5)
    nowhere = make_customer(world.owner, name="没有坐标的客户", status="active")
    make_interaction(nowhere, occurred_at=timezone.now() - dt.timedelta(days=60))
    client = client_for(world.owner)
    day = timezone.localdate().isoformat()
    resp = client.post(
        "/followup/plan/",
        {"day": day, "start_point": "office", "available_minutes": 480, "start_time": "09:00"},
    )
    assert resp.status_code == 302, resp.content.decode()[:2000]
    page = client.get(f"/followup/plan/?day={day}")
    body = page.content.decode()
    assert page.status_code == 200 and "没有坐标的客户" in body and "最优路线" in body
    plan = page.context["plan"]
    routed = page.context["routed"]
    assert {s.customer_id for s in routed} == {c.pk for c in customers}
    first, second = routed[0], routed[1]
    assert (
        client.post(f"/followup/plan/{plan.pk}/stops/{second.pk}/move/", {"direction": "up"}).status_code
        == 302
    )
    routed = client.get(f"/followup/plan/?day={day}").context["routed"]
    assert [routed[0].pk, routed[1].pk] == [second.pk, first.pk]
    plan.refresh_from_db()
    assert plan.hand_ordered
    # preparation: from the default template, editable, printable
    resp = client.post(f"/followup/prep/open/{first.customer_id}/", {"day": day})
    prep = VisitPrep.objects.get()
    assert resp.status_code == 302 and resp["Location"] == f"/followup/prep/{prep.pk}/"
    assert any(i["text"] == "名片" for i in prep.checklist)
    resp = client.post(
        f"/followup/prep/{prep.pk}/",
        {
            "item-0": "on",
            "key_points": "介绍新品；确认交期",
            "qa": "问：价格能优惠吗？\n答：批量采购有5%折扣",
            "extra_items": "报价单",
        },
    )
    assert resp.status_code == 302
    prep.refresh_from_db()
    assert prep.checklist[0]["done"] and prep.checklist[-1]["text"] == "报价单"
    assert prep.qa == [{"q": "价格能优惠吗？", "a": "批量采购有5%折扣"}]
    printable = client.get(f"/followup/prep/{prep.pk}/print/").content.decode()
    assert "批量采购有5%折扣" in printable and "print.css" in printable
    # log this visit: pre-filled, and it marks the stop done
    form = client.get(f"/followup/visit/{first.customer_id}/log/?day={day}").context["log_form"]
    assert form.initial["channel"] == "visit" and "介绍新品" in form.initial["summary"]
    resp = client.post(
        f"/followup/visit/{first.customer_id}/log/",
        {
            "day": day,
            "channel": "visit",
            "direction": "out",
            "summary": form.initial["summary"] + "\n客户同意试用",
        },
    )
    assert resp.status_code == 302
    first.refresh_from_db()
    assert first.status == "done" and first.interaction.summary.endswith("客户同意试用")


def test_plan_without_any_start_point_or_coordinates_says_what_to_do(world, client_for):
    client = client_for(world.owner)
    resp = client.post("/followup/plan/", {"day": timezone.localdate().isoformat(), "start_point": "home"})
    assert resp.status_code == 400 and "路线设置" in resp.content.decode()


def test_settings_reject_out_of_range_coordinates_and_manage_the_calendar_token(world, client_for):
    client = client_for(world.owner)
    resp = client.post(
        "/followup/settings/",
        {
            "action": "planner",
            "office_latitude": "95",
            "office_longitude": "121",
            "day_starts": "09:00",
            "available_minutes": 480,
            "visit_minutes": 45,
        },
    )
    assert resp.status_code == 400
    assert not PlannerProfile.objects.filter(office_latitude=95).exists()
    resp = client.post("/followup/settings/", {"action": "token_create"})
    url = resp.context["new_url"]
    assert url and "/calendar/gxcal_" in url
    feed = client.get(url.replace("http://testserver", ""))
    assert feed.status_code == 200
    assert client.post("/followup/settings/", {"action": "token_revoke"}).status_code == 302
    assert client.get(url.replace("http://testserver", "")).status_code == 404


def test_reminder_page_sends_wechat_greeting(world, client_for):
    contact = make_contact(
        world.customer, name="生日客户", birthday=timezone.localdate() + dt.timedelta(days=2)
    )
    reminders.reminders_generate()
    r = Reminder.objects.get(contact=contact)
    client = client_for(world.owner)
    page = client.get(f"/followup/reminders/{r.pk}/")
    assert page.status_code == 200 and "生日客户您好" in page.content.decode()
    resp = client.post(
        f"/followup/reminders/{r.pk}/", {"action": "wechat", "contact": contact.pk, "body": "生日快乐！"}
    )
    assert resp.status_code == 302
    assert "已复制" in client.get(f"/followup/reminders/{r.pk}/").content.decode()
    resp = client.post(f"/followup/reminders/{r.pk}/", {"action": "email", "contact": contact.pk})
    assert resp.status_code == 400  # no e-mail address: said clearly, nothing queued


def test_contact_dates_page(world, client_for):
    contact = world.customer.contacts.get()
    client = client_for(world.owner)
    url = f"/followup/contacts/{contact.pk}/dates/"
    assert client.get(url).status_code == 200
    assert client.post(url, {"kind": "wedding", "label": "", "date": "2099-01-01"}).status_code == 400
    assert client.post(url, {"kind": "wedding", "label": "", "date": "2012-03-04"}).status_code == 302
    assert "2012-03-04" in client.get(url).content.decode()
    assert (
        f"/followup/contacts/{contact.pk}/dates/"
        in client.get(f"/customers/{world.customer.pk}/").content.decode()
    )
