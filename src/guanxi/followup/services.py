"""Writes of the follow-up engine: tasks, appointments, cadence overrides, planner settings, the
calendar token. Every function: keyword-only arguments, one transaction, an audit row."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any, TypeVar

from django.db import transaction
from django.utils import timezone

from guanxi.accounts.models import User
from guanxi.audit.models import Source
from guanxi.audit.services import audit_record, diff, snapshot
from guanxi.core.errors import NotFound, PermissionDenied, ValidationFailed, require
from guanxi.customers.models import Contact, Customer
from guanxi.customers.selectors import customer_queryset_for_user
from guanxi.followup.models import (
    Appointment,
    AppointmentChange,
    AppointmentStatus,
    CalendarToken,
    ChangeReason,
    ContactDate,
    FollowUpTask,
    PlannerProfile,
    TaskStatus,
)

TASK_FIELDS = ["title", "notes", "due_on", "assignee", "customer", "contact", "status", "snoozed_until"]
APPOINTMENT_FIELDS = ["title", "starts_at", "ends_at", "place", "notes", "status", "customer", "owner"]
MAX_CADENCE_DAYS = 730
MAX_APPOINTMENT_HOURS = 24
# Dates further than this from today are almost certainly typing mistakes (2062 for 2026).
DATE_HORIZON_DAYS = 3 * 366


def _aware_utc(when: Any, field: str) -> dt.datetime:
    require(isinstance(when, dt.datetime), "时间无效", f"{field} must be a date and time", field=field)
    if timezone.is_naive(when):
        when = timezone.make_aware(when)
    try:
        return when.astimezone(dt.UTC)  # type: ignore[no-any-return]
    except OverflowError:
        raise ValidationFailed("时间超出范围", f"{field} is out of range", field=field) from None


def _check_date(value: Any, field: str) -> dt.date:
    require(
        isinstance(value, dt.date) and not isinstance(value, dt.datetime),
        "日期无效",
        f"{field} must be a date",
        field=field,
    )
    today = timezone.localdate()
    require(
        abs((value - today).days) <= DATE_HORIZON_DAYS,
        "日期离今天太远（超过三年）",
        f"{field} is more than three years from today",
        field=field,
        code="date_out_of_range",
    )
    return value  # type: ignore[no-any-return]


def _check_customer_visible(user: User, customer: Customer | None, field: str = "customer_id") -> None:
    if customer is not None and not customer_queryset_for_user(user).filter(pk=customer.pk).exists():
        raise NotFound("客户", "customer")


def _check_contact(customer: Customer | None, contact: Contact | None) -> None:
    if contact is None:
        return
    require(customer is not None, "请先选择客户", "a contact needs its customer", field="contact_id")
    assert customer is not None
    require(
        contact.customer_id == customer.pk,
        "联系人不属于该客户",
        "contact does not belong to this customer",
        field="contact_id",
    )


# --- Tasks --------------------------------------------------------------------------------------


@transaction.atomic
def task_create(
    *,
    actor: User,
    source: Source,
    title: str,
    due_on: dt.date,
    assignee: User | None = None,
    customer: Customer | None = None,
    contact: Contact | None = None,
    notes: str = "",
) -> FollowUpTask:
    assignee = assignee or actor
    title = (title or "").strip()
    require(bool(title), "请填写任务", "title is required", field="title")
    require(len(title) <= 200, "任务不超过200字", "title is at most 200 characters", field="title")
    _check_date(due_on, "due_on")
    _check_customer_visible(actor, customer)
    _check_contact(customer, contact)
    if assignee.pk != actor.pk:
        require(assignee.is_active, "该用户已停用", "assignee is inactive", field="assignee_id")
        if customer is not None:
            # A task about a customer goes only to someone who can see that customer.
            if not customer_queryset_for_user(assignee).filter(pk=customer.pk).exists():
                raise PermissionDenied(
                    "该用户看不到这个客户", "the assignee cannot see this customer", field="assignee_id"
                )
        elif not (actor.is_admin or actor.is_manager):
            raise PermissionDenied(
                "只能给自己分配任务", "you may only assign tasks to yourself", field="assignee_id"
            )
    task = FollowUpTask.objects.create(
        title=title,
        notes=notes,
        due_on=due_on,
        assignee=assignee,
        customer=customer,
        contact=contact,
        created_by=actor,
    )
    audit_record(
        actor=actor,
        source=source,
        action="task.create",
        obj=task,
        customer_id=customer.pk if customer else None,
        changes=diff({}, snapshot(task, TASK_FIELDS)),
    )
    return task


def _task_write(actor: User, source: Source, task: FollowUpTask, action: str, **values: Any) -> FollowUpTask:
    task = FollowUpTask.objects.select_for_update().get(pk=task.pk)
    before = snapshot(task, TASK_FIELDS)
    for name, value in values.items():
        setattr(task, name, value)
    task.save()
    changes = diff(before, snapshot(task, TASK_FIELDS))
    if changes:
        audit_record(
            actor=actor, source=source, action=action, obj=task, customer_id=task.customer_id, changes=changes
        )
    return task


@transaction.atomic
def task_update(
    *,
    actor: User,
    source: Source,
    task: FollowUpTask,
    title: str | None = None,
    notes: str | None = None,
    due_on: dt.date | None = None,
) -> FollowUpTask:
    values: dict[str, Any] = {}
    if title is not None:
        title = title.strip()
        require(
            bool(title) and len(title) <= 200,
            "任务为1到200字",
            "title must be 1–200 characters",
            field="title",
        )
        values["title"] = title
    if notes is not None:
        values["notes"] = notes
    if due_on is not None:
        values["due_on"] = _check_date(due_on, "due_on")
        values["snoozed_until"] = None
    return _task_write(actor, source, task, "task.update", **values)


@transaction.atomic
def task_complete(*, actor: User, source: Source, task: FollowUpTask) -> FollowUpTask:
    if task.status == TaskStatus.DONE:
        return task
    return _task_write(actor, source, task, "task.done", status=TaskStatus.DONE, done_at=timezone.now())


@transaction.atomic
def task_reopen(*, actor: User, source: Source, task: FollowUpTask) -> FollowUpTask:
    return _task_write(actor, source, task, "task.reopen", status=TaskStatus.OPEN, done_at=None)


@transaction.atomic
def task_cancel(*, actor: User, source: Source, task: FollowUpTask) -> FollowUpTask:
    return _task_write(actor, source, task, "task.cancel", status=TaskStatus.CANCELLED)


@transaction.atomic
def task_snooze(*, actor: User, source: Source, task: FollowUpTask, until: dt.date) -> FollowUpTask:
    _check_date(until, "until")
    require(
        until > timezone.localdate(),
        "推迟日期必须在今天之后",
        "snooze until a day after today",
        field="until",
        code="snooze_in_past",
    )
    require(task.status == TaskStatus.OPEN, "任务已关闭", "the task is closed", code="task_closed")
    return _task_write(actor, source, task, "task.snooze", snoozed_until=until)


# --- Cadence -----------------------------------------------------------------------------------


def _check_cadence(days: int | None) -> None:
    if days is not None:
        require(
            isinstance(days, int) and 1 <= days <= MAX_CADENCE_DAYS,
            f"联系频率应在1到{MAX_CADENCE_DAYS}天之间",
            f"cadence must be 1–{MAX_CADENCE_DAYS} days",
            field="days",
            code="invalid_cadence",
        )


@transaction.atomic
def cadence_set(*, actor: User, source: Source, customer: Customer, days: int | None) -> Customer:
    """Override (or with None, go back to the policy's default for) a customer's contact cadence."""
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    return _cadence_save(actor, source, customer, "customer.update", customer.pk, days)


@transaction.atomic
def contact_cadence_set(*, actor: User, source: Source, contact: Contact, days: int | None) -> Contact:
    contact = Contact.objects.select_for_update().get(pk=contact.pk)
    return _cadence_save(actor, source, contact, "contact.update", contact.customer_id, days)


_Cadenced = TypeVar("_Cadenced", Customer, Contact)


def _cadence_save(
    actor: User, source: Source, obj: _Cadenced, action: str, customer_id: int, days: int | None
) -> _Cadenced:
    """Set ``cadence_days`` on a locked customer or contact and audit the change (none if equal)."""
    _check_cadence(days)
    before = obj.cadence_days
    if before != days:
        obj.cadence_days = days
        obj.save(update_fields=["cadence_days", "updated_at"])
        audit_record(
            actor=actor,
            source=source,
            action=action,
            obj=obj,
            customer_id=customer_id,
            changes={"cadence_days": [before, days]},
        )
    return obj


# --- Contact dates -----------------------------------------------------------------------------


@transaction.atomic
def contact_date_add(
    *,
    actor: User,
    source: Source,
    contact: Contact,
    kind: str,
    date: dt.date,
    label: str = "",
    is_lunar: bool = False,
    lunar_leap_month: bool = False,
) -> ContactDate:
    from guanxi.followup.models import ContactDateKind

    require(kind in ContactDateKind.values, "类别无效", "invalid kind", field="kind")
    require(isinstance(date, dt.date), "日期无效", "invalid date", field="date")
    require(len(label) <= 60, "名称不超过60字", "label is at most 60 characters", field="label")
    require(
        not lunar_leap_month or is_lunar,
        "只有农历日期有闰月",
        "only a lunar date has a leap month",
        field="date",
    )
    require(
        date <= timezone.localdate(),
        "纪念日不能在未来",
        "a yearly date starts in the past",
        field="date",
        code="date_in_future",
    )
    item = ContactDate.objects.create(
        contact=contact,
        kind=kind,
        date=date,
        label=label,
        is_lunar=is_lunar,
        lunar_leap_month=lunar_leap_month,
    )
    audit_record(
        actor=actor,
        source=source,
        action="contact.update",
        obj=contact,
        customer_id=contact.customer_id,
        changes={"dates": [None, f"{item.label or item.get_kind_display()} {date.isoformat()}"]},
    )
    return item


def contact_date_next(item: ContactDate, today: dt.date | None = None) -> dt.date | None:
    """The next occurrence of a contact's yearly date (lunar dates converted for the year)."""
    from guanxi.followup import calendar_cn

    today = today or timezone.localdate()
    try:
        if item.is_lunar:
            return calendar_cn.next_lunar_birthday(
                item.date.month, item.date.day, item.lunar_leap_month, today
            )
        return calendar_cn.next_solar_anniversary(item.date.month, item.date.day, today)
    except (ValueError, calendar_cn.CalendarRangeError):
        return None


# --- Appointments ------------------------------------------------------------------------------


def _check_times(starts_at: dt.datetime, ends_at: dt.datetime) -> None:
    require(
        ends_at > starts_at,
        "结束时间必须晚于开始时间",
        "an appointment must end after it starts",
        field="ends_at",
        code="ends_before_start",
    )
    require(
        ends_at - starts_at <= dt.timedelta(hours=MAX_APPOINTMENT_HOURS),
        "预约不能超过24小时",
        "an appointment lasts at most 24 hours",
        field="ends_at",
    )
    _check_date(timezone.localtime(starts_at).date(), "starts_at")


def _check_coordinates(lat: Decimal | float | None, lon: Decimal | float | None) -> None:
    require(
        (lat is None) == (lon is None),
        "经纬度需同时填写",
        "give both latitude and longitude",
        field="latitude",
    )
    if lat is not None and lon is not None:
        require(
            -90 <= float(lat) <= 90,
            "纬度应在 -90 到 90 之间",
            "latitude must be between -90 and 90",
            field="latitude",
            code="coordinates_out_of_range",
        )
        require(
            -180 <= float(lon) <= 180,
            "经度应在 -180 到 180 之间",
            "longitude must be between -180 and 180",
            field="longitude",
            code="coordinates_out_of_range",
        )


@transaction.atomic
def appointment_create(
    *,
    actor: User,
    source: Source,
    customer: Customer,
    title: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    place: str = "",
    notes: str = "",
    contacts: Iterable[Contact] = (),
    attendees: Iterable[User] = (),
    latitude: Decimal | None = None,
    longitude: Decimal | None = None,
) -> Appointment:
    title = (title or "").strip()
    require(
        bool(title) and len(title) <= 200, "主题为1到200字", "title must be 1–200 characters", field="title"
    )
    starts_at, ends_at = _aware_utc(starts_at, "starts_at"), _aware_utc(ends_at, "ends_at")
    _check_times(starts_at, ends_at)
    _check_customer_visible(actor, customer)
    _check_coordinates(latitude, longitude)
    contact_list = list(contacts)
    for c in contact_list:
        _check_contact(customer, c)
    appointment = Appointment.objects.create(
        customer=customer,
        owner=actor,
        title=title,
        starts_at=starts_at,
        ends_at=ends_at,
        place=place,
        notes=notes,
        latitude=latitude,
        longitude=longitude,
        created_by=actor,
    )
    appointment.contacts.set(contact_list)
    appointment.attendees.set({actor.pk: actor, **{u.pk: u for u in attendees}}.values())
    changes = diff({}, snapshot(appointment, APPOINTMENT_FIELDS))
    if contact_list:
        changes["contacts"] = [[], [c.name for c in contact_list]]
    audit_record(
        actor=actor,
        source=source,
        action="appointment.create",
        obj=appointment,
        customer_id=customer.pk,
        changes=changes,
    )
    return appointment


def _check_reason(reason_kind: str, reason: str) -> str:
    require(reason_kind in ChangeReason.values, "请选择原因类别", "choose a reason kind", field="reason_kind")
    reason = (reason or "").strip()
    require(bool(reason), "请说明原因", "a reason is required", field="reason", code="reason_required")
    require(len(reason) <= 300, "原因不超过300字", "reason is at most 300 characters", field="reason")
    return reason


@transaction.atomic
def appointment_reschedule(
    *,
    actor: User,
    source: Source,
    appointment: Appointment,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    reason_kind: str,
    reason: str,
) -> Appointment:
    """Move an appointment; who moved it and why is kept (改约 for one's own reasons is a warning sign)."""
    reason = _check_reason(reason_kind, reason)
    starts_at, ends_at = _aware_utc(starts_at, "starts_at"), _aware_utc(ends_at, "ends_at")
    _check_times(starts_at, ends_at)
    appointment = Appointment.objects.select_for_update().get(pk=appointment.pk)
    require(
        appointment.status == AppointmentStatus.SCHEDULED,
        "该预约已结束或已取消",
        "the appointment is no longer scheduled",
        code="appointment_closed",
    )
    before = snapshot(appointment, APPOINTMENT_FIELDS)
    AppointmentChange.objects.create(
        appointment=appointment,
        kind="rescheduled",
        reason_kind=reason_kind,
        reason=reason,
        old_starts_at=appointment.starts_at,
        old_ends_at=appointment.ends_at,
        new_starts_at=starts_at,
        new_ends_at=ends_at,
        changed_by=actor,
    )
    appointment.starts_at, appointment.ends_at = starts_at, ends_at
    appointment.sequence += 1
    appointment.save(update_fields=["starts_at", "ends_at", "sequence", "updated_at"])
    changes = diff(before, snapshot(appointment, APPOINTMENT_FIELDS))
    changes["_reason"] = [None, f"{reason_kind}: {reason}"]
    audit_record(
        actor=actor,
        source=source,
        action="appointment.reschedule",
        obj=appointment,
        customer_id=appointment.customer_id,
        changes=changes,
    )
    return appointment


@transaction.atomic
def appointment_cancel(
    *, actor: User, source: Source, appointment: Appointment, reason_kind: str, reason: str
) -> Appointment:
    reason = _check_reason(reason_kind, reason)
    appointment = Appointment.objects.select_for_update().get(pk=appointment.pk)
    require(
        appointment.status == AppointmentStatus.SCHEDULED,
        "该预约已结束或已取消",
        "the appointment is no longer scheduled",
        code="appointment_closed",
    )
    AppointmentChange.objects.create(
        appointment=appointment,
        kind="cancelled",
        reason_kind=reason_kind,
        reason=reason,
        old_starts_at=appointment.starts_at,
        old_ends_at=appointment.ends_at,
        changed_by=actor,
    )
    appointment.status = AppointmentStatus.CANCELLED
    appointment.sequence += 1
    appointment.save(update_fields=["status", "sequence", "updated_at"])
    audit_record(
        actor=actor,
        source=source,
        action="appointment.cancel",
        obj=appointment,
        customer_id=appointment.customer_id,
        changes={"status": ["scheduled", "cancelled"], "_reason": [None, f"{reason_kind}: {reason}"]},
    )
    return appointment


@transaction.atomic
def appointment_mark_done(*, actor: User, source: Source, appointment: Appointment) -> Appointment:
    appointment = Appointment.objects.select_for_update().get(pk=appointment.pk)
    if appointment.status != AppointmentStatus.SCHEDULED:
        return appointment
    appointment.status = AppointmentStatus.DONE
    appointment.save(update_fields=["status", "updated_at"])
    audit_record(
        actor=actor,
        source=source,
        action="appointment.done",
        obj=appointment,
        customer_id=appointment.customer_id,
        changes={"status": ["scheduled", "done"]},
    )
    return appointment


# --- Planner profile and the calendar token ----------------------------------------------------

PLANNER_FIELDS = [
    "office_address",
    "office_latitude",
    "office_longitude",
    "home_address",
    "home_latitude",
    "home_longitude",
    "day_starts",
    "available_minutes",
    "visit_minutes",
]


@transaction.atomic
def planner_update(*, actor: User, source: Source, user: User, **values: Any) -> PlannerProfile:
    unknown = set(values) - set(PLANNER_FIELDS)
    require(
        not unknown,
        f"未知字段：{', '.join(sorted(unknown))}",
        f"unknown fields: {', '.join(sorted(unknown))}",
    )
    if user.pk != actor.pk and not actor.is_admin:
        raise NotFound("用户", "user")
    profile, _ = PlannerProfile.objects.select_for_update().get_or_create(user=user)
    before = snapshot(profile, PLANNER_FIELDS)
    for name, value in values.items():
        setattr(profile, name, value)
    _check_coordinates(profile.office_latitude, profile.office_longitude)
    _check_coordinates(profile.home_latitude, profile.home_longitude)
    require(
        30 <= profile.available_minutes <= 16 * 60,
        "可用时间应在30到960分钟之间",
        "available time must be 30–960 minutes",
        field="available_minutes",
    )
    require(
        5 <= profile.visit_minutes <= 480,
        "拜访时长应在5到480分钟之间",
        "a visit lasts 5–480 minutes",
        field="visit_minutes",
    )
    profile.save()
    changes = diff(before, snapshot(profile, PLANNER_FIELDS))
    if changes:
        audit_record(actor=actor, source=source, action="planner.update", obj=profile, changes=changes)
    return profile


@transaction.atomic
def calendar_token_create(*, actor: User, source: Source) -> tuple[CalendarToken, str]:
    """A new calendar subscription secret (shown once); any earlier one of the user stops working."""
    now = timezone.now()
    CalendarToken.objects.filter(user=actor, revoked_at__isnull=True).update(revoked_at=now)
    raw = CalendarToken.generate_key()
    token = CalendarToken.objects.create(
        user=actor, key_hash=CalendarToken.hash_key(raw), key_prefix=raw[: len(CalendarToken.PREFIX) + 6]
    )
    audit_record(actor=actor, source=source, action="calendar_token.create", obj=token)
    return token, raw


@transaction.atomic
def calendar_token_revoke(*, actor: User, source: Source) -> int:
    revoked = CalendarToken.objects.filter(user=actor, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    if revoked:
        audit_record(
            actor=actor,
            source=source,
            action="calendar_token.revoke",
            obj=actor,
            changes={"revoked": [0, revoked]},
        )
    return revoked
