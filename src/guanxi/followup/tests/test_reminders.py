"""Reminders of birthdays (solar and lunar), anniversaries and festivals; greetings by e-mail through a
real SMTP server on loopback, or copied for WeChat; the tick and the jobs never do anything twice."""

from __future__ import annotations

import datetime as dt
import socket
import threading
from decimal import Decimal
from email import message_from_bytes
from email.header import decode_header, make_header

import pytest
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from guanxi.audit.models import Source
from guanxi.core.errors import Conflict, PermissionDenied, ValidationFailed
from guanxi.core.schedule import SCHEDULE, tick
from guanxi.customers.services import customer_update
from guanxi.engagement.models import Interaction
from guanxi.followup import calendar_cn, reminders, selectors
from guanxi.followup.models import CustomFestival, Greeting, GreetingStatus, Reminder, ReminderKind
from guanxi.followup.tasks import generate_reminders, send_due_greetings
from guanxi.sales.services import LineInput, order_create
from guanxi.testing.factories import ProductFactory, make_contact
from guanxi.testing.smtp import smtp_inbox

pytestmark = pytest.mark.django_db
IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


def _reminders(user, kind=None):
    qs = Reminder.objects.filter(user=user)
    if kind:
        qs = qs.filter(kind=kind)
    return list(qs.order_by("occurs_on", "id"))


def test_solar_birthday_is_reminded_three_days_ahead(world):
    customer = world.customer
    contact = make_contact(customer, name="刘芳", birthday=dt.date(1985, 6, 17))
    reminders.reminders_generate(today=dt.date(2026, 6, 13))
    assert not Reminder.objects.filter(contact=contact).exists()  # 4 days ahead: not yet
    reminders.reminders_generate(today=dt.date(2026, 6, 14))
    r = Reminder.objects.get(contact=contact)
    assert (r.kind, r.occurs_on, r.remind_on, r.user) == (
        "birthday",
        dt.date(2026, 6, 17),
        dt.date(2026, 6, 14),
        world.owner,
    )
    current = selectors.reminders_current(world.owner, dt.date(2026, 6, 15))
    assert [x for x in current if x.kind == "birthday"] == [r]
    assert {x.title for x in current if x.kind == "festival"} == {"端午节"}  # 2026-06-19, 5 days ahead
    later = selectors.reminders_current(world.owner, dt.date(2026, 6, 18))
    assert r not in later  # the day has passed


def test_lunar_birthday_is_converted_for_the_year_including_leap_months(world):
    customer = world.customer
    # 农历八月十五: 2025-10-06 and 2026-09-25
    moon = make_contact(customer, name="中秋生", birthday=dt.date(1970, 8, 15), birthday_is_lunar=True)
    # born in 闰六月 (2025 has one; 2026 has not: the regular sixth month then)
    leap = make_contact(
        customer,
        name="闰月生",
        birthday=dt.date(1990, 6, 1),
        birthday_is_lunar=True,
        birthday_lunar_leap_month=True,
    )
    for today in (dt.date(2025, 10, 4), dt.date(2026, 9, 23), dt.date(2025, 7, 23), dt.date(2026, 7, 12)):
        reminders.reminders_generate(today=today)
    got = {(r.contact_id, r.occurs_on) for r in Reminder.objects.filter(kind="birthday")}
    assert (moon.pk, dt.date(2025, 10, 6)) in got
    assert (moon.pk, dt.date(2026, 9, 25)) in got
    assert (leap.pk, dt.date(2025, 7, 25)) in got  # 2025 闰六月初一
    assert (leap.pk, calendar_cn.lunar_to_solar(2026, 6, 1)) in got  # 2026-07-14: 六月初一
    # 2025's regular sixth month does not also celebrate the leap-month birthday
    assert (leap.pk, calendar_cn.lunar_to_solar(2025, 6, 1)) not in got


def test_company_founding_and_first_order_anniversaries(world):
    customer = world.customer
    customer_update(
        actor=world.owner, source=Source.SYSTEM, customer=customer, founded_on=dt.date(2016, 6, 20)
    )
    product = ProductFactory(code="FO-1", price=Decimal("10"))
    order_create(
        actor=world.owner,
        source=Source.SYSTEM,
        customer=customer,
        lines=[LineInput(product, Decimal(1))],
        ordered_on=dt.date(2023, 6, 18),
    )
    order_create(
        actor=world.owner,
        source=Source.SYSTEM,
        customer=customer,
        lines=[LineInput(product, Decimal(1))],
        ordered_on=dt.date(2024, 6, 19),
    )
    reminders.reminders_generate(today=dt.date(2026, 6, 15))
    founding = Reminder.objects.get(kind=ReminderKind.FOUNDING)
    assert (founding.occurs_on, founding.years) == (dt.date(2026, 6, 20), 10)
    first = Reminder.objects.get(kind=ReminderKind.FIRST_ORDER)
    assert (first.occurs_on, first.years) == (dt.date(2026, 6, 18), 3)  # the later order is not the first


def test_festivals_and_administrator_dates_remind_every_owner_once(world):
    CustomFestival.objects.create(name="公司周年庆", name_en="Our anniversary", month=9, day=18, lead_days=5)
    reminders.reminders_generate(today=dt.date(2026, 9, 18))
    titles = {r.title for r in _reminders(world.owner, "festival")}
    assert titles == {"中秋节", "公司周年庆"}  # Mid-Autumn 2026-09-25 (7 days ahead), ours today
    assert not Reminder.objects.filter(user=world.outsider).exists()  # owns no customer


def test_impossible_administrator_dates_are_refused(world):
    for month, day in ((2, 30), (13, 1), (4, 31)):
        with pytest.raises(ValidationFailed) as exc:
            reminders.custom_festival_create(
                actor=world.admin, source=Source.UI, name="错误日期", calendar="solar", month=month, day=day
            )
        assert exc.value.code == "impossible_date"
    festival = reminders.custom_festival_create(
        actor=world.admin, source=Source.UI, name="闰日", calendar="solar", month=2, day=29
    )
    assert festival.pk
    with pytest.raises(PermissionDenied):
        reminders.custom_festival_create(actor=world.owner, source=Source.UI, name="x", month=1, day=1)
    # the Django admin's form validates the same way (model clean)
    with pytest.raises(DjangoValidationError):
        CustomFestival(name="错误", calendar="solar", month=2, day=30).full_clean()
    with pytest.raises(DjangoValidationError):
        CustomFestival(name="错误", calendar="lunar", month=1, day=31).full_clean()


def test_generating_twice_creates_nothing_new(world):
    make_contact(world.customer, name="生日人", birthday=dt.date(1980, 6, 16))
    first = reminders.reminders_generate(today=dt.date(2026, 6, 15))
    count = Reminder.objects.count()
    assert first == count > 0
    assert reminders.reminders_generate(today=dt.date(2026, 6, 15)) == 0
    assert Reminder.objects.count() == count


def test_no_reminder_about_a_customer_the_user_cannot_see(world):
    contact = make_contact(world.customer, name="生日人", birthday=dt.date(1980, 6, 16))
    reminders.reminders_generate(today=dt.date(2026, 6, 15))
    r = Reminder.objects.get(contact=contact)
    assert r.user == world.owner
    # Nobody else is reminded, and once the customer is reassigned away the old reminder disappears.
    assert not Reminder.objects.filter(contact=contact).exclude(user=world.owner).exists()
    customer_update(
        actor=world.admin,
        source=Source.SYSTEM,
        customer=world.customer,
        owner=world.outsider,
        team=world.north,
    )
    assert r not in selectors.reminders_current(world.owner, dt.date(2026, 6, 15))
    assert not [x for x in selectors.reminders_current(world.owner, dt.date(2026, 6, 15)) if x.customer_id]
    with pytest.raises(Exception, match="not found"):
        selectors.reminder_get_for_user(user=world.owner, reminder_id=r.pk)


def test_tick_enqueues_the_reminder_job_once_and_the_job_is_idempotent(world):
    make_contact(world.customer, name="生日人", birthday=timezone.localdate() + dt.timedelta(days=1))
    names = [j.name for j in SCHEDULE]
    assert "followup_reminders" in names and "followup_greetings" in names
    now = timezone.now()
    with override_settings(TASKS=IMMEDIATE):
        first = tick(now)
        count = Reminder.objects.count()
        second = tick(now + dt.timedelta(minutes=1))
    assert "followup_reminders" in first and "followup_reminders" not in second
    assert count >= 1
    with override_settings(TASKS=IMMEDIATE):
        generate_reminders.enqueue()
    assert Reminder.objects.count() == count


@pytest.mark.django_db(transaction=True)
def test_two_generators_at_once_create_each_reminder_once(world):
    """Threads on PostgreSQL; on SQLite the processes of test_cli do it (the in-memory test database
    locks whole tables across threads, unlike the WAL file Guanxi runs on)."""
    if connection.vendor == "sqlite":
        pytest.skip("SQLite: covered by test_cli.test_two_concurrent_remind_processes")
    for i in range(20):
        make_contact(world.customer, name=f"寿星{i}", birthday=dt.date(1980, 6, 16))
    errors: list[BaseException] = []

    def run() -> None:
        try:
            reminders.reminders_generate(today=dt.date(2026, 6, 15))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert Reminder.objects.filter(kind="birthday").count() == 20


# --- Greetings -------------------------------------------------------------------------------------


@pytest.fixture
def smtp_server():
    with smtp_inbox() as inbox:
        yield inbox


def _birthday_reminder(world, language="zh-hans"):
    contact = make_contact(
        world.customer,
        name="张伟" if language == "zh-hans" else "John Smith",
        emails=["zw@example.com" if language == "zh-hans" else "john@example.com"],
        birthday=dt.date(1980, 6, 16),
        language=language,
    )
    reminders.reminders_generate(today=dt.date(2026, 6, 15))
    return Reminder.objects.get(contact=contact), contact


def test_greeting_email_is_really_received_by_smtp_and_logged_once(
    world, smtp_server, django_capture_on_commit_callbacks
):
    reminder, contact = _birthday_reminder(world)
    before = Interaction.objects.filter(customer=world.customer).count()
    with override_settings(TASKS=IMMEDIATE), django_capture_on_commit_callbacks(execute=True):
        greeting = reminders.greeting_create(
            actor=world.owner, source=Source.UI, reminder=reminder, contact=contact, channel="email"
        )
    greeting.refresh_from_db()
    assert greeting.status == GreetingStatus.SENT and greeting.sent_at
    assert len(smtp_server.messages) == 1
    envelope = smtp_server.messages[0]
    assert envelope.rcpt_tos == ["zw@example.com"]
    msg = message_from_bytes(envelope.original_content)
    assert str(make_header(decode_header(msg["Subject"]))) == "生日快乐"
    body = msg.get_payload(decode=True).decode(msg.get_content_charset())
    assert "张伟您好" in body and "生日快乐" in body
    # logged as an e-mail interaction naming the contact, which resets the cadence clock
    assert Interaction.objects.filter(customer=world.customer).count() == before + 1
    logged = greeting.interaction
    assert logged.channel == "email" and list(logged.contacts.all()) == [contact]
    # sending again (a duplicate job, the periodic sweep) sends nothing more
    assert reminders.greeting_deliver(greeting.pk) is False
    assert send_due_greetings.call() == 0
    assert len(smtp_server.messages) == 1
    with pytest.raises(Conflict):
        reminders.greeting_create(
            actor=world.owner, source=Source.UI, reminder=reminder, contact=contact, channel="email"
        )


def test_greeting_is_drafted_in_the_contacts_language(world):
    reminder, contact = _birthday_reminder(world, language="en")
    language, subject, body = reminders.greeting_draft(reminder, contact, world.owner)
    assert language == "en" and subject == "Happy birthday" and body.startswith("Dear John Smith")


def test_scheduled_greeting_waits_for_its_day(world, smtp_server):
    reminder, contact = _birthday_reminder(world)
    greeting = reminders.greeting_create(
        actor=world.owner,
        source=Source.UI,
        reminder=reminder,
        contact=contact,
        channel="email",
        send_on=timezone.localdate() + dt.timedelta(days=1),
    )
    assert reminders.greetings_due() == []
    assert reminders.greeting_deliver(greeting.pk) is False
    assert reminders.greetings_due(timezone.localdate() + dt.timedelta(days=1)) == [greeting.pk]
    assert reminders.greeting_deliver(greeting.pk, today=timezone.localdate() + dt.timedelta(days=1))
    assert len(smtp_server.messages) == 1


def test_smtp_failure_is_recorded_not_raised(world):
    reminder, contact = _birthday_reminder(world)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    greeting = reminders.greeting_create(
        actor=world.owner, source=Source.UI, reminder=reminder, contact=contact, channel="email"
    )
    with override_settings(
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=closed_port,
    ):
        assert reminders.greeting_deliver(greeting.pk) is False
    greeting.refresh_from_db()
    assert greeting.status == GreetingStatus.FAILED and greeting.error


def test_wechat_greeting_is_logged_at_once(world):
    reminder, contact = _birthday_reminder(world)
    greeting = reminders.greeting_create(
        actor=world.owner,
        source=Source.UI,
        reminder=reminder,
        contact=contact,
        channel="wechat",
        body="生日快乐！",
    )
    assert greeting.status == GreetingStatus.COPIED
    assert greeting.interaction.channel == "wechat" and "生日快乐！" in greeting.interaction.summary
    reminder.refresh_from_db()
    assert reminder.status == "done"


def test_email_greeting_needs_an_address(world):
    contact = make_contact(world.customer, name="无邮箱", birthday=dt.date(1980, 6, 16))
    reminders.reminders_generate(today=dt.date(2026, 6, 15))
    reminder = Reminder.objects.get(contact=contact)
    with pytest.raises(ValidationFailed) as exc:
        reminders.greeting_create(
            actor=world.owner, source=Source.UI, reminder=reminder, contact=contact, channel="email"
        )
    assert exc.value.code == "no_email"
    assert not Greeting.objects.exists()


def test_contact_yearly_dates_are_reminded_solar_and_lunar(world):
    from guanxi.followup.services import contact_date_add

    contact = world.customer.contacts.get()
    contact_date_add(
        actor=world.owner, source=Source.UI, contact=contact, kind="wedding", date=dt.date(2011, 6, 17)
    )
    contact_date_add(
        actor=world.owner,
        source=Source.UI,
        contact=contact,
        kind="other",
        label="入职",
        date=dt.date(2015, 8, 15),
        is_lunar=True,
    )
    reminders.reminders_generate(today=dt.date(2026, 6, 15))
    reminders.reminders_generate(today=dt.date(2026, 9, 23))
    got = {(r.title, r.occurs_on, r.years) for r in Reminder.objects.filter(kind="contact_date")}
    assert (f"{contact.name} · 结婚纪念日", dt.date(2026, 6, 17), 15) in got
    assert (f"{contact.name} · 入职", dt.date(2026, 9, 25), None) in got
