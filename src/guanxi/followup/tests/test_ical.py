"""The calendar subscription: a secret, revocable URL; a valid iCalendar with VTIMEZONE that a real
parser reads back, every event with UID and DTSTAMP; nothing about customers the user cannot see."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import icalendar
import pytest
from django.test import Client
from django.utils import timezone

from guanxi.audit.models import Source
from guanxi.followup import services, visits
from guanxi.followup.calendar_cn import BUILTIN_FESTIVALS
from guanxi.followup.models import CalendarToken
from guanxi.testing.factories import make_contact, make_customer

pytestmark = pytest.mark.django_db


def _feed(raw: str):
    return Client().get(f"/calendar/{raw}.ics")


def test_feed_parses_with_vtimezone_and_every_kind_of_entry(world):
    customer = world.customer
    start = (timezone.now() + dt.timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    services.appointment_create(
        actor=world.owner,
        source=Source.UI,
        customer=customer,
        title="签约",
        starts_at=start,
        ends_at=start + dt.timedelta(hours=1),
        place="深圳南山",
    )
    services.task_create(
        actor=world.owner,
        source=Source.UI,
        title="寄合同",
        due_on=timezone.localdate() + dt.timedelta(days=1),
        customer=customer,
    )
    make_contact(customer, name="农历寿星", birthday=dt.date(1980, 1, 15), birthday_is_lunar=True)
    make_contact(customer, name="公历寿星", birthday=timezone.localdate() + dt.timedelta(days=10))
    near = make_customer(world.owner, name="附近客户", latitude=Decimal("22.55"), longitude=Decimal("114.06"))
    services.planner_update(
        actor=world.owner,
        source=Source.UI,
        user=world.owner,
        office_latitude=Decimal("22.54"),
        office_longitude=Decimal("114.05"),
    )
    visits.visit_plan_build(actor=world.owner, source=Source.UI, day=timezone.localdate(), customers=[near])
    _, raw = services.calendar_token_create(actor=world.owner, source=Source.UI)

    resp = _feed(raw)
    assert resp.status_code == 200 and resp["Content-Type"].startswith("text/calendar")
    assert "no-cache" in resp.get("Cache-Control", "") or "max-age=0" in resp.get("Cache-Control", "")
    cal = icalendar.Calendar.from_ical(resp.content)
    assert cal["VERSION"] == "2.0" and cal["PRODID"]
    zones = cal.walk("VTIMEZONE")
    assert [z["TZID"] for z in zones] == ["Asia/Shanghai"]
    assert cal.subcomponents[0].name == "VTIMEZONE"  # defined before it is used
    events = cal.walk("VEVENT")
    assert events and all(e.get("UID") and e.get("DTSTAMP") for e in events)
    uids = [str(e["UID"]) for e in events]
    assert len(uids) == len(set(uids))
    summaries = " ".join(str(e["SUMMARY"]) for e in events)
    for text in ("签约", "寄合同", "农历寿星", "公历寿星", "附近客户"):
        assert text in summaries, text
    assert any(f.name_zh in summaries for f in BUILTIN_FESTIVALS)  # some festival falls in any 180 days
    appointment = next(e for e in events if "签约" in str(e["SUMMARY"]))
    assert appointment["DTSTART"].params["TZID"] == "Asia/Shanghai"
    assert appointment.decoded("DTSTART") == start
    assert str(appointment["LOCATION"]) == "深圳南山"
    task = next(e for e in events if "寄合同" in str(e["SUMMARY"]))
    assert task.decoded("DTSTART") == timezone.localdate() + dt.timedelta(days=1)  # an all-day DATE


def test_feed_shows_only_the_users_own_world(world):
    start = timezone.now() + dt.timedelta(days=1)
    services.appointment_create(
        actor=world.owner,
        source=Source.UI,
        customer=world.customer,
        title="秘密会谈",
        starts_at=start,
        ends_at=start + dt.timedelta(hours=1),
    )
    _, raw = services.calendar_token_create(actor=world.outsider, source=Source.UI)
    assert "秘密会谈" not in _feed(raw).content.decode()


def test_token_is_hashed_revocable_and_regenerable(world):
    token, raw = services.calendar_token_create(actor=world.owner, source=Source.UI)
    assert (
        raw.startswith("gxcal_")
        and raw not in token.key_hash
        and token.key_hash == CalendarToken.hash_key(raw)
    )
    assert _feed(raw).status_code == 200
    _, newer = services.calendar_token_create(actor=world.owner, source=Source.UI)
    assert _feed(raw).status_code == 404  # regenerating retires the old address
    assert _feed(newer).status_code == 200
    services.calendar_token_revoke(actor=world.owner, source=Source.UI)
    assert _feed(newer).status_code == 404
    assert _feed("gxcal_" + "x" * 43).status_code == 404
    assert _feed("nonsense").status_code == 404
    world.owner.is_active = False
    world.owner.save()
    _, raw3 = services.calendar_token_create(actor=world.owner, source=Source.UI)
    assert _feed(raw3).status_code == 404  # deactivated users' feeds stop
