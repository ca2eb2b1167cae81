"""iCalendar output: the per-user subscription feed and one appointment as an .ics file.

Times are written in the site's zone (Asia/Shanghai) with its VTIMEZONE (icalendar's
``add_missing_timezones``, placed before the events as RFC 5545 clients expect); all-day items
(tasks, birthdays, festivals) are DATE values. Every VEVENT has a stable UID and a DTSTAMP.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import icalendar
from django.conf import settings
from django.utils import timezone

from guanxi.accounts.models import User
from guanxi.customers.models import Contact, CustomerStatus
from guanxi.customers.selectors import customer_queryset_for_user
from guanxi.followup import calendar_cn, selectors
from guanxi.followup.models import Appointment, AppointmentStatus, FollowUpTask, TaskStatus, VisitStop
from guanxi.followup.reminders import festivals

PAST_DAYS = 30
FUTURE_DAYS = 180
DOMAIN = "guanxi.crm"


def _calendar(name: str) -> icalendar.Calendar:
    cal = icalendar.Calendar()
    cal.add("prodid", "-//Guanxi CRM//关系//ZH")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", settings.TIME_ZONE)
    return cal


def _finish(cal: icalendar.Calendar) -> bytes:
    cal.add_missing_timezones()
    # VTIMEZONE first: some clients resolve TZID only against zones defined before the events.
    cal.subcomponents.sort(key=lambda c: 0 if c.name == "VTIMEZONE" else 1)
    return cal.to_ical()  # type: ignore[no-any-return]


def _event(uid: str, summary: str, stamp: dt.datetime) -> icalendar.Event:
    event = icalendar.Event()
    event.add("uid", f"{uid}@{DOMAIN}")
    event.add("dtstamp", stamp.astimezone(dt.UTC))
    event.add("summary", summary)
    return event


def appointment_event(a: Appointment, tz: ZoneInfo, stamp: dt.datetime) -> icalendar.Event:
    event = _event(f"appointment-{a.pk}", f"{a.title} · {a.customer.name}", stamp)
    event.add("dtstart", a.starts_at.astimezone(tz))
    event.add("dtend", a.ends_at.astimezone(tz))
    event.add("sequence", a.sequence)
    event.add("status", "CANCELLED" if a.status == AppointmentStatus.CANCELLED else "CONFIRMED")
    if a.place:
        event.add("location", a.place)
    people = "、".join(c.name for c in a.contacts.all())
    description = "\n".join(x for x in (people and f"联系人 / Contacts: {people}", a.notes) if x)
    if description:
        event.add("description", description)
    if a.latitude is not None and a.longitude is not None:
        event.add("geo", (float(a.latitude), float(a.longitude)))
    return event


def appointment_ics(a: Appointment) -> bytes:
    tz = ZoneInfo(str(settings.TIME_ZONE))
    cal = _calendar(a.title)
    cal.add("method", "PUBLISH")
    cal.add_component(appointment_event(a, tz, timezone.now()))
    return _finish(cal)


def _all_day(uid: str, summary: str, day: dt.date, stamp: dt.datetime) -> icalendar.Event:
    event = _event(uid, summary, stamp)
    event.add("dtstart", day)
    event.add("dtend", day + dt.timedelta(days=1))
    event.add("transp", "TRANSPARENT")
    return event


def _birthdays(user: User, start: dt.date, end: dt.date) -> list[tuple[Contact, dt.date]]:
    contacts = (
        Contact.objects.filter(customer__owner_id=user.pk, birthday__isnull=False)
        .exclude(customer__status__in=(CustomerStatus.ARCHIVED, CustomerStatus.LOST))
        .select_related("customer")
        .only("id", "name", "birthday", "birthday_is_lunar", "birthday_lunar_leap_month", "customer__name")
    )
    out = []
    for c in contacts:
        assert c.birthday is not None
        try:
            if c.birthday_is_lunar:
                when = calendar_cn.next_lunar_birthday(
                    c.birthday.month, c.birthday.day, c.birthday_lunar_leap_month, start
                )
            else:
                when = calendar_cn.next_solar_anniversary(c.birthday.month, c.birthday.day, start)
        except (ValueError, calendar_cn.CalendarRangeError):
            continue
        if when <= end:
            out.append((c, when))
    return out


def user_feed(user: User, *, now: dt.datetime | None = None) -> bytes:
    """Appointments, planned visits, open tasks, birthdays and festivals from 30 days ago to 180 ahead."""
    now = now or timezone.now()
    tz = ZoneInfo(str(settings.TIME_ZONE))
    today = timezone.localtime(now).date()
    start, end = today - dt.timedelta(days=PAST_DAYS), today + dt.timedelta(days=FUTURE_DAYS)
    cal = _calendar(f"Guanxi · {user}")
    s, _ = selectors.day_bounds(start)
    e, _ = selectors.day_bounds(end)
    for a in selectors.appointments_between(user, s, e, include_cancelled=True):
        cal.add_component(appointment_event(a, tz, now))
    stops = (
        VisitStop.objects.filter(plan__user=user, plan__day__gte=start, plan__day__lte=end, position__gt=0)
        .filter(appointment__isnull=True, arrive_at__isnull=False)
        .filter(customer__in=customer_queryset_for_user(user))
        .select_related("plan", "customer")
    )
    for stop in stops:
        assert stop.arrive_at is not None
        begin = dt.datetime.combine(stop.plan.day, stop.arrive_at, tzinfo=tz)
        event = _event(f"visit-{stop.pk}", f"拜访 / Visit: {stop.customer.name}", now)
        event.add("dtstart", begin)
        event.add("dtend", begin + dt.timedelta(minutes=stop.duration_minutes))
        cal.add_component(event)
    tasks = (
        selectors.task_queryset_for_user(user)
        .filter(assignee_id=user.pk, status=TaskStatus.OPEN, due_on__gte=start, due_on__lte=end)
        .select_related("customer")
    )
    task: FollowUpTask
    for task in tasks:
        label = f"{task.title} · {task.customer.name}" if task.customer else task.title
        cal.add_component(_all_day(f"task-{task.pk}", f"☐ {label}", task.effective_due, now))
    for contact, when in _birthdays(user, today, end):
        summary = f"🎂 {contact.name}（{contact.customer.name}）生日"
        cal.add_component(_all_day(f"birthday-{contact.pk}-{when.isoformat()}", summary, when, now))
    for festival in festivals():
        for when in festival.occurrences(start, end):
            cal.add_component(
                _all_day(
                    f"festival-{festival.code}-{when.isoformat()}",
                    f"{festival.name_zh} / {festival.name_en}",
                    when,
                    now,
                )
            )
    return _finish(cal)
