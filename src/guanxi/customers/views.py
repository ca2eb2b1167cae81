"""Customer pages: list with search and filters, profile with contacts and timeline, edit forms."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from guanxi.accounts.models import Team, User
from guanxi.accounts.selectors import user_list_visible
from guanxi.audit.models import Source
from guanxi.audit.selectors import field_history
from guanxi.core.errors import GuanxiError, NotFound
from guanxi.core.forms import form_status, save_form
from guanxi.core.http import HtmxHttpRequest
from guanxi.customers import selectors, services
from guanxi.customers.forms import ContactForm, CustomerForm, FilterForm
from guanxi.customers.models import CompanySize, Customer, CustomerStatus, RelationshipType, Tag
from guanxi.engagement.forms import InteractionForm
from guanxi.engagement.selectors import customer_timeline, timeline_cursor
from guanxi.search.query import SEARCH_COLUMNS
from guanxi.value.choices import Lifecycle, RfmSegment, Tier, ValueClass


def _user(request: HtmxHttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


# What a row of the list shows (customers/_rows.html), and every sort's column.
LIST_FIELDS = (
    "id",
    "name",
    "short_name",
    "relationship_type",
    "status",
    "value_class",
    "province",
    "city",
    "industry",
    "owner__display_name",
    "owner__username",
    "last_interaction_at",
    "sort_key",
    "created_at",
)


@login_required
def customer_list(request: HtmxHttpRequest) -> HttpResponse:
    user = _user(request)
    form = FilterForm(request.GET)
    if not form.is_valid():
        return render(
            request, "customers/list.html", {"form": form, "page": None, "invalid": True}, status=400
        )
    d = form.cleaned_data
    filters = selectors.CustomerFilters(
        q=d["q"],
        owner_id=d["owner"],
        team_id=d["team"],
        relationship_type=d["relationship_type"],
        status=d["status"],
        province=d["province"],
        city=d["city"],
        industry=d["industry"],
        tag=d["tag"],
        size=d["size"],
        value_class=d["value_class"],
        tier=d["tier"],
        lifecycle=d["lifecycle"],
        rfm_segment=d["rfm_segment"],
        sort=d["sort"] or "last_interaction",
    )
    try:
        page = selectors.customer_list(
            user=user, filters=filters, cursor=d["cursor"] or None, size=50, fields=LIST_FIELDS
        )
    except GuanxiError as exc:
        form.add_error("cursor", exc.message())
        return render(
            request, "customers/list.html", {"form": form, "page": None, "invalid": True}, status=400
        )
    params = request.GET.copy()
    params.pop("cursor", None)
    context = {
        "form": form,
        "page": page,
        "base_query": params.urlencode(),
        "owners": [(u.pk, str(u)) for u in user_list_visible(user)]
        if user.is_admin or user.is_manager
        else [],
        "teams": [(t.pk, str(t)) for t in Team.objects.all()] if user.is_admin or user.is_manager else [],
        "relationship_types": RelationshipType.choices,
        "statuses": CustomerStatus.choices,
        "value_classes": ValueClass.choices,
        "tiers": Tier.choices,
        "lifecycles": Lifecycle.choices,
        "rfm_segments": RfmSegment.choices,
        "sizes": CompanySize.choices,
        "tags": Tag.objects.values_list("name", flat=True)[:200],
    }
    if request.htmx and d["cursor"]:
        return render(request, "customers/_rows.html", context)
    return render(request, "customers/list.html", context)


@login_required
def customer_detail(request: HtmxHttpRequest, customer_id: int) -> HttpResponse:
    user = _user(request)
    customer = selectors.customer_get_for_user(user=user, customer_id=customer_id, defer=SEARCH_COLUMNS)
    contacts = selectors.customer_contacts(customer)
    return render(
        request,
        "customers/detail.html",
        {
            "customer": customer,
            "contacts": contacts,
            **_timeline_page(customer, cursor=None),
            "recent_orders": customer.orders.order_by("-ordered_on", "-id")[:10],
            "log_form": InteractionForm(customer=customer, contacts=contacts),
            "shares": customer.shares.select_related("user", "team"),
            "can_share": _can_share(user, customer),
        },
    )


# The customer page shows the newest entries; "older" loads the next page in place (htmx).
TIMELINE_PAGE = 20


def _timeline_page(customer: Customer, *, cursor: str | None) -> dict[str, Any]:
    entries = customer_timeline(customer, limit=TIMELINE_PAGE + 1, cursor=cursor, with_participants=False)
    more = len(entries) > TIMELINE_PAGE
    entries = entries[:TIMELINE_PAGE]
    return {
        "customer": customer,
        "timeline": entries,
        "timeline_next": timeline_cursor(entries[-1]) if more else None,
    }


@login_required
@require_GET
def customer_timeline_more(request: HtmxHttpRequest, customer_id: int) -> HttpResponse:
    customer = selectors.customer_get_for_user(user=_user(request), customer_id=customer_id)
    cursor = request.GET.get("cursor") or None
    return render(request, "customers/_timeline_page.html", _timeline_page(customer, cursor=cursor))


@login_required
@require_http_methods(["GET", "POST"])
def customer_create(request: HtmxHttpRequest) -> HttpResponse:
    user = _user(request)
    form = CustomerForm(request.POST or None, user=user)
    customer = save_form(
        request,
        form,
        lambda d: services.customer_create(
            actor=user, source=Source.UI, owner=d.get("owner"), tags=d["tags"], **form.service_data()
        ),
    )
    if customer:
        return redirect("customers:detail", customer_id=customer.pk)
    return render(
        request, "customers/form.html", {"form": form, "customer": None}, status=form_status(request)
    )


@login_required
@require_http_methods(["GET", "POST"])
def customer_edit(request: HtmxHttpRequest, customer_id: int) -> HttpResponse:
    user = _user(request)
    customer = selectors.customer_get_for_user(user=user, customer_id=customer_id)
    form = CustomerForm(request.POST or None, instance=Customer.objects.get(pk=customer.pk), user=user)
    saved = save_form(
        request,
        form,
        lambda d: services.customer_update(
            actor=user,
            source=Source.UI,
            customer=customer,
            owner=d.get("owner"),
            tags=d["tags"],
            **form.service_data(),
        ),
    )
    if saved:
        return redirect("customers:detail", customer_id=customer.pk)
    context = {"form": form, "customer": customer, "can_delete": user.is_admin or user.is_manager}
    return render(request, "customers/form.html", context, status=form_status(request))


@login_required
def customer_history(request: HtmxHttpRequest, customer_id: int) -> HttpResponse:
    user = _user(request)
    customer = selectors.customer_get_for_user(user=user, customer_id=customer_id)
    field = request.GET.get("field", "")[:60]
    changes = field_history(object_type="customer", object_id=customer.pk, field=field or None)
    return render(
        request,
        "customers/history.html",
        {"customer": customer, "subject": customer, "changes": changes, "field": field},
    )


def _can_share(user: User, customer: Customer) -> bool:
    return customer.owner_id == user.pk or user.is_admin or user.is_manager


@login_required
@require_http_methods(["GET", "POST"])
def customer_share(request: HtmxHttpRequest, customer_id: int) -> HttpResponse:
    """Who a customer is shared with, and the form to share it with one more user or team."""
    user = _user(request)
    customer = selectors.customer_get_for_user(user=user, customer_id=customer_id)
    if request.method == "GET":
        allowed = _can_share(user, customer)
        return render(
            request,
            "customers/share.html",
            {
                "customer": customer,
                "can_share": allowed,
                "shares": customer.shares.select_related("user", "team"),
                "share_users": User.objects.filter(is_active=True)
                .exclude(pk=customer.owner_id)
                .order_by("username")
                if allowed
                else [],
                "share_teams": Team.objects.all() if allowed else [],
            },
        )
    target_user = target_team = None
    try:
        if request.POST.get("user"):
            target_user = User.objects.filter(pk=int(request.POST["user"]), is_active=True).first()
            if target_user is None:
                raise NotFound("用户", "user")
        if request.POST.get("team"):
            target_team = Team.objects.filter(pk=int(request.POST["team"])).first()
            if target_team is None:
                raise NotFound("团队", "team")
    except ValueError:
        raise NotFound("用户", "user") from None
    services.customer_share(
        actor=user, source=Source.UI, customer=customer, user=target_user, team=target_team
    )
    return redirect("customers:share", customer_id=customer.pk)


@login_required
@require_POST
def customer_unshare(request: HtmxHttpRequest, customer_id: int, share_id: int) -> HttpResponse:
    user = _user(request)
    customer = selectors.customer_get_for_user(user=user, customer_id=customer_id)
    services.customer_unshare(actor=user, source=Source.UI, customer=customer, share_id=share_id)
    return redirect("customers:share", customer_id=customer.pk)


@login_required
@require_http_methods(["GET", "POST"])
def contact_create(request: HtmxHttpRequest, customer_id: int) -> HttpResponse:
    user = _user(request)
    customer = selectors.customer_get_for_user(user=user, customer_id=customer_id)
    form = ContactForm(request.POST or None)
    saved = save_form(
        request,
        form,
        lambda d: services.contact_create(
            actor=user,
            source=Source.UI,
            customer=customer,
            phones=d["phones"],
            emails=d["emails"],
            **form.service_data(),
        ),
    )
    if saved:
        return redirect("customers:detail", customer_id=customer.pk)
    context = {"form": form, "customer": customer, "contact": None}
    return render(request, "customers/contact_form.html", context, status=form_status(request))


@login_required
@require_http_methods(["GET", "POST"])
def contact_edit(request: HtmxHttpRequest, contact_id: int) -> HttpResponse:
    user = _user(request)
    contact = selectors.contact_get_for_user(user=user, contact_id=contact_id)
    form = ContactForm(request.POST or None, instance=contact)
    saved = save_form(
        request,
        form,
        lambda d: services.contact_update(
            actor=user,
            source=Source.UI,
            contact=contact,
            phones=d["phones"],
            emails=d["emails"],
            **form.service_data(),
        ),
    )
    if saved:
        return redirect("customers:detail", customer_id=contact.customer_id)
    context = {"form": form, "customer": contact.customer, "contact": contact}
    return render(request, "customers/contact_form.html", context, status=form_status(request))


@login_required
def contact_history(request: HtmxHttpRequest, contact_id: int) -> HttpResponse:
    user = _user(request)
    contact = selectors.contact_get_for_user(user=user, contact_id=contact_id)
    field = request.GET.get("field", "")[:60]
    changes = field_history(object_type="contact", object_id=contact.pk, field=field or None)
    return render(
        request,
        "customers/history.html",
        {
            "customer": contact.customer,
            "subject": contact,
            "changes": changes,
            "field": field,
        },
    )


@login_required
@require_POST
def contact_delete(request: HtmxHttpRequest, contact_id: int) -> HttpResponse:
    user = _user(request)
    contact = selectors.contact_get_for_user(user=user, contact_id=contact_id)
    customer_id = contact.customer_id
    services.contact_delete(actor=user, source=Source.UI, contact=contact)
    return redirect("customers:detail", customer_id=customer_id)


@login_required
@require_POST
def customer_delete(request: HtmxHttpRequest, customer_id: int) -> HttpResponse:
    user = _user(request)
    customer = selectors.customer_get_for_user(user=user, customer_id=customer_id)
    services.customer_delete(actor=user, source=Source.UI, customer=customer)
    return redirect("customers:list")
