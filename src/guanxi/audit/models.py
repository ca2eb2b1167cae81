"""Audit events (审计日志): one table that is both the audit log and the customer timeline's history."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Source(models.TextChoices):
    UI = "ui", _("界面")
    API = "api", _("接口")
    CLI = "cli", _("命令行")
    IMPORT = "import", _("导入")
    JOB = "job", _("后台任务")
    SYSTEM = "system", _("系统")


ACTION_LABELS = {
    "customer.create": _("创建了客户"),
    "customer.update": _("修改了客户资料"),
    "customer.delete": _("删除了客户"),
    "customer.share": _("共享了客户"),
    "customer.unshare": _("取消了共享"),
    "contact.create": _("添加了联系人"),
    "contact.update": _("修改了联系人"),
    "contact.delete": _("删除了联系人"),
    "interaction.create": _("记录了联系"),
    "interaction.update": _("修改了联系记录"),
    "interaction.delete": _("删除了联系记录"),
    "order.create": _("录入了订单"),
    "order.update": _("修改了订单"),
    "customer.review": _("复核了客户档案"),
    "contact.decision": _("更新了决策角色与立场"),
    "link.create": _("添加了人脉关系"),
    "link.update": _("修改了人脉关系"),
    "link.delete": _("删除了人脉关系"),
    "referral.create": _("记录了转介绍"),
    "referral.update": _("修改了转介绍"),
    "referral.delete": _("删除了转介绍"),
    "playbook.update": _("修改了维护手册"),
    "import.commit": _("导入了数据"),
    "data.export": _("导出了数据"),
    "customer.merge": _("合并了客户"),
    "contact.merge": _("合并了联系人"),
    "merge.undo": _("撤销了合并"),
    "person.export": _("导出了个人信息"),
    "person.erase": _("删除了个人信息"),
}


# The fields of an audit event in the order the bulk writers (the import, the bench generator) lay
# out its raw rows (``guanxi.dataio.importing.bulkinsert``): every field, the id first.
AUDIT_ROW_FIELDS = [
    "id",
    "created_at",
    "actor",
    "source",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "customer",
    "changes",
]


class AuditEvent(models.Model):
    """Who changed what, when, from where, with the before/after values of each changed field."""

    created_at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    source = models.CharField(max_length=10, choices=Source.choices)
    action = models.CharField(max_length=40)  # e.g. customer.create, contact.update
    object_type = models.CharField(max_length=40)
    object_id = models.BigIntegerField()
    object_repr = models.CharField(max_length=200, blank=True)
    # The customer the change belongs to, so the customer's timeline is one indexed read.
    customer = models.ForeignKey(
        "customers.Customer",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="audit_events",
        db_constraint=False,
        db_index=False,  # the (customer, created_at) index begins with it (migration 0002)
    )
    changes = models.JSONField(default=dict)  # {field: [before, after]}

    class Meta:
        indexes = [
            models.Index(fields=["object_type", "object_id", "created_at"]),
            models.Index(fields=["customer", "created_at"]),
        ]
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.action} {self.object_type}#{self.object_id}"

    @property
    def action_label(self) -> str:
        return str(ACTION_LABELS.get(self.action, self.action))

    @property
    def import_number(self) -> int | None:
        """The import (guanxi.dataio) that made this change, shown as "导入 #N" on the timeline."""
        value = (self.changes or {}).get("_import")
        return value[1] if isinstance(value, list) and len(value) == 2 else None

    @property
    def changed_fields(self) -> list[str]:
        return [name for name in self.changes or {} if not name.startswith("_")]

    @property
    def changed_field_labels(self) -> list[str]:
        from guanxi.audit.selectors import field_label

        return [field_label(self.object_type, name) for name in self.changed_fields]
