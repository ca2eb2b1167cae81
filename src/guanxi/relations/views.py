"""Relations pages: the relationship map, a contact's approach, links, referrals (graph, value, the
"250" view), relationship gaps and stale profiles of the user, and the administrator's playbooks."""

from __future__ import annotations

import json
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from guanxi.accounts.models import User
from guanxi.accounts.views import admin_required
from guanxi.audit.models import Source
from guanxi.core.forms import form_status, save_form
from guanxi.core.http import HtmxHttpRequest
from guanxi.customers.models import CustomerStatus, PersonalityType, PreferredChannel
from guanxi.customers.selectors import (
    CustomerFilters,
    contact_get_for_user,
    contact_list,
    customer_contacts,
    customer_get_for_user,
    customer_list,
)
from guanxi.relations import selectors, services
from guanxi.relations.api import map_out, referral_graph_out
from guanxi.relations.approach import contact_approach
from guanxi.relations.forms import DecisionForm, LinkForm, PlaybookForm, ReferralForm, ReviewForm
from guanxi.relations.models import DecisionRoleKind, LinkKind, Playbook, ReferrerKind, Stance, Warmth


def _user(request: HtmxHttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _labels() -> dict[str, dict[str, str]]:
    """Display labels in the active language, for the graph script (which has no gettext)."""
    return {
        "roles": {k: str(v) for k, v in DecisionRoleKind.choices},
        "stances": {k: str(v) for k, v in Stance.choices},
        "warmth": {str(k): str(v) for k, v in Warmth.choices},
        "links": {k: str(v) for k, v in LinkKind.choices} | {"knows": str(_("认识"))},
        "kinds": {
            "contact": str(_("联系人")),
            "external": str(_("其他客户的联系人")),
            "user": str(_("我方同事")),
            "customer": str(_("客户")),
            "referrer_user": str(ReferrerKind.USER.label),
            "referrer_external": str(ReferrerKind.EXTERNAL.label),
        },
        "personality": {k: str(v) for k, v in PersonalityType.choices},
        "statuses": {k: str(v) for k, v in CustomerStatus.choices},
        "ui": {
            "last_reached": str(_("最近联系")),
            "never": str(_("从未联系")),
            "interactions": str(_("次联系")),
            "revenue": str(_("销售额")),
        },
    }


def _graph_context(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "graph": json.loads(json.dumps(data, cls=DjangoJSONEncoder)),
        "labels": _labels(),
        "echarts_src": static("vendor/echarts-6.1.0.min.js"),
    }


# --- Relationship map -----------------------------------------------------------------------------


@login_required
def relationship_map(request: HtmxHttpRequest, customer_id: int) -> HttpResponse:
    user = _user(request)
    m = selectors.relationship_map(user=user, customer_id=customer_id)
    nodes = {n.id: n for n in m.nodes}
    links = [
        (e, nodes[e.source], nodes[e.target]) for e in m.edges if e.kind != "knows" and e.link_id is not None
    ]
    context = {
        "customer": m.customer,
        "map": m,
        "contacts": [n for n in m.nodes if n.kind == "contact"],
        "links": links,
        "playbook": m.playbook,
        "language": get_language(),
        **_graph_context(map_out(m)),
    }
    return render(request, "relations/map.html", context)


@login_required
def relations_card(request: HtmxHttpRequest, customer_id: int) -> HttpResponse:
    """The relations card on the customer page (loaded by htmx so the page itself stays fast)."""
    user = _user(request)
    m = selectors.relationship_map(user=user, customer_id=customer_id)
    referred_by, referred = selectors.referrals_of_customer(user=user, customer_id=customer_id)
    downstream = selectors.referral_downstream(user=user, customer_id=customer_id) if referred else None
    return render(
        request,
        "relations/_customer_card.html",
        {
            "customer": m.customer,
            "map": m,
            "referred_by": referred_by,
            "referred": referred,
            "downstream": downstream,
            "profile_stale": selectors.profile_is_stale(m.customer),
            "review_days": selectors.profile_review_days(),
            **_graph_context(map_out(m)),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def link_create(request: HtmxHttpRequest, customer_id: int) -> HttpResponse:
    user = _user(request)
    customer = customer_get_for_user(user=user, customer_id=customer_id)
    form = LinkForm(request.POST or None, contacts=customer_contacts(customer))
    saved = save_form(
        request,
        form,
        lambda d: services.person_link_create(
            actor=user,
            source=Source.UI,
            from_contact_id=d["from_contact"],
            to_contact_id=d["to_contact"],
            kind=d["kind"],
            strength=d["strength"],
            note=d["note"],
        ),
    )
    if saved:
        return redirect("relations:map", customer_id=customer.pk)
    context = {
        "form": form,
        "title": _("添加人脉关系"),
        "subtitle": customer.name,
        "back": reverse("relations:map", args=[customer.pk]),
    }
    return render(request, "relations/form.html", context, status=form_status(request))


@login_required
@require_POST
def link_delete(request: HtmxHttpRequest, link_id: int) -> HttpResponse:
    user = _user(request)
    link = selectors.person_link_get_for_user(user=user, link_id=link_id)
    back = link.from_customer_id
    services.person_link_delete(actor=user, source=Source.UI, link=link)
    return redirect("relations:map", customer_id=back)


# --- A contact: decision role, stance and how to approach them ----------------------------------------


@login_required
def contact_detail(request: HtmxHttpRequest, contact_id: int) -> HttpResponse:
    user = _user(request)
    contact = contact_get_for_user(user=user, contact_id=contact_id)
    decision = selectors.decision_for_contact(contact)
    playbook = Playbook.objects.filter(relationship_type=contact.customer.relationship_type).first()
    approach = contact_approach(contact, roles=decision.roles, stance=decision.stance, playbook=playbook)
    links = [
        link
        for link in selectors.person_link_list(user=user, customer_id=contact.customer_id)
        if contact.pk in (link.from_contact_id, link.to_contact_id)
    ]
    return render(
        request,
        "relations/contact.html",
        {
            "contact": contact,
            "customer": contact.customer,
            "decision": decision,
            "role_labels": [str(DecisionRoleKind(r).label) for r in decision.roles],
            "stance_label": Stance(decision.stance).label,
            "warmth_label": Warmth(decision.warmth).label,
            "approach": approach,
            "links": links,
            "channel_label": PreferredChannel(contact.preferred_channel).label
            if contact.preferred_channel
            else "",
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def decision_edit(request: HtmxHttpRequest, contact_id: int) -> HttpResponse:
    user = _user(request)
    contact = contact_get_for_user(user=user, contact_id=contact_id)
    current = selectors.decision_for_contact(contact)
    form = DecisionForm(
        request.POST or None,
        initial={"roles": current.roles, "stance": current.stance, "warmth": current.warmth},
    )
    saved = save_form(
        request,
        form,
        lambda d: services.contact_decision_set(
            actor=user,
            source=Source.UI,
            contact=contact,
            roles=d["roles"],
            stance=d["stance"],
            warmth=d["warmth"],
        ),
    )
    if saved:
        return redirect("relations:contact", contact_id=contact.pk)
    context = {
        "form": form,
        "title": _("决策角色与立场"),
        "subtitle": f"{contact.name} · {contact.customer.name}",
        "back": reverse("relations:contact", args=[contact.pk]),
    }
    return render(request, "relations/form.html", context, status=form_status(request))


# --- Referrals --------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def referral_create(request: HtmxHttpRequest, customer_id: int) -> HttpResponse:
    """Who introduced this customer: search a customer or contact by name (or pick a colleague, or
    type an outside partner's name), then save."""
    user = _user(request)
    customer = customer_get_for_user(user=user, customer_id=customer_id)
    q = (request.GET.get("q") or request.POST.get("q") or "").strip()[:100]
    options: list[tuple[str, str]] = []
    if q:
        for c in customer_list(user=user, filters=CustomerFilters(q=q, sort="name"), size=10).items:
            if c.pk != customer.pk:
                options.append((f"customer:{c.pk}", f"{c.name}（{ReferrerKind.CUSTOMER.label}）"))
        for ct in contact_list(user=user, q=q, size=10).items:
            if ct.customer_id != customer.pk:
                options.append((f"contact:{ct.pk}", f"{ct.name} · {ct.customer.name}"))
    posted = request.POST.get("referrer", "")
    if posted and posted not in {value for value, _ in options}:
        options.append((posted, posted))  # keep the choice made on the search page
    users = [(u.pk, str(u)) for u in User.objects.filter(is_active=True).order_by("username")]
    form = ReferralForm(
        request.POST or None, options=options, users=users, contacts=customer_contacts(customer)
    )
    saved = save_form(
        request,
        form,
        lambda d: services.referral_create(
            actor=user, source=Source.UI, customer=customer, **form.service_kwargs()
        ),
    )
    if saved:
        return redirect("customers:detail", customer_id=customer.pk)
    context = {"form": form, "customer": customer, "q": q, "searched": bool(q), "options": options}
    return render(request, "relations/referral_form.html", context, status=form_status(request))


@login_required
@require_POST
def referral_delete(request: HtmxHttpRequest, referral_id: int) -> HttpResponse:
    user = _user(request)
    referral = selectors.referral_get_for_user(user=user, referral_id=referral_id)
    back = referral.customer_id
    services.referral_delete(actor=user, source=Source.UI, referral=referral)
    return redirect("customers:detail", customer_id=back)


@login_required
def referrals(request: HtmxHttpRequest) -> HttpResponse:
    """The referral graph across customers, the referrers' value, whom to thank, and who is at risk."""
    user = _user(request)
    values = selectors.referral_values(user=user)
    edges, truncated = selectors.referral_graph_view(user=user)
    return render(
        request,
        "relations/referrals.html",
        {
            "values": values[:50],
            "thank": selectors.worth_thanking(values, today=timezone.localdate())[:20],
            "at_risk": selectors.referrers_at_risk(values)[:20],
            "truncated": truncated,
            "edge_count": len(edges),
            "status_labels": dict(CustomerStatus.choices),
            **_graph_context(referral_graph_out(edges, truncated)),
        },
    )


@login_required
def downstream(request: HtmxHttpRequest, customer_id: int) -> HttpResponse:
    """The "250" view: everyone who came through this customer (DOMAIN §1)."""
    d = selectors.referral_downstream(user=_user(request), customer_id=customer_id)
    return render(
        request,
        "relations/downstream.html",
        {"customer": d.customer, "d": d, "status_labels": dict(CustomerStatus.choices)},
    )


# --- The user's lists: gaps and stale profiles ---------------------------------------------------------


@login_required
def home(request: HtmxHttpRequest) -> HttpResponse:
    user = _user(request)
    return render(
        request,
        "relations/home.html",
        {
            "gaps": selectors.gaps_for_owner(user=user, limit=100),
            "stale": selectors.stale_profiles(user=user, limit=100),
            "review_days": selectors.profile_review_days(),
            "playbooks": selectors.playbook_list(),
            "language": get_language(),
        },
    )


@login_required
@require_POST
def review(request: HtmxHttpRequest, customer_id: int) -> HttpResponse:
    user = _user(request)
    customer = customer_get_for_user(user=user, customer_id=customer_id)
    form = ReviewForm(request.POST)
    reviewed_on = form.cleaned_data.get("reviewed_on") if form.is_valid() else None
    services.customer_profile_review(actor=user, source=Source.UI, customer=customer, reviewed_on=reviewed_on)
    return redirect("customers:detail", customer_id=customer.pk)


@login_required
def playbooks(request: HtmxHttpRequest) -> HttpResponse:
    return render(
        request,
        "relations/playbooks.html",
        {"playbooks": selectors.playbook_list(), "language": get_language()},
    )


# --- Administrator: playbooks ------------------------------------------------------------------------


@admin_required
@require_http_methods(["GET", "POST"])
def playbook_edit(request: HtmxHttpRequest, relationship_type: str) -> HttpResponse:
    playbook = selectors.playbook_get(relationship_type=relationship_type)
    form = PlaybookForm(request.POST or None, instance=Playbook.objects.get(pk=playbook.pk))
    saved = save_form(
        request,
        form,
        lambda d: services.playbook_update(
            actor=_user(request), source=Source.UI, playbook=playbook, **{k: d[k] for k in form.Meta.fields}
        ),
    )
    if saved:
        return redirect("playbooks:list")
    context = {"form": form, "playbook": playbook}
    return render(request, "relations/playbook_form.html", context, status=form_status(request))


@admin_required
def playbook_admin_list(request: HtmxHttpRequest) -> HttpResponse:
    return render(
        request,
        "relations/playbooks.html",
        {"playbooks": selectors.playbook_list(), "language": get_language(), "manage": True},
    )
