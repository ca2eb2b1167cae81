"""Objection pages: the log, one objection, the analysis and the knowledge base of answers."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from guanxi.audit.models import Source
from guanxi.core.errors import GuanxiError
from guanxi.core.forms import form_status, save_form
from guanxi.core.http import HtmxHttpRequest
from guanxi.service import services
from guanxi.service.forms import ObjectionForm
from guanxi.service.models import Judgement, ObjectionCategory, ObjectionOutcome
from guanxi.service.selectors import objections as sel
from guanxi.service.views.common import customer_param, opportunity_param, user_of

MAX_QUERY = 100


def _choice(raw: str | None, choices: Any) -> str:
    return raw if raw and raw in choices.values else ""


@login_required
@require_GET
def objection_list(request: HtmxHttpRequest) -> HttpResponse:
    user = user_of(request)
    customer = customer_param(request, user)
    filters = {
        "category": _choice(request.GET.get("category"), ObjectionCategory),
        "judgement": _choice(request.GET.get("judgement"), Judgement),
        "outcome": _choice(request.GET.get("outcome"), ObjectionOutcome),
    }
    q = (request.GET.get("q") or "")[:MAX_QUERY]
    try:
        page = sel.objection_list(
            user=user,
            customer_id=customer.pk if customer else None,
            q=q,
            cursor=request.GET.get("cursor") or None,
            category=filters["category"],
            judgement=filters["judgement"],
            outcome=filters["outcome"],
        )
    except GuanxiError:
        raise Http404("bad cursor") from None
    return render(
        request,
        "service/objections.html",
        {
            "page": page,
            "customer": customer,
            "q": q,
            "filters": filters,
            "categories": ObjectionCategory.choices,
            "judgements": Judgement.choices,
            "outcomes": ObjectionOutcome.choices,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def create(request: HtmxHttpRequest) -> HttpResponse:
    user = user_of(request)
    customer = customer_param(request, user)
    opportunity = opportunity_param(request, user)
    if opportunity is not None and customer is None:
        customer = opportunity.customer
    form = ObjectionForm(
        request.POST or None,
        customer=customer,
        user=user,
        initial={"opportunity": opportunity.pk} if opportunity is not None else None,
    )
    saved = save_form(
        request,
        form,
        lambda d: services.objection_create(actor=user, source=Source.UI, customer=customer, **d),
    )
    if saved:
        messages.success(request, _("异议已记录"))
        if opportunity is not None and saved.opportunity_id == opportunity.pk:
            # Opened from the opportunity page: back to the deal, where the objection now shows.
            return redirect(reverse("pipeline:detail", args=[opportunity.pk]) + "#deal-objections")
        return redirect("service:objection", objection_id=saved.pk)
    return render(
        request,
        "service/objection_form.html",
        {"form": form, "customer": customer, "opportunity": opportunity},
        status=form_status(request),
    )


@login_required
@require_http_methods(["GET", "POST"])
def detail(request: HtmxHttpRequest, objection_id: int) -> HttpResponse:
    user = user_of(request)
    objection = sel.objection_get_for_user(user=user, objection_id=objection_id)
    fields = [
        "category",
        "customer_words",
        "judgement",
        "direct_questions",
        "indirect_questions",
        "real_reason",
        "real_category",
        "response",
        "outcome",
        "raised_on",
    ]
    initial = {name: getattr(objection, name) for name in fields}
    initial["contact"] = objection.contact_id
    initial["opportunity"] = objection.opportunity_id
    form = ObjectionForm(request.POST or None, customer=objection.customer, user=user, initial=initial)

    def save(d: dict[str, object]) -> object:
        if not d.get("raised_on"):
            d.pop("raised_on", None)
        return services.objection_update(actor=user, source=Source.UI, objection=objection, **d)

    if save_form(request, form, save):
        messages.success(request, _("已保存"))
        return redirect("service:objection", objection_id=objection.pk)
    return render(
        request,
        "service/objection_form.html",
        {"form": form, "objection": objection, "customer": objection.customer},
        status=form_status(request),
    )


@login_required
@require_GET
def analysis(request: HtmxHttpRequest) -> HttpResponse:
    user = user_of(request)
    return render(request, "service/objection_analysis.html", {"a": sel.objection_analysis(user)})


@login_required
@require_GET
def knowledge(request: HtmxHttpRequest) -> HttpResponse:
    """The knowledge base; ``?partial=1`` (htmx, e.g. on the visit preparation page) returns the list only."""
    user = user_of(request)
    q = (request.GET.get("q") or "")[:MAX_QUERY]
    category = _choice(request.GET.get("category"), ObjectionCategory)
    items = sel.objection_knowledge(user, q=q, category=category)
    context = {"items": items, "q": q, "category": category, "categories": ObjectionCategory.choices}
    if request.GET.get("partial"):
        return render(request, "service/_knowledge.html", context)
    return render(request, "service/knowledge.html", context)
