"""Visit planning (有计划的跟进): pick the day's visits, order them by route, prepare each, log it.

Candidates, in priority order: the day's appointments (fixed: their time is the customer's), then
relationships past their cadence (most important first), customers with a task due, and prospects
not yet visited. They are taken while the day's time (travel + visits) allows, then ordered by
``guanxi.followup.routing``. Customers without coordinates cannot be routed: they are listed apart.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from guanxi.accounts.models import User
from guanxi.audit.models import Source
from guanxi.audit.services import audit_record
from guanxi.core.errors import NotFound, ValidationFailed, require
from guanxi.customers.models import Contact, Customer, CustomerStatus
from guanxi.customers.selectors import customer_queryset_for_user
from guanxi.engagement.models import Channel, Interaction
from guanxi.engagement.services import interaction_log
from guanxi.followup import routing, selectors
from guanxi.followup.models import (
    Appointment,
    AppointmentStatus,
    ChecklistTemplate,
    FollowUpTask,
    StartPoint,
    StopStatus,
    TaskStatus,
    VisitPlan,
    VisitPrep,
    VisitStop,
)
from guanxi.followup.services import appointment_mark_done, task_complete

MAX_CANDIDATES = 60
MAX_PLAN_STOPS = 60


@dataclass
class Candidate:
    customer: Customer
    reason: str  # appointment | overdue | task | prospect | manual
    duration: int
    appointment: Appointment | None = None

    @property
    def point(self) -> routing.Point | None:
        a = self.appointment
        if a is not None and a.latitude is not None and a.longitude is not None:
            return routing.Point(float(a.latitude), float(a.longitude))
        c = self.customer
        if c.latitude is None or c.longitude is None:
            return None
        return routing.Point(float(c.latitude), float(c.longitude))


def _minute(when: dt.datetime) -> float:
    local = timezone.localtime(when)
    return local.hour * 60 + local.minute


def _stop(c: Candidate) -> routing.Stop:
    point = c.point
    assert point is not None
    if c.appointment is not None:
        start = _minute(c.appointment.starts_at)
        return routing.Stop(f"c{c.customer.pk}", point, c.duration, earliest=start, latest=start)
    return routing.Stop(f"c{c.customer.pk}", point, c.duration)


def start_point_of(user: User, which: str, fallback: Iterable[Candidate] = ()) -> routing.Point:
    """The office or home of the user's planner profile; without one, the middle of the day's stops."""
    profile = selectors.planner_profile(user)
    lat, lon = (
        (profile.home_latitude, profile.home_longitude)
        if which == StartPoint.HOME
        else (profile.office_latitude, profile.office_longitude)
    )
    if lat is not None and lon is not None:
        return routing.Point(float(lat), float(lon))
    points = [p for p in (c.point for c in fallback) if p is not None]
    if not points:
        raise ValidationFailed(
            "请先在“路线设置”中填写公司或家的坐标",
            "set the coordinates of your office or home in the route settings first",
            field="start_point",
            code="no_start_point",
        )
    return routing.Point(sum(p.lat for p in points) / len(points), sum(p.lon for p in points) / len(points))


def visit_candidates(user: User, day: dt.date, *, now: dt.datetime | None = None) -> list[Candidate]:
    now = now or timezone.now()
    profile = selectors.planner_profile(user)
    duration = profile.visit_minutes
    start, end = selectors.day_bounds(day)
    seen: set[int] = set()
    out: list[Candidate] = []

    def add(customer: Customer, reason: str, appointment: Appointment | None = None) -> None:
        if customer.pk in seen or len(out) >= MAX_CANDIDATES:
            return
        seen.add(customer.pk)
        minutes = duration
        if appointment is not None:
            minutes = max(5, int((appointment.ends_at - appointment.starts_at).total_seconds() // 60))
        out.append(Candidate(customer, reason, minutes, appointment))

    for a in selectors.appointments_between(user, start, end):
        if a.status == AppointmentStatus.SCHEDULED:
            add(a.customer, "appointment", a)
    breaches, _ = selectors.cadence_breaches(user, now, limit=MAX_CANDIDATES)
    ids = [b.customer.pk for b in breaches]
    full = Customer.objects.in_bulk(ids)
    for b in breaches:
        add(full[b.customer.pk], "overdue")
    for task in selectors.tasks_due(user, day):
        if task.customer is not None:
            add(task.customer, "task")
    prospects = (
        Customer.objects.filter(owner_id=user.pk, status=CustomerStatus.PROSPECT)
        .order_by(F("last_interaction_at").asc(nulls_first=True), "id")
        .defer("search_doc")[:20]
    )
    for c in prospects:
        add(c, "prospect")
    return out


def _select_within_budget(
    start: routing.Point, candidates: list[Candidate], available: float, start_minute: float
) -> list[Candidate]:
    """Greedy by priority with the cheapest-insertion estimate of the extra travel; appointments stay."""
    chosen: list[Candidate] = [c for c in candidates if c.appointment is not None and c.point is not None]
    tour: list[routing.Point] = [start, *(c.point for c in chosen if c.point is not None), start]
    used = sum(c.duration for c in chosen) + sum(
        routing.minutes_for_km(routing.road_km(a, b)) for a, b in itertools.pairwise(tour)
    )
    for c in candidates:
        point = c.point
        if c.appointment is not None or point is None:
            continue
        detours = [
            routing.road_km(a, point) + routing.road_km(point, b) - routing.road_km(a, b)
            for a, b in itertools.pairwise(tour)
        ]
        extra = routing.minutes_for_km(min(detours))
        if used + extra + c.duration <= available and len(chosen) < MAX_PLAN_STOPS:
            at = detours.index(min(detours))
            tour.insert(at + 1, point)
            chosen.append(c)
            used += extra + c.duration
    # The route with time windows may still run over: drop the last optional stops until it fits.
    while True:
        route = routing.plan_route(start, [_stop(c) for c in chosen], start_minute=start_minute)
        optional = [c for c in chosen if c.appointment is None]
        if route.total_minutes <= available or not optional:
            return chosen
        chosen.remove(optional[-1])


def _save_route(plan: VisitPlan, stops: Sequence[VisitStop], route: routing.Route) -> None:
    by_key = {f"c{s.customer_id}": s for s in stops}
    for position, leg in enumerate(route.legs, start=1):
        stop = by_key[leg.key]
        stop.position = position
        minute = round(leg.start) % (24 * 60)
        stop.arrive_at = dt.time(minute // 60, minute % 60)
        stop.leg_km = round(leg.km, 2)
        stop.late_minutes = round(leg.late, 1)
    VisitStop.objects.bulk_update(list(by_key.values()), ["position", "arrive_at", "leg_km", "late_minutes"])
    plan.total_km = round(route.total_km, 2)
    plan.total_minutes = round(route.total_minutes, 1)
    plan.late_minutes = round(route.late_minutes, 1)
    plan.exact = route.exact


def _plan_start(plan: VisitPlan) -> tuple[routing.Point, float]:
    return (
        routing.Point(float(plan.start_latitude), float(plan.start_longitude)),
        plan.start_time.hour * 60 + plan.start_time.minute,
    )


def _stop_for_routing(stop: VisitStop) -> routing.Stop | None:
    c = stop.customer
    a = stop.appointment
    if a is not None and a.status == AppointmentStatus.SCHEDULED:
        lat, lon = (a.latitude, a.longitude) if a.latitude is not None else (c.latitude, c.longitude)
    else:
        lat, lon = c.latitude, c.longitude
    if lat is None or lon is None:
        return None
    point = routing.Point(float(lat), float(lon))
    if a is not None and a.status == AppointmentStatus.SCHEDULED:
        start = _minute(a.starts_at)
        return routing.Stop(f"c{c.pk}", point, stop.duration_minutes, earliest=start, latest=start)
    return routing.Stop(f"c{c.pk}", point, stop.duration_minutes)


@transaction.atomic
def visit_plan_build(
    *,
    actor: User,
    source: Source,
    day: dt.date,
    start_point: str = StartPoint.OFFICE,
    customers: Sequence[Customer] | None = None,
    available_minutes: int | None = None,
    start_time: dt.time | None = None,
    return_to_start: bool = True,
) -> VisitPlan:
    """(Re)build the user's plan for ``day``: from ``customers`` if given, else from the candidates."""
    require(start_point in StartPoint.values, "出发地无效", "invalid start point", field="start_point")
    today = timezone.localdate()
    require(
        today - dt.timedelta(days=1) <= day <= today + dt.timedelta(days=60),
        "只能安排昨天到60天内的拜访",
        "plan a day from yesterday to 60 days ahead",
        field="day",
        code="date_out_of_range",
    )
    profile = selectors.planner_profile(actor)
    available = available_minutes or profile.available_minutes
    require(
        30 <= available <= 16 * 60,
        "可用时间应在30到960分钟之间",
        "available time must be 30–960 minutes",
        field="available_minutes",
    )
    start_time = start_time or profile.day_starts
    start_minute = start_time.hour * 60 + start_time.minute
    if customers is not None:
        require(
            len(customers) <= MAX_PLAN_STOPS,
            f"最多{MAX_PLAN_STOPS}个拜访",
            f"at most {MAX_PLAN_STOPS} visits",
            field="customer_ids",
        )
        visible = set(
            customer_queryset_for_user(actor)
            .filter(pk__in=[c.pk for c in customers])
            .values_list("id", flat=True)
        )
        if len(visible) != len({c.pk for c in customers}):
            raise NotFound("客户", "customer")
        s, e = selectors.day_bounds(day)
        appts = {
            a.customer_id: a
            for a in selectors.appointments_between(actor, s, e)
            if a.status == AppointmentStatus.SCHEDULED
        }
        candidates = [
            Candidate(
                c,
                "appointment" if c.pk in appts else "manual",
                max(5, int((appts[c.pk].ends_at - appts[c.pk].starts_at).total_seconds() // 60))
                if c.pk in appts
                else profile.visit_minutes,
                appts.get(c.pk),
            )
            for c in customers
        ]
    else:
        candidates = visit_candidates(actor, day)
    start = start_point_of(actor, start_point, candidates)
    routable = [c for c in candidates if c.point is not None]
    chosen = (
        routable if customers is not None else _select_within_budget(start, routable, available, start_minute)
    )
    unrouted = [c for c in candidates if c.point is None][:20]
    plan, _ = VisitPlan.objects.select_for_update().update_or_create(
        user=actor,
        day=day,
        defaults={
            "start_point": start_point,
            "start_latitude": Decimal(f"{start.lat:.6f}"),
            "start_longitude": Decimal(f"{start.lon:.6f}"),
            "start_time": start_time,
            "available_minutes": available,
            "return_to_start": return_to_start,
            "hand_ordered": False,
        },
    )
    plan.stops.all().delete()
    stops = VisitStop.objects.bulk_create(
        [
            VisitStop(
                plan=plan,
                customer=c.customer,
                appointment=c.appointment,
                position=0,
                duration_minutes=c.duration,
                reason=c.reason,
            )
            for c in [*chosen, *unrouted]
        ]
    )
    routed = [s for s in stops if s.customer_id in {c.customer.pk for c in chosen}]
    route = routing.plan_route(
        start, [_stop(c) for c in chosen], start_minute=start_minute, return_to_start=return_to_start
    )
    _save_route(plan, routed, route)
    plan.save()
    audit_record(
        actor=actor,
        source=source,
        action="visitplan.build",
        obj=plan,
        changes={"day": [None, day.isoformat()], "stops": [None, len(chosen)], "km": [None, plan.total_km]},
    )
    return plan


def _reroute(plan: VisitPlan, stops: list[VisitStop], *, optimise: bool) -> None:
    start, start_minute = _plan_start(plan)
    pairs = [(s, _stop_for_routing(s)) for s in stops]
    routed = [(s, r) for s, r in pairs if r is not None]
    if optimise:
        route = routing.plan_route(
            start, [r for _, r in routed], start_minute=start_minute, return_to_start=plan.return_to_start
        )
    else:
        route = routing.evaluate_order(
            start, [r for _, r in routed], start_minute=start_minute, return_to_start=plan.return_to_start
        )
    _save_route(plan, [s for s, _ in routed], route)
    plan.hand_ordered = not optimise
    plan.save()


@transaction.atomic
def visit_plan_reorder(*, actor: User, source: Source, plan: VisitPlan, stop_ids: Sequence[int]) -> VisitPlan:
    """A hand-made order: kept as given, with arrival times and totals recomputed."""
    plan = VisitPlan.objects.select_for_update().get(pk=plan.pk)
    stops = {s.pk: s for s in plan.stops.select_related("customer", "appointment") if s.position > 0}
    require(
        sorted(stop_ids) == sorted(stops) and len(set(stop_ids)) == len(stop_ids),
        "顺序必须包含计划中的每个拜访各一次",
        "the order must list every routed visit of the plan exactly once",
        field="stop_ids",
        code="invalid_order",
    )
    _reroute(plan, [stops[i] for i in stop_ids], optimise=False)
    audit_record(
        actor=actor,
        source=source,
        action="visitplan.reorder",
        obj=plan,
        changes={"order": [None, list(stop_ids)]},
    )
    return plan


@transaction.atomic
def visit_plan_move(*, actor: User, source: Source, plan: VisitPlan, stop_id: int, offset: int) -> VisitPlan:
    order = list(plan.stops.filter(position__gt=0).order_by("position", "id").values_list("id", flat=True))
    if stop_id not in order:
        raise NotFound("拜访", "visit")
    i = order.index(stop_id)
    j = max(0, min(len(order) - 1, i + offset))
    order.insert(j, order.pop(i))
    return visit_plan_reorder(actor=actor, source=source, plan=plan, stop_ids=order)


@transaction.atomic
def visit_plan_optimise(*, actor: User, source: Source, plan: VisitPlan) -> VisitPlan:
    plan = VisitPlan.objects.select_for_update().get(pk=plan.pk)
    stops = list(plan.stops.select_related("customer", "appointment").filter(position__gt=0))
    _reroute(plan, stops, optimise=True)
    audit_record(
        actor=actor,
        source=source,
        action="visitplan.optimise",
        obj=plan,
        changes={"km": [None, plan.total_km]},
    )
    return plan


def route_for_customers(
    *,
    user: User,
    customer_ids: Sequence[int],
    start: routing.Point | None = None,
    start_time: dt.time | None = None,
) -> tuple[routing.Route, list[Customer]]:
    """Order visible customers by route (read-only; nothing is saved). Customers without
    coordinates are returned apart."""
    require(len(customer_ids) <= routing.MAX_STOPS, "客户太多", "too many customers", field="customer_ids")
    customers = list(
        customer_queryset_for_user(user)
        .filter(pk__in=customer_ids)
        .only("id", "name", "latitude", "longitude")
    )
    if len(customers) != len(set(customer_ids)):
        raise NotFound("客户", "customer")
    candidates = [Candidate(c, "manual", selectors.planner_profile(user).visit_minutes) for c in customers]
    start = start or start_point_of(user, StartPoint.OFFICE, candidates)
    start_time = start_time or dt.time(9, 0)
    stops = [_stop(c) for c in candidates if c.point is not None]
    route = routing.plan_route(start, stops, start_minute=start_time.hour * 60 + start_time.minute)
    return route, [c.customer for c in candidates if c.point is None]


# --- Preparation -------------------------------------------------------------------------------


def _template_items(template: ChecklistTemplate | None, language: str) -> list[dict[str, Any]]:
    if template is None:
        return []
    en = language.startswith("en")
    return [
        {"text": (i.get("en") if en and i.get("en") else i.get("zh", "")), "done": False}
        for i in template.items
    ]


@transaction.atomic
def visit_prep_open(
    *,
    actor: User,
    source: Source,
    customer: Customer,
    day: dt.date,
    template: ChecklistTemplate | None = None,
) -> VisitPrep:
    """The preparation of the user's visit to ``customer`` on ``day``, created from a template once."""
    if not customer_queryset_for_user(actor).filter(pk=customer.pk).exists():
        raise NotFound("客户", "customer")
    prep = VisitPrep.objects.filter(user=actor, customer=customer, day=day).first()
    if prep is not None:
        return prep
    template = (
        template
        or ChecklistTemplate.objects.filter(is_default=True).first()
        or ChecklistTemplate.objects.first()
    )
    prep = VisitPrep.objects.create(
        user=actor,
        customer=customer,
        day=day,
        template=template,
        checklist=_template_items(template, actor.language),
        key_points=template.key_points if template else "",
        qa=[],
    )
    audit_record(actor=actor, source=source, action="visitprep.create", obj=prep, customer_id=customer.pk)
    return prep


@transaction.atomic
def visit_prep_update(
    *,
    actor: User,
    source: Source,
    prep: VisitPrep,
    checklist: list[dict[str, Any]] | None = None,
    key_points: str | None = None,
    qa: list[dict[str, str]] | None = None,
) -> VisitPrep:
    prep = VisitPrep.objects.select_for_update().get(pk=prep.pk)
    if checklist is not None:
        require(len(checklist) <= 50, "清单最多50项", "at most 50 checklist items", field="checklist")
        cleaned = []
        for item in checklist:
            text = str(item.get("text", "")).strip()
            require(
                len(text) <= 200,
                "清单项不超过200字",
                "a checklist item is at most 200 characters",
                field="checklist",
            )
            if text:
                cleaned.append({"text": text, "done": bool(item.get("done"))})
        prep.checklist = cleaned
    if key_points is not None:
        require(
            len(key_points) <= 5000,
            "要点不超过5000字",
            "key points are at most 5000 characters",
            field="key_points",
        )
        prep.key_points = key_points
    if qa is not None:
        require(len(qa) <= 30, "问答最多30条", "at most 30 questions", field="qa")
        prep.qa = [
            {"q": str(x.get("q", "")).strip()[:500], "a": str(x.get("a", "")).strip()[:2000]}
            for x in qa
            if str(x.get("q", "")).strip()
        ]
    prep.save()
    audit_record(
        actor=actor, source=source, action="visitprep.update", obj=prep, customer_id=prep.customer_id
    )
    return prep


def visit_log_initial(*, customer: Customer, day: dt.date, user: User) -> dict[str, Any]:
    """The interaction form's pre-filled values for "log this visit": channel, time, who was met,
    and a summary started from the preparation's key points."""
    prep = VisitPrep.objects.filter(user=user, customer=customer, day=day).first()
    s, e = selectors.day_bounds(day)
    appointment = (
        Appointment.objects.filter(customer=customer, starts_at__gte=s, starts_at__lt=e)
        .exclude(status=AppointmentStatus.CANCELLED)
        .prefetch_related("contacts")
        .order_by("starts_at")
        .first()
    )
    lines = [f"拜访{customer.name}"]
    if prep and prep.key_points.strip():
        lines.append("要点：" + prep.key_points.strip())
    brought = [i["text"] for i in (prep.checklist if prep else []) if i.get("done")]
    if brought:
        lines.append("携带：" + "、".join(brought))
    occurred = timezone.localtime()
    if day != occurred.date() and appointment is not None:
        occurred = timezone.localtime(appointment.starts_at)
    return {
        "channel": Channel.VISIT,
        "direction": "out",
        "occurred_at": occurred.replace(second=0, microsecond=0, tzinfo=None),
        "summary": "\n".join(lines),
        "contacts": [c.pk for c in appointment.contacts.all()] if appointment else [],
    }


@transaction.atomic
def visit_log(
    *,
    actor: User,
    source: Source,
    customer: Customer,
    day: dt.date,
    contacts: Iterable[Contact] = (),
    **data: Any,
) -> Interaction:
    """Log the visit as an interaction, and mark the day's plan stop and appointment as done."""
    data.setdefault("channel", Channel.VISIT)
    interaction = interaction_log(actor=actor, source=source, customer=customer, contacts=contacts, **data)
    VisitStop.objects.filter(plan__user=actor, plan__day=day, customer=customer).update(
        status=StopStatus.DONE, interaction=interaction
    )
    s, e = selectors.day_bounds(day)
    for a in Appointment.objects.filter(
        customer=customer, starts_at__gte=s, starts_at__lt=e, status=AppointmentStatus.SCHEDULED
    ):
        appointment_mark_done(actor=actor, source=source, appointment=a)
    # A task about this customer due by that day is what the visit was for: done.
    for task in FollowUpTask.objects.filter(
        assignee=actor, customer=customer, status=TaskStatus.OPEN, due_on__lte=day
    ):
        task_complete(actor=actor, source=source, task=task)
    return interaction
