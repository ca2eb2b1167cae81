"""Writes of the data-in-and-out package: import jobs, mapping templates, export logs.

Merges live in ``dataio.merge``, erasures in ``dataio.privacy``, backups in ``dataio.backup``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from guanxi.accounts.models import User
from guanxi.audit.models import Source
from guanxi.audit.services import audit_record
from guanxi.core.errors import Conflict, GuanxiError, ValidationFailed, require
from guanxi.dataio.importing import plans
from guanxi.dataio.importing.pipeline import ImportOptions, run_import
from guanxi.dataio.models import (
    DataExport,
    DuplicatePolicy,
    ImportJob,
    ImportKind,
    ImportStatus,
    MappingTemplate,
)

# Above this many rows a confirmed import runs as a background job with a progress bar.
BACKGROUND_ROWS = 2000


def import_dir() -> Path:
    path = Path(getattr(settings, "GUANXI_IMPORT_DIR", settings.DATA_DIR / "imports"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def _templates(user: User) -> dict[str, dict[str, str]]:
    return {t.source_key: t.mapping for t in MappingTemplate.objects.filter(owner=user)}


def _check_kind(kind: str) -> None:
    require(
        kind in ImportKind.values or kind == "auto",
        f"未知导入类型：{kind}",
        f"unknown import kind: {kind}",
        field="kind",
        code="unknown_kind",
    )


def import_preview(
    *,
    actor: User,
    data: bytes,
    file_name: str,
    kind: str = ImportKind.CUSTOMERS,
    encoding: str = "",
    sheet: str = "",
    mapping: dict[str, str] | None = None,
    on_duplicate: str = DuplicatePolicy.UPDATE,
) -> ImportJob:
    """Store the upload and a dry-run report of what it would do; nothing else is written.

    A file that cannot be read raises FileRejected with row/column details and stores nothing.
    """
    _check_kind(kind)
    require(
        on_duplicate in DuplicatePolicy.values,
        "未知的重复处理方式",
        "unknown duplicate policy",
        field="on_duplicate",
    )
    name = Path(file_name).name[:200] or "upload"
    path = import_dir() / f"{uuid.uuid4().hex}{Path(name).suffix[:10]}"
    options = ImportOptions(
        kind=kind,
        mapping=mapping,
        encoding=encoding,
        sheet=sheet,
        on_duplicate=on_duplicate,
        dry_run=True,
        templates=_templates(actor),
        plan_path=plans.path_for(path),
    )
    try:
        report = run_import(actor=actor, data=data, file_name=file_name, options=options)
        path.write_bytes(data)
    except BaseException:
        plans.discard(path)
        raise
    plan = report["file"].get("plan") or [{}]
    return ImportJob.objects.create(
        created_by=actor,
        kind=kind,
        file_name=name,
        file_path=str(path),
        file_format=report["file"]["format"],
        encoding=encoding,  # only a chosen one; the detected one is in the report
        sheet=sheet,
        mapping=plan[0].get("mapping", {}) if len(plan) == 1 else {},
        source_key=plan[0].get("source_key", ""),
        on_duplicate=on_duplicate,
        total_rows=report["rows"],
        report=report,
    )


@transaction.atomic
def mapping_template_save(
    *, actor: User, kind: str, source_key: str, mapping: dict[str, str], name: str = ""
) -> MappingTemplate:
    require(bool(source_key), "缺少来源标识", "a source key is required", field="source_key")
    template, _ = MappingTemplate.objects.update_or_create(
        owner=actor, kind=kind, source_key=source_key[:200], defaults={"mapping": mapping, "name": name[:100]}
    )
    return template


def import_confirm(
    *,
    actor: User,
    job: ImportJob,
    mapping: dict[str, str] | None = None,
    encoding: str | None = None,
    on_duplicate: str | None = None,
    skip_invalid: bool = False,
    remember_mapping: bool = True,
    background: bool | None = None,
) -> ImportJob:
    """Run a previewed import for real: inline when small, as a background job when large."""
    if job.status != ImportStatus.PREVIEWED:
        raise Conflict("该导入已确认过", "this import has already been confirmed", code="already_confirmed")
    if mapping is not None:
        job.mapping = mapping
    if encoding:
        job.encoding = encoding
    if on_duplicate:
        require(
            on_duplicate in DuplicatePolicy.values,
            "未知的重复处理方式",
            "unknown duplicate policy",
            field="on_duplicate",
        )
        job.on_duplicate = on_duplicate
    job.report = {**job.report, "skip_invalid": skip_invalid}
    if remember_mapping and job.mapping and job.source_key and job.kind != "auto":
        mapping_template_save(
            actor=actor, kind=job.kind, source_key=job.source_key, mapping=job.mapping, name=job.file_name
        )
    job.status = ImportStatus.QUEUED
    job.done_rows = 0
    job.save(update_fields=["mapping", "encoding", "on_duplicate", "report", "status", "done_rows"])
    if background is None:
        background = job.total_rows > BACKGROUND_ROWS
    if background:
        from guanxi.dataio.tasks import run_import_job

        job_id = job.pk
        transaction.on_commit(lambda: run_import_job.enqueue(job_id))
        return job
    return import_execute(job_id=job.pk)


def import_execute(*, job_id: int, progress: Any = None) -> ImportJob:
    """Perform a confirmed import (from the worker, the CLI or inline). Idempotent: a job that is not
    queued is left alone."""
    claimed = ImportJob.objects.filter(pk=job_id, status=ImportStatus.QUEUED).update(
        status=ImportStatus.RUNNING
    )
    job = ImportJob.objects.select_related("created_by", "created_by__team").get(pk=job_id)
    if not claimed:
        return job
    last = [0]

    def tick(kind: str, done: int, total: int) -> None:
        # Progress of the preparation phase (parsing, phones, search documents) is committed as it
        # goes; the write itself is one transaction and shows as the final step.
        if progress:
            progress(kind, done, total)
        if done - last[0] >= 2000 or done == total:
            last[0] = done
            ImportJob.objects.filter(pk=job_id).update(done_rows=min(done, job.total_rows or done))

    try:
        data = Path(job.file_path).read_bytes()
    except OSError:
        return _fail(
            job, {"code": "file_missing", "message": "上传的文件已不存在 / the uploaded file is gone"}
        )
    options = ImportOptions(
        kind=job.kind,
        mapping=job.mapping or None,
        encoding=job.encoding,
        sheet=job.sheet,
        on_duplicate=job.on_duplicate,
        skip_invalid=bool(job.report.get("skip_invalid")),
        dry_run=False,
        job_id=job.pk,
        templates=_templates(job.created_by),
        plan_path=plans.path_for(job.file_path),
    )
    try:
        report = run_import(
            actor=job.created_by, data=data, file_name=job.file_name, options=options, progress=tick
        )
    except GuanxiError as exc:
        return _fail(job, exc.as_dict())
    job.report = report
    job.status = ImportStatus.DONE
    job.done_rows = job.total_rows
    job.finished_at = timezone.now()
    job.save(update_fields=["report", "status", "done_rows", "finished_at"])
    _discard_file(job)
    return job


def _fail(job: ImportJob, error: dict[str, Any]) -> ImportJob:
    if job.file_path:
        plans.discard(job.file_path)
    job.status = ImportStatus.FAILED
    job.finished_at = timezone.now()
    job.report = {**job.report, "error": error}
    job.save(update_fields=["status", "finished_at", "report"])
    return job


def _discard_file(job: ImportJob) -> None:
    # The upload holds personal data; once imported the database is the record.
    if job.file_path:
        Path(job.file_path).unlink(missing_ok=True)
        plans.discard(job.file_path)


@transaction.atomic
def import_cancel(*, actor: User, job: ImportJob) -> ImportJob:
    if job.status != ImportStatus.PREVIEWED:
        raise Conflict(
            "只能取消尚未确认的导入", "only an unconfirmed import can be cancelled", code="not_cancellable"
        )
    job.status = ImportStatus.CANCELLED
    job.save(update_fields=["status"])
    transaction.on_commit(lambda: _discard_file(job))
    return job


def import_expire_previews(*, now: dt.datetime | None = None) -> int:
    """Expire previews older than GUANXI_IMPORT_PREVIEW_HOURS that nobody confirmed or cancelled:
    cancelled, with their upload and plan deleted (the upload holds personal data, a 100k-row plan
    ~150 MB) and an audit event each. Idempotent; returns how many expired."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(hours=settings.GUANXI_IMPORT_PREVIEW_HOURS)
    expired = 0
    for job_id in ImportJob.objects.filter(status=ImportStatus.PREVIEWED, created_at__lt=cutoff).values_list(
        "pk", flat=True
    ):
        with transaction.atomic():
            claimed = ImportJob.objects.filter(pk=job_id, status=ImportStatus.PREVIEWED).update(
                status=ImportStatus.CANCELLED, finished_at=now
            )
            if not claimed:
                continue  # confirmed or cancelled meanwhile
            job = ImportJob.objects.get(pk=job_id)
            job.report = {**job.report, "expired": True}
            job.save(update_fields=["report"])
            audit_record(
                actor=None,
                source=Source.JOB,
                action="import.expire",
                obj=job,
                changes={"status": [ImportStatus.PREVIEWED, ImportStatus.CANCELLED]},
            )
            transaction.on_commit(lambda job=job: _discard_file(job))  # type: ignore[misc]
        expired += 1
    return expired


@transaction.atomic
def export_log(
    *,
    actor: User | None,
    source: Source,
    kind: str,
    file_format: str,
    filters: dict[str, Any],
    row_count: int,
) -> DataExport:
    """Record an export (who took which records out) in the export log and the audit log."""
    if row_count < 0:
        raise ValidationFailed("行数无效", "invalid row count")
    export = DataExport.objects.create(
        created_by=actor, kind=kind, file_format=file_format, filters=filters, row_count=row_count
    )
    audit_record(
        actor=actor,
        source=source,
        action="data.export",
        obj=export,
        changes={
            "kind": [None, kind],
            "format": [None, file_format],
            "rows": [None, row_count],
            "filters": [None, filters],
        },
    )
    return export
