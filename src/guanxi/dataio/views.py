"""Data pages: upload → mapping and preview → confirm → progress → report; duplicates and merge (with
undo); exports of the current list; personal-data requests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from guanxi.accounts.models import User
from guanxi.audit.models import Source
from guanxi.core.errors import GuanxiError, ValidationFailed
from guanxi.core.http import HtmxHttpRequest
from guanxi.customers.models import Contact, Customer
from guanxi.customers.selectors import contact_get_for_user, customer_get_for_user
from guanxi.customers.services import CONTACT_FIELDS, CUSTOMER_FIELDS
from guanxi.dataio import exporting, merge, privacy, selectors, services
from guanxi.dataio.api import export_response
from guanxi.dataio.dedupe import duplicates_for_user
from guanxi.dataio.importing.mapping import targets_for
from guanxi.dataio.models import DuplicatePolicy, ImportKind, ImportStatus

PREVIEW_ROWS = 200


def _user(request: HtmxHttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


@login_required
@require_http_methods(["GET", "POST"])
def home(request: HtmxHttpRequest) -> HttpResponse:
    user = _user(request)
    error: GuanxiError | None = None
    if request.method == "POST":
        upload = request.FILES.get("file")
        kind = request.POST.get("kind", ImportKind.CUSTOMERS)
        on_duplicate = request.POST.get("on_duplicate", DuplicatePolicy.UPDATE)
        try:
            if upload is None:
                raise ValidationFailed("请选择文件", "choose a file", field="file", code="no_file")
            job = services.import_preview(
                actor=user,
                data=upload.read(),
                file_name=upload.name or "upload",
                kind=kind,
                on_duplicate=on_duplicate,
                encoding=request.POST.get("encoding", "")[:30],
            )
            return redirect("dataio:import", job.pk)
        except GuanxiError as exc:
            error = exc
    return render(
        request,
        "dataio/home.html",
        {
            "jobs": selectors.import_job_list(user=user, limit=20),
            "kinds": [*ImportKind.choices, ("auto", "多个工作表 / one sheet per kind")],
            "policies": DuplicatePolicy.choices,
            "error": error,
            "export_kinds": exporting.KINDS,
            "export_formats": exporting.FORMATS,
            "query": request.GET.urlencode(),
        },
        status=400 if error else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def import_detail(request: HtmxHttpRequest, job_id: int) -> HttpResponse:
    user = _user(request)
    job = selectors.import_job_get_for_user(user=user, job_id=job_id)
    error: GuanxiError | None = None
    if request.method == "POST" and job.status == ImportStatus.PREVIEWED:
        plan = (job.report.get("file") or {}).get("plan") or []
        headers = plan[0]["headers"] if len(plan) == 1 else []
        mapping = {h: request.POST.get(f"map-{i}", "") for i, h in enumerate(headers)}
        mapping = {h: v for h, v in mapping.items() if v}
        encoding = request.POST.get("encoding", "")[:30]
        on_duplicate = request.POST.get("on_duplicate", job.on_duplicate)
        try:
            if request.POST.get("action") == "preview":
                # A new mapping or encoding: preview again (a fresh job, the old one cancelled).
                data = Path(job.file_path).read_bytes()
                new = services.import_preview(
                    actor=user,
                    data=data,
                    file_name=job.file_name,
                    kind=job.kind,
                    encoding=encoding,
                    sheet=job.sheet,
                    mapping=mapping or None,
                    on_duplicate=on_duplicate,
                )
                services.import_cancel(actor=user, job=job)
                return redirect("dataio:import", new.pk)
            if request.POST.get("action") == "cancel":
                services.import_cancel(actor=user, job=job)
                return redirect("dataio:home")
            job = services.import_confirm(
                actor=user,
                job=job,
                mapping=mapping or None,
                encoding=encoding or None,
                on_duplicate=on_duplicate,
                skip_invalid=bool(request.POST.get("skip_invalid")),
            )
            return redirect("dataio:import", job.pk)
        except GuanxiError as exc:
            error = exc
        except OSError:
            error = ValidationFailed("上传的文件已不存在，请重新上传", "the upload is gone; upload it again")
    return render(request, "dataio/import.html", _import_context(job, error), status=400 if error else 200)


def _import_context(job: Any, error: GuanxiError | None = None) -> dict[str, Any]:
    report = job.report or {}
    plan = (report.get("file") or {}).get("plan") or []
    columns = []
    if len(plan) == 1:
        for i, header in enumerate(plan[0]["headers"]):
            columns.append({"index": i, "header": header, "field": plan[0]["mapping"].get(header, "")})
    kind = plan[0]["kind"] if len(plan) == 1 else job.kind
    return {
        "job": job,
        "report": report,
        "plan": plan,
        "columns": columns,
        "targets": targets_for(kind) if kind in ImportKind.values else [],
        "outcomes": (report.get("outcomes") or [])[:PREVIEW_ROWS],
        "errors": (report.get("errors") or [])[:PREVIEW_ROWS],
        "policies": DuplicatePolicy.choices,
        "encodings": ["utf-8", "gb18030", "big5", "utf-16", "shift_jis"],
        "error": error,
    }


@login_required
def import_progress(request: HtmxHttpRequest, job_id: int) -> HttpResponse:
    """The progress partial, polled by htmx every second while the import runs; when it is done the
    poll answers with HX-Refresh so the page shows the report."""
    job = selectors.import_job_get_for_user(user=_user(request), job_id=job_id)
    response = render(request, "dataio/_progress.html", {"job": job})
    if not job.is_active:
        response["HX-Refresh"] = "true"
    return response


@login_required
def duplicates(request: HtmxHttpRequest) -> HttpResponse:
    pairs = duplicates_for_user(user=_user(request), limit=200)
    return render(request, "dataio/duplicates.html", {"pairs": pairs})


def _compare(survivor: Any, merged: Any, fields: list[str]) -> list[dict[str, Any]]:
    rows = []
    for name in fields:
        field = survivor._meta.get_field(name)
        mine, theirs = getattr(survivor, name), getattr(merged, name)
        if mine in ("", None) and theirs in ("", None):
            continue
        display = getattr(survivor, f"get_{name}_display", None)
        other = getattr(merged, f"get_{name}_display", None)
        rows.append(
            {
                "name": name,
                "label": field.verbose_name,
                "mine": display() if display else mine,
                "theirs": other() if other else theirs,
                "same": mine == theirs,
                "default": "merged" if mine in ("", None) else "survivor",
            }
        )
    return rows


@login_required
@require_http_methods(["GET", "POST"])
def merge_customers(request: HtmxHttpRequest, survivor_id: int, merged_id: int) -> HttpResponse:
    user = _user(request)
    survivor = customer_get_for_user(user=user, customer_id=survivor_id)
    merged = customer_get_for_user(user=user, customer_id=merged_id)
    return _merge_page(request, user, survivor, merged, CUSTOMER_FIELDS, "customer")


@login_required
@require_http_methods(["GET", "POST"])
def merge_contacts(request: HtmxHttpRequest, survivor_id: int, merged_id: int) -> HttpResponse:
    user = _user(request)
    survivor = contact_get_for_user(user=user, contact_id=survivor_id)
    merged = contact_get_for_user(user=user, contact_id=merged_id)
    return _merge_page(request, user, survivor, merged, CONTACT_FIELDS, "contact")


def _merge_page(
    request: HtmxHttpRequest, user: User, survivor: Any, merged: Any, fields: list[str], object_type: str
) -> HttpResponse:
    error = None
    if request.method == "POST":
        choices = {
            name: request.POST[f"f-{name}"]
            for name in fields
            if request.POST.get(f"f-{name}") in ("survivor", "merged")
        }
        try:
            if object_type == "customer":
                record = merge.customer_merge(
                    actor=user, source=Source.UI, survivor=survivor, merged=merged, fields=choices
                )
                target = reverse("customers:detail", args=[survivor.pk])
            else:
                record = merge.contact_merge(
                    actor=user, source=Source.UI, survivor=survivor, merged=merged, fields=choices
                )
                target = reverse("customers:detail", args=[survivor.customer_id])
            return redirect(f"{reverse('dataio:merged', args=[record.pk])}?next={target}")
        except GuanxiError as exc:
            error = exc
    counts = {}
    if object_type == "customer":
        counts = {
            "contacts": (survivor.contacts.count(), merged.contacts.count()),
            "interactions": (survivor.interactions.count(), merged.interactions.count()),
            "orders": (survivor.orders.count(), merged.orders.count()),
        }
    return render(
        request,
        "dataio/merge.html",
        {
            "survivor": survivor,
            "merged": merged,
            "rows": _compare(survivor, merged, fields),
            "object_type": object_type,
            "counts": counts,
            "error": error,
        },
        status=400 if error else 200,
    )


@login_required
def merged(request: HtmxHttpRequest, record_id: int) -> HttpResponse:
    record = selectors.merge_record_get_for_user(user=_user(request), record_id=record_id)
    return render(request, "dataio/merged.html", {"record": record})


@login_required
@require_POST
def merge_undo(request: HtmxHttpRequest, record_id: int) -> HttpResponse:
    user = _user(request)
    record = selectors.merge_record_get_for_user(user=user, record_id=record_id)
    restored = merge.merge_undo(actor=user, source=Source.UI, record=record)
    customer_id = restored.pk if isinstance(restored, Customer) else restored.customer_id  # type: ignore[attr-defined]
    return redirect("customers:detail", customer_id)


@login_required
def export(request: HtmxHttpRequest, kind: str, file_format: str) -> HttpResponseBase:
    """Export what the customer list shows: its query string (q, province, status …) narrows it."""
    params = request.GET
    filters = {
        k: params.get(k, "")[:100]
        for k in ("province", "city", "status", "relationship_type", "industry", "tag")
    }
    for key, name in (("owner", "owner_id"), ("team", "team_id")):
        if params.get(key, "").isdigit():
            filters[name] = params[key]
    spec = exporting.ExportSpec(kind=kind, q=params.get("q", "")[:100], filters=filters)
    return export_response(
        user=_user(request), kind=kind, file_format=file_format, spec=spec, source=Source.UI
    )


@login_required
@require_http_methods(["GET", "POST"])
def person(request: HtmxHttpRequest, object_type: str, object_id: int) -> HttpResponse:
    user = _user(request)
    target: Customer | Contact
    if object_type == "contact":
        target = contact_get_for_user(user=user, contact_id=object_id)
    else:
        target = customer_get_for_user(user=user, customer_id=object_id)
    error = None
    if request.method == "POST":
        try:
            if request.POST.get("action") == "export":
                data = privacy.person_export(actor=user, target=target)
                response = HttpResponse(data, content_type="application/zip")
                response["Content-Disposition"] = (
                    f'attachment; filename="person-{object_type}-{object_id}.zip"'
                )
                return response
            if request.POST.get("confirm") != "yes":
                raise ValidationFailed("请勾选确认", "tick the confirmation", field="confirm")
            privacy.person_erase(actor=user, target=target, reason=request.POST.get("reason", "")[:200])
            customer_id = target.pk if isinstance(target, Customer) else target.customer_id
            return redirect("customers:detail", customer_id)
        except GuanxiError as exc:
            error = exc
    return render(
        request,
        "dataio/person.html",
        {"target": target, "object_type": object_type, "error": error},
        status=400 if error else 200,
    )
