"""JSON endpoints of the follow-up engine: the Today page, tasks, appointments, reminders and
greetings, cadence overrides, route ordering and visit plans. Thin: selectors read, services write."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status
from pydantic import ConfigDict

from guanxi.accounts.models import User
from guanxi.audit.models import Source
from guanxi.core.api import ERRORS, Id, actor
from guanxi.core.errors import NotFound, require
from guanxi.customers.models import Contact
from guanxi.customers.selectors import contact_get_for_user, customer_get_for_user
from guanxi.followup import cadence, reminders, routing, selectors, services, visits
from guanxi.followup.calendar_cn import CalendarRangeError
from guanxi.followup.models import Appointment, FollowUpTask, Greeting, Reminder, VisitPlan

router = Router(tags=["follow-up"])

Title = Annotated[str, Field(min_length=1, max_length=200, pattern=r"\S")]
Text = Annotated[str, Field(max_length=5000)]
Reason = Annotated[str, Field(min_length=1, max_length=300, pattern=r"\S")]
ReasonKind = Literal["customer", "own", "other"]
Lat = Annotated[Decimal, Field(ge=-90, le=90, max_digits=9, decimal_places=6)]
Lon = Annotated[Decimal, Field(ge=-180, le=180, max_digits=9, decimal_places=6)]


class Strict(Schema):
    model_config = ConfigDict(extra="forbid")


class Ref(Schema):
    id: int
    name: str


def _ref(obj: Any) -> dict[str, Any] | None:
    return {"id": obj.pk, "name": str(obj)} if obj is not None else None


# --- Tasks ---------------------------------------------------------------------------------------


class TaskIn(Strict):
    title: Title
    due_on: dt.date
    notes: Text = ""
    customer_id: int | None = None
    contact_id: int | None = None
    assignee_id: int | None = None


class TaskPatch(Strict):
    title: Title | None = None
    notes: Text | None = None
    due_on: dt.date | None = None
    status: Literal["open", "done", "cancelled"] | None = None
    snoozed_until: dt.date | None = None


class TaskOut(Schema):
    id: int
    title: str
    notes: str
    due_on: dt.date
    snoozed_until: dt.date | None
    effective_due: dt.date
    overdue: bool
    status: str
    assignee: Ref
    customer: Ref | None
    contact: Ref | None
    created_at: dt.datetime


def task_out(t: FollowUpTask, today: dt.date | None = None) -> dict[str, Any]:
    today = today or timezone.localdate()
    return {
        "id": t.pk,
        "title": t.title,
        "notes": t.notes,
        "due_on": t.due_on,
        "snoozed_until": t.snoozed_until,
        "effective_due": t.effective_due,
        "overdue": t.status == "open" and t.effective_due < today,
        "status": t.status,
        "assignee": _ref(t.assignee),
        "customer": _ref(t.customer),
        "contact": _ref(t.contact),
        "created_at": t.created_at,
    }


@router.get("/tasks", response={200: list[TaskOut], **ERRORS}, summary="Follow-up tasks you can see")
def list_tasks(
    request: HttpRequest,
    status: Literal["open", "done", "cancelled", ""] = "open",
    customer_id: int | None = None,
    mine: bool = False,
    limit: Annotated[int, Field(ge=1, le=500)] = 100,
) -> list[dict[str, Any]]:
    user = actor(request)
    tasks = selectors.task_list(
        user=user, status=status, customer_id=customer_id, assignee=user if mine else None, limit=limit
    )
    return [task_out(t) for t in tasks]


def _contact_for(user: User, contact_id: int | None) -> Contact | None:
    return contact_get_for_user(user=user, contact_id=contact_id) if contact_id else None


@router.post("/tasks", response={201: TaskOut, **ERRORS}, summary="Create a follow-up task")
def create_task(request: HttpRequest, payload: TaskIn) -> Status[dict[str, Any]]:
    user = actor(request)
    customer = (
        customer_get_for_user(user=user, customer_id=payload.customer_id) if payload.customer_id else None
    )
    assignee = None
    if payload.assignee_id:
        assignee = User.objects.filter(pk=payload.assignee_id, is_active=True).first()
        if assignee is None:
            raise NotFound("用户", "user")
    task = services.task_create(
        actor=user,
        source=Source.API,
        title=payload.title,
        due_on=payload.due_on,
        notes=payload.notes,
        customer=customer,
        contact=_contact_for(user, payload.contact_id),
        assignee=assignee,
    )
    return Status(201, task_out(selectors.task_get_for_user(user=user, task_id=task.pk)))


@router.get("/tasks/{task_id}", response={200: TaskOut, **ERRORS}, summary="One task")
def get_task(request: HttpRequest, task_id: int) -> dict[str, Any]:
    return task_out(selectors.task_get_for_user(user=actor(request), task_id=task_id))


@router.patch(
    "/tasks/{task_id}", response={200: TaskOut, **ERRORS}, summary="Edit, complete or snooze a task"
)
def update_task(request: HttpRequest, task_id: int, payload: TaskPatch) -> dict[str, Any]:
    user = actor(request)
    task = selectors.task_get_for_user(user=user, task_id=task_id)
    data = payload.model_dump(exclude_unset=True)
    fields = {k: data[k] for k in ("title", "notes", "due_on") if data.get(k) is not None}
    if fields:
        task = services.task_update(actor=user, source=Source.API, task=task, **fields)
    if data.get("snoozed_until"):
        task = services.task_snooze(actor=user, source=Source.API, task=task, until=data["snoozed_until"])
    status = data.get("status")
    if status == "done":
        services.task_complete(actor=user, source=Source.API, task=task)
    elif status == "cancelled":
        services.task_cancel(actor=user, source=Source.API, task=task)
    elif status == "open" and task.status != "open":
        services.task_reopen(actor=user, source=Source.API, task=task)
    return task_out(selectors.task_get_for_user(user=user, task_id=task_id))


# --- Appointments --------------------------------------------------------------------------------


class AppointmentIn(Strict):
    customer_id: int
    title: Title
    starts_at: dt.datetime
    ends_at: dt.datetime
    place: Annotated[str, Field(max_length=255)] = ""
    notes: Text = ""
    contact_ids: Annotated[list[Id], Field(max_length=20)] = []
    attendee_ids: Annotated[list[Id], Field(max_length=20)] = []
    latitude: Lat | None = None
    longitude: Lon | None = None


class RescheduleIn(Strict):
    starts_at: dt.datetime
    ends_at: dt.datetime
    reason_kind: ReasonKind
    reason: Reason


class CancelIn(Strict):
    reason_kind: ReasonKind
    reason: Reason


class ChangeOut(Schema):
    kind: str
    reason_kind: str
    reason: str
    old_starts_at: dt.datetime
    new_starts_at: dt.datetime | None
    changed_by: Ref | None
    changed_at: dt.datetime


class AppointmentOut(Schema):
    id: int
    title: str
    customer: Ref
    owner: Ref
    starts_at: dt.datetime
    ends_at: dt.datetime
    place: str
    notes: str
    status: str
    latitude: Decimal | None
    longitude: Decimal | None
    contacts: list[Ref]
    attendees: list[Ref]
    changes: list[ChangeOut]
    ics_url: str


def appointment_out(a: Appointment) -> dict[str, Any]:
    from django.urls import reverse

    return {
        "id": a.pk,
        "title": a.title,
        "customer": _ref(a.customer),
        "owner": _ref(a.owner),
        "starts_at": a.starts_at,
        "ends_at": a.ends_at,
        "place": a.place,
        "notes": a.notes,
        "status": a.status,
        "latitude": a.latitude,
        "longitude": a.longitude,
        "contacts": [_ref(c) for c in a.contacts.all()],
        "attendees": [_ref(u) for u in a.attendees.all()],
        "changes": [
            {
                "kind": c.kind,
                "reason_kind": c.reason_kind,
                "reason": c.reason,
                "old_starts_at": c.old_starts_at,
                "new_starts_at": c.new_starts_at,
                "changed_by": _ref(c.changed_by),
                "changed_at": c.changed_at,
            }
            for c in a.changes.all()
        ],
        "ics_url": reverse("followup:appointment_ics", args=[a.pk]),
    }


@router.get("/appointments", response={200: list[AppointmentOut], **ERRORS}, summary="Your appointments")
def list_appointments(
    request: HttpRequest, start: dt.date | None = None, days: Annotated[int, Field(ge=1, le=92)] = 14
) -> list[dict[str, Any]]:
    user = actor(request)
    first = start or timezone.localdate()
    begin, _ = selectors.day_bounds(first)
    items = selectors.appointments_between(
        user, begin, begin + dt.timedelta(days=days), include_cancelled=True
    )
    return [appointment_out(a) for a in items]


@router.post("/appointments", response={201: AppointmentOut, **ERRORS}, summary="Book an appointment")
def create_appointment(request: HttpRequest, payload: AppointmentIn) -> Status[dict[str, Any]]:
    user = actor(request)
    customer = customer_get_for_user(user=user, customer_id=payload.customer_id)
    contacts = list(Contact.objects.filter(customer=customer, pk__in=payload.contact_ids))
    if len(contacts) != len(set(payload.contact_ids)):
        raise NotFound("联系人", "contact")
    attendees = list(User.objects.filter(pk__in=payload.attendee_ids, is_active=True))
    if len(attendees) != len(set(payload.attendee_ids)):
        raise NotFound("用户", "user")
    appointment = services.appointment_create(
        actor=user,
        source=Source.API,
        customer=customer,
        title=payload.title,
        starts_at=payload.starts_at,
        ends_at=payload.ends_at,
        place=payload.place,
        notes=payload.notes,
        contacts=contacts,
        attendees=attendees,
        latitude=payload.latitude,
        longitude=payload.longitude,
    )
    return Status(
        201, appointment_out(selectors.appointment_get_for_user(user=user, appointment_id=appointment.pk))
    )


@router.get(
    "/appointments/{appointment_id}", response={200: AppointmentOut, **ERRORS}, summary="One appointment"
)
def get_appointment(request: HttpRequest, appointment_id: int) -> dict[str, Any]:
    return appointment_out(
        selectors.appointment_get_for_user(user=actor(request), appointment_id=appointment_id)
    )


@router.post(
    "/appointments/{appointment_id}/reschedule",
    response={200: AppointmentOut, **ERRORS},
    summary="Move an appointment (who and why are recorded)",
)
def reschedule_appointment(
    request: HttpRequest, appointment_id: int, payload: RescheduleIn
) -> dict[str, Any]:
    user = actor(request)
    appointment = selectors.appointment_get_for_user(user=user, appointment_id=appointment_id)
    services.appointment_reschedule(
        actor=user, source=Source.API, appointment=appointment, **payload.model_dump()
    )
    return appointment_out(selectors.appointment_get_for_user(user=user, appointment_id=appointment_id))


@router.post(
    "/appointments/{appointment_id}/cancel",
    response={200: AppointmentOut, **ERRORS},
    summary="Cancel an appointment (who and why are recorded)",
)
def cancel_appointment(request: HttpRequest, appointment_id: int, payload: CancelIn) -> dict[str, Any]:
    user = actor(request)
    appointment = selectors.appointment_get_for_user(user=user, appointment_id=appointment_id)
    services.appointment_cancel(
        actor=user, source=Source.API, appointment=appointment, **payload.model_dump()
    )
    return appointment_out(selectors.appointment_get_for_user(user=user, appointment_id=appointment_id))


# --- Reminders and greetings ---------------------------------------------------------------------


class ReminderOut(Schema):
    id: int
    kind: str
    title: str
    occurs_on: dt.date
    remind_on: dt.date
    years: int | None
    status: str
    customer: Ref | None
    contact: Ref | None


def reminder_out(r: Reminder) -> dict[str, Any]:
    return {
        "id": r.pk,
        "kind": r.kind,
        "title": r.title,
        "occurs_on": r.occurs_on,
        "remind_on": r.remind_on,
        "years": r.years,
        "status": r.status,
        "customer": _ref(r.customer),
        "contact": _ref(r.contact),
    }


class ReminderPatch(Strict):
    status: Literal["pending", "done", "dismissed"]


class GreetingIn(Strict):
    contact_id: int
    channel: Literal["email", "wechat"]
    subject: Annotated[str, Field(max_length=200)] | None = None
    body: Annotated[str, Field(min_length=1, max_length=5000, pattern=r"\S")] | None = None
    send_on: dt.date | None = None


class GreetingOut(Schema):
    id: int
    reminder_id: int
    contact: Ref
    channel: str
    language: str
    subject: str
    body: str
    status: str
    send_on: dt.date | None
    sent_at: dt.datetime | None
    interaction_id: int | None


def greeting_out(g: Greeting) -> dict[str, Any]:
    return {
        "id": g.pk,
        "reminder_id": g.reminder_id,
        "contact": _ref(g.contact),
        "channel": g.channel,
        "language": g.language,
        "subject": g.subject,
        "body": g.body,
        "status": g.status,
        "send_on": g.send_on,
        "sent_at": g.sent_at,
        "interaction_id": g.interaction_id,
    }


class DraftOut(Schema):
    contact: Ref
    language: str
    subject: str
    body: str
    email: str


@router.get("/reminders", response={200: list[ReminderOut], **ERRORS}, summary="Your current reminders")
def list_reminders(request: HttpRequest) -> list[dict[str, Any]]:
    return [
        reminder_out(r) for r in selectors.reminders_current(actor(request), timezone.localdate(), limit=200)
    ]


@router.get("/reminders/{reminder_id}", response={200: ReminderOut, **ERRORS}, summary="One reminder")
def get_reminder(request: HttpRequest, reminder_id: int) -> dict[str, Any]:
    return reminder_out(selectors.reminder_get_for_user(user=actor(request), reminder_id=reminder_id))


@router.patch("/reminders/{reminder_id}", response={200: ReminderOut, **ERRORS}, summary="Mark a reminder")
def update_reminder(request: HttpRequest, reminder_id: int, payload: ReminderPatch) -> dict[str, Any]:
    user = actor(request)
    reminder = selectors.reminder_get_for_user(user=user, reminder_id=reminder_id)
    reminders.reminder_set_status(actor=user, source=Source.API, reminder=reminder, status=payload.status)
    return reminder_out(selectors.reminder_get_for_user(user=user, reminder_id=reminder_id))


@router.get(
    "/reminders/{reminder_id}/drafts",
    response={200: list[DraftOut], **ERRORS},
    summary="Greeting drafts for each possible recipient, in the contact's language",
)
def reminder_drafts(request: HttpRequest, reminder_id: int) -> list[dict[str, Any]]:
    user = actor(request)
    reminder = selectors.reminder_get_for_user(user=user, reminder_id=reminder_id)
    out = []
    for contact in selectors.greeting_recipients(user, reminder):
        language, subject, body = reminders.greeting_draft(reminder, contact, user)
        emails = [p.value for p in contact.points.all() if p.kind == "email"]
        out.append(
            {
                "contact": _ref(contact),
                "language": language,
                "subject": subject,
                "body": body,
                "email": emails[0] if emails else "",
            }
        )
    return out


@router.post(
    "/reminders/{reminder_id}/greetings",
    response={201: GreetingOut, **ERRORS},
    summary="Send a greeting by e-mail (queued) or record it copied for WeChat; logged as an interaction",
)
def send_greeting(request: HttpRequest, reminder_id: int, payload: GreetingIn) -> Status[dict[str, Any]]:
    user = actor(request)
    reminder = selectors.reminder_get_for_user(user=user, reminder_id=reminder_id)
    recipients = {c.pk: c for c in selectors.greeting_recipients(user, reminder, limit=1000)}
    contact = recipients.get(payload.contact_id)
    if contact is None:
        raise NotFound("联系人", "contact")
    greeting = reminders.greeting_create(
        actor=user,
        source=Source.API,
        reminder=reminder,
        contact=contact,
        channel=payload.channel,
        subject=payload.subject,
        body=payload.body,
        send_on=payload.send_on,
    )
    return Status(201, greeting_out(selectors.greeting_get_for_user(user=user, greeting_id=greeting.pk)))


# --- Cadence -------------------------------------------------------------------------------------


class CadenceIn(Strict):
    days: Annotated[int, Field(ge=1, le=730)] | None


class CadenceOut(Schema):
    customer: Ref
    days: int | None
    override: int | None
    default_days: int | None
    last_interaction_at: dt.datetime | None
    due_on: dt.date | None


def cadence_out(customer: Any) -> dict[str, Any]:
    days = cadence.cadence_days(customer)
    due = None
    if days and customer.last_interaction_at:
        due = timezone.localtime(customer.last_interaction_at).date() + dt.timedelta(days=days)
    return {
        "customer": _ref(customer),
        "days": days,
        "override": customer.cadence_days,
        "default_days": cadence.default_cadence_days(customer),
        "last_interaction_at": customer.last_interaction_at,
        "due_on": due,
    }


@router.get(
    "/customers/{customer_id}/cadence",
    response={200: CadenceOut, **ERRORS},
    summary="The customer's contact cadence and when contact is next due",
    tags=["customers"],
)
def get_cadence(request: HttpRequest, customer_id: int) -> dict[str, Any]:
    return cadence_out(customer_get_for_user(user=actor(request), customer_id=customer_id))


@router.put(
    "/customers/{customer_id}/cadence",
    response={200: CadenceOut, **ERRORS},
    summary="Override the customer's cadence (days: null = the policy's default)",
    tags=["customers"],
)
def set_cadence(request: HttpRequest, customer_id: int, payload: CadenceIn) -> dict[str, Any]:
    user = actor(request)
    customer = customer_get_for_user(user=user, customer_id=customer_id)
    services.cadence_set(actor=user, source=Source.API, customer=customer, days=payload.days)
    return cadence_out(customer_get_for_user(user=user, customer_id=customer_id))


# --- Today ---------------------------------------------------------------------------------------


class BreachOut(Schema):
    customer: Ref
    cadence_days: int
    days_since: float | None
    overdue_days: float | None
    importance: float


class FrequentOut(Schema):
    customer: Ref
    count: int
    window_days: int


class KeyContactOut(Schema):
    contact: Ref
    customer: Ref
    cadence_days: int
    days_since: float | None


class PlanSummary(Schema):
    id: int
    stops: int
    total_km: float
    total_minutes: float


class SectionItem(Schema):
    label: str
    url: str = ""
    due: dt.date | None = None


class SectionOut(Schema):
    key: str
    title: str
    items: list[SectionItem]


class TodayOut(Schema):
    day: dt.date
    tasks: list[TaskOut]
    overdue_tasks: int
    cadence_breaches: list[BreachOut]
    cadence_breach_total: int
    too_frequent: list[FrequentOut]
    key_contacts: list[KeyContactOut]
    reminders: list[ReminderOut]
    appointments: list[AppointmentOut]
    tomorrow: list[AppointmentOut]
    plan: PlanSummary | None
    sections: list[SectionOut]


def today_out(t: selectors.Today) -> dict[str, Any]:
    return {
        "day": t.day,
        "tasks": [task_out(x, t.day) for x in t.tasks],
        "overdue_tasks": t.overdue_tasks,
        "cadence_breaches": [
            {
                "customer": _ref(b.customer),
                "cadence_days": b.cadence_days,
                "days_since": round(b.days_since, 1) if b.days_since is not None else None,
                "overdue_days": round(b.overdue_days, 1) if b.overdue_days is not None else None,
                "importance": round(b.importance, 3),
            }
            for b in t.breaches
        ],
        "cadence_breach_total": t.breach_total,
        "too_frequent": [
            {"customer": _ref(f.customer), "count": f.count, "window_days": f.window_days}
            for f in t.too_frequent
        ],
        "key_contacts": [
            {
                "contact": _ref(k.contact),
                "customer": _ref(k.contact.customer),
                "cadence_days": k.cadence_days,
                "days_since": round(k.days_since, 1) if k.days_since is not None else None,
            }
            for k in t.key_contacts
        ],
        "reminders": [reminder_out(r) for r in t.reminders],
        "appointments": [appointment_out(a) for a in t.appointments],
        "tomorrow": [appointment_out(a) for a in t.tomorrow],
        "plan": {
            "id": t.plan.pk,
            "stops": t.plan.stops.filter(position__gt=0).count(),
            "total_km": t.plan.total_km,
            "total_minutes": t.plan.total_minutes,
        }
        if t.plan
        else None,
        "sections": t.sections,
    }


@router.get(
    "/today", response={200: TodayOut, **ERRORS}, summary="The day's work: tasks, cadence, reminders, visits"
)
def today(request: HttpRequest) -> dict[str, Any]:
    return today_out(selectors.today_for_user(actor(request)))


# --- Routes and visit plans ----------------------------------------------------------------------


class RouteQuery(Schema):
    customer_ids: Annotated[list[Id], Field(min_length=1, max_length=200)]
    start_lat: Lat | None = None
    start_lon: Lon | None = None
    start_time: dt.time | None = None


class LegOut(Schema):
    customer_id: int
    km: float
    travel_minutes: float
    arrive: str
    late_minutes: float


class RouteOut(Schema):
    order: list[int]
    legs: list[LegOut]
    total_km: float
    travel_minutes: float
    total_minutes: float
    late_minutes: float
    exact: bool
    without_coordinates: list[Ref]


def _clock(minutes: float) -> str:
    m = round(minutes) % (24 * 60)
    return f"{m // 60:02d}:{m % 60:02d}"


@router.get(
    "/route", response={200: RouteOut, **ERRORS}, summary="Order customers by route (nothing is saved)"
)
def order_route(request: HttpRequest, query: Query[RouteQuery]) -> dict[str, Any]:
    user = actor(request)
    require(
        (query.start_lat is None) == (query.start_lon is None),
        "经纬度需同时填写",
        "give both start_lat and start_lon",
        field="start_lat",
    )
    start = (
        routing.Point(float(query.start_lat), float(query.start_lon))
        if query.start_lat is not None and query.start_lon is not None
        else None
    )
    route, missing = visits.route_for_customers(
        user=user, customer_ids=query.customer_ids, start=start, start_time=query.start_time
    )
    return {
        "order": [int(k[1:]) for k in route.order],
        "legs": [
            {
                "customer_id": int(leg.key[1:]),
                "km": round(leg.km, 2),
                "travel_minutes": round(leg.travel_minutes, 1),
                "arrive": _clock(leg.arrive),
                "late_minutes": round(leg.late, 1),
            }
            for leg in route.legs
        ],
        "total_km": round(route.total_km, 2),
        "travel_minutes": round(route.travel_minutes, 1),
        "total_minutes": round(route.total_minutes, 1),
        "late_minutes": round(route.late_minutes, 1),
        "exact": route.exact,
        "without_coordinates": [_ref(c) for c in missing],
    }


class PlanIn(Strict):
    day: dt.date
    start_point: Literal["office", "home"] = "office"
    customer_ids: Annotated[list[Id], Field(max_length=60)] | None = None
    available_minutes: Annotated[int, Field(ge=30, le=960)] | None = None
    start_time: dt.time | None = None
    return_to_start: bool = True


class PlanOrderIn(Strict):
    stop_ids: Annotated[list[Id], Field(min_length=1, max_length=60)]


class StopOut(Schema):
    id: int
    position: int
    customer: Ref
    reason: str
    duration_minutes: int
    arrive_at: str | None  # "HH:MM", local time
    leg_km: float | None
    late_minutes: float
    status: str
    appointment_id: int | None
    has_coordinates: bool


class PlanOut(Schema):
    id: int
    day: dt.date
    start_point: str
    start_time: str  # "HH:MM", local time
    available_minutes: int
    total_km: float
    total_minutes: float
    late_minutes: float
    exact: bool
    hand_ordered: bool
    stops: list[StopOut]


def plan_out(plan: VisitPlan, user: User) -> dict[str, Any]:
    stops = selectors.visit_stops(plan, user)
    return {
        "id": plan.pk,
        "day": plan.day,
        "start_point": plan.start_point,
        "start_time": plan.start_time.strftime("%H:%M"),
        "available_minutes": plan.available_minutes,
        "total_km": plan.total_km,
        "total_minutes": plan.total_minutes,
        "late_minutes": plan.late_minutes,
        "exact": plan.exact,
        "hand_ordered": plan.hand_ordered,
        "stops": [
            {
                "id": s.pk,
                "position": s.position,
                "customer": _ref(s.customer),
                "reason": s.reason,
                "duration_minutes": s.duration_minutes,
                "arrive_at": s.arrive_at.strftime("%H:%M") if s.arrive_at else None,
                "leg_km": s.leg_km,
                "late_minutes": s.late_minutes,
                "status": s.status,
                "appointment_id": s.appointment_id,
                "has_coordinates": s.position > 0,
            }
            for s in stops
        ],
    }


@router.post("/visit-plans", response={201: PlanOut, **ERRORS}, summary="Plan (or re-plan) a day's visits")
def build_plan(request: HttpRequest, payload: PlanIn) -> Status[dict[str, Any]]:
    user = actor(request)
    customers = None
    if payload.customer_ids is not None:
        customers = [
            customer_get_for_user(user=user, customer_id=i) for i in dict.fromkeys(payload.customer_ids)
        ]
    plan = visits.visit_plan_build(
        actor=user,
        source=Source.API,
        day=payload.day,
        start_point=payload.start_point,
        customers=customers,
        available_minutes=payload.available_minutes,
        start_time=payload.start_time,
        return_to_start=payload.return_to_start,
    )
    return Status(201, plan_out(plan, user))


@router.get("/visit-plans/{plan_id}", response={200: PlanOut, **ERRORS}, summary="One of your visit plans")
def get_plan(request: HttpRequest, plan_id: int) -> dict[str, Any]:
    user = actor(request)
    return plan_out(selectors.visit_plan_get_for_user(user=user, plan_id=plan_id), user)


@router.post("/visit-plans/{plan_id}/order", response={200: PlanOut, **ERRORS}, summary="Reorder by hand")
def reorder_plan(request: HttpRequest, plan_id: int, payload: PlanOrderIn) -> dict[str, Any]:
    user = actor(request)
    plan = selectors.visit_plan_get_for_user(user=user, plan_id=plan_id)
    plan = visits.visit_plan_reorder(actor=user, source=Source.API, plan=plan, stop_ids=payload.stop_ids)
    return plan_out(plan, user)


# --- Contacts' yearly dates ------------------------------------------------------------------------


class ContactDateIn(Strict):
    kind: Literal["anniversary", "wedding", "other"] = "anniversary"
    label: Annotated[str, Field(max_length=60)] = ""
    date: dt.date
    is_lunar: bool = False
    lunar_leap_month: bool = False


class ContactDateOut(Schema):
    id: int
    kind: str
    label: str
    date: dt.date
    is_lunar: bool
    lunar_leap_month: bool
    next_on: dt.date | None


def contact_date_out(item: Any) -> dict[str, Any]:
    return {
        "id": item.pk,
        "kind": item.kind,
        "label": item.label,
        "date": item.date,
        "is_lunar": item.is_lunar,
        "lunar_leap_month": item.lunar_leap_month,
        "next_on": services.contact_date_next(item),
    }


@router.get(
    "/contacts/{contact_id}/dates",
    response={200: list[ContactDateOut], **ERRORS},
    summary="A contact's anniversaries and other yearly dates",
    tags=["contacts"],
)
def list_contact_dates(request: HttpRequest, contact_id: int) -> list[dict[str, Any]]:
    contact = contact_get_for_user(user=actor(request), contact_id=contact_id)
    return [contact_date_out(d) for d in contact.dates.order_by("date__month", "date__day", "id")]


@router.post(
    "/contacts/{contact_id}/dates",
    response={201: ContactDateOut, **ERRORS},
    summary="Add a yearly date (anniversary…) to a contact; reminded like birthdays",
    tags=["contacts"],
)
def add_contact_date(request: HttpRequest, contact_id: int, payload: ContactDateIn) -> Status[dict[str, Any]]:
    user = actor(request)
    contact = contact_get_for_user(user=user, contact_id=contact_id)
    item = services.contact_date_add(actor=user, source=Source.API, contact=contact, **payload.model_dump())
    return Status(201, contact_date_out(item))


# --- Festivals -----------------------------------------------------------------------------------


class FestivalOut(Schema):
    code: str
    name_zh: str
    name_en: str
    date: dt.date
    lead_days: int


@router.get("/festivals", response={200: list[FestivalOut], **ERRORS}, summary="Festival dates of a year")
def list_festivals(request: HttpRequest, year: Annotated[int, Field(ge=1901, le=2099)] | None = None) -> Any:
    year = year or timezone.localdate().year
    out = []
    for f in reminders.festivals():
        try:
            when = f.date_in(year)
        except (CalendarRangeError, ValueError):
            continue
        out.append(
            {
                "code": f.code,
                "name_zh": f.name_zh,
                "name_en": f.name_en,
                "date": when,
                "lead_days": f.lead_days,
            }
        )
    return sorted(out, key=lambda x: x["date"])
