"""Complaint pages: the dashboard, logging one, its page with every step, and the step actions."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from guanxi.audit.models import Source
from guanxi.core.errors import GuanxiError
from guanxi.core.forms import form_status, save_form
from guanxi.core.http import HtmxHttpRequest
from guanxi.customers.selectors import customer_get_for_user
from guanxi.service import escalation, services
from guanxi.service.forms import (
    ComplaintForm,
    NoteForm,
    ReopenForm,
    RequiredNoteForm,
    ResolveForm,
    SatisfactionForm,
)
from guanxi.service.models import ComplaintCategory, ComplaintStatus, Severity
from guanxi.service.selectors import complaints as sel
from guanxi.service.views.common import customer_param, user_of

STEP_FORMS: dict[str, Any] = {
    "acknowledge": NoteForm,
    "action": RequiredNoteForm,
    "escalate": NoteForm,
    "resolve": ResolveForm,
    "reopen": ReopenForm,
    "satisfaction": SatisfactionForm,
}


@login_required
def dashboard(request: HtmxHttpRequest) -> HttpResponse:
    user = user_of(request)
    view = request.GET.get("view", "open")
    if view not in sel.VIEWS:
        view = "open"
    group = request.GET.get("group", "category")
    if group not in sel.STAT_GROUPS:
        group = "category"
    category = request.GET.get("category", "")
    category = category if category in ComplaintCategory.values else ""
    severity = request.GET.get("severity", "")
    severity = severity if severity in Severity.values else ""
    customer = customer_param(request, user)
    try:
        page = sel.complaint_list(
            user=user,
            view=view,
            customer_id=customer.pk if customer else None,
            category=category,
            severity=severity,
            cursor=request.GET.get("cursor") or None,
        )
    except GuanxiError:
        raise Http404("bad cursor") from None
    context: dict[str, Any] = {
        "page": page,
        "view": view,
        "group": group,
        "customer": customer,
        "category": category,
        "severity": severity,
        "now": timezone.now(),
        "views": list(VIEW_LABELS.items()),
        "groups": list(GROUP_LABELS.items()),
    }
    if request.htmx and request.GET.get("cursor"):
        return render(request, "service/_complaint_rows.html", context)
    context["counts"] = sel.complaint_counts(user)
    context["stats"] = sel.complaint_stats(user, group=group)
    return render(request, "service/complaints.html", context)


VIEW_LABELS = {
    "open": gettext_lazy("未解决"),
    "overdue": gettext_lazy("已逾期"),
    "escalated": gettext_lazy("升级给我"),
    "mine": gettext_lazy("我处理的"),
    "resolved": gettext_lazy("已解决"),
    "all": gettext_lazy("全部"),
}
GROUP_LABELS = {
    "category": gettext_lazy("类别"),
    "severity": gettext_lazy("严重程度"),
    "handler": gettext_lazy("处理人"),
    "team": gettext_lazy("团队"),
    "customer": gettext_lazy("客户"),
}


@login_required
@require_http_methods(["GET", "POST"])
def create(request: HtmxHttpRequest, customer_id: int) -> HttpResponse:
    user = user_of(request)
    customer = customer_get_for_user(user=user, customer_id=customer_id)
    form = ComplaintForm(request.POST or None, customer=customer)
    saved = save_form(
        request,
        form,
        lambda d: services.complaint_create(actor=user, source=Source.UI, customer=customer, **d),
    )
    if saved:
        if saved.escalated_to_id:
            messages.success(request, _("已记录，并已升级给 %(name)s") % {"name": saved.escalated_to})
        else:
            messages.success(request, _("投诉已记录"))
        return redirect("service:complaint", complaint_id=saved.pk)
    return render(
        request,
        "service/complaint_form.html",
        {"form": form, "customer": customer},
        status=form_status(request),
    )


@login_required
@require_http_methods(["GET", "POST"])
def edit(request: HtmxHttpRequest, complaint_id: int) -> HttpResponse:
    user = user_of(request)
    complaint = sel.complaint_get_for_user(user=user, complaint_id=complaint_id)
    initial = {
        name: getattr(complaint, name)
        for name in (
            "summary",
            "category",
            "severity",
            "channel",
            "customer_words",
            "listening_notes",
            "customer_wants",
        )
    }
    initial["contact"] = complaint.contact_id
    form = ComplaintForm(request.POST or None, customer=complaint.customer, edit=True, initial=initial)
    saved = save_form(
        request,
        form,
        lambda d: services.complaint_update(actor=user, source=Source.UI, complaint=complaint, **d),
    )
    if saved:
        return redirect("service:complaint", complaint_id=complaint.pk)
    return render(
        request,
        "service/complaint_form.html",
        {"form": form, "customer": complaint.customer, "complaint": complaint},
        status=form_status(request),
    )


@login_required
def detail(request: HtmxHttpRequest, complaint_id: int) -> HttpResponse:
    user = user_of(request)
    complaint = sel.complaint_get_for_user(user=user, complaint_id=complaint_id)
    return _detail(request, complaint, forms={})


def _detail(
    request: HtmxHttpRequest, complaint: Any, *, forms: dict[str, Any], status: int = 200
) -> HttpResponse:
    now = timezone.now()
    forms = {name: forms.get(name) or cls() for name, cls in STEP_FORMS.items()}
    start = complaint.escalated_to or complaint.handler
    return render(
        request,
        "service/complaint.html",
        {
            "c": complaint,
            "now": now,
            "steps": sel.complaint_steps(complaint),
            "chain": escalation.escalation_chain(start) if complaint.is_open else [],
            "forms": forms,
            "response_late": complaint.status == ComplaintStatus.OPEN and complaint.respond_by <= now,
            "resolution_late": complaint.is_open and complaint.resolve_by <= now,
            "invitations": complaint.survey_invitations.select_related("template").order_by("-id")[:5],
        },
        status=status,
    )


@login_required
@require_POST
def step(request: HtmxHttpRequest, complaint_id: int, action: str) -> HttpResponse:
    user = user_of(request)
    complaint = sel.complaint_get_for_user(user=user, complaint_id=complaint_id)
    form = STEP_FORMS[action](request.POST)
    kw: dict[str, Any] = {"actor": user, "source": Source.UI, "complaint": complaint}
    calls = {
        "acknowledge": lambda d: services.complaint_acknowledge(**kw, note=d["note"]),
        "action": lambda d: services.complaint_add_action(**kw, note=d["note"]),
        "escalate": lambda d: services.complaint_escalate(**kw, note=d["note"]),
        "resolve": lambda d: services.complaint_resolve(**kw, resolution=d["resolution"]),
        "reopen": lambda d: services.complaint_reopen(**kw, reason=d["reason"]),
        "satisfaction": lambda d: services.complaint_record_satisfaction(**kw, **d),
    }
    if save_form(request, form, calls[action]):
        return redirect("service:complaint", complaint_id=complaint.pk)
    complaint = sel.complaint_get_for_user(user=user, complaint_id=complaint_id)
    return _detail(request, complaint, forms={action: form}, status=400)
