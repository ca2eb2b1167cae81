"""Interactions (联系记录): one contact with a customer on any channel."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    VISIT = "visit", _("拜访")
    PHONE = "phone", _("电话")
    EMAIL = "email", _("邮件")
    WECHAT = "wechat", _("微信/即时通讯")
    SMS = "sms", _("短信")
    FAX = "fax", _("传真")
    VIDEO = "video", _("视频")
    EVENT = "event", _("活动")


class Direction(models.TextChoices):
    OUTBOUND = "out", _("我方发起")
    INBOUND = "in", _("客户发起")


class Interaction(models.Model):
    """One contact (联系记录) with a customer, shared with everyone who can see the customer."""

    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="interactions")
    channel = models.CharField(_("渠道"), max_length=10, choices=Channel.choices)
    direction = models.CharField(
        _("方向"), max_length=3, choices=Direction.choices, default=Direction.OUTBOUND
    )
    occurred_at = models.DateTimeField(_("时间"))
    duration_minutes = models.PositiveIntegerField(_("时长(分钟)"), null=True, blank=True)
    contacts = models.ManyToManyField("customers.Contact", blank=True, related_name="interactions")
    participants = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="interactions")
    summary = models.TextField(_("内容摘要"))
    outcome = models.TextField(_("结果"), blank=True)
    next_step = models.TextField(_("下一步"), blank=True)
    next_step_due = models.DateField(_("下一步日期"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    search_doc = models.TextField(blank=True, default="")
    search_scope = models.CharField(max_length=40, blank=True, default="")  # documents.scope

    class Meta:
        # A customer's timeline walks (customer, occurred_at, id); ``channel`` rides along so the
        # value engine's touches-per-customer aggregate is an index-only scan (the rows carry notes
        # and a search document: at 1M interactions the table is ~1 GB, this index ~40 MB).
        indexes = [
            models.Index(
                fields=["customer", "occurred_at", "id", "channel"], name="interaction_customer_time"
            )
        ]
        ordering = ["-occurred_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} {self.occurred_at:%Y-%m-%d}"
