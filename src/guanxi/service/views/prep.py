"""The service section of the visit preparation page (DOMAIN §4: "the questions the customer may
ask, with prepared answers"; §6: never visit with a complaint or a promise forgotten)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from guanxi.core.http import HtmxHttpRequest
from guanxi.customers.selectors import customer_get_for_user
from guanxi.service.models import ComplaintStatus, ObjectionCategory, PromiseStatus
from guanxi.service.selectors import complaints as complaint_sel
from guanxi.service.selectors import objections as objection_sel
from guanxi.service.selectors import promises as promise_sel
from guanxi.service.views.common import user_of

KNOWLEDGE_ITEMS = 5


@login_required
@require_GET
def prep_section(request: HtmxHttpRequest, customer_id: int) -> HttpResponse:
    user = user_of(request)
    customer = customer_get_for_user(user=user, customer_id=customer_id)
    complaints = list(
        complaint_sel.complaint_queryset_for_user(user)
        .filter(customer=customer)
        .exclude(status=ComplaintStatus.RESOLVED)
        .order_by("resolve_by")[:10]
    )
    promises = list(
        promise_sel.promise_queryset_for_user(user)
        .filter(customer=customer, status=PromiseStatus.OPEN)
        .select_related("promised_by")
        .order_by("due_on")[:10]
    )
    past = list(
        objection_sel.objection_queryset_for_user(user)
        .filter(customer=customer)
        .order_by("-raised_on", "-id")[:5]
    )
    # Answers for what this customer objected to before; without a history, the team's most common.
    categories = list(dict.fromkeys(o.category for o in past))
    if not categories:
        categories = [r["category"] for r in objection_sel.objection_analysis(user)["by_category"][:2]]
    labels = dict(ObjectionCategory.choices)
    knowledge = [
        (str(labels.get(c, c)), objection_sel.objection_knowledge(user, category=c, limit=KNOWLEDGE_ITEMS))
        for c in categories[:3]
    ]
    return render(
        request,
        "service/_prep.html",
        {
            "customer": customer,
            "complaints": complaints,
            "promises": promises,
            "past": past,
            "knowledge": [(label, items) for label, items in knowledge if items],
            "today": timezone.localdate(),
            "now": timezone.now(),
        },
    )
