"""Value pages: dashboards (distribution, trend, Pareto, RFM, structure, loyalty/profit/product),
movement, pruning candidates, the customer's value card with its path up, and the settings.

Charts: each page renders its numbers once as a table (with drill-down links to the customer list)
and once as JSON (``json_script``) that ``static/guanxi/value.js`` draws with the vendored ECharts.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from guanxi.accounts.models import User
from guanxi.accounts.views import admin_required
from guanxi.audit.models import Source
from guanxi.core.errors import GuanxiError
from guanxi.core.forms import form_status, save_form
from guanxi.core.http import HtmxHttpRequest
from guanxi.customers.selectors import customer_get_for_user
from guanxi.value import analytics, selectors, services
from guanxi.value.choices import CLASS_ORDER, Lifecycle, RfmSegment, Tier
from guanxi.value.config import config_get, tier_rules
from guanxi.value.forms import (
    ConfigForm,
    MovementFilter,
    OverrideForm,
    PolicyForm,
    StructureFilter,
    TierRuleForm,
)
from guanxi.value.models import INDICATORS, ServicePolicy, TierRule
from guanxi.value.selectors import INDICATOR_LABELS


def _user(request: HtmxHttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def drill(**filters: str) -> str:
    """The customer list filtered accordingly (the dashboards' drill-down)."""
    return reverse("customers:list") + "?" + urlencode({k: v for k, v in filters.items() if v})


def _labels() -> dict[str, dict[str, str]]:
    return {
        "tiers": {k: str(v) for k, v in Tier.choices} | {"": _("未评估")},
        "lifecycle": {k: str(v) for k, v in Lifecycle.choices} | {"": _("未评估")},
        "rfm": {k: str(v) for k, v in RfmSegment.choices},
        "indicators": {k: str(v) for k, v in INDICATOR_LABELS.items()},
    }


def _page(
    request: HtmxHttpRequest, template: str, context: dict[str, Any], charts: list[dict[str, Any]]
) -> HttpResponse:
    user = _user(request)
    context |= {
        "charts": charts,
        "echarts_src": static("vendor/echarts-6.1.0.min.js"),
        "can_classify": user.is_admin or user.is_manager,
        "labels": _labels(),
    }
    return render(request, template, context)


@login_required
@require_GET
def overview(request: HtmxHttpRequest) -> HttpResponse:
    user = _user(request)
    dist = analytics.distribution(user)
    trend = analytics.trend(user)
    labels = _labels()
    class_rows = [
        {
            "key": c,
            "label": c,
            "n": dist["classes"].get(c, 0),
            "revenue": dist["revenue"].get(c, 0.0),
            "url": drill(value_class=c),
        }
        for c in CLASS_ORDER
    ]
    tier_rows = [
        {"key": t, "label": labels["tiers"][t], "n": dist["tiers"].get(t, 0), "url": drill(tier=t)}
        for t in analytics.TIER_ORDER
    ]
    funnel = [
        {
            "key": s,
            "label": labels["lifecycle"][s],
            "n": dist["lifecycle"].get(s, 0),
            "url": drill(lifecycle=s),
        }
        for s in analytics.LIFECYCLE_ORDER
    ]
    matrix = [
        {
            "value_class": c,
            "cells": [
                {"tier": t, "n": dist["matrix"].get(f"{c}|{t}", 0), "url": drill(value_class=c, tier=t)}
                for t in analytics.TIER_ORDER
            ],
        }
        for c in CLASS_ORDER
    ]
    charts = [
        {
            "id": "chart-classes",
            "type": "bar",
            "categories": [r["label"] for r in class_rows],
            "series": [{"name": _("客户数"), "data": [r["n"] for r in class_rows]}],
            "links": [r["url"] for r in class_rows],
        },
        {
            "id": "chart-tiers",
            "type": "pie",
            "categories": [r["label"] for r in tier_rows],
            "series": [{"name": _("层级"), "data": [r["n"] for r in tier_rows]}],
            "links": [r["url"] for r in tier_rows],
        },
        {
            "id": "chart-funnel",
            "type": "funnel",
            "categories": [r["label"] for r in funnel],
            "series": [{"name": _("生命周期"), "data": [r["n"] for r in funnel]}],
            "links": [r["url"] for r in funnel],
        },
        {
            "id": "chart-trend",
            "type": "line",
            "categories": trend["periods"],
            "series": [{"name": c, "data": trend["series"][c]} for c in CLASS_ORDER]
            + [
                {"name": _("上升"), "data": trend["up"], "bar": True},
                {"name": _("下降"), "data": trend["down"], "bar": True},
            ],
            "links": [reverse("value:movement") + f"?run={r}" for r in trend["runs"]],
        },
    ]
    return _page(
        request,
        "value/overview.html",
        {
            "dist": dist,
            "class_rows": class_rows,
            "tier_rows": tier_rows,
            "funnel": funnel,
            "matrix": matrix,
            "trend": trend,
            "trend_rows": list(zip(trend["periods"], trend["runs"], trend["up"], trend["down"], strict=True)),
            "run": selectors.latest_run(),
            "tiers": analytics.TIER_ORDER,
        },
        charts,
    )


@login_required
@require_GET
def pareto(request: HtmxHttpRequest) -> HttpResponse:
    user = _user(request)
    run = selectors.latest_run()
    data = analytics.pareto(user, run)
    points = data["points"]
    marks = [p for p in points if p["pct"] in (1.0, 5.0, 10.0, 20.0, 30.0, 50.0, 80.0, 100.0)]
    charts = [
        {
            "id": "chart-pareto",
            "type": "line",
            "categories": [f"{p['pct']:g}%" for p in points],
            "series": [
                {"name": _("销售额累计占比%"), "data": [p["revenue"] for p in points]},
                {"name": _("利润累计占比%"), "data": [p["profit"] for p in points]},
            ],
            "links": [],
            "percent": True,
        }
    ]
    return _page(
        request,
        "value/pareto.html",
        {"data": data, "marks": marks, "run": run, "class_a_url": drill(value_class="A")},
        charts,
    )


@login_required
@require_GET
def rfm(request: HtmxHttpRequest) -> HttpResponse:
    user = _user(request)
    run = selectors.latest_run()
    data = analytics.rfm_grid(user, run)
    labels = _labels()
    grid = [
        {"r": r, "cells": [{"f": f, **data["cells"][f"{r}{f}"]} for f in range(1, 6)]}
        for r in range(5, 0, -1)
    ]
    segments = [
        {"key": k, "label": labels["rfm"][k], "n": n, "url": drill(rfm_segment=k)}
        for k, n in data["segments"].items()
    ]
    charts = [
        {
            "id": "chart-rfm",
            "type": "heatmap",
            "x": [str(f) for f in range(1, 6)],
            "y": [str(r) for r in range(1, 6)],
            "data": [[f - 1, r - 1, data["cells"][f"{r}{f}"]["n"]] for r in range(1, 6) for f in range(1, 6)],
            "xname": "F",
            "yname": "R",
        },
        {
            "id": "chart-segments",
            "type": "bar",
            "categories": [s["label"] for s in segments],
            "series": [{"name": _("客户数"), "data": [s["n"] for s in segments]}],
            "links": [s["url"] for s in segments],
        },
    ]
    return _page(request, "value/rfm.html", {"grid": grid, "segments": segments, "run": run}, charts)


@login_required
@require_GET
def structure(request: HtmxHttpRequest) -> HttpResponse:
    user = _user(request)
    form = StructureFilter(request.GET)
    if not form.is_valid():
        raise Http404
    dimension = form.cleaned_data["dimension"] or "province"
    data = analytics.structure(user, dimension)
    for g in data["groups"]:
        g["url"] = drill(**{dimension: g["key"]}) if g["key"] else ""
        g["class_urls"] = [
            {
                "c": c,
                "n": g["classes"][c],
                "url": drill(**{dimension: g["key"], "value_class": c}) if g["key"] else "",
            }
            for c in CLASS_ORDER
        ]
    charts = [
        {
            "id": "chart-structure",
            "type": "bar",
            "stack": True,
            "categories": [g["label"] for g in data["groups"]],
            "series": [{"name": c, "data": [g["classes"][c] for g in data["groups"]]} for c in CLASS_ORDER],
            "links": [g["url"] for g in data["groups"]],
        }
    ]
    dims = [(k, _(v)) for k, v in analytics.DIMENSIONS.items()]
    return _page(
        request, "value/structure.html", {"data": data, "dimension": dimension, "dims": dims}, charts
    )


@login_required
@require_GET
def analysis(request: HtmxHttpRequest) -> HttpResponse:
    user = _user(request)
    run = selectors.latest_run()
    loyal = analytics.loyalty(user, run)
    prof = analytics.profit(user, run)
    prod = analytics.products(user, run)
    for row in loyal["classes"]:
        row["url"] = drill(value_class=row["value_class"])
    for row in prof["classes"]:
        row["url"] = drill(value_class=row["value_class"])
    charts = [
        {
            "id": "chart-repeat",
            "type": "bar",
            "categories": [r["value_class"] for r in loyal["classes"]],
            "series": [{"name": _("复购率%"), "data": [r["rate"] for r in loyal["classes"]]}],
            "links": [r["url"] for r in loyal["classes"]],
        },
        {
            "id": "chart-tenure",
            "type": "bar",
            "categories": [t["label"] for t in loyal["tenure"]],
            "series": [{"name": _("客户数"), "data": [t["n"] for t in loyal["tenure"]]}],
            "links": [],
        },
        {
            "id": "chart-profit",
            "type": "bar",
            "categories": [r["value_class"] for r in prof["classes"]],
            "series": [
                {"name": _("销售额"), "data": [r["revenue"] for r in prof["classes"]]},
                {"name": _("利润"), "data": [r["profit"] for r in prof["classes"]]},
            ],
            "links": [r["url"] for r in prof["classes"]],
        },
        {
            "id": "chart-products",
            "type": "bar",
            "stack": True,
            "categories": prod["categories"],
            "series": [{"name": c, "data": prod["series"].get(c, [])} for c in CLASS_ORDER],
            "links": [],
        },
    ]
    product_rows = [
        {"category": cat, "values": [prod["series"][c][i] for c in CLASS_ORDER]}
        for i, cat in enumerate(prod["categories"])
    ]
    return _page(
        request,
        "value/analysis.html",
        {"loyal": loyal, "prof": prof, "prod": prod, "product_rows": product_rows, "run": run},
        charts,
    )


@login_required
@require_GET
def movement(request: HtmxHttpRequest) -> HttpResponse:
    user = _user(request)
    form = MovementFilter(request.GET)
    if not form.is_valid():
        raise Http404
    d = form.cleaned_data
    try:
        run = selectors.run_get(d["run"])
    except GuanxiError:
        raise Http404 from None
    rows = (
        selectors.movement_list(user=user, run=run, direction=d["direction"], mine=d["mine"]) if run else []
    )
    return _page(
        request,
        "value/movement.html",
        {
            "rows": rows,
            "run": run,
            "runs": selectors.run_list(),
            "direction": d["direction"],
            "mine": d["mine"],
        },
        [],
    )


@login_required
@require_GET
def pruning(request: HtmxHttpRequest) -> HttpResponse:
    user = _user(request)
    run = selectors.latest_run()
    rows = selectors.pruning_list(user=user, run=run) if run else []
    return _page(request, "value/pruning.html", {"rows": rows, "run": run}, [])


@login_required
@require_POST
def classify(request: HtmxHttpRequest) -> HttpResponse:
    user = _user(request)
    if not (user.is_admin or user.is_manager):
        raise Http404
    services.classify_request(actor=user, source=Source.UI)
    messages.success(request, _("已开始重新评估，完成后刷新即可看到结果。"))
    return redirect("value:overview")


@login_required
@require_GET
def customer_card(request: HtmxHttpRequest, customer_id: int) -> HttpResponse:
    """The customer page's value section (loaded by htmx): class, tier, lifecycle, score, indicators,
    service terms and the path up."""
    user = _user(request)
    customer = customer_get_for_user(user=user, customer_id=customer_id)
    value = selectors.customer_value(customer=customer)
    return render(
        request,
        "value/_customer_card.html",
        {
            "v": value,
            "customer": customer,
            "labels": _labels(),
            "can_override": user.is_admin or user.is_manager,
            "override_form": OverrideForm(
                initial={
                    "value_class": customer.value_class_override,
                    "reason": customer.value_override_reason,
                }
            ),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def customer_override(request: HtmxHttpRequest, customer_id: int) -> HttpResponse:
    user = _user(request)
    customer = customer_get_for_user(user=user, customer_id=customer_id)
    if not (user.is_admin or user.is_manager):
        raise Http404
    form = OverrideForm(
        request.POST or None,
        initial={"value_class": customer.value_class_override, "reason": customer.value_override_reason},
    )
    saved = save_form(
        request,
        form,
        lambda d: services.customer_class_override(
            actor=user, source=Source.UI, customer=customer, value_class=d["value_class"], reason=d["reason"]
        ),
    )
    if saved is not None:
        return redirect("customers:detail", customer.pk)
    return render(
        request, "value/override.html", {"form": form, "customer": customer}, status=form_status(request)
    )


@admin_required
@require_http_methods(["GET", "POST"])
def settings_page(request: HtmxHttpRequest) -> HttpResponse:
    user = _user(request)
    config = config_get()
    form = ConfigForm(request.POST or None, instance=config)
    saved = save_form(request, form, lambda d: services.config_update(actor=user, source=Source.UI, **d))
    if saved is not None:
        messages.success(request, _("已保存，下次评估生效。"))
        return redirect("value:settings")
    weights = [(name, str(INDICATOR_LABELS[name])) for name in INDICATORS]
    return render(
        request,
        "value/settings.html",
        {
            "form": form,
            "rules": tier_rules(),
            "policies": ServicePolicy.objects.all(),
            "weights": weights,
            "labels": _labels(),
        },
        status=form_status(request),
    )


@admin_required
@require_http_methods(["GET", "POST"])
def tier_rule_edit(request: HtmxHttpRequest, rule_id: int | None = None) -> HttpResponse:
    user = _user(request)
    rule = get_object_or_404(TierRule, pk=rule_id) if rule_id else None
    if request.method == "POST" and rule is not None and request.POST.get("delete"):
        services.tier_rule_delete(actor=user, source=Source.UI, rule=rule)
        return redirect("value:settings")
    form = TierRuleForm(request.POST or None, instance=rule)
    saved = save_form(
        request, form, lambda d: services.tier_rule_save(actor=user, source=Source.UI, rule=rule, **d)
    )
    if saved is not None:
        return redirect("value:settings")
    return render(
        request,
        "value/edit_form.html",
        {"form": form, "title": _("层级规则"), "obj": rule},
        status=form_status(request),
    )


@admin_required
@require_http_methods(["GET", "POST"])
def policy_edit(request: HtmxHttpRequest, policy_id: int | None = None) -> HttpResponse:
    user = _user(request)
    policy = get_object_or_404(ServicePolicy, pk=policy_id) if policy_id else None
    if request.method == "POST" and policy is not None and request.POST.get("delete"):
        services.service_policy_delete(actor=user, source=Source.UI, policy=policy)
        return redirect("value:settings")
    form = PolicyForm(request.POST or None, instance=policy)
    saved = save_form(
        request,
        form,
        lambda d: services.service_policy_save(actor=user, source=Source.UI, policy=policy, **d),
    )
    if saved is not None:
        return redirect("value:settings")
    return render(
        request,
        "value/edit_form.html",
        {"form": form, "title": _("服务政策"), "obj": policy},
        status=form_status(request),
    )
