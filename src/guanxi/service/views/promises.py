"""Promise ledger pages: the dashboard (list, kept-on-time rates, over-promising), record, close."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from guanxi.audit.models import Source
from guanxi.core.errors import GuanxiError
from guanxi.core.forms import form_status, save_form
from guanxi.core.http import HtmxHttpRequest
from guanxi.customers.selectors import customer_get_for_user
from guanxi.engagement.selectors import interaction_get_for_user
from guanxi.service import services
from guanxi.service.forms import PromiseCloseForm, PromiseForm
from guanxi.service.models import Promise, PromiseStatus
from guanxi.service.selectors import promises as sel
from guanxi.service.views.common import customer_param, int_param, opportunity_param, user_of

VIEW_LABELS = {
    "open": gettext_lazy("待兑现"),
    "due_soon": gettext_lazy("七天内到期"),
    "overdue": gettext_lazy("已逾期"),
    "mine": gettext_lazy("我的"),
    "closed": gettext_lazy("已结束"),
    "all": gettext_lazy("全部"),
}
GROUP_LABELS = {
    "promised_by": gettext_lazy("承诺人"),
    "team": gettext_lazy("团队"),
    "customer": gettext_lazy("客户"),
}


@login_required
def dashboard(request: HtmxHttpRequest) -> HttpResponse:
    user = user_of(request)
    view = request.GET.get("view", "open")
    view = view if view in sel.VIEWS else "open"
    group = request.GET.get("group", "promised_by")
    group = group if group in sel.RATE_GROUPS else "promised_by"
    customer = customer_param(request, user)
    try:
        page = sel.promise_list(
            user=user,
            view=view,
            customer_id=customer.pk if customer else None,
            cursor=request.GET.get("cursor") or None,
        )
    except GuanxiError:
        raise Http404("bad cursor") from None
    context = {
        "page": page,
        "view": view,
        "group": group,
        "customer": customer,
        "today": timezone.localdate(),
        "views": list(VIEW_LABELS.items()),
        "groups": list(GROUP_LABELS.items()),
    }
    if request.htmx and request.GET.get("cursor"):
        return render(request, "service/_promise_rows.html", context)
    context["rates"] = sel.promise_rates(user, group=group)
    context["overpromising"] = sel.overpromising(user)
    return render(request, "service/promises.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def create(request: HtmxHttpRequest, customer_id: int) -> HttpResponse:
    user = user_of(request)
    customer = customer_get_for_user(user=user, customer_id=customer_id)
    interaction_id = int_param(request.GET.get("interaction") or request.POST.get("interaction"))
    interaction = (
        interaction_get_for_user(user=user, interaction_id=interaction_id) if interaction_id else None
    )
    opportunity = opportunity_param(request, user)
    form = PromiseForm(
        request.POST or None,
        customer=customer,
        user=user,
        initial={"opportunity": opportunity.pk} if opportunity is not None else None,
    )
    saved = save_form(
        request,
        form,
        lambda d: services.promise_create(
            actor=user, source=Source.UI, customer=customer, interaction=interaction, **d
        ),
    )
    if saved:
        warn = sel.overpromising(user)
        if any(r["promised_by_id"] == user.pk for r in warn):
            messages.warning(request, _("您有很多即将到期的承诺。承诺太多是客户流失的原因之一，请量力而行。"))
        else:
            messages.success(request, _("承诺已记录"))
        if opportunity is not None and saved.opportunity_id == opportunity.pk:
            return redirect(reverse("pipeline:detail", args=[opportunity.pk]) + "#deal-promises")
        return redirect("service:promise", promise_id=saved.pk)
    return render(
        request,
        "service/promise_form.html",
        {"form": form, "customer": customer, "interaction": interaction, "opportunity": opportunity},
        status=form_status(request),
    )


@login_required
@require_http_methods(["GET", "POST"])
def detail(request: HtmxHttpRequest, promise_id: int) -> HttpResponse:
    user = user_of(request)
    promise = sel.promise_get_for_user(user=user, promise_id=promise_id)
    form = PromiseForm(
        request.POST or None,
        customer=promise.customer,
        user=user,
        initial={
            "opportunity": promise.opportunity_id,
            "what": promise.what,
            "due_on": promise.due_on,
            "details": promise.details,
            "contact": promise.contact_id,
        },
    )
    saved = save_form(
        request, form, lambda d: services.promise_update(actor=user, source=Source.UI, promise=promise, **d)
    )
    if saved:
        return redirect("service:promise", promise_id=promise.pk)
    return _detail(request, promise, form, PromiseCloseForm(), status=form_status(request))


def _detail(
    request: HtmxHttpRequest, promise: Promise, form: PromiseForm, close_form: PromiseCloseForm, status: int
) -> HttpResponse:
    from guanxi.audit.models import AuditEvent

    history = (
        AuditEvent.objects.filter(object_type="promise", object_id=promise.pk)
        .select_related("actor")
        .order_by("created_at", "id")
    )
    return render(
        request,
        "service/promise.html",
        {
            "p": promise,
            "form": form,
            "close_form": close_form,
            "history": history,
            "today": timezone.localdate(),
            "is_open": promise.status == PromiseStatus.OPEN,
        },
        status=status,
    )


@login_required
@require_POST
def close(request: HtmxHttpRequest, promise_id: int) -> HttpResponse:
    user = user_of(request)
    promise = sel.promise_get_for_user(user=user, promise_id=promise_id)
    form = PromiseCloseForm(request.POST)
    if save_form(
        request, form, lambda d: services.promise_close(actor=user, source=Source.UI, promise=promise, **d)
    ):
        return redirect("service:promise", promise_id=promise.pk)
    promise = sel.promise_get_for_user(user=user, promise_id=promise_id)
    return _detail(request, promise, PromiseForm(customer=promise.customer, user=user), form, status=400)
