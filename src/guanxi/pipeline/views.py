"""Pipeline pages: the board (kanban with drag and drop), the list, the opportunity page with its
people and history, the forms (new, edit, won, lost, reopen), the forecast, the analysis, the card on
the customer page, and the administrator's pipeline settings."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import get_language
from django.views.decorators.http import require_POST

from guanxi.accounts.models import Team, User
from guanxi.accounts.selectors import managed_team_ids, user_list_visible
from guanxi.accounts.views import admin_required
from guanxi.audit.models import Source
from guanxi.core.errors import Conflict, GuanxiError, ValidationFailed
from guanxi.core.forms import add_service_error, form_status
from guanxi.core.http import HtmxHttpRequest
from guanxi.customers.selectors import customer_contacts, customer_get_for_user
from guanxi.pipeline import forecast as fc
from guanxi.pipeline import selectors, services
from guanxi.pipeline.forms import (
    FilterForm,
    ForecastForm,
    LineFormSet,
    LoseForm,
    MoveForm,
    OpportunityForm,
    PersonForm,
    PipelineForm,
    ReopenForm,
    StageForm,
    WinForm,
)
from guanxi.pipeline.models import Opportunity, Pipeline, Stage, StageKind
from guanxi.pipeline.services import DealLine
from guanxi.relations.models import Referral
from guanxi.sales.models import Order, Product
from guanxi.service.selectors import objections as objection_sel
from guanxi.service.selectors import promises as promise_sel


def _user(request: HtmxHttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _owners(user: User) -> list[tuple[int, str]]:
    return [(u.pk, str(u)) for u in user_list_visible(user)]


def _teams(user: User) -> list[tuple[int, str]]:
    qs = Team.objects.order_by("name")
    if not user.is_admin:
        ids = managed_team_ids(user) | ({user.team_id} if user.team_id else set())
        qs = qs.filter(pk__in=ids)
    return list(qs.values_list("id", "name"))


def _pipeline_choices() -> list[tuple[int, str]]:
    lang = get_language()
    return [(p.pk, p.label(lang)) for p in Pipeline.objects.filter(is_active=True).order_by("position", "id")]


def _filters(request: HtmxHttpRequest, user: User) -> tuple[FilterForm, selectors.DealFilters, str]:
    form = FilterForm(
        request.GET or None, pipelines=_pipeline_choices(), owners=_owners(user), teams=_teams(user)
    )
    data: dict[str, Any] = form.cleaned_data if form.is_bound and form.is_valid() else {}
    period = data.get("period") or ""
    close_from, close_to = selectors.period_bounds(period, timezone.localdate())
    filters = selectors.DealFilters(
        pipeline_id=data.get("pipeline"),
        owner_id=data.get("owner"),
        team_id=data.get("team"),
        source=data.get("source") or "",
        close_from=close_from,
        close_to=close_to,
        q=data.get("q") or "",
    )
    query = urlencode({k: str(v) for k, v in request.GET.items() if k in form.fields and v})
    return form, filters, query


# --- Board ----------------------------------------------------------------------------------------


def _board_context(request: HtmxHttpRequest, user: User, **extra: Any) -> dict[str, Any]:
    form, filters, query = _filters(request, user)
    b = selectors.board(user=user, filters=filters)
    lang = get_language()
    return {
        "form": form,
        "board": b,
        "query": query,
        "lang": lang,
        "stage_options": [(c.stage.pk, c.stage.label(lang)) for c in b.columns],
        **extra,
    }


@login_required
def board(request: HtmxHttpRequest) -> HttpResponse:
    user = _user(request)
    context = _board_context(request, user)
    if request.htmx and request.htmx.target == "board":
        return render(request, "pipeline/_board.html", context)
    return render(request, "pipeline/board.html", context)


@login_required
@require_POST
def move(request: HtmxHttpRequest, opportunity_id: int) -> HttpResponse:
    """A card dropped on another column: move it, answer the refreshed board. A stale card (someone
    else moved or edited the deal meanwhile) answers 409 with the current board and says so."""
    user = _user(request)
    opp = selectors.opportunity_get_for_user(user=user, opportunity_id=opportunity_id)
    form = MoveForm(request.POST)
    message = ""
    status = 200
    if not form.is_valid():
        message, status = (
            str(ValidationFailed("阶段或版本无效", "invalid stage or version").message(get_language())),
            400,
        )
    else:
        try:
            stage = selectors.stage_get(pipeline=opp.pipeline, stage_id=form.cleaned_data["stage"])
            if stage.kind != StageKind.OPEN:
                # Won and lost need their own details (order; real reason): open that form.
                target = "pipeline:win" if stage.kind == StageKind.WON else "pipeline:lose"
                response = HttpResponse(status=204)
                response["HX-Redirect"] = reverse(target, args=[opp.pk])
                return response
            services.opportunity_move(
                actor=user,
                source=Source.UI,
                opportunity=opp,
                stage=stage,
                version=form.cleaned_data["version"],
            )
        except Conflict as exc:
            message, status = exc.message(get_language()), 409
        except GuanxiError as exc:
            message, status = exc.message(get_language()), 422
    context = _board_context(request, user, board_message=message, board_error=status != 200)
    return render(request, "pipeline/_board.html", context, status=status)


# --- List -----------------------------------------------------------------------------------------


@login_required
def opportunity_list(request: HtmxHttpRequest) -> HttpResponse:
    user = _user(request)
    form, filters, query = _filters(request, user)
    status = request.GET.get("status", "open")
    filters.status = status if status in StageKind.values else ""
    stage = request.GET.get("stage", "")
    filters.stage_id = int(stage) if stage.isdigit() else None
    try:
        page = selectors.opportunity_list(
            user=user, filters=filters, cursor=request.GET.get("cursor") or None
        )
    except ValidationFailed as exc:
        return render(request, "error.html", {"message": exc.message(get_language())}, status=400)
    more_query = urlencode(
        {**{k: str(v) for k, v in request.GET.items() if k != "cursor"}, "cursor": page.next_cursor or ""}
    )
    context = {
        "form": form,
        "page": page,
        "query": query,
        "status": status,
        "more_query": more_query,
        "lang": get_language(),
    }
    if request.htmx and request.GET.get("cursor"):
        return render(request, "pipeline/_rows.html", context)
    return render(request, "pipeline/list.html", context)


# --- One opportunity ------------------------------------------------------------------------------


@login_required
def opportunity_detail(request: HtmxHttpRequest, opportunity_id: int) -> HttpResponse:
    user = _user(request)
    opp = selectors.opportunity_get_for_user(user=user, opportunity_id=opportunity_id)
    people = selectors.opportunity_people(opp)
    lang = get_language()
    on_deal = {p.contact_id for p in people}
    contacts = [
        (c.pk, f"{c.name} {c.title}".strip()) for c in customer_contacts(opp.customer) if c.pk not in on_deal
    ]
    stages = list(opp.pipeline.stages.filter(is_active=True).order_by("position", "id"))
    context = {
        "opp": opp,
        "lines": list(opp.lines.select_related("product")),
        "people": people,
        "warning": selectors.decision_maker_warning(opp, people),
        "stays": selectors.opportunity_stays(opp),
        "events": selectors.opportunity_events(opp),
        "person_form": PersonForm(contacts=contacts) if contacts else None,
        "stages": [(s, s.label(lang)) for s in stages if s.kind == StageKind.OPEN],
        "stage_label": opp.stage.label(lang),
        "lang": lang,
        "reopen_form": ReopenForm(initial={"version": opp.version}),
        "objections": objection_sel.opportunity_objections(user=user, opportunity_id=opp.pk),
        "promises": promise_sel.opportunity_promises(user=user, opportunity_id=opp.pk),
        "today": timezone.localdate(),
    }
    return render(request, "pipeline/detail.html", context)


def _product_choices() -> list[tuple[int, str]]:
    return [(p.pk, str(p)) for p in Product.objects.filter(is_active=True).order_by("code")[:500]]


def _referral_choices(customer_id: int) -> list[tuple[int, str]]:
    return [
        (r.pk, f"{r.referrer_label} · {r.referred_on:%Y-%m-%d}")
        for r in Referral.objects.filter(customer_id=customer_id).select_related(
            "referrer_customer", "referrer_contact", "referrer_user"
        )
    ]


def _lines(formset: Any) -> list[DealLine] | None:
    """The filled rows of the lines formset (None: no row filled)."""
    lines = []
    products = {
        p.pk: p
        for p in Product.objects.filter(
            pk__in=[f.cleaned_data.get("product") for f in formset.forms if f.cleaned_data.get("product")]
        )
    }
    for f in formset.forms:
        data = f.cleaned_data
        if not data.get("product"):
            continue
        product = products.get(data["product"])
        if product is None:
            raise ValidationFailed("未知产品", "unknown product", field="lines")
        if data.get("quantity") is None:
            raise ValidationFailed("请填写数量", "quantity is required", field="lines")
        lines.append(DealLine(product, data["quantity"], data.get("unit_price")))
    return lines or None


def _opportunity_form_kwargs(user: User, customer_id: int, pipeline: Pipeline | None) -> dict[str, Any]:
    lang = get_language()
    stages = Stage.objects.filter(is_active=True, kind=StageKind.OPEN).order_by(
        "pipeline__position", "position"
    )
    if pipeline is not None:
        stages = stages.filter(pipeline=pipeline)
    return {
        "pipelines": _pipeline_choices(),
        "stages": [(s.pk, s.label(lang)) for s in stages.select_related("pipeline")],
        "owners": _owners(user),
        "referrals": _referral_choices(customer_id),
    }


def _common(data: dict[str, Any], user: User) -> dict[str, Any]:
    owner = None
    if data.get("owner"):
        owner = next((u for u in user_list_visible(user) if u.pk == data["owner"]), None)
        if owner is None:
            raise ValidationFailed("负责人无效", "invalid owner", field="owner")
    referral = Referral.objects.filter(pk=data["referral"]).first() if data.get("referral") else None
    return {
        "name": data["name"],
        "expected_close_on": data["expected_close_on"],
        "owner": owner,
        "probability": data.get("probability"),
        "forecast_category": data.get("forecast_category") or None,
        "deal_source": data.get("deal_source") or "",
        "referral": referral,
        "competitors": data.get("competitors") or "",
        "next_step": data.get("next_step") or "",
        "next_step_on": data.get("next_step_on"),
        "description": data.get("description") or "",
    }


@login_required
def opportunity_create(request: HtmxHttpRequest, customer_id: int) -> HttpResponse:
    user = _user(request)
    customer = customer_get_for_user(user=user, customer_id=customer_id)
    kwargs = _opportunity_form_kwargs(user, customer.pk, None)
    initial = {"owner": user.pk, "expected_close_on": timezone.localdate() + dt.timedelta(days=30)}
    form = OpportunityForm(request.POST or None, initial=initial, **kwargs)
    formset = LineFormSet(request.POST or None, prefix="lines", form_kwargs={"products": _product_choices()})
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        data = form.cleaned_data
        try:
            pipeline = Pipeline.objects.filter(pk=data["pipeline"]).first() if data.get("pipeline") else None
            stage = Stage.objects.filter(pk=data["stage"]).first() if data.get("stage") else None
            if stage is not None and pipeline is None:
                pipeline = stage.pipeline
            opp = services.opportunity_create(
                actor=user,
                source=Source.UI,
                customer=customer,
                pipeline=pipeline,
                stage=stage,
                amount=data.get("amount"),
                lines=_lines(formset),
                **_common(data, user),
            )
            return redirect("pipeline:detail", opp.pk)
        except GuanxiError as exc:
            add_service_error(form, exc)
    return render(
        request,
        "pipeline/form.html",
        {"form": form, "formset": formset, "customer": customer, "title": "new"},
        status=form_status(request),
    )


@login_required
def opportunity_edit(request: HtmxHttpRequest, opportunity_id: int) -> HttpResponse:
    user = _user(request)
    opp = selectors.opportunity_get_for_user(user=user, opportunity_id=opportunity_id)
    kwargs = _opportunity_form_kwargs(user, opp.customer_id, opp.pipeline)
    initial = {
        "name": opp.name,
        "stage": opp.stage_id,
        "expected_close_on": opp.expected_close_on,
        "amount": opp.amount,
        "probability": opp.probability,
        "forecast_category": opp.forecast_category,
        "owner": opp.owner_id,
        "deal_source": opp.source,
        "referral": opp.referral_id,
        "competitors": opp.competitors,
        "next_step": opp.next_step,
        "next_step_on": opp.next_step_on,
        "description": opp.description,
        "version": opp.version,
    }
    lines = list(opp.lines.all())
    form = OpportunityForm(request.POST or None, initial=initial, editing=True, **kwargs)
    formset = LineFormSet(
        request.POST or None,
        prefix="lines",
        initial=[
            {"product": ln.product_id, "quantity": ln.quantity, "unit_price": ln.unit_price} for ln in lines
        ],
        form_kwargs={"products": _product_choices()},
    )
    status = form_status(request)
    conflict = False
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        data = form.cleaned_data
        try:
            new_lines = _lines(formset)
            stage = None
            if data.get("stage") and opp.is_open:
                stage = selectors.stage_get(pipeline=opp.pipeline, stage_id=data["stage"])
            common = _common(data, user)
            services.opportunity_update(
                actor=user,
                source=Source.UI,
                opportunity=opp,
                version=int(data["version"]) if data.get("version") is not None else -1,
                stage=stage,
                lines=new_lines if new_lines is not None or lines else None,
                amount=data.get("amount") if new_lines is None and not lines else None,
                **{
                    **common,
                    "owner": common["owner"] or opp.owner,
                    "forecast_category": common["forecast_category"],
                },
            )
            return redirect("pipeline:detail", opp.pk)
        except Conflict as exc:
            add_service_error(form, exc)
            conflict, status = True, 409
        except GuanxiError as exc:
            add_service_error(form, exc)
    return render(
        request,
        "pipeline/form.html",
        {
            "form": form,
            "formset": formset,
            "customer": opp.customer,
            "opp": opp,
            "conflict": conflict,
            "title": "edit",
        },
        status=status,
    )


def _close_page(
    request: HtmxHttpRequest, opp: Opportunity, form: Any, kind: str, status: int
) -> HttpResponse:
    return render(request, "pipeline/close.html", {"opp": opp, "form": form, "kind": kind}, status=status)


@login_required
def opportunity_win(request: HtmxHttpRequest, opportunity_id: int) -> HttpResponse:
    user = _user(request)
    opp = selectors.opportunity_get_for_user(user=user, opportunity_id=opportunity_id)
    orders = [
        (o.pk, f"{o.number} · {o.ordered_on:%Y-%m-%d} · ¥{o.amount}")
        for o in Order.objects.filter(customer_id=opp.customer_id).order_by("-ordered_on", "-id")[:50]
    ]
    has_lines = opp.lines.exists()
    form = WinForm(
        request.POST or None, orders=orders, initial={"version": opp.version, "create_order": has_lines}
    )
    status = form_status(request)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            order = (
                Order.objects.filter(pk=data["order"], customer_id=opp.customer_id).first()
                if data.get("order")
                else None
            )
            if data.get("order") and order is None:
                raise ValidationFailed("订单无效", "invalid order", field="order")
            services.opportunity_win(
                actor=user,
                source=Source.UI,
                opportunity=opp,
                version=data["version"],
                order=order,
                create_order=bool(data.get("create_order")) and order is None,
                closed_on=data.get("closed_on"),
            )
            return redirect("pipeline:detail", opp.pk)
        except GuanxiError as exc:
            add_service_error(form, exc)
            status = exc.status if exc.status == 409 else 400
    return _close_page(request, opp, form, "won", status)


@login_required
def opportunity_lose(request: HtmxHttpRequest, opportunity_id: int) -> HttpResponse:
    user = _user(request)
    opp = selectors.opportunity_get_for_user(user=user, opportunity_id=opportunity_id)
    raised = {o.pk: o for o in objection_sel.opportunity_objections(user=user, opportunity_id=opp.pk)}
    form = LoseForm(
        request.POST or None,
        initial={"version": opp.version},
        objections=[
            (o.pk, f"{o.raised_on:%Y-%m-%d} · {o.get_category_display()} · {o.customer_words[:60]}")
            for o in raised.values()
        ],
    )
    status = form_status(request)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.opportunity_lose(
                objection=raised.get(data["objection"]) if data.get("objection") else None,
                actor=user,
                source=Source.UI,
                opportunity=opp,
                version=data["version"],
                reason=data["reason"],
                lost_to=data.get("lost_to") or "",
                note=data.get("note") or "",
                closed_on=data.get("closed_on"),
            )
            return redirect("pipeline:detail", opp.pk)
        except GuanxiError as exc:
            add_service_error(form, exc)
            status = exc.status if exc.status == 409 else 400
    return _close_page(request, opp, form, "lost", status)


@login_required
@require_POST
def opportunity_reopen(request: HtmxHttpRequest, opportunity_id: int) -> HttpResponse:
    user = _user(request)
    opp = selectors.opportunity_get_for_user(user=user, opportunity_id=opportunity_id)
    form = ReopenForm(request.POST)
    version = form.cleaned_data["version"] if form.is_valid() else -1
    services.opportunity_reopen(actor=user, source=Source.UI, opportunity=opp, version=version)
    return redirect("pipeline:detail", opp.pk)


@login_required
@require_POST
def person_set(request: HtmxHttpRequest, opportunity_id: int) -> HttpResponse:
    user = _user(request)
    opp = selectors.opportunity_get_for_user(user=user, opportunity_id=opportunity_id)
    contacts = [(c.pk, c.name) for c in customer_contacts(opp.customer)]
    form = PersonForm(request.POST, contacts=contacts)
    if form.is_valid():
        data = form.cleaned_data
        contact = next(c for c in customer_contacts(opp.customer) if c.pk == data["contact"])
        services.opportunity_person_set(
            actor=user,
            source=Source.UI,
            opportunity=opp,
            contact=contact,
            role=data.get("role") or None,
            stance=data.get("stance") or None,
            engaged=data.get("engaged"),
            note=data.get("note") or "",
        )
        return redirect("pipeline:detail", opp.pk)
    raise ValidationFailed("联系人或角色无效", "invalid contact or role", field="contact")


@login_required
@require_POST
def person_remove(request: HtmxHttpRequest, opportunity_id: int, person_id: int) -> HttpResponse:
    user = _user(request)
    opp = selectors.opportunity_get_for_user(user=user, opportunity_id=opportunity_id)
    services.opportunity_person_remove(actor=user, source=Source.UI, opportunity=opp, person_id=person_id)
    return redirect("pipeline:detail", opp.pk)


@login_required
def customer_card(request: HtmxHttpRequest, customer_id: int) -> HttpResponse:
    """The opportunities card on the customer page (loaded by htmx)."""
    user = _user(request)
    customer = customer_get_for_user(user=user, customer_id=customer_id)
    opps = selectors.customer_opportunities(user=user, customer_id=customer.pk)
    return render(
        request, "pipeline/_customer_card.html", {"customer": customer, "opps": opps, "lang": get_language()}
    )


# --- Forecast and analysis ------------------------------------------------------------------------


@login_required
def forecast_view(request: HtmxHttpRequest) -> HttpResponse:
    user = _user(request)
    form = ForecastForm(request.GET or None, pipelines=_pipeline_choices(), teams=_teams(user))
    data: dict[str, Any] = form.cleaned_data if form.is_bound and form.is_valid() else {}
    kind = data.get("kind") or "quarter"
    f = fc.forecast(
        user=user,
        kind=kind,
        periods=4 if kind == "quarter" else 6,
        group=data.get("group") or "owner",
        filters=selectors.DealFilters(pipeline_id=data.get("pipeline"), team_id=data.get("team")),
    )
    return render(request, "pipeline/forecast.html", {"form": form, "f": f})


@login_required
def analysis_view(request: HtmxHttpRequest) -> HttpResponse:
    user = _user(request)
    form, filters, query = _filters(request, user)
    a = fc.analysis(user=user, filters=filters)
    return render(
        request, "pipeline/analysis.html", {"form": form, "a": a, "lang": get_language(), "query": query}
    )


# --- Settings (administrators) --------------------------------------------------------------------


@admin_required
def manage(request: HtmxHttpRequest) -> HttpResponse:
    pipelines = list(Pipeline.objects.order_by("position", "id").prefetch_related("stages"))
    return render(request, "pipeline/manage.html", {"pipelines": pipelines, "lang": get_language()})


@admin_required
def pipeline_form(request: HtmxHttpRequest, pipeline_id: int | None = None) -> HttpResponse:
    user = _user(request)
    pipeline = Pipeline.objects.filter(pk=pipeline_id).first() if pipeline_id else None
    if pipeline_id and pipeline is None:
        return render(request, "404.html", status=404)
    initial = (
        {
            "name": pipeline.name,
            "name_en": pipeline.name_en,
            "is_default": pipeline.is_default,
            "is_active": pipeline.is_active,
        }
        if pipeline
        else {}
    )
    form = PipelineForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            if pipeline is None:
                services.pipeline_create(
                    actor=user,
                    source=Source.UI,
                    name=form.cleaned_data["name"],
                    name_en=form.cleaned_data["name_en"],
                    is_default=form.cleaned_data["is_default"],
                )
            else:
                services.pipeline_update(actor=user, source=Source.UI, pipeline=pipeline, **form.cleaned_data)
            return redirect("pipeline:manage")
        except GuanxiError as exc:
            add_service_error(form, exc)
    return render(
        request,
        "pipeline/manage_form.html",
        {"form": form, "back": reverse("pipeline:manage")},
        status=form_status(request),
    )


@admin_required
def stage_form(request: HtmxHttpRequest, pipeline_id: int, stage_id: int | None = None) -> HttpResponse:
    user = _user(request)
    pipeline = Pipeline.objects.filter(pk=pipeline_id).first()
    stage = Stage.objects.filter(pk=stage_id, pipeline_id=pipeline_id).first() if stage_id else None
    if pipeline is None or (stage_id and stage is None):
        return render(request, "404.html", status=404)
    initial: dict[str, Any] = {"probability": 10, "forecast_category": "pipeline"}
    if stage is not None:
        initial = {
            k: getattr(stage, k)
            for k in ("name", "name_en", "probability", "forecast_category", "position", "is_active")
        }
    form = StageForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if stage is None:
                services.stage_create(
                    actor=user,
                    source=Source.UI,
                    pipeline=pipeline,
                    name=data["name"],
                    name_en=data["name_en"],
                    probability=data["probability"],
                    forecast_category=data["forecast_category"],
                    position=data.get("position"),
                )
            else:
                services.stage_update(actor=user, source=Source.UI, stage=stage, **data)
            return redirect("pipeline:manage")
        except GuanxiError as exc:
            add_service_error(form, exc)
    return render(
        request,
        "pipeline/manage_form.html",
        {"form": form, "back": reverse("pipeline:manage")},
        status=form_status(request),
    )
