from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from guanxi.accounts.models import User
from guanxi.audit.models import Source
from guanxi.core.errors import GuanxiError
from guanxi.core.forms import add_service_error
from guanxi.core.http import HtmxHttpRequest
from guanxi.customers.selectors import customer_get_for_user
from guanxi.engagement import services
from guanxi.engagement.forms import InteractionForm
from guanxi.engagement.selectors import TimelineEntry


@login_required
@require_POST
def interaction_log(request: HtmxHttpRequest, customer_id: int) -> HttpResponse:
    """The quick "log an interaction" form on the customer page (htmx: no page reload)."""
    user = request.user
    assert isinstance(user, User)
    customer = customer_get_for_user(user=user, customer_id=customer_id)
    form = InteractionForm(request.POST, customer=customer)
    if form.is_valid():
        try:
            interaction = services.interaction_log(
                actor=user,
                source=Source.UI,
                customer=customer,
                contacts=form.cleaned_data["contacts"],
                **form.service_data(),
            )
        except GuanxiError as exc:
            add_service_error(form, exc)
        else:
            if not request.htmx:
                return redirect("customers:detail", customer_id=customer.pk)
            entry = TimelineEntry("interaction", interaction.occurred_at, interaction=interaction)
            return render(
                request,
                "engagement/_logged.html",
                {
                    "customer": customer,
                    "entry": entry,
                    "log_form": InteractionForm(customer=customer),
                },
            )
    return render(
        request,
        "engagement/_log_form.html",
        {"customer": customer, "log_form": form},
        status=400 if not request.htmx else 422,
    )
