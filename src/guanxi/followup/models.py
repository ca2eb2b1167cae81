"""The follow-up engine (跟进): tasks, reminders and greetings, appointments, visit plans and
their preparation, festivals defined by administrators, and the calendar subscription token."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class TaskStatus(models.TextChoices):
    OPEN = "open", _("待办")
    DONE = "done", _("已完成")
    CANCELLED = "cancelled", _("已取消")


class FollowUpTask(models.Model):
    """A follow-up task (跟进任务) with a due date and an assignee, about a customer or contact."""

    title = models.CharField(_("任务"), max_length=200)
    notes = models.TextField(_("备注"), blank=True)
    due_on = models.DateField(_("截止日期"))
    # No single-column indexes on the assignee, contact and creator keys (migration 0003): the
    # composite task_assignee_due begins with the assignee, and most tasks have no contact or
    # creator — their partial indexes below hold only the tasks that do. Each index is one more
    # entry per task, and a monthly re-evaluation creates ~200k tasks at 1M customers (issue 7).
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="followup_tasks", db_index=False
    )
    customer = models.ForeignKey(
        "customers.Customer", null=True, blank=True, on_delete=models.CASCADE, related_name="followup_tasks"
    )
    contact = models.ForeignKey(
        "customers.Contact",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="followup_tasks",
        db_index=False,
    )
    status = models.CharField(max_length=10, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    snoozed_until = models.DateField(_("推迟到"), null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(fields=["assignee", "status", "due_on"], name="task_assignee_due"),
            models.Index(fields=["contact"], name="task_contact", condition=Q(contact__isnull=False)),
            models.Index(
                fields=["created_by"], name="task_created_by", condition=Q(created_by__isnull=False)
            ),
        ]
        ordering = ["due_on", "id"]

    def __str__(self) -> str:
        return self.title

    @property
    def effective_due(self) -> dt.date:
        return max(self.due_on, self.snoozed_until) if self.snoozed_until else self.due_on


class ContactDateKind(models.TextChoices):
    ANNIVERSARY = "anniversary", _("纪念日")
    WEDDING = "wedding", _("结婚纪念日")
    OTHER = "other", _("其他")


class ContactDate(models.Model):
    """Another yearly date of a contact (纪念日): wedding anniversary, the day they joined, … ."""

    contact = models.ForeignKey("customers.Contact", on_delete=models.CASCADE, related_name="dates")
    kind = models.CharField(
        max_length=15, choices=ContactDateKind.choices, default=ContactDateKind.ANNIVERSARY
    )
    label = models.CharField(_("名称"), max_length=60, blank=True)
    date = models.DateField(_("日期"))
    is_lunar = models.BooleanField(_("农历"), default=False)
    lunar_leap_month = models.BooleanField(_("闰月"), default=False)

    def __str__(self) -> str:
        return self.label or self.get_kind_display()


class CalendarKind(models.TextChoices):
    SOLAR = "solar", _("公历")
    LUNAR = "lunar", _("农历")


class CustomFestival(models.Model):
    """A yearly date an administrator adds (公司周年庆, 客户答谢日 …); reminders like the festivals."""

    name = models.CharField(_("名称"), max_length=60)
    name_en = models.CharField(_("英文名称"), max_length=60, blank=True)
    calendar = models.CharField(_("历法"), max_length=5, choices=CalendarKind.choices, default="solar")
    month = models.PositiveSmallIntegerField(_("月"))
    day = models.PositiveSmallIntegerField(_("日"))
    lead_days = models.PositiveSmallIntegerField(_("提前天数"), default=7)
    greeting_zh = models.TextField(_("中文祝福语"), blank=True)
    greeting_en = models.TextField(_("英文祝福语"), blank=True)
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(month__gte=1, month__lte=12), name="festival_month_range"),
            models.CheckConstraint(condition=Q(day__gte=1, day__lte=31), name="festival_day_range"),
            models.CheckConstraint(condition=Q(lead_days__lte=60), name="festival_lead_days_range"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        """Impossible dates (2/30 solar, lunar day 31) are refused here too, for the admin's form."""
        from django.core.exceptions import ValidationError

        from guanxi.followup.calendar_cn import valid_lunar_date

        if self.calendar == CalendarKind.LUNAR:
            ok = valid_lunar_date(self.month or 0, self.day or 0, False)
        else:
            try:
                dt.date(2024, self.month or 0, self.day or 0)  # a leap year: 29 February is allowed
                ok = True
            except ValueError:
                ok = False
        if not ok:
            raise ValidationError({"day": _("日期不存在")})


class ReminderKind(models.TextChoices):
    BIRTHDAY = "birthday", _("生日")
    CONTACT_DATE = "contact_date", _("纪念日")
    FOUNDING = "founding", _("成立周年")
    FIRST_ORDER = "first_order", _("合作周年")
    FESTIVAL = "festival", _("节日")


class ReminderStatus(models.TextChoices):
    PENDING = "pending", _("待处理")
    DONE = "done", _("已处理")
    DISMISSED = "dismissed", _("已忽略")


class Reminder(models.Model):
    """A reminder (提醒) N days ahead of a birthday, anniversary or festival, for one user.

    ``subject`` names what it is about (``contact:12``, ``customer:5``, ``festival:spring``); with
    the date of the occurrence it is unique per user, so running the generator twice — or two
    generators at once — creates each reminder once.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reminders")
    kind = models.CharField(max_length=15, choices=ReminderKind.choices)
    subject = models.CharField(max_length=60)
    occurs_on = models.DateField()
    remind_on = models.DateField()
    customer = models.ForeignKey(
        "customers.Customer", null=True, blank=True, on_delete=models.CASCADE, related_name="reminders"
    )
    contact = models.ForeignKey(
        "customers.Contact", null=True, blank=True, on_delete=models.CASCADE, related_name="reminders"
    )
    title = models.CharField(max_length=200)
    years = models.PositiveSmallIntegerField(null=True, blank=True)  # anniversaries: how many years
    status = models.CharField(max_length=10, choices=ReminderStatus.choices, default=ReminderStatus.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "kind", "subject", "occurs_on"], name="reminder_once"),
        ]
        indexes = [models.Index(fields=["user", "status", "remind_on"], name="reminder_user_due")]
        ordering = ["occurs_on", "id"]

    def __str__(self) -> str:
        return self.title


class GreetingChannel(models.TextChoices):
    EMAIL = "email", _("邮件")
    WECHAT = "wechat", _("微信")


class GreetingStatus(models.TextChoices):
    QUEUED = "queued", _("待发送")
    SENDING = "sending", _("发送中")
    SENT = "sent", _("已发送")
    COPIED = "copied", _("已复制")
    FAILED = "failed", _("发送失败")


class Greeting(models.Model):
    """A greeting (祝福) to one contact for a reminder, sent by e-mail or copied for WeChat.

    One per (reminder, contact, channel): a greeting is never sent twice. Sending claims the row
    with a guarded UPDATE (queued → sending), so two workers racing for it send it once.
    """

    reminder = models.ForeignKey(Reminder, on_delete=models.CASCADE, related_name="greetings")
    contact = models.ForeignKey("customers.Contact", on_delete=models.CASCADE, related_name="greetings")
    channel = models.CharField(max_length=10, choices=GreetingChannel.choices)
    language = models.CharField(max_length=10, default="zh-hans")
    to_address = models.CharField(max_length=254, blank=True)
    subject = models.CharField(max_length=200, blank=True)
    body = models.TextField()
    send_on = models.DateField(null=True, blank=True)  # a scheduled e-mail goes out with the tick that day
    status = models.CharField(max_length=10, choices=GreetingStatus.choices, default=GreetingStatus.QUEUED)
    error = models.CharField(max_length=300, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    interaction = models.ForeignKey(
        "engagement.Interaction", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["reminder", "contact", "channel"], name="greeting_once"),
        ]
        indexes = [models.Index(fields=["status", "send_on"], name="greeting_due")]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} → {self.contact_id}"


class AppointmentStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("已预约")
    DONE = "done", _("已完成")
    CANCELLED = "cancelled", _("已取消")


class Appointment(models.Model):
    """An appointment (预约) with a customer: time, place, attendees on both sides."""

    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="appointments")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="appointments")
    title = models.CharField(_("主题"), max_length=200)
    starts_at = models.DateTimeField(_("开始时间"))
    ends_at = models.DateTimeField(_("结束时间"))
    place = models.CharField(_("地点"), max_length=255, blank=True)
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    notes = models.TextField(_("备注"), blank=True)
    contacts = models.ManyToManyField("customers.Contact", blank=True, related_name="appointments")
    attendees = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    status = models.CharField(
        max_length=10, choices=AppointmentStatus.choices, default=AppointmentStatus.SCHEDULED
    )
    sequence = models.PositiveIntegerField(default=0)  # iCalendar SEQUENCE: bumped on each change
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["owner", "starts_at"], name="appointment_owner_start")]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="appointment_ends_after"
            ),
        ]
        ordering = ["starts_at", "id"]

    def __str__(self) -> str:
        return self.title


class ChangeReason(models.TextChoices):
    CUSTOMER = "customer", _("客户要求")
    OWN = "own", _("我方原因")
    OTHER = "other", _("其他")


class AppointmentChange(models.Model):
    """A reschedule or cancellation, who did it and why (改约): changing an appointment for one's own
    reasons is one of the fifteen behaviours that sour a relationship (DOMAIN §6)."""

    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="changes")
    kind = models.CharField(max_length=12, choices=[("rescheduled", _("改期")), ("cancelled", _("取消"))])
    reason_kind = models.CharField(_("原因类别"), max_length=10, choices=ChangeReason.choices)
    reason = models.CharField(_("原因"), max_length=300)
    old_starts_at = models.DateTimeField()
    old_ends_at = models.DateTimeField()
    new_starts_at = models.DateTimeField(null=True, blank=True)
    new_ends_at = models.DateTimeField(null=True, blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-changed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.appointment_id}"


class StartPoint(models.TextChoices):
    OFFICE = "office", _("公司")
    HOME = "home", _("家")


class PlannerProfile(models.Model):
    """Where a salesperson's day starts (office or home) and their usual working hours."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="planner")
    office_address = models.CharField(_("公司地址"), max_length=255, blank=True)
    office_latitude = models.DecimalField(
        _("公司纬度"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    office_longitude = models.DecimalField(
        _("公司经度"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    home_address = models.CharField(_("家庭地址"), max_length=255, blank=True)
    home_latitude = models.DecimalField(_("家纬度"), max_digits=9, decimal_places=6, null=True, blank=True)
    home_longitude = models.DecimalField(_("家经度"), max_digits=9, decimal_places=6, null=True, blank=True)
    day_starts = models.TimeField(_("出发时间"), default=dt.time(9, 0))
    available_minutes = models.PositiveSmallIntegerField(_("可用时间(分钟)"), default=480)
    visit_minutes = models.PositiveSmallIntegerField(_("每次拜访(分钟)"), default=45)

    def __str__(self) -> str:
        return f"planner {self.user_id}"


class VisitPlan(models.Model):
    """The day's visits (拜访计划) of one user, in route order."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="visit_plans")
    day = models.DateField()
    start_point = models.CharField(max_length=10, choices=StartPoint.choices, default=StartPoint.OFFICE)
    start_latitude = models.DecimalField(max_digits=9, decimal_places=6)
    start_longitude = models.DecimalField(max_digits=9, decimal_places=6)
    start_time = models.TimeField()
    available_minutes = models.PositiveSmallIntegerField()
    return_to_start = models.BooleanField(default=True)
    total_km = models.FloatField(default=0)
    total_minutes = models.FloatField(default=0)
    late_minutes = models.FloatField(default=0)
    exact = models.BooleanField(default=False)  # the order is the proven optimum
    hand_ordered = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "day"], name="visitplan_user_day")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.day}"


class StopStatus(models.TextChoices):
    PLANNED = "planned", _("计划中")
    DONE = "done", _("已拜访")
    SKIPPED = "skipped", _("跳过")


class VisitStop(models.Model):
    """One visit of a plan: customer, position in the route, estimated arrival and duration."""

    plan = models.ForeignKey(VisitPlan, on_delete=models.CASCADE, related_name="stops")
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+")
    appointment = models.ForeignKey(
        Appointment, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    position = models.PositiveSmallIntegerField()  # 0 = without coordinates: listed separately
    duration_minutes = models.PositiveSmallIntegerField(default=45)
    reason = models.CharField(max_length=20, blank=True)  # appointment | overdue | due | prospect | manual
    arrive_at = models.TimeField(null=True, blank=True)
    leg_km = models.FloatField(null=True, blank=True)
    late_minutes = models.FloatField(default=0)
    status = models.CharField(max_length=10, choices=StopStatus.choices, default=StopStatus.PLANNED)
    interaction = models.ForeignKey(
        "engagement.Interaction", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["plan", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["plan", "customer"], name="visitstop_once")]

    def __str__(self) -> str:
        return f"{self.plan_id}#{self.position}"


class ChecklistTemplate(models.Model):
    """What to bring to a visit (拜访准备清单), edited by administrators; items in both languages."""

    name = models.CharField(_("名称"), max_length=60, unique=True)
    name_en = models.CharField(_("英文名称"), max_length=60, blank=True)
    # [{"zh": "产品宣传册", "en": "Brochures"}, …]
    items = models.JSONField(_("清单项"), default=list)
    key_points = models.TextField(_("要点模板"), blank=True)
    is_default = models.BooleanField(_("默认"), default=False)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name


class VisitPrep(models.Model):
    """The preparation of one visit (拜访准备): checklist, key points, anticipated questions and answers."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="visit_preps")
    day = models.DateField()
    template = models.ForeignKey(ChecklistTemplate, null=True, blank=True, on_delete=models.SET_NULL)
    checklist = models.JSONField(default=list)  # [{"text": …, "done": bool}]
    key_points = models.TextField(_("要点"), blank=True)
    qa = models.JSONField(default=list)  # [{"q": …, "a": …}]
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "customer", "day"], name="visitprep_once")]

    def __str__(self) -> str:
        return f"prep {self.customer_id} {self.day}"


class CalendarToken(models.Model):
    """The secret of a user's calendar subscription (日历订阅); only its SHA-256 hash is stored."""

    PREFIX = "gxcal_"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_tokens"
    )
    key_hash = models.CharField(max_length=64, unique=True)
    key_prefix = models.CharField(max_length=14)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.key_prefix}… ({self.user_id})"

    @staticmethod
    def hash_key(raw: str) -> str:
        return hashlib.sha256(raw.encode()).hexdigest()

    @classmethod
    def generate_key(cls) -> str:
        return cls.PREFIX + secrets.token_urlsafe(32)
