"""When it goes wrong, and what customers tell us (DOMAIN §6–§7): complaints (抱怨/投诉) with
deadlines and escalation, the promise ledger (承诺), objections (异议), feedback surveys (客户反馈),
absences that route escalations past an away manager, and in-app notices."""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from guanxi.engagement.models import Channel

SERVICE_ACTION_LABELS = {
    "complaint.create": _("登记了投诉"),
    "complaint.update": _("修改了投诉"),
    "complaint.acknowledge": _("响应了投诉"),
    "complaint.escalate": _("升级了投诉"),
    "complaint.action": _("处理投诉"),
    "complaint.resolve": _("解决了投诉"),
    "complaint.reopen": _("重新打开了投诉"),
    "complaint.satisfaction": _("记录了投诉处理满意度"),
    "promise.create": _("记录了承诺"),
    "promise.update": _("修改了承诺"),
    "promise.kept": _("兑现了承诺"),
    "promise.kept_late": _("延迟兑现了承诺"),
    "promise.broken": _("未兑现承诺"),
    "promise.withdrawn": _("撤回了承诺"),
    "objection.create": _("记录了异议"),
    "objection.update": _("更新了异议"),
    "survey.invite": _("发出了客户反馈问卷"),
    "survey.answer": _("客户回答了反馈问卷"),
    "survey.revoke": _("作废了问卷链接"),
    "absence.create": _("登记了休假"),
    "absence.delete": _("删除了休假"),
}


class Severity(models.TextChoices):
    LOW = "low", _("轻微")
    MEDIUM = "medium", _("一般")
    HIGH = "high", _("严重")
    CRITICAL = "critical", _("紧急")


class ComplaintCategory(models.TextChoices):
    QUALITY = "quality", _("产品质量")
    DELIVERY = "delivery", _("交付物流")
    SERVICE = "service", _("服务态度")
    BILLING = "billing", _("价格账单")
    COMMUNICATION = "communication", _("沟通不畅")
    PROMISE = "promise", _("承诺未兑现")
    OTHER = "other", _("其他")


class ComplaintStatus(models.TextChoices):
    OPEN = "open", _("待响应")
    ACKNOWLEDGED = "acknowledged", _("处理中")
    RESOLVED = "resolved", _("已解决")


class EscalationReason(models.TextChoices):
    RESPONSE_OVERDUE = "response_overdue", _("超过响应期限")
    RESOLUTION_OVERDUE = "resolution_overdue", _("超过解决期限")
    BEYOND_AUTHORITY = "beyond_authority", _("超出权限")


class Satisfaction(models.TextChoices):
    VERY_SATISFIED = "5", _("非常满意")
    SATISFIED = "4", _("满意")
    NEUTRAL = "3", _("一般")
    DISSATISFIED = "2", _("不满意")
    VERY_DISSATISFIED = "1", _("非常不满意")


class Complaint(models.Model):
    """A customer complaint (抱怨/投诉): listened to, acknowledged, resolved within the service policy's
    deadlines, escalated to the manager when a deadline passes or it is beyond the handler's
    authority (DOMAIN §6: "straight to the manager"), then checked for satisfaction."""

    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="complaints")
    contact = models.ForeignKey(
        "customers.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="complaints"
    )
    channel = models.CharField(_("渠道"), max_length=10, choices=Channel.choices, default=Channel.PHONE)
    category = models.CharField(_("类别"), max_length=15, choices=ComplaintCategory.choices)
    severity = models.CharField(
        _("严重程度"), max_length=10, choices=Severity.choices, default=Severity.MEDIUM
    )
    summary = models.CharField(_("事由"), max_length=200)
    customer_words = models.TextField(_("客户原话"), blank=True)
    listening_notes = models.TextField(_("倾听记录"), blank=True)
    customer_wants = models.TextField(_("客户诉求"), blank=True)
    handler = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="complaints_handled"
    )
    status = models.CharField(
        _("状态"), max_length=12, choices=ComplaintStatus.choices, default=ComplaintStatus.OPEN
    )
    received_at = models.DateTimeField(_("收到时间"))
    respond_by = models.DateTimeField(_("响应期限"))
    resolve_by = models.DateTimeField(_("解决期限"))
    acknowledged_at = models.DateTimeField(_("首次响应"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("解决时间"), null=True, blank=True)
    resolution = models.TextField(_("处理结果"), blank=True)
    beyond_authority = models.BooleanField(_("超出权限"), default=False)
    escalated_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="complaints_escalated",
        verbose_name=_("升级给"),
    )
    escalation_level = models.PositiveSmallIntegerField(_("升级层级"), default=0)
    escalated_at = models.DateTimeField(null=True, blank=True)
    escalation_reason = models.CharField(
        _("升级原因"), max_length=20, choices=EscalationReason.choices, blank=True
    )
    # Each deadline escalates once, however many ticks see it passed (claimed by a guarded UPDATE).
    response_breach_at = models.DateTimeField(null=True, blank=True)
    resolution_breach_at = models.DateTimeField(null=True, blank=True)
    satisfaction = models.CharField(_("满意度"), max_length=1, choices=Satisfaction.choices, blank=True)
    satisfaction_note = models.TextField(_("满意度说明"), blank=True)
    satisfaction_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(fields=["status", "respond_by"], name="complaint_status_respond"),
            models.Index(fields=["status", "resolve_by"], name="complaint_status_resolve"),
            models.Index(fields=["handler", "status", "resolve_by"], name="complaint_handler"),
            models.Index(fields=["escalated_to", "status"], name="complaint_escalated"),
            models.Index(fields=["customer", "received_at"], name="complaint_customer"),
            models.Index(fields=["received_at", "id"], name="complaint_received"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(respond_by__lte=models.F("resolve_by")), name="complaint_deadlines"
            ),
        ]
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return self.summary

    @property
    def is_open(self) -> bool:
        return self.status != ComplaintStatus.RESOLVED


class PromiseStatus(models.TextChoices):
    OPEN = "open", _("待兑现")
    KEPT = "kept", _("按时兑现")
    KEPT_LATE = "kept_late", _("延迟兑现")
    BROKEN = "broken", _("未兑现")
    WITHDRAWN = "withdrawn", _("已撤回")


class Promise(models.Model):
    """A promise (承诺) made to a customer: what, to whom, by when, by whom. DOMAIN §6: what is promised
    must be delivered by the promised date — "customers are like elephants"."""

    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="promises")
    contact = models.ForeignKey(
        "customers.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="promises"
    )
    interaction = models.ForeignKey(
        "engagement.Interaction", null=True, blank=True, on_delete=models.SET_NULL, related_name="promises"
    )
    # The deal the promise was made in (a sample, a price, a delivery date…), shown on its page.
    opportunity = models.ForeignKey(
        "pipeline.Opportunity",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="promises",
        verbose_name=_("商机"),
    )
    what = models.CharField(_("承诺内容"), max_length=300)
    details = models.TextField(_("说明"), blank=True)
    promised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="promises", verbose_name=_("承诺人")
    )
    due_on = models.DateField(_("兑现期限"))
    status = models.CharField(
        _("状态"), max_length=10, choices=PromiseStatus.choices, default=PromiseStatus.OPEN
    )
    kept_on = models.DateField(_("兑现日期"), null=True, blank=True)
    reason = models.TextField(_("原因"), blank=True)  # why withdrawn or broken
    closed_at = models.DateTimeField(null=True, blank=True)
    reminded_on = models.DateField(null=True, blank=True)  # last due reminder (one a day at most)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(fields=["promised_by", "status", "due_on"], name="promise_by_due"),
            models.Index(fields=["status", "due_on"], name="promise_status_due"),
            models.Index(fields=["customer", "due_on"], name="promise_customer"),
        ]
        ordering = ["due_on", "id"]

    def __str__(self) -> str:
        return self.what


class ObjectionCategory(models.TextChoices):
    PRICE = "price", _("价格")
    QUALITY = "quality", _("质量")
    STYLE = "style", _("款式")
    TIMING = "timing", _("时机")
    COMPETITOR = "competitor", _("竞争对手")
    AUTHORITY = "authority", _("决策权")
    NEED = "need", _("需求")
    SERVICE = "service", _("服务")
    OTHER = "other", _("其他")


class Judgement(models.TextChoices):
    GENUINE = "genuine", _("真实异议")
    PRETEXT = "pretext", _("借口")
    UNSURE = "unsure", _("不确定")


class ObjectionOutcome(models.TextChoices):
    PENDING = "pending", _("未定")
    WON = "won", _("成交")
    LOST = "lost", _("丢单")
    DEFERRED = "deferred", _("暂缓")


class Objection(models.Model):
    """An objection (异议) a customer raised in a sale: genuine or a pretext ("the style is
    old-fashioned" to get a lower price, DOMAIN §6); probed directly or indirectly for the real reason."""

    customer = models.ForeignKey(
        "customers.Customer", null=True, blank=True, on_delete=models.CASCADE, related_name="objections"
    )
    contact = models.ForeignKey(
        "customers.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="objections"
    )
    # The sale the objection was raised in: the deal's outcome is the objection's outcome too, and
    # the pipeline reads win rates by objection category and the real reason of a loss from it.
    opportunity = models.ForeignKey(
        "pipeline.Opportunity",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="objections",
        verbose_name=_("商机"),
    )
    category = models.CharField(_("类别"), max_length=12, choices=ObjectionCategory.choices)
    customer_words = models.TextField(_("客户原话"))
    judgement = models.CharField(_("判断"), max_length=8, choices=Judgement.choices, default=Judgement.UNSURE)
    direct_questions = models.TextField(_("直接询问"), blank=True)
    indirect_questions = models.TextField(_("间接询问"), blank=True)
    real_reason = models.TextField(_("真实原因"), blank=True)
    real_category = models.CharField(
        _("真实原因类别"), max_length=12, choices=ObjectionCategory.choices, blank=True
    )
    response = models.TextField(_("应对"), blank=True)
    outcome = models.CharField(
        _("结果"), max_length=10, choices=ObjectionOutcome.choices, default=ObjectionOutcome.PENDING
    )
    raised_on = models.DateField(_("提出日期"))
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="objections",
        verbose_name=_("记录人"),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(fields=["category", "outcome"], name="objection_cat_outcome"),
            models.Index(fields=["customer", "raised_on"], name="objection_customer"),
            models.Index(fields=["raised_by", "raised_on"], name="objection_raised_by"),
        ]
        ordering = ["-raised_on", "-id"]

    def __str__(self) -> str:
        return self.customer_words[:60]


class QuestionKind(models.TextChoices):
    TEXT = "text", _("文字")
    NPS = "nps", _("推荐度 0–10")
    RATING = "rating", _("满意度 1–5")


class SurveyTemplate(models.Model):
    """A feedback questionnaire (客户反馈问卷). ``questions`` is a list of
    ``{"key", "kind", "zh", "en", "required"}``; the seed's three questions ship as the default."""

    name = models.CharField(_("名称"), max_length=100, unique=True)
    intro = models.TextField(_("开场白"), blank=True)
    questions = models.JSONField(default=list)
    for_complaints = models.BooleanField(_("用于投诉回访"), default=False)
    active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class InvitationChannel(models.TextChoices):
    EMAIL = "email", _("邮件")
    LINK = "link", _("复制链接")


class EmailStatus(models.TextChoices):
    NONE = "", _("不发邮件")
    QUEUED = "queued", _("待发送")
    SENDING = "sending", _("发送中")
    SENT = "sent", _("已发送")
    FAILED = "failed", _("发送失败")


class SurveyInvitation(models.Model):
    """One recipient's survey (问卷邀请). Its secret token is shown once (or e-mailed) and only its
    SHA-256 is stored; the public page finds the row by that hash."""

    template = models.ForeignKey(SurveyTemplate, on_delete=models.PROTECT, related_name="invitations")
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="survey_invitations"
    )
    contact = models.ForeignKey(
        "customers.Contact",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="survey_invitations",
    )
    complaint = models.ForeignKey(
        Complaint, null=True, blank=True, on_delete=models.SET_NULL, related_name="survey_invitations"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    channel = models.CharField(_("方式"), max_length=5, choices=InvitationChannel.choices)
    to_address = models.EmailField(_("收件邮箱"), blank=True)
    language = models.CharField(max_length=10, default="zh-hans")
    email_status = models.CharField(max_length=8, choices=EmailStatus.choices, blank=True, default="")
    email_error = models.CharField(max_length=300, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(_("有效期至"))
    answered_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["customer", "created_at"], name="invitation_customer"),
            models.Index(fields=["email_status"], name="invitation_email_status"),
        ]
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.template} #{self.pk}"

    @staticmethod
    def hash_token(raw: str) -> str:
        return hashlib.sha256(raw.encode()).hexdigest()

    @staticmethod
    def new_token() -> str:
        return secrets.token_urlsafe(32)


class SurveyResponse(models.Model):
    """The answer to one invitation (one per token). ``nps`` and ``rating`` are copied out of
    ``answers`` so NPS and satisfaction are aggregated in SQL."""

    invitation = models.OneToOneField(SurveyInvitation, on_delete=models.CASCADE, related_name="response")
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="survey_responses"
    )
    answers = models.JSONField(default=dict)
    nps = models.PositiveSmallIntegerField(null=True, blank=True)
    rating = models.PositiveSmallIntegerField(null=True, blank=True)
    submitted_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["customer", "submitted_at"], name="response_customer")]
        constraints = [
            models.CheckConstraint(condition=Q(nps__isnull=True) | Q(nps__lte=10), name="response_nps_range"),
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5),
                name="response_rating_range",
            ),
        ]

    def __str__(self) -> str:
        return f"response #{self.pk}"


class Absence(models.Model):
    """A period a user is away (休假/出差): escalations skip them and go one manager up."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="absences")
    starts_on = models.DateField(_("开始"))
    ends_on = models.DateField(_("结束"))
    note = models.CharField(_("备注"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["user", "ends_on"], name="absence_user")]
        constraints = [
            models.CheckConstraint(condition=Q(starts_on__lte=models.F("ends_on")), name="absence_range")
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.starts_on}–{self.ends_on}"


class NoticeKind(models.TextChoices):
    RESPONSE_WARNING = "response_warning", _("投诉即将超过响应期限")
    RESOLUTION_WARNING = "resolution_warning", _("投诉即将超过解决期限")
    ESCALATED = "escalated", _("投诉升级给您")
    PROMISE_DUE = "promise_due", _("承诺即将到期")
    PROMISE_OVERDUE = "promise_overdue", _("承诺已逾期")


class Notice(models.Model):
    """An in-app notification (提醒), optionally e-mailed. ``key`` makes each one unique, so the
    periodic tick can create it any number of times and it exists (and is mailed) once."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="service_notices"
    )
    kind = models.CharField(max_length=20, choices=NoticeKind.choices)
    key = models.CharField(max_length=80, unique=True)
    complaint = models.ForeignKey(
        Complaint, null=True, blank=True, on_delete=models.CASCADE, related_name="notices"
    )
    promise = models.ForeignKey(
        Promise, null=True, blank=True, on_delete=models.CASCADE, related_name="notices"
    )
    subject = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    email_status = models.CharField(max_length=8, choices=EmailStatus.choices, blank=True, default="")
    email_error = models.CharField(max_length=300, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["user", "read_at", "created_at"], name="notice_user"),
            models.Index(fields=["email_status"], name="notice_email_status"),
        ]
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.subject
