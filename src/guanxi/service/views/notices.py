"""In-app notices (escalations, deadline warnings, promise reminders) and absences."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from guanxi.accounts.selectors import user_list_visible
from guanxi.audit.models import Source
from guanxi.core.errors import GuanxiError
from guanxi.core.forms import form_status, save_form
from guanxi.core.http import HtmxHttpRequest
from guanxi.service import services
from guanxi.service.forms import AbsenceForm
from guanxi.service.models import Absence, Notice
from guanxi.service.selectors import complaints as complaint_sel
from guanxi.service.views.common import int_param, user_of


@login_required
@require_http_methods(["GET", "POST"])
def notices(request: HtmxHttpRequest) -> HttpResponse:
    user = user_of(request)
    if request.method == "POST":
        Notice.objects.filter(user=user, read_at__isnull=True).update(read_at=timezone.now())
        return redirect("service:notices")
    return render(
        request, "service/notices.html", {"notices": complaint_sel.notices_for(user, unread_only=False)}
    )


@login_required
@require_http_methods(["GET", "POST"])
def absences(request: HtmxHttpRequest) -> HttpResponse:
    user = user_of(request)
    people = list(user_list_visible(user))
    target_id = int_param(request.POST.get("user") or request.GET.get("user")) or user.pk
    target = next((p for p in people if p.pk == target_id), None)
    if target is None:
        raise Http404("user")
    form = AbsenceForm(request.POST or None)
    if save_form(
        request, form, lambda d: services.absence_create(actor=user, source=Source.UI, user=target, **d)
    ):
        messages.success(request, _("休假已登记"))
        return redirect("service:absences")
    rows = (
        Absence.objects.filter(user__in=[p.pk for p in people], ends_on__gte=timezone.localdate())
        .select_related("user")
        .order_by("starts_on")
    )
    return render(
        request,
        "service/absences.html",
        {"form": form, "absences": rows, "people": people, "target": target},
        status=form_status(request),
    )


@login_required
@require_POST
def absence_delete(request: HtmxHttpRequest, absence_id: int) -> HttpResponse:
    user = user_of(request)
    people = [p.pk for p in user_list_visible(user)]
    absence = Absence.objects.select_related("user").filter(pk=absence_id, user_id__in=people).first()
    if absence is None:
        raise Http404("absence")
    try:
        services.absence_delete(actor=user, source=Source.UI, absence=absence)
    except GuanxiError as exc:
        messages.error(request, exc.message(request.LANGUAGE_CODE))
    return redirect("service:absences")
