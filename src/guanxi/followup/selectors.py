"""Every read of the follow-up engine, with the visibility rule of ``guanxi.customers.selectors``.

Tasks, appointments and reminders about a customer are visible exactly when the customer is; a task
about no customer is visible to its assignee and its creator; reminders, plans and preparations
belong to one user. Anything else is "not found".

The Today page reads the salesperson's *own* customers (the owner index): the day's work is about
the relationships they are responsible for, whatever else they may see through shares.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import import_module
from typing import Any

from django.apps import apps
from django.db.models import Count, F, FloatField, Q, QuerySet, Value
from django.db.models.functions import Coalesce, Greatest, Least
from django.utils import timezone

from guanxi.accounts.models import User
from guanxi.core.errors import NotFound
from guanxi.customers.models import Contact, Customer, CustomerStatus
from guanxi.customers.selectors import customer_queryset_for_user
from guanxi.engagement.models import Direction, Interaction
from guanxi.followup import cadence
from guanxi.followup.models import (
    Appointment,
    AppointmentStatus,
    FollowUpTask,
    Greeting,
    PlannerProfile,
    Reminder,
    ReminderStatus,
    TaskStatus,
    VisitPlan,
    VisitPrep,
)

BREACH_LIMIT = 30
NO_CADENCE = (CustomerStatus.ARCHIVED,)
# Never contacted counts as this many cadences overdue when ranking.
NEVER_CONTACTED_RATIO = 2.0
TOO_FREQUENT_MAX_WINDOW = 30


def _visible(user: User) -> QuerySet[Customer]:
    return customer_queryset_for_user(user)


# --- Tasks ---------------------------------------------------------------------------------------


def task_queryset_for_user(user: User) -> QuerySet[FollowUpTask]:
    if not user.is_authenticated or not user.is_active:
        return FollowUpTask.objects.none()
    if user.is_admin:
        return FollowUpTask.objects.all()
    mine = Q(assignee_id=user.pk) | Q(created_by_id=user.pk)
    return FollowUpTask.objects.filter(
        Q(customer__isnull=False, customer__in=_visible(user)) | Q(customer__isnull=True) & mine
    )


def task_get_for_user(*, user: User, task_id: int) -> FollowUpTask:
    task = (
        task_queryset_for_user(user)
        .select_related("customer", "contact", "assignee", "created_by")
        .filter(pk=task_id)
        .first()
    )
    if task is None:
        raise NotFound("任务", "task")
    return task


def task_list(
    *,
    user: User,
    status: str = "open",
    customer_id: int | None = None,
    assignee: User | None = None,
    limit: int = 100,
) -> list[FollowUpTask]:
    qs = task_queryset_for_user(user).select_related("customer", "contact", "assignee")
    if status:
        qs = qs.filter(status=status)
    if customer_id:
        qs = qs.filter(customer_id=customer_id)
    if assignee is not None:
        qs = qs.filter(assignee=assignee)
    return list(qs.order_by("due_on", "id")[:limit])


def tasks_due(user: User, today: dt.date, limit: int = 50) -> list[FollowUpTask]:
    """Open tasks assigned to the user that are due today or overdue (snoozed ones from their new day)."""
    qs = (
        task_queryset_for_user(user)
        .filter(assignee_id=user.pk, status=TaskStatus.OPEN, due_on__lte=today)
        .filter(Q(snoozed_until__isnull=True) | Q(snoozed_until__lte=today))
        .select_related("customer", "contact")
        .order_by("due_on", "id")
    )
    return list(qs[:limit])


# --- Appointments --------------------------------------------------------------------------------


def appointment_queryset_for_user(user: User) -> QuerySet[Appointment]:
    if not user.is_authenticated or not user.is_active:
        return Appointment.objects.none()
    return Appointment.objects.filter(customer__in=_visible(user))


def appointment_get_for_user(*, user: User, appointment_id: int) -> Appointment:
    appointment = (
        appointment_queryset_for_user(user)
        .select_related("customer", "owner")
        .prefetch_related("contacts", "attendees", "changes__changed_by")
        .filter(pk=appointment_id)
        .first()
    )
    if appointment is None:
        raise NotFound("预约", "appointment")
    return appointment


def appointments_between(
    user: User, start: dt.datetime, end: dt.datetime, *, include_cancelled: bool = False
) -> list[Appointment]:
    """The user's own appointments (as owner or attendee) starting in [start, end)."""
    qs = (
        appointment_queryset_for_user(user)
        .filter(Q(owner_id=user.pk) | Q(attendees=user.pk))
        .filter(starts_at__gte=start, starts_at__lt=end)
        .select_related("customer", "owner")
        .prefetch_related("contacts", "attendees", "changes__changed_by")
        .distinct()
        .order_by("starts_at", "id")
    )
    if not include_cancelled:
        qs = qs.exclude(status=AppointmentStatus.CANCELLED)
    return list(qs)


def day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_current_timezone()
    start = dt.datetime.combine(day, dt.time.min, tzinfo=tz)
    return start, start + dt.timedelta(days=1)


# --- Cadence -------------------------------------------------------------------------------------


@dataclass
class Breach:
    customer: Customer
    cadence_days: int
    days_since: float | None  # None: never contacted
    overdue_days: float | None
    importance: float


def cadence_breaches(user: User, now: dt.datetime, *, limit: int = BREACH_LIMIT) -> tuple[list[Breach], int]:
    """The user's own customers past their cadence, most important first, and how many there are.

    One query over the owner index: the cadence is a CASE over each row (policy) or its override,
    days since the last interaction is computed by the database.
    """
    qs = cadence.annotate_cadence(
        Customer.objects.filter(owner_id=user.pk).exclude(status__in=NO_CADENCE), now
    ).filter(cadence__isnull=False)
    qs = qs.filter(Q(last_interaction_at__isnull=True) | Q(days_since__gt=F("cadence")))
    ranked = qs.annotate(
        importance=Coalesce(F("overdue_ratio"), Value(NEVER_CONTACTED_RATIO), output_field=FloatField())
        * F("weight")
    ).order_by("-importance", "last_interaction_at", "id")
    rows = list(
        ranked.only("id", "name", "short_name", "status", "relationship_type", "last_interaction_at", "city")[
            :limit
        ]
    )
    total = qs.count() if len(rows) == limit else len(rows)
    breaches = [
        Breach(
            customer=c,
            cadence_days=c.cadence,  # type: ignore[attr-defined]
            days_since=c.days_since,  # type: ignore[attr-defined]
            overdue_days=(c.days_since - c.cadence) if c.days_since is not None else None,  # type: ignore[attr-defined]
            importance=c.importance,  # type: ignore[attr-defined]
        )
        for c in rows
    ]
    return breaches, total


@dataclass
class FrequentContact:
    customer: Customer
    count: int
    window_days: int


def too_frequent(user: User, now: dt.datetime, *, limit: int = 10) -> list[FrequentContact]:
    """Relationships contacted too often (DOMAIN §4: present enough to be felt, not so often as to
    annoy): at least ``too_frequent_count`` outbound contacts within half the cadence (2–30 days)."""
    pol = cadence.policy()
    window = Greatest(
        Value(2.0),
        Least(Value(float(TOO_FREQUENT_MAX_WINDOW)), cadence.effective_days_expression("customer__") / 2.0),
    )
    qs = (
        Interaction.objects.filter(
            customer__owner_id=user.pk,
            direction=Direction.OUTBOUND,
            occurred_at__gte=now - dt.timedelta(days=TOO_FREQUENT_MAX_WINDOW),
            occurred_at__lte=now,
        )
        .exclude(customer__status__in=NO_CADENCE)
        .annotate(age=cadence.DaysBetween(Value(now), F("occurred_at")), window=window)
        .filter(age__lte=F("window"))
        .values("customer_id")
        .annotate(n=Count("id"))
        .filter(n__gte=pol.too_frequent_count)
        .order_by("-n", "customer_id")
    )
    rows = list(qs[:limit])
    customers = Customer.objects.only("id", "name", "cadence_days", "status", "relationship_type").in_bulk(
        [r["customer_id"] for r in rows]
    )
    out = []
    for r in rows:
        c = customers[r["customer_id"]]
        days = cadence.cadence_days(c) or 30
        out.append(FrequentContact(c, r["n"], int(max(2, min(TOO_FREQUENT_MAX_WINDOW, days / 2)))))
    return out


@dataclass
class KeyContactBreach:
    contact: Contact
    cadence_days: int
    days_since: float | None


def key_contact_breaches(user: User, now: dt.datetime, *, limit: int = 10) -> list[KeyContactBreach]:
    """Key contacts of the user's active customers not contacted within their cadence (their own
    override, else ``key_contact_factor`` × the customer's cadence)."""
    pol = cadence.policy()
    customer_days = cadence.effective_days_expression("customer__")
    qs = (
        Contact.objects.filter(customer__owner_id=user.pk, is_key=True)
        .exclude(customer__status__in=(CustomerStatus.ARCHIVED, CustomerStatus.LOST))
        .annotate(
            cadence=Coalesce(F("cadence_days"), customer_days * pol.key_contact_factor),
            days_since=cadence.DaysBetween(Value(now), F("last_interaction_at")),
        )
        .filter(cadence__isnull=False)
        .filter(Q(last_interaction_at__isnull=True) | Q(days_since__gt=F("cadence")))
        .select_related("customer")
        .only("id", "name", "title", "customer__id", "customer__name", "last_interaction_at")
        .order_by(F("last_interaction_at").asc(nulls_first=True), "id")
    )
    return [KeyContactBreach(c, c.cadence, c.days_since) for c in qs[:limit]]  # type: ignore[attr-defined]


# --- Reminders -----------------------------------------------------------------------------------


def reminder_queryset_for_user(user: User) -> QuerySet[Reminder]:
    if not user.is_authenticated or not user.is_active:
        return Reminder.objects.none()
    return Reminder.objects.filter(user_id=user.pk).filter(
        Q(customer__isnull=True) | Q(customer__in=_visible(user))
    )


def reminder_get_for_user(*, user: User, reminder_id: int) -> Reminder:
    reminder = (
        reminder_queryset_for_user(user)
        .select_related("customer", "contact")
        .prefetch_related("greetings__contact")
        .filter(pk=reminder_id)
        .first()
    )
    if reminder is None:
        raise NotFound("提醒", "reminder")
    return reminder


def reminders_current(user: User, today: dt.date, *, limit: int = 50) -> list[Reminder]:
    """Pending reminders whose reminding period has begun and whose day has not passed."""
    return list(
        reminder_queryset_for_user(user)
        .filter(status=ReminderStatus.PENDING, remind_on__lte=today, occurs_on__gte=today)
        .select_related("customer", "contact")
        .order_by("occurs_on", "kind", "id")[:limit]
    )


def greeting_recipients(user: User, reminder: Reminder, *, limit: int = 200) -> list[Contact]:
    """Whom a greeting of this reminder may go to: its contact, the customer's contacts, or for a
    festival the key contacts of the user's own active customers."""
    qs = (
        Contact.objects.filter(customer__in=_visible(user))
        .select_related("customer")
        .prefetch_related("points")
    )
    if reminder.contact_id:
        qs = qs.filter(pk=reminder.contact_id)
    elif reminder.customer_id:
        qs = qs.filter(customer_id=reminder.customer_id).order_by("-is_key", "sort_key", "id")
    else:
        qs = (
            qs.filter(customer__owner_id=user.pk, is_key=True)
            .exclude(customer__status__in=(CustomerStatus.ARCHIVED, CustomerStatus.LOST))
            .order_by("customer__sort_key", "sort_key", "id")
        )
    return list(qs[:limit])


def greeting_get_for_user(*, user: User, greeting_id: int) -> Greeting:
    greeting = (
        Greeting.objects.filter(
            reminder__in=reminder_queryset_for_user(user), contact__customer__in=_visible(user)
        )
        .select_related("reminder", "contact")
        .filter(pk=greeting_id)
        .first()
    )
    if greeting is None:
        raise NotFound("祝福", "greeting")
    return greeting


# --- Plans and preparation -----------------------------------------------------------------------


def planner_profile(user: User) -> PlannerProfile:
    return PlannerProfile.objects.filter(user=user).first() or PlannerProfile(user=user)


def visit_plan_for_user(*, user: User, day: dt.date) -> VisitPlan | None:
    return VisitPlan.objects.filter(user=user, day=day).first()


def visit_plan_get_for_user(*, user: User, plan_id: int) -> VisitPlan:
    plan = VisitPlan.objects.filter(user=user, pk=plan_id).first()
    if plan is None:
        raise NotFound("拜访计划", "visit plan")
    return plan


def visit_stops(plan: VisitPlan, user: User) -> list[Any]:
    return list(
        plan.stops.filter(customer__in=_visible(user))
        .select_related("customer", "appointment")
        .order_by("position", "id")
    )


def visit_prep_get_for_user(*, user: User, prep_id: int) -> VisitPrep:
    prep = (
        VisitPrep.objects.filter(user=user, customer__in=_visible(user))
        .select_related("customer", "template")
        .filter(pk=prep_id)
        .first()
    )
    if prep is None:
        raise NotFound("拜访准备", "visit preparation")
    return prep


# --- The Today page -----------------------------------------------------------------------------


@dataclass
class Today:
    day: dt.date
    now: dt.datetime
    tasks: list[FollowUpTask]
    overdue_tasks: int
    breaches: list[Breach]
    breach_total: int
    too_frequent: list[FrequentContact]
    key_contacts: list[KeyContactBreach]
    reminders: list[Reminder]
    appointments: list[Appointment]
    tomorrow: list[Appointment]
    plan: VisitPlan | None
    sections: list[dict[str, Any]] = field(default_factory=list)  # from other packages (promises…)


def today_sections(user: User, day: dt.date) -> list[dict[str, Any]]:
    """Sections other packages add to the Today page through ``guanxi.<package>.today.sections``
    (promises due, complaints near their deadline …): each a dict with ``key``, ``title`` and
    ``items`` (dicts with ``label``, ``url``, ``due``)."""
    out: list[dict[str, Any]] = []
    for provider in _section_providers():
        out += provider(user=user, day=day)
    return out


def _section_providers() -> list[Callable[..., list[dict[str, Any]]]]:
    providers = []
    for config in apps.get_app_configs():
        if not config.name.startswith("guanxi.") or config.name == "guanxi.followup":
            continue
        try:
            module = import_module(f"{config.name}.today")
        except ModuleNotFoundError as exc:
            if exc.name != f"{config.name}.today":
                raise
            continue
        providers.append(module.sections)
    return providers


def today_for_user(user: User, *, now: dt.datetime | None = None) -> Today:
    now = now or timezone.now()
    day = timezone.localtime(now).date()
    tasks = tasks_due(user, day)
    breaches, total = cadence_breaches(user, now)
    start, end = day_bounds(day)
    appointments = appointments_between(user, start, end + dt.timedelta(days=1))
    return Today(
        day=day,
        now=now,
        tasks=tasks,
        overdue_tasks=sum(1 for t in tasks if t.effective_due < day),
        breaches=breaches,
        breach_total=total,
        too_frequent=too_frequent(user, now),
        key_contacts=key_contact_breaches(user, now),
        reminders=reminders_current(user, day),
        appointments=[a for a in appointments if a.starts_at < end],
        tomorrow=[a for a in appointments if a.starts_at >= end],
        plan=visit_plan_for_user(user=user, day=day),
        sections=today_sections(user, day),
    )


def user_for_calendar_token(raw: str) -> User | None:
    """The owner of a live calendar subscription secret (the feed URL carries no session)."""
    from guanxi.followup.models import CalendarToken

    if not raw.startswith(CalendarToken.PREFIX) or len(raw) > 100:
        return None
    token = (
        CalendarToken.objects.select_related("user")
        .filter(key_hash=CalendarToken.hash_key(raw), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 3600:
        CalendarToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


def calendar_token_active(user: User) -> Any:
    from guanxi.followup.models import CalendarToken

    return CalendarToken.objects.filter(user=user, revoked_at__isnull=True).order_by("-created_at").first()
