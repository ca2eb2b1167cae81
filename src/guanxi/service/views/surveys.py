"""Survey pages for staff: results (NPS per segment and month, recent answers), inviting a customer
(a link shown once, or an e-mail), revoking an invitation."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from guanxi.audit.models import Source
from guanxi.core.forms import form_status, save_form
from guanxi.core.http import HtmxHttpRequest
from guanxi.customers.selectors import customer_get_for_user
from guanxi.service import services
from guanxi.service.forms import SurveyInviteForm
from guanxi.service.selectors import complaints as complaint_sel
from guanxi.service.selectors import surveys as sel
from guanxi.service.views.common import customer_param, int_param, user_of

SEGMENT_LABELS = {
    "relationship_type": gettext_lazy("关系类型"),
    "status": gettext_lazy("状态"),
    "industry": gettext_lazy("行业"),
    "province": gettext_lazy("省份"),
}


@login_required
@require_GET
def dashboard(request: HtmxHttpRequest) -> HttpResponse:
    user = user_of(request)
    customer = customer_param(request, user)
    segment = request.GET.get("segment", "relationship_type")
    segment = segment if segment in sel.SEGMENTS else "relationship_type"
    results = sel.survey_results(user, customer_id=customer.pk if customer else None, segment=segment)
    recent = sel.responses_recent(user, customer_id=customer.pk if customer else None)
    return render(
        request,
        "service/surveys.html",
        {
            "r": results,
            "recent": [(resp, sel.questions_with_answers(resp)) for resp in recent],
            "customer": customer,
            "segment": segment,
            "segments": list(SEGMENT_LABELS.items()),
            "invitations": (
                sel.invitation_queryset_for_user(user)
                .filter(**({"customer": customer} if customer else {}))
                .select_related("customer", "contact", "template")
                .order_by("-created_at", "-id")[:20]
            ),
        },
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def invite(request: HtmxHttpRequest, customer_id: int) -> HttpResponse:
    user = user_of(request)
    customer = customer_get_for_user(user=user, customer_id=customer_id)
    complaint_id = int_param(request.GET.get("complaint") or request.POST.get("complaint"))
    complaint = (
        complaint_sel.complaint_get_for_user(user=user, complaint_id=complaint_id) if complaint_id else None
    )
    form = SurveyInviteForm(request.POST or None, customer=customer)
    saved = save_form(
        request,
        form,
        lambda d: services.survey_invitation_create(
            actor=user, source=Source.UI, customer=customer, complaint=complaint, **d
        ),
    )
    if saved:
        invitation, link = saved
        if link is None:
            messages.success(request, _("问卷邮件已排队发送至 %(to)s") % {"to": invitation.to_address})
            return redirect(f"{request.path}?sent=1" + (f"&complaint={complaint.pk}" if complaint else ""))
        # The raw link exists only in this response: shown once, never stored.
        return render(
            request,
            "service/survey_link.html",
            {"customer": customer, "link": link, "invitation": invitation},
        )
    return render(
        request,
        "service/survey_invite.html",
        {"form": form, "customer": customer, "complaint": complaint},
        status=form_status(request),
    )


@login_required
@require_POST
def revoke(request: HtmxHttpRequest, invitation_id: int) -> HttpResponse:
    user = user_of(request)
    invitation = sel.invitation_get_for_user(user=user, invitation_id=invitation_id)
    try:
        services.survey_invitation_revoke(actor=user, source=Source.UI, invitation=invitation)
        messages.success(request, _("问卷链接已作废"))
    except Exception as exc:
        from guanxi.core.errors import GuanxiError

        if not isinstance(exc, GuanxiError):
            raise
        messages.error(request, exc.message(request.LANGUAGE_CODE))
    return redirect(f"{_surveys_url()}?customer={invitation.customer_id}")


def _surveys_url() -> str:
    from django.urls import reverse

    return reverse("service:surveys")
