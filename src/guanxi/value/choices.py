"""The value vocabulary (DOMAIN §3), shared by the customer columns and the value engine.

Kept free of model imports so ``guanxi.customers.models`` can use it without a cycle.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _


class ValueClass(models.TextChoices):
    """ABCD classes (客户分级) from the composite score."""

    A = "A", "A"
    B = "B", "B"
    C = "C", "C"
    D = "D", "D"


class Tier(models.TextChoices):
    KEY = "key", _("关键客户")
    IMPORTANT = "important", _("重点客户")
    GENERAL = "general", _("一般客户")
    MAINTAIN = "maintain", _("维持客户")


class Lifecycle(models.TextChoices):
    """Lifecycle states (生命周期), each with a recommended action (see ``ACTIONS``)."""

    NEW = "new", _("新客户")
    FAST_GROWING = "fast_growing", _("快速成长")
    LOYAL = "loyal", _("忠诚稳定")
    CULTIVATE = "cultivate", _("值得培养")
    DORMANT = "dormant", _("休眠")
    LOST = "lost", _("流失")


class RfmSegment(models.TextChoices):
    CHAMPIONS = "champions", _("核心价值")
    LOYAL = "loyal", _("忠诚")
    PROMISING = "promising", _("潜力新客")
    NEEDS_ATTENTION = "attention", _("需要关注")
    AT_RISK = "at_risk", _("流失风险")
    HIBERNATING = "hibernating", _("沉睡")
    NONE = "none", _("未成交")


# The recommended action of each lifecycle state (DOMAIN §3, the IBM example); it becomes the title
# of the follow-up task the owner gets when a customer enters the state.
ACTIONS: dict[str, Any] = {
    Lifecycle.NEW: _("新客户：做好首单交付与回访，了解后续需求"),
    Lifecycle.FAST_GROWING: _("快速成长：增派销售力量，全面覆盖决策链"),
    Lifecycle.LOYAL: _("忠诚稳定：确保售后服务满意，巩固关系"),
    Lifecycle.CULTIVATE: _("值得培养：积极跟进，及时通报新产品与信息"),
    Lifecycle.DORMANT: _("休眠：创造新需求，激发新的消费"),
    Lifecycle.LOST: _("流失：了解流失原因，评估是否挽回"),
}

CLASS_ORDER = ["A", "B", "C", "D"]
