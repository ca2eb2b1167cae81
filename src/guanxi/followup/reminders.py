"""Reminders (提醒) of birthdays, anniversaries and festivals, and the greetings (祝福) they lead to.

``reminders_generate`` is run by the periodic tick (``guanxi.followup.tasks``). It finds the
occurrences in the next few days with set-based queries (month/day matches, lunar dates converted
per *day*, not per contact) and inserts them with ``ignore_conflicts`` against the unique constraint
``reminder_once``: a second run — or two at once — creates nothing new.

A greeting is drafted in the contact's language, then either e-mailed (queued on commit, sent by a
background job that claims it with a guarded UPDATE, so it goes out once) or copied for WeChat;
both are logged as an interaction, which also resets the relationship's cadence clock.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from guanxi.accounts.models import User
from guanxi.audit.models import Source
from guanxi.audit.services import audit_record
from guanxi.core.errors import Conflict, PermissionDenied, require
from guanxi.customers.models import Contact, ContactPointKind, Customer, CustomerStatus
from guanxi.engagement.models import Channel
from guanxi.engagement.services import interaction_log
from guanxi.followup import calendar_cn
from guanxi.followup.models import (
    ContactDate,
    CustomFestival,
    Greeting,
    GreetingChannel,
    GreetingStatus,
    Reminder,
    ReminderKind,
    ReminderStatus,
)

log = logging.getLogger(__name__)

# How many days ahead each kind is reminded (festivals carry their own lead time).
LEAD_DAYS = {
    ReminderKind.BIRTHDAY: 3,
    ReminderKind.CONTACT_DATE: 3,
    ReminderKind.FOUNDING: 7,
    ReminderKind.FIRST_ORDER: 7,
}
INACTIVE = (CustomerStatus.ARCHIVED, CustomerStatus.LOST)


def festivals() -> list[calendar_cn.Festival]:
    """The built-in festivals and the administrator's own dates."""
    custom = [
        calendar_cn.Festival(
            code=f"custom{f.pk}",
            name_zh=f.name,
            name_en=f.name_en or f.name,
            calendar=f.calendar,
            month=f.month,
            day=f.day,
            lead_days=f.lead_days,
            greeting_zh=f.greeting_zh,
            greeting_en=f.greeting_en,
        )
        for f in CustomFestival.objects.filter(active=True).order_by("id")
    ]
    return [*calendar_cn.BUILTIN_FESTIVALS, *custom]


def festival_by_code(code: str) -> calendar_cn.Festival | None:
    return next((f for f in festivals() if f.code == code), None)


def _days(start: dt.date, count: int) -> list[dt.date]:
    return [start + dt.timedelta(days=i) for i in range(count + 1)]


def _solar_q(prefix: str, days: list[dt.date]) -> Q:
    """Rows whose yearly (month, day) falls on one of ``days``; 29 February counts on the 28th in
    common years."""
    q = Q()
    for d in days:
        q |= Q(**{f"{prefix}__month": d.month, f"{prefix}__day": d.day})
        if d.month == 2 and d.day == 28 and calendar_cn.solar_anniversary(2, 29, d.year).day == 28:
            q |= Q(**{f"{prefix}__month": 2, f"{prefix}__day": 29})
    return q


def _solar_hit(month: int, day: int, days: list[dt.date]) -> dt.date | None:
    for d in days:
        if calendar_cn.solar_anniversary(month, day, d.year) == d:
            return d
    return None


def _lunar_q(prefix: str, leap_field: str, keys_by_day: dict[dt.date, set[tuple[int, int, bool]]]) -> Q:
    q = Q()
    for keys in keys_by_day.values():
        for month, day, leap in keys:
            q |= Q(**{f"{prefix}__month": month, f"{prefix}__day": day, leap_field: leap})
    return q


def _lunar_hit(
    month: int, day: int, leap: bool, keys_by_day: dict[dt.date, set[tuple[int, int, bool]]]
) -> dt.date | None:
    for d, keys in keys_by_day.items():
        if (month, day, leap) in keys:
            return d
    return None


@dataclass
class _New:
    user_id: int
    kind: str
    subject: str
    occurs_on: dt.date
    lead: int
    title: str
    customer_id: int | None = None
    contact_id: int | None = None
    years: int | None = None


def _lunar_keys(days: list[dt.date]) -> dict[dt.date, set[tuple[int, int, bool]]]:
    out = {}
    for d in days:
        try:
            out[d] = calendar_cn.lunar_keys_for_day(d)
        except calendar_cn.CalendarRangeError:
            continue
    return out


def _birthdays(today: dt.date) -> list[_New]:
    lead = LEAD_DAYS[ReminderKind.BIRTHDAY]
    days = _days(today, lead)
    keys = _lunar_keys(days)
    base = Contact.objects.filter(birthday__isnull=False).exclude(customer__status__in=INACTIVE)
    cols = ("id", "name", "customer_id", "customer__owner_id", "birthday", "birthday_lunar_leap_month")
    rows = list(base.filter(birthday_is_lunar=False).filter(_solar_q("birthday", days)).values_list(*cols))
    lunar_rows = list(
        base.filter(birthday_is_lunar=True)
        .filter(_lunar_q("birthday", "birthday_lunar_leap_month", keys))
        .values_list(*cols)
    )
    out = []
    for cid, name, customer_id, owner_id, born, _leap in rows:
        when = _solar_hit(born.month, born.day, days)
        if when:
            out.append(
                _New(owner_id, ReminderKind.BIRTHDAY, f"contact:{cid}", when, lead, name, customer_id, cid)
            )
    for cid, name, customer_id, owner_id, born, leap in lunar_rows:
        when = _lunar_hit(born.month, born.day, leap, keys)
        if when:
            out.append(
                _New(owner_id, ReminderKind.BIRTHDAY, f"contact:{cid}", when, lead, name, customer_id, cid)
            )
    return out


def _contact_dates(today: dt.date) -> list[_New]:
    lead = LEAD_DAYS[ReminderKind.CONTACT_DATE]
    days = _days(today, lead)
    keys = _lunar_keys(days)
    base = ContactDate.objects.exclude(contact__customer__status__in=INACTIVE)
    q = (Q(is_lunar=False) & _solar_q("date", days)) | (
        Q(is_lunar=True) & _lunar_q("date", "lunar_leap_month", keys)
    )
    out = []
    for item in base.filter(q).select_related("contact", "contact__customer"):
        if item.is_lunar:
            when = _lunar_hit(item.date.month, item.date.day, item.lunar_leap_month, keys)
        else:
            when = _solar_hit(item.date.month, item.date.day, days)
        if when is None:
            continue
        contact = item.contact
        label = item.label or str(item.get_kind_display())
        out.append(
            _New(
                contact.customer.owner_id,
                ReminderKind.CONTACT_DATE,
                f"contactdate:{item.pk}",
                when,
                lead,
                f"{contact.name} · {label}",
                contact.customer_id,
                contact.pk,
                (when.year - item.date.year) if not item.is_lunar else None,
            )
        )
    return out


def _foundings(today: dt.date) -> list[_New]:
    lead = LEAD_DAYS[ReminderKind.FOUNDING]
    days = _days(today, lead)
    out = []
    qs = (
        Customer.objects.filter(founded_on__isnull=False)
        .exclude(status__in=INACTIVE)
        .filter(_solar_q("founded_on", days))
        .values_list("id", "name", "owner_id", "founded_on")
    )
    for cid, name, owner_id, founded in qs:
        assert founded is not None
        when = _solar_hit(founded.month, founded.day, days)
        if when and when.year > founded.year:
            out.append(
                _New(
                    owner_id,
                    ReminderKind.FOUNDING,
                    f"customer:{cid}",
                    when,
                    lead,
                    name,
                    cid,
                    None,
                    when.year - founded.year,
                )
            )
    return out


def _first_orders(today: dt.date) -> list[_New]:
    """Anniversaries of the first (not cancelled) order: orders on this month/day with none before."""
    from guanxi.sales.models import Order, OrderStatus

    lead = LEAD_DAYS[ReminderKind.FIRST_ORDER]
    days = _days(today, lead)
    live = Order.objects.exclude(status=OrderStatus.CANCELLED)
    earlier = live.filter(customer_id=OuterRef("customer_id"), ordered_on__lt=OuterRef("ordered_on"))
    qs = (
        live.filter(_solar_q("ordered_on", days))
        .exclude(customer__status__in=INACTIVE)
        .filter(~Exists(earlier))
        .values_list("customer_id", "customer__name", "customer__owner_id", "ordered_on")
        .distinct()
    )
    out = []
    for cid, name, owner_id, first in qs:
        when = _solar_hit(first.month, first.day, days)
        if when and when.year > first.year:
            out.append(
                _New(
                    owner_id,
                    ReminderKind.FIRST_ORDER,
                    f"customer:{cid}",
                    when,
                    lead,
                    name,
                    cid,
                    None,
                    when.year - first.year,
                )
            )
    return out


def _festivals(today: dt.date) -> list[_New]:
    owners = list(
        User.objects.filter(is_active=True)
        .filter(Exists(Customer.objects.filter(owner_id=OuterRef("pk")).exclude(status__in=INACTIVE)))
        .values_list("id", flat=True)
    )
    out = []
    for festival in festivals():
        for when in festival.occurrences(today, today + dt.timedelta(days=festival.lead_days)):
            for user_id in owners:
                out.append(
                    _New(
                        user_id,
                        ReminderKind.FESTIVAL,
                        f"festival:{festival.code}",
                        when,
                        festival.lead_days,
                        festival.name_zh,
                    )
                )
    return out


def reminders_generate(*, today: dt.date | None = None) -> int:
    """Create the reminders due from ``today`` on (idempotent). Returns how many rows were new."""
    today = today or timezone.localdate()
    found = (
        _birthdays(today)
        + _contact_dates(today)
        + _foundings(today)
        + _first_orders(today)
        + _festivals(today)
    )
    rows = [
        Reminder(
            user_id=n.user_id,
            kind=n.kind,
            subject=n.subject,
            occurs_on=n.occurs_on,
            remind_on=n.occurs_on - dt.timedelta(days=n.lead),
            title=n.title[:200],
            customer_id=n.customer_id,
            contact_id=n.contact_id,
            years=n.years,
        )
        for n in found
    ]
    before = Reminder.objects.count()
    with transaction.atomic():
        Reminder.objects.bulk_create(rows, batch_size=500, ignore_conflicts=True)
    return max(0, Reminder.objects.count() - before)


# --- Greetings -----------------------------------------------------------------------------------

GREETINGS = {
    ReminderKind.BIRTHDAY: (
        "{name}您好！今天是您的生日，祝您生日快乐，身体健康，万事如意！——{sender}",
        "Dear {name}, happy birthday! Wishing you good health and every success in the year ahead. "
        "— {sender}",
    ),
    ReminderKind.CONTACT_DATE: (
        "{name}您好！值此{label}之际，送上诚挚的祝福！——{sender}",
        "Dear {name}, warm wishes on your {label}! — {sender}",
    ),
    ReminderKind.FOUNDING: (
        "{name}您好！欣闻贵公司成立{years}周年，谨致热烈祝贺，祝事业蒸蒸日上！——{sender}",
        "Dear {name}, congratulations on your company's {years}th anniversary! — {sender}",
    ),
    ReminderKind.FIRST_ORDER: (
        "{name}您好！我们合作已满{years}年，感谢您一直以来的信任与支持，期待继续携手！——{sender}",
        "Dear {name}, it is {years} years since we started working together. Thank you for your trust. "
        "— {sender}",
    ),
}
SUBJECTS = {
    ReminderKind.BIRTHDAY: ("生日快乐", "Happy birthday"),
    ReminderKind.CONTACT_DATE: ("诚挚祝福", "Best wishes"),
    ReminderKind.FOUNDING: ("周年志庆", "Happy anniversary"),
    ReminderKind.FIRST_ORDER: ("感谢一路同行", "Thank you for the years together"),
}


def greeting_draft(reminder: Reminder, contact: Contact, sender: User) -> tuple[str, str, str]:
    """(language, subject, body) of the greeting for ``contact``, in the contact's language."""
    en = (contact.language or "").startswith("en")
    values = {
        "name": contact.name,
        "sender": str(sender),
        "years": reminder.years or "",
        "label": reminder.title.split(" · ")[-1],
    }
    if reminder.kind == ReminderKind.FESTIVAL:
        festival = festival_by_code(reminder.subject.removeprefix("festival:"))
        zh_body = (
            festival.greeting_zh if festival and festival.greeting_zh else "{name}您好！节日快乐！——{sender}"
        )
        en_body = (
            festival.greeting_en
            if festival and festival.greeting_en
            else "Dear {name}, season's greetings! — {sender}"
        )
        name_zh = festival.name_zh if festival else reminder.title
        name_en = festival.name_en if festival else reminder.title
        subject = f"{name_en} greetings" if en else f"{name_zh}快乐"
        template = en_body if en else zh_body
    else:
        zh_body, en_body = GREETINGS[ReminderKind(reminder.kind)]
        template = en_body if en else zh_body
        subject = SUBJECTS[ReminderKind(reminder.kind)][1 if en else 0]
    try:
        body = template.format(**values)
    except (KeyError, IndexError, ValueError):
        body = template  # an administrator's template with a stray brace is sent as written
    return ("en" if en else "zh-hans"), subject, body


def _email_of(contact: Contact) -> str:
    points = [p for p in contact.points.all() if p.kind == ContactPointKind.EMAIL]
    return points[0].value if points else ""


def _log_greeting(greeting: Greeting, actor: User, source: Source) -> None:
    channel = Channel.EMAIL if greeting.channel == GreetingChannel.EMAIL else Channel.WECHAT
    label = "发送祝福邮件" if greeting.channel == GreetingChannel.EMAIL else "微信祝福"
    interaction = interaction_log(
        actor=actor,
        source=source,
        customer=greeting.contact.customer,
        contacts=[greeting.contact],
        channel=channel,
        summary=f"{label}：{greeting.subject}\n{greeting.body}"[:20000],
    )
    greeting.interaction = interaction
    if greeting.reminder.contact_id or greeting.reminder.customer_id:
        Reminder.objects.filter(pk=greeting.reminder_id).update(status=ReminderStatus.DONE)


@transaction.atomic
def greeting_create(
    *,
    actor: User,
    source: Source,
    reminder: Reminder,
    contact: Contact,
    channel: str,
    subject: str | None = None,
    body: str | None = None,
    send_on: dt.date | None = None,
) -> Greeting:
    """Draft-and-send in one step: e-mail is queued (now, or on ``send_on``), WeChat is marked copied."""
    require(channel in GreetingChannel.values, "渠道无效", "invalid channel", field="channel")
    if reminder.contact_id:
        require(
            contact.pk == reminder.contact_id,
            "该提醒属于另一位联系人",
            "this reminder is about another contact",
            field="contact_id",
        )
    elif reminder.customer_id:
        require(
            contact.customer_id == reminder.customer_id,
            "联系人不属于该客户",
            "contact does not belong to this customer",
            field="contact_id",
        )
    language, draft_subject, draft_body = greeting_draft(reminder, contact, actor)
    subject = (subject if subject is not None else draft_subject).strip()
    body = (body if body is not None else draft_body).strip()
    require(bool(body), "请填写祝福内容", "the greeting is empty", field="body")
    require(len(subject) <= 200, "主题不超过200字", "subject is at most 200 characters", field="subject")
    require(
        len(body) <= 5000, "祝福内容不超过5000字", "the greeting is at most 5000 characters", field="body"
    )
    today = timezone.localdate()
    if send_on is not None:
        require(
            today <= send_on <= today + dt.timedelta(days=366),
            "发送日期应在今天到一年之内",
            "send_on must be within the next year",
            field="send_on",
        )
    to_address = ""
    if channel == GreetingChannel.EMAIL:
        to_address = _email_of(contact)
        require(
            bool(to_address),
            "该联系人没有邮箱",
            "the contact has no e-mail address",
            field="contact_id",
            code="no_email",
        )
    already = Conflict("已经发过这条祝福", "this greeting was already sent", code="greeting_exists")
    if Greeting.objects.filter(reminder=reminder, contact=contact, channel=channel).exists():
        raise already
    try:
        with transaction.atomic():  # two clicks at once: the unique constraint lets one through
            greeting = Greeting.objects.create(
                reminder=reminder,
                contact=contact,
                channel=channel,
                language=language,
                to_address=to_address,
                subject=subject,
                body=body,
                send_on=send_on,
                status=GreetingStatus.QUEUED if channel == GreetingChannel.EMAIL else GreetingStatus.COPIED,
                sent_at=None if channel == GreetingChannel.EMAIL else timezone.now(),
                created_by=actor,
            )
    except IntegrityError:
        raise already from None
    if channel == GreetingChannel.WECHAT:
        _log_greeting(greeting, actor, source)
        greeting.save(update_fields=["interaction"])
    audit_record(
        actor=actor,
        source=source,
        action="greeting.create",
        obj=greeting,
        customer_id=contact.customer_id,
        changes={"channel": [None, channel], "contact": [None, contact.name], "subject": [None, subject]},
    )
    if channel == GreetingChannel.EMAIL and (send_on is None or send_on <= today):
        from guanxi.followup.tasks import send_greeting

        greeting_id = greeting.pk
        transaction.on_commit(lambda: send_greeting.enqueue(greeting_id))
    return greeting


def greeting_deliver(greeting_id: int, *, today: dt.date | None = None) -> bool:
    """Send one queued e-mail greeting; True when this call sent it. Safe to call any number of times."""
    today = today or timezone.localdate()
    claimed = (
        Greeting.objects.filter(pk=greeting_id, status=GreetingStatus.QUEUED, channel=GreetingChannel.EMAIL)
        .filter(Q(send_on__isnull=True) | Q(send_on__lte=today))
        .update(status=GreetingStatus.SENDING)
    )
    if claimed != 1:
        return False
    greeting = Greeting.objects.select_related("contact__customer", "reminder", "created_by").get(
        pk=greeting_id
    )
    message = EmailMessage(
        subject=greeting.subject,
        body=greeting.body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[greeting.to_address],
        reply_to=[greeting.created_by.email] if greeting.created_by and greeting.created_by.email else None,
        headers={"X-Guanxi-Greeting": str(greeting.pk)},
    )
    try:
        message.send(fail_silently=False)
    except (OSError, ValueError) as exc:  # smtplib.SMTPException is an OSError
        log.warning("greeting %s not sent: %s", greeting_id, exc)
        Greeting.objects.filter(pk=greeting_id).update(status=GreetingStatus.FAILED, error=str(exc)[:300])
        return False
    with transaction.atomic():
        greeting.status = GreetingStatus.SENT
        greeting.sent_at = timezone.now()
        if greeting.created_by is not None:
            _log_greeting(greeting, greeting.created_by, Source.JOB)
        greeting.save(update_fields=["status", "sent_at", "interaction"])
    return True


def greetings_due(today: dt.date | None = None) -> list[int]:
    today = today or timezone.localdate()
    return list(
        Greeting.objects.filter(status=GreetingStatus.QUEUED, channel=GreetingChannel.EMAIL)
        .filter(Q(send_on__isnull=True) | Q(send_on__lte=today))
        .order_by("id")
        .values_list("id", flat=True)[:500]
    )


@transaction.atomic
def reminder_set_status(*, actor: User, source: Source, reminder: Reminder, status: str) -> Reminder:
    require(status in ReminderStatus.values, "状态无效", "invalid status", field="status")
    before = reminder.status
    if before != status:
        Reminder.objects.filter(pk=reminder.pk).update(status=status)
        reminder.status = status
        audit_record(
            actor=actor,
            source=source,
            action="reminder.update",
            obj=reminder,
            customer_id=reminder.customer_id,
            changes={"status": [before, status]},
        )
    return reminder


@transaction.atomic
def custom_festival_create(*, actor: User, source: Source, **data: Any) -> CustomFestival:
    """An administrator's own yearly date; impossible dates (2/30 solar, month 13) are refused."""
    if not actor.is_admin:
        raise PermissionDenied("只有管理员可以添加节日", "only administrators add festivals")
    festival = CustomFestival(**data)
    month, day = festival.month, festival.day
    if festival.calendar == "solar":
        require(
            1 <= month <= 12 and 1 <= day <= 31 and _valid_solar(month, day),
            "日期不存在",
            f"{month}/{day} is not a date",
            field="day",
            code="impossible_date",
        )
    else:
        require(
            calendar_cn.valid_lunar_date(month, day, False),
            "农历日期不存在",
            f"lunar {month}/{day} is not a date",
            field="day",
            code="impossible_date",
        )
    require(festival.lead_days <= 60, "提前天数不超过60", "lead time is at most 60 days", field="lead_days")
    require(bool(festival.name.strip()), "请填写名称", "name is required", field="name")
    festival.save()
    audit_record(
        actor=actor,
        source=source,
        action="festival.create",
        obj=festival,
        changes={"name": [None, festival.name]},
    )
    return festival


def _valid_solar(month: int, day: int) -> bool:
    try:
        dt.date(2024, month, day)  # a leap year: 29 February is a valid yearly date
    except ValueError:
        return False
    return True
