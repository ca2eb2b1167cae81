"""JSON endpoints for imports, duplicates, merges, exports and personal-data requests: thin and typed;
reads through selectors (visibility), writes through the services."""

from __future__ import annotations

import datetime as dt
import tempfile
from typing import Any, Literal

from django.http import FileResponse, HttpRequest, HttpResponse, StreamingHttpResponse
from ninja import File, Form, Router, Schema, Status, UploadedFile
from pydantic import ConfigDict, Field

from guanxi.audit.models import Source
from guanxi.core.api import ERRORS, actor
from guanxi.core.errors import ValidationFailed
from guanxi.customers.models import Contact, Customer
from guanxi.customers.selectors import contact_get_for_user, customer_get_for_user
from guanxi.dataio import exporting, merge, privacy, selectors, services
from guanxi.dataio.dedupe import THRESHOLD, duplicates_for_user
from guanxi.dataio.importing.readers import MAX_FILE_BYTES, limit
from guanxi.dataio.models import ImportJob, MergeRecord

router = Router(tags=["data"])

KindLit = Literal["customers", "contacts", "interactions", "orders", "products", "auto"]
PolicyLit = Literal["update", "skip", "create"]
ExportKindLit = Literal["customers", "contacts", "interactions", "orders"]
FormatLit = Literal["xlsx", "csv", "vcf", "json"]


class Strict(Schema):
    model_config = ConfigDict(extra="forbid")


class ImportJobOut(Schema):
    id: int
    kind: str
    file_name: str
    file_format: str
    encoding: str
    status: str
    total_rows: int
    done_rows: int
    progress_percent: int
    created_at: dt.datetime
    finished_at: dt.datetime | None
    report: dict[str, Any]


def _job_out(job: ImportJob) -> ImportJobOut:
    return ImportJobOut(
        id=job.pk,
        kind=job.kind,
        file_name=job.file_name,
        file_format=job.file_format,
        encoding=job.encoding,
        status=job.status,
        total_rows=job.total_rows,
        done_rows=job.done_rows,
        progress_percent=job.progress_percent,
        created_at=job.created_at,
        finished_at=job.finished_at,
        report=job.report,
    )


def _read_upload(upload: UploadedFile) -> bytes:
    if (upload.size or 0) > limit("GUANXI_IMPORT_MAX_BYTES", MAX_FILE_BYTES):
        raise ValidationFailed("文件过大", "the file is too large", field="file", code="file_too_large")
    data: bytes = upload.read()
    return data


@router.post(
    "/imports", response={201: ImportJobOut, **ERRORS}, summary="Upload a file and preview its import"
)
def import_create(
    request: HttpRequest,
    file: File[UploadedFile],
    kind: Form[KindLit] = "customers",
    encoding: Form[str] = "",
    sheet: Form[str] = "",
    on_duplicate: Form[PolicyLit] = "update",
) -> Status[Any]:
    """Nothing is written but the stored upload: the report says, per row, what would be created,
    updated, merged or rejected (with row/column reasons)."""
    if len(encoding) > 30 or len(sheet) > 100:
        raise ValidationFailed("参数过长", "parameter too long", code="invalid")
    job = services.import_preview(
        actor=actor(request),
        data=_read_upload(file),
        file_name=file.name or "upload",
        kind=kind,
        encoding=encoding,
        sheet=sheet,
        on_duplicate=on_duplicate,
    )
    return Status(201, _job_out(job))


@router.get(
    "/imports/{job_id}", response={200: ImportJobOut, **ERRORS}, summary="An import: status, progress, report"
)
def import_get(request: HttpRequest, job_id: int) -> ImportJobOut:
    return _job_out(selectors.import_job_get_for_user(user=actor(request), job_id=job_id))


class ImportConfirmIn(Strict):
    mapping: dict[str, str] | None = Field(
        default=None, description="{header: field}; omit to keep the preview's"
    )
    encoding: str | None = Field(default=None, max_length=30)
    on_duplicate: PolicyLit | None = None
    skip_invalid: bool = False
    remember_mapping: bool = True


@router.post(
    "/imports/{job_id}/confirm",
    response={200: ImportJobOut, **ERRORS},
    summary="Run a previewed import (large files run in the background)",
)
def import_confirm(request: HttpRequest, job_id: int, payload: ImportConfirmIn) -> ImportJobOut:
    user = actor(request)
    job = selectors.import_job_get_for_user(user=user, job_id=job_id)
    job = services.import_confirm(
        actor=user,
        job=job,
        mapping=payload.mapping,
        encoding=payload.encoding,
        on_duplicate=payload.on_duplicate,
        skip_invalid=payload.skip_invalid,
        remember_mapping=payload.remember_mapping,
    )
    return _job_out(job)


class PairOut(Schema):
    a: int
    b: int
    a_name: str
    b_name: str
    score: float
    signals: list[str]
    reasons: list[str]


@router.get(
    "/duplicates",
    response={200: list[PairOut], **ERRORS},
    summary="Duplicate customers, scored and explained",
)
def duplicates(request: HttpRequest, threshold: float = THRESHOLD, limit: int = 200) -> list[PairOut]:
    if not 0 < threshold <= 1 or not 0 < limit <= 5000:
        raise ValidationFailed(
            "threshold 须在 (0,1]，limit 在 1–5000",
            "threshold must be in (0, 1], limit 1–5000",
            code="invalid",
        )
    return [
        PairOut(**p.as_dict())
        for p in duplicates_for_user(user=actor(request), threshold=threshold, limit=limit)
    ]


class MergeIn(Strict):
    survivor_id: int
    merged_id: int
    fields: dict[str, Literal["survivor", "merged"]] = Field(
        default_factory=dict,
        description="per field, whose value survives (default: the survivor's, blanks filled)",
    )


class MergeOut(Schema):
    id: int
    object_type: str
    survivor_id: int
    merged_id: int
    merged_repr: str
    created_at: dt.datetime
    undone_at: dt.datetime | None


def _merge_out(record: MergeRecord) -> MergeOut:
    return MergeOut(
        id=record.pk,
        object_type=record.object_type,
        survivor_id=record.survivor_id,
        merged_id=record.merged_id,
        merged_repr=record.merged_repr,
        created_at=record.created_at,
        undone_at=record.undone_at,
    )


@router.post(
    "/merges/customers", response={201: MergeOut, **ERRORS}, summary="Merge one customer into another"
)
def customers_merge(request: HttpRequest, payload: MergeIn) -> Status[Any]:
    user = actor(request)
    survivor = customer_get_for_user(user=user, customer_id=payload.survivor_id)
    merged = customer_get_for_user(user=user, customer_id=payload.merged_id)
    record = merge.customer_merge(
        actor=user, source=Source.API, survivor=survivor, merged=merged, fields=dict(payload.fields)
    )
    return Status(201, _merge_out(record))


@router.post("/merges/contacts", response={201: MergeOut, **ERRORS}, summary="Merge one contact into another")
def contacts_merge(request: HttpRequest, payload: MergeIn) -> Status[Any]:
    user = actor(request)
    survivor = contact_get_for_user(user=user, contact_id=payload.survivor_id)
    merged = contact_get_for_user(user=user, contact_id=payload.merged_id)
    record = merge.contact_merge(
        actor=user, source=Source.API, survivor=survivor, merged=merged, fields=dict(payload.fields)
    )
    return Status(201, _merge_out(record))


@router.post("/merges/{record_id}/undo", response={200: MergeOut, **ERRORS}, summary="Undo a merge")
def merge_undo(request: HttpRequest, record_id: int) -> MergeOut:
    user = actor(request)
    record = selectors.merge_record_get_for_user(user=user, record_id=record_id)
    merge.merge_undo(actor=user, source=Source.API, record=record)
    record.refresh_from_db()
    return _merge_out(record)


def export_response(
    *, user: Any, kind: str, file_format: str, spec: exporting.ExportSpec, source: Source
) -> HttpResponse | StreamingHttpResponse | FileResponse:
    """Shared by the API and the page: logged, visibility-respecting, streamed (xlsx via a temporary file)."""
    exporting.check(kind, file_format)
    count = exporting.count_for_export(user, spec)
    services.export_log(
        actor=user, source=source, kind=kind, file_format=file_format, filters=spec.as_dict(), row_count=count
    )
    name = exporting.file_name(kind, file_format)
    if file_format == "xlsx":
        handle = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it
        exporting.export_to(handle, user=user, kind=kind, file_format="xlsx", spec=spec)
        handle.seek(0)
        return FileResponse(
            handle, as_attachment=True, filename=name, content_type=exporting.CONTENT_TYPES["xlsx"]
        )
    response = StreamingHttpResponse(
        exporting.stream(user=user, kind=kind, file_format=file_format, spec=spec),
        content_type=exporting.CONTENT_TYPES[file_format],
    )
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@router.get(
    "/exports/{kind}.{file_format}", response={200: None, **ERRORS}, summary="Export (all or filtered)"
)
def export(
    request: HttpRequest,
    kind: ExportKindLit,
    file_format: FormatLit,
    q: str = "",
    province: str = "",
    city: str = "",
    status: str = "",
    relationship_type: str = "",
    industry: str = "",
    tag: str = "",
) -> HttpResponse | StreamingHttpResponse | FileResponse:
    if any(len(v) > 100 for v in (q, province, city, status, relationship_type, industry, tag)):
        raise ValidationFailed("筛选条件过长", "filter too long", code="invalid")
    spec = exporting.ExportSpec(
        kind=kind,
        q=q,
        filters={
            "province": province,
            "city": city,
            "status": status,
            "relationship_type": relationship_type,
            "industry": industry,
            "tag": tag,
        },
    )
    return export_response(
        user=actor(request), kind=kind, file_format=file_format, spec=spec, source=Source.API
    )


@router.get(
    "/privacy/{object_type}/{object_id}/export",
    response={200: None, **ERRORS},
    summary="Everything held about one person (zip of JSON + CSV)",
)
def privacy_export(
    request: HttpRequest, object_type: Literal["contact", "customer"], object_id: int
) -> HttpResponse:
    user = actor(request)
    target = _person(user, object_type, object_id)
    data = privacy.person_export(actor=user, target=target)
    response = HttpResponse(data, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="person-{object_type}-{object_id}.zip"'
    return response


class EraseIn(Strict):
    reason: str = Field(default="", max_length=200)
    confirm: Literal[True]


class TombstoneOut(Schema):
    id: int
    object_type: str
    object_id: int
    erased_at: dt.datetime
    counts: dict[str, int]


@router.post(
    "/privacy/{object_type}/{object_id}/erase",
    response={200: TombstoneOut, **ERRORS},
    summary="Erase one person everywhere, leaving a tombstone",
)
def privacy_erase(
    request: HttpRequest, object_type: Literal["contact", "customer"], object_id: int, payload: EraseIn
) -> TombstoneOut:
    user = actor(request)
    target = _person(user, object_type, object_id)
    t = privacy.person_erase(actor=user, target=target, reason=payload.reason)
    return TombstoneOut(
        id=t.pk, object_type=t.object_type, object_id=t.object_id, erased_at=t.erased_at, counts=t.counts
    )


def _person(user: Any, object_type: str, object_id: int) -> Customer | Contact:
    if object_type == "contact":
        return contact_get_for_user(user=user, contact_id=object_id)
    return customer_get_for_user(user=user, customer_id=object_id)
