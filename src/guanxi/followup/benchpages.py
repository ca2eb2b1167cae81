"""Timed pages of the follow-up engine for ``make bench``: the Today page (HTML and API) of the bench
salesperson, and route ordering of 20 and 60 of their customers.

The generated data has customers, contacts (with lunar birthdays) and interactions but no follow-up
rows; the first call gives the bench salesperson a realistic day — tasks (some overdue), appointments
today and tomorrow, the reminders due — with a few bulk inserts, once (idempotent with ``--keep``).

The route pages' labels carry the heuristic's quality: its mean gap to the exact optimum (Held–Karp)
on random 8-stop instances drawn from the same customers' coordinates.
"""

from __future__ import annotations

import datetime as dt
import random
import urllib.parse
from collections import Counter
from decimal import Decimal

from django.utils import timezone

from guanxi.accounts.models import User
from guanxi.bench.measure import Page
from guanxi.customers.selectors import customer_queryset_for_user
from guanxi.followup import reminders, routing
from guanxi.followup.models import Appointment, FollowUpTask, PlannerProfile

QUALITY_INSTANCES = 20
QUALITY_STOPS = 8


def _ensure_day(user: User, points: list[tuple[int, float, float]], rng: random.Random) -> None:
    if FollowUpTask.objects.filter(assignee=user).exists():
        return
    today = timezone.localdate()
    tz = timezone.get_current_timezone()
    ids = [p[0] for p in points] or list(
        customer_queryset_for_user(user).order_by("id").values_list("id", flat=True)[:200]
    )
    FollowUpTask.objects.bulk_create(
        [
            FollowUpTask(
                title=f"跟进任务{i}",
                due_on=today + dt.timedelta(days=rng.randint(-10, 10)),
                assignee=user,
                customer_id=rng.choice(ids),
                created_by=user,
            )
            for i in range(40)
        ]
    )
    appointments = []
    for i, cid in enumerate(rng.sample(ids, min(6, len(ids)))):
        start = dt.datetime.combine(
            today + dt.timedelta(days=i // 3), dt.time(9 + 2 * (i % 3), 30), tzinfo=tz
        )
        appointments.append(
            Appointment(
                customer_id=cid,
                owner=user,
                title="拜访",
                starts_at=start,
                ends_at=start + dt.timedelta(hours=1),
                created_by=user,
            )
        )
    Appointment.objects.bulk_create(appointments)
    if points:
        lat = sum(p[1] for p in points) / len(points)
        lon = sum(p[2] for p in points) / len(points)
        PlannerProfile.objects.update_or_create(
            user=user,
            defaults={"office_latitude": Decimal(f"{lat:.6f}"), "office_longitude": Decimal(f"{lon:.6f}")},
        )
    reminders.reminders_generate(today=today)


def _city_points(user: User) -> list[tuple[int, float, float]]:
    """The salesperson's customers with coordinates in their biggest city (a realistic day's area)."""
    rows = list(
        customer_queryset_for_user(user)
        .filter(latitude__isnull=False, longitude__isnull=False)
        .order_by("id")
        .values_list("id", "city", "latitude", "longitude")[:5000]
    )
    if not rows:
        return []
    city = Counter(r[1] for r in rows).most_common(1)[0][0]
    local = [r for r in rows if r[1] == city]
    chosen = local if len(local) >= 60 else rows
    return [(r[0], float(r[2] or 0), float(r[3] or 0)) for r in chosen]  # not NULL: filtered above


def quality_gap(points: list[tuple[int, float, float]], rng: random.Random) -> float | None:
    """Mean relative gap of the heuristic to the exact optimum on random small instances."""
    if len(points) < QUALITY_STOPS + 1:
        return None
    gaps = []
    for _ in range(QUALITY_INSTANCES):
        sample = rng.sample(points, QUALITY_STOPS + 1)
        start = routing.Point(sample[0][1], sample[0][2])
        stops = [routing.Stop(f"c{cid}", routing.Point(lat, lon), 45) for cid, lat, lon in sample[1:]]
        exact = routing.plan_route(start, stops)
        heuristic = routing.plan_route(start, stops, exact_limit=0)
        gaps.append(heuristic.cost / exact.cost - 1)
    return sum(gaps) / len(gaps)


def pages(*, sales: User, manager: User, rng: random.Random, n: int) -> list[Page]:
    points = _city_points(sales)
    _ensure_day(sales, points, rng)
    out = [
        Page("today", "Today page (salesperson)", ["/today/"] * n, user="sales"),
        Page("api_today", "API: GET /api/v1/today", ["/api/v1/today"] * n, user="sales"),
    ]
    if len(points) < 20:
        return out
    gap = quality_gap(points, rng)
    quality = (
        f"; heuristic mean gap to the optimum on {QUALITY_STOPS}-stop instances {gap:.2%}"
        if gap is not None
        else ""
    )
    centre = points[len(points) // 2]
    for size in (20, 60):
        if len(points) < size:
            continue
        paths = []
        for _ in range(n):
            ids = [p[0] for p in rng.sample(points, size)]
            query = urllib.parse.urlencode(
                [("customer_ids", i) for i in ids]
                + [("start_lat", f"{centre[1]:.6f}"), ("start_lon", f"{centre[2]:.6f}")]
            )
            paths.append(f"/api/v1/route?{query}")
        out.append(
            Page(
                f"route_{size}",
                f"API: route ordering, {size} stops (nearest neighbour + 2-opt/Or-opt{quality})",
                paths,
                user="sales",
            )
        )
    return out
