"""Reads of the data-in-and-out package, each limited to what the user may see."""

from __future__ import annotations

from django.db.models import QuerySet

from guanxi.accounts.models import User
from guanxi.core.errors import NotFound
from guanxi.customers.models import Contact, Customer
from guanxi.dataio.models import DataExport, ImportJob, MappingTemplate, MergeRecord


def import_job_list(*, user: User, limit: int = 50) -> list[ImportJob]:
    return list(ImportJob.objects.filter(created_by=user).defer("report")[:limit])


def import_job_get_for_user(*, user: User, job_id: int) -> ImportJob:
    """A user sees their own imports; an administrator sees every import."""
    qs = ImportJob.objects.all() if user.is_admin else ImportJob.objects.filter(created_by=user)
    job = qs.filter(pk=job_id).first()
    if job is None:
        raise NotFound("导入", "import")
    return job


def mapping_template_list(*, user: User, kind: str = "") -> QuerySet[MappingTemplate]:
    qs = MappingTemplate.objects.filter(owner=user)
    return qs.filter(kind=kind) if kind else qs


def merge_record_get_for_user(*, user: User, record_id: int) -> MergeRecord:
    """A merge is visible to whoever can see its surviving record (the merged one is gone)."""
    from guanxi.customers.selectors import contact_queryset_for_user, customer_queryset_for_user

    record = MergeRecord.objects.filter(pk=record_id).first()
    if record is None:
        raise NotFound("合并记录", "merge record")
    visible: QuerySet[Customer] | QuerySet[Contact] = (
        customer_queryset_for_user(user)
        if record.object_type == "customer"
        else contact_queryset_for_user(user)
    )
    if not visible.filter(pk=record.survivor_id).exists():
        raise NotFound("合并记录", "merge record")
    return record


def merge_records_for_customer(*, customer: Customer) -> list[MergeRecord]:
    return list(
        MergeRecord.objects.filter(object_type="customer", survivor_id=customer.pk, undone_at__isnull=True)
    )


def export_log_list(*, user: User, limit: int = 100) -> list[DataExport]:
    qs = DataExport.objects.all() if user.is_admin else DataExport.objects.filter(created_by=user)
    return list(qs[:limit])
