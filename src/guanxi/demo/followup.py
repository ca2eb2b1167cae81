"""The demo's follow-up data, so that ``make run`` opens on a rich Today page: each salesperson's office
and home (route start), appointments today and tomorrow with nearby customers, tasks (one overdue),
a cadence override, some contacts preferring English, and the reminders due (birthdays — lunar ones
included — anniversaries and festivals). Deterministic: same seed and day, same data."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from django.utils import timezone

from guanxi.accounts.models import User
from guanxi.audit.models import Source
from guanxi.customers.models import Contact, Customer
from guanxi.customers.services import contact_update
from guanxi.followup import reminders, routing, services

# Where each salesperson's day starts: the team's office (and a home a few kilometres away).
OFFICES = {
    "wang": ("上海市黄浦区人民大道200号", 31.230416, 121.473701, 31.2185, 121.4425),
    "zhang": ("上海市黄浦区人民大道200号", 31.230416, 121.473701, 31.2601, 121.5105),
    "li": ("北京市东城区东长安街1号", 39.908823, 116.397470, 39.9289, 116.3883),
    "liu": ("北京市东城区东长安街1号", 39.908823, 116.397470, 39.8876, 116.4213),
}
TASKS = (
    (-2, "回访上次报价的反馈"),
    (0, "寄送新产品样品"),
    (0, "确认下周拜访时间"),
    (3, "准备年度合作方案"),
)


def _nearest(owner: User, lat: float, lon: float, count: int) -> list[Customer]:
    here = routing.Point(lat, lon)
    customers = list(
        Customer.objects.filter(owner=owner, latitude__isnull=False)
        .exclude(status__in=("archived", "lost"))
        .order_by("id")
    )

    def distance(c: Customer) -> tuple[float, int]:
        assert c.latitude is not None and c.longitude is not None
        return routing.haversine_km(here, routing.Point(float(c.latitude), float(c.longitude))), c.pk

    customers.sort(key=distance)
    return customers[:count]


def apply_followup(users: dict[str, User], today: dt.date, seed: int) -> None:
    rng = random.Random(seed)
    tz = timezone.get_current_timezone()
    cli = Source.CLI
    for username, (address, lat, lon, home_lat, home_lon) in OFFICES.items():
        user = users.get(username)
        if user is None:
            continue
        services.planner_update(
            actor=user,
            source=cli,
            user=user,
            office_address=address,
            office_latitude=Decimal(f"{lat:.6f}"),
            office_longitude=Decimal(f"{lon:.6f}"),
            home_latitude=Decimal(f"{home_lat:.6f}"),
            home_longitude=Decimal(f"{home_lon:.6f}"),
        )
        near = _nearest(user, lat, lon, 8)
        slots = ((0, 10, 0), (0, 14, 30), (1, 9, 30), (1, 15, 0))
        for customer, (day_offset, hour, minute) in zip(near, slots, strict=False):
            start = dt.datetime.combine(
                today + dt.timedelta(days=day_offset), dt.time(hour, minute), tzinfo=tz
            )
            contacts = list(customer.contacts.order_by("-is_key", "id")[:1])
            services.appointment_create(
                actor=user,
                source=cli,
                customer=customer,
                title=rng.choice(("产品演示", "年度合作洽谈", "售后回访", "新品介绍")),
                starts_at=start,
                ends_at=start + dt.timedelta(minutes=rng.choice((45, 60, 90))),
                place=customer.address,
                contacts=contacts,
            )
        for (offset, title), customer in zip(TASKS, near[4:] + near[:4], strict=False):
            services.task_create(
                actor=user,
                source=cli,
                title=title,
                due_on=today + dt.timedelta(days=offset),
                customer=customer,
            )
        if near:
            services.cadence_set(actor=user, source=cli, customer=near[-1], days=7)
    # A few contacts write in English (foreign-invested customers): their greetings are drafted in English.
    ids = list(Contact.objects.order_by("id").values_list("id", flat=True))
    english = sorted(rng.sample(ids, k=min(len(ids), max(1, len(ids) // 25))))
    for contact in Contact.objects.filter(pk__in=english).select_related("customer__owner"):
        contact_update(actor=contact.customer.owner, source=cli, contact=contact, language="en")
    reminders.reminders_generate(today=today)
