"""Imports (导入), exports (导出), merges (合并) and personal-data erasures (个人信息删除)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ImportKind(models.TextChoices):
    CUSTOMERS = "customers", _("客户及联系人")
    CONTACTS = "contacts", _("联系人")
    INTERACTIONS = "interactions", _("联系记录")
    ORDERS = "orders", _("订单")
    PRODUCTS = "products", _("产品")


class ImportStatus(models.TextChoices):
    PREVIEWED = "previewed", _("待确认")
    QUEUED = "queued", _("排队中")
    RUNNING = "running", _("导入中")
    DONE = "done", _("已完成")
    FAILED = "failed", _("失败")
    CANCELLED = "cancelled", _("已取消")


class DuplicatePolicy(models.TextChoices):
    UPDATE = "update", _("补全已有客户")
    SKIP = "skip", _("跳过重复")
    CREATE = "create", _("仍然新建")


class ImportJob(models.Model):
    """One uploaded file, its mapping and preview, and (once confirmed) its result report."""

    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    kind = models.CharField(max_length=20, choices=ImportKind.choices, default=ImportKind.CUSTOMERS)
    file_name = models.CharField(max_length=255)
    file_path = models.CharField(max_length=500, blank=True)  # the upload, under GUANXI_IMPORT_DIR
    file_format = models.CharField(max_length=10, blank=True)  # csv | xlsx | xls | vcard
    encoding = models.CharField(max_length=30, blank=True)
    sheet = models.CharField(max_length=100, blank=True)
    mapping = models.JSONField(default=dict)  # {header: field}
    source_key = models.CharField(max_length=200, blank=True)  # the template the mapping came from
    on_duplicate = models.CharField(
        max_length=10, choices=DuplicatePolicy.choices, default=DuplicatePolicy.UPDATE
    )
    status = models.CharField(max_length=10, choices=ImportStatus.choices, default=ImportStatus.PREVIEWED)
    total_rows = models.PositiveIntegerField(default=0)
    done_rows = models.PositiveIntegerField(default=0)  # progress while running
    report = models.JSONField(default=dict)  # counts, per-row outcomes (first rows), errors

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.file_name}"

    @property
    def progress_percent(self) -> int:
        if self.status == ImportStatus.DONE:
            return 100
        return int(100 * self.done_rows / self.total_rows) if self.total_rows else 0

    @property
    def is_active(self) -> bool:
        return self.status in (ImportStatus.QUEUED, ImportStatus.RUNNING)


class ImportRow(models.Model):
    """Provenance: which record a row of an import created or updated (导入来源)."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="rows")
    row_number = models.PositiveIntegerField()
    action = models.CharField(max_length=10)  # created | updated | merged
    object_type = models.CharField(max_length=20)
    object_id = models.BigIntegerField()

    class Meta:
        indexes = [models.Index(fields=["object_type", "object_id"], name="importrow_object")]

    def __str__(self) -> str:
        return f"{self.job_id}:{self.row_number} {self.action} {self.object_type}#{self.object_id}"


class MappingTemplate(models.Model):
    """A column mapping remembered per source (e.g. "销售易导出" or the header row's fingerprint)."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=ImportKind.choices)
    source_key = models.CharField(max_length=200)
    name = models.CharField(max_length=100, blank=True)
    mapping = models.JSONField(default=dict)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["owner", "kind", "source_key"], name="mapping_unique_source")
        ]

    def __str__(self) -> str:
        return self.name or self.source_key


class MergeRecord(models.Model):
    """A merge (合并) of one customer or contact into another, with what is needed to undo it.

    The merged-away row is deleted from its table but kept here whole (``snapshot``) together with
    the ids of every row moved to the survivor (``moved``), the survivor's values before the merge
    (``survivor_before``) and any row that could not move because the survivor already had its twin
    (``dropped``). Undo re-creates the record with its old id and moves the rows back.
    """

    object_type = models.CharField(max_length=20)  # customer | contact
    survivor_id = models.BigIntegerField()
    merged_id = models.BigIntegerField()
    merged_repr = models.CharField(max_length=200)
    snapshot = models.JSONField(default=dict)
    survivor_before = models.JSONField(default=dict)
    moved = models.JSONField(default=dict)  # {"app.Model.field": [ids]}
    dropped = models.JSONField(default=list)  # [{"model": "app.Model", "fields": {...}}]
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    undone_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["object_type", "survivor_id"], name="merge_survivor")]

    def __str__(self) -> str:
        return f"{self.object_type} {self.merged_id} → {self.survivor_id}"


class DataExport(models.Model):
    """A logged export (导出记录): who took which records out, in which format."""

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    kind = models.CharField(max_length=20)
    file_format = models.CharField(max_length=10)
    filters = models.JSONField(default=dict)
    row_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind}.{self.file_format} ({self.row_count})"


class ErasureTombstone(models.Model):
    """What is left of a person erased on request (PIPL art. 47 / GDPR art. 17): no personal data,
    only that an erasure happened, when, by whom and of which record ids."""

    object_type = models.CharField(max_length=20)
    object_id = models.BigIntegerField()
    erased_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    erased_at = models.DateTimeField(auto_now_add=True)
    reason = models.CharField(max_length=200, blank=True)
    counts = models.JSONField(default=dict)  # rows anonymised per table

    def __str__(self) -> str:
        return f"erased {self.object_type}#{self.object_id}"
