"""JSON endpoints of the value engine: a customer's value and path up, the class override, the
summary the dashboards show, runs and their movement, re-evaluation on demand, configuration."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status
from pydantic import ConfigDict

from guanxi.audit.models import Source
from guanxi.core.api import ERRORS, Id, actor
from guanxi.core.errors import PermissionDenied
from guanxi.customers.selectors import customer_get_for_user
from guanxi.value import analytics, selectors, services
from guanxi.value.config import config_get
from guanxi.value.models import INDICATORS, ClassificationRun, ServicePolicy

router = Router(tags=["value"])


class Strict(Schema):
    model_config = ConfigDict(extra="forbid")


class ValueTermsOut(Schema):
    contact_cadence_days: int | None
    visit_every_days: int | None
    complaint_response_hours: int
    complaint_resolution_hours: int
    discount_ceiling_pct: Decimal | None
    value_added_services: list[str]


class ValueIndicatorOut(Schema):
    name: str
    rank: int = Field(description="percentile rank 0–10000 (basis points)")
    weight: int


class ValueGapOut(Schema):
    name: str
    rank: int
    target: int
    gap: int


class ValueSnapshotOut(Schema):
    run_id: int
    period: str
    score: int
    computed_class: str
    value_class: str
    tier: str
    lifecycle: str
    rfm_r: int
    rfm_f: int
    rfm_m: int
    rfm_segment: str
    revenue_cents: int
    profit_cents: int
    orders: int
    recency_days: int | None
    growth_permille: int
    touches: int
    ltv_cents: int
    prune: bool
    movement: int


class ValueCustomerValueOut(Schema):
    customer_id: int
    value_class: str
    tier: str
    lifecycle: str
    value_score: int | None
    rfm_segment: str
    override: str
    override_reason: str
    latest: ValueSnapshotOut | None
    indicators: list[ValueIndicatorOut]
    next_class: str | None
    score_gap: int | None
    weakest: list[ValueGapOut]
    terms: ValueTermsOut
    history: list[ValueSnapshotOut]


def _snap(s: Any) -> dict[str, Any]:
    return {
        "run_id": s.run_id,
        "period": s.run.period,
        "score": s.score,
        "computed_class": s.computed_class,
        "value_class": s.value_class,
        "tier": s.tier,
        "lifecycle": s.lifecycle,
        "rfm_r": s.rfm_r,
        "rfm_f": s.rfm_f,
        "rfm_m": s.rfm_m,
        "rfm_segment": s.rfm_segment,
        "revenue_cents": s.revenue,
        "profit_cents": s.profit,
        "orders": s.orders,
        "recency_days": s.recency_days,
        "growth_permille": s.growth,
        "touches": s.touches,
        "ltv_cents": s.ltv,
        "prune": s.prune,
        "movement": s.movement,
    }


def _value_out(customer: Any) -> dict[str, Any]:
    v = selectors.customer_value(customer=customer)
    t = v.terms
    return {
        "customer_id": customer.pk,
        "value_class": customer.value_class,
        "tier": customer.tier,
        "lifecycle": customer.lifecycle,
        "value_score": v.score,
        "rfm_segment": customer.rfm_segment,
        "override": customer.value_class_override,
        "override_reason": customer.value_override_reason,
        "latest": _snap(v.snapshot) if v.snapshot else None,
        "indicators": [{"name": i["name"], "rank": i["rank"], "weight": i["weight"]} for i in v.indicators],
        "next_class": v.next_class,
        "score_gap": v.score_gap,
        "weakest": [{"name": g.name, "rank": g.rank, "target": g.target, "gap": g.gap} for g in v.weakest],
        "terms": {**t.__dict__, "value_added_services": list(t.value_added_services)},
        "history": [_snap(s) for s in v.history],
    }


@router.get(
    "/value/customers/{customer_id}",
    response={200: ValueCustomerValueOut, **ERRORS},
    summary="A customer's value: class, tier, lifecycle, indicators, path up, service terms",
)
def customer_value(request: HttpRequest, customer_id: Id) -> dict[str, Any]:
    customer = customer_get_for_user(user=actor(request), customer_id=customer_id)
    return _value_out(customer)


class ValueOverrideIn(Strict):
    value_class: Literal["", "A", "B", "C", "D"] = ""  # empty: clear the manual class
    reason: Annotated[str, Field(max_length=300)] = ""


@router.put(
    "/value/customers/{customer_id}/override",
    response={200: ValueCustomerValueOut, **ERRORS},
    summary="Set or clear (empty class) a manual class with its reason (managers, administrators)",
)
def customer_override(request: HttpRequest, customer_id: Id, data: ValueOverrideIn) -> dict[str, Any]:
    user = actor(request)
    customer = customer_get_for_user(user=user, customer_id=customer_id)
    customer = services.customer_class_override(
        actor=user, source=Source.API, customer=customer, value_class=data.value_class, reason=data.reason
    )
    return _value_out(customer)


class ValueSummaryOut(Schema):
    total: int
    classes: dict[str, int]
    tiers: dict[str, int]
    lifecycle: dict[str, int]
    run_id: int | None
    period: str | None


@router.get(
    "/value/summary",
    response={200: ValueSummaryOut, **ERRORS},
    summary="Your visible customers by class, tier and lifecycle state",
)
def summary(request: HttpRequest) -> dict[str, Any]:
    dist = analytics.distribution(actor(request))
    run = selectors.latest_run()
    return {
        "total": dist["total"],
        "classes": {k: v for k, v in dist["classes"].items() if k},
        "tiers": {k: v for k, v in dist["tiers"].items() if k},
        "lifecycle": {k: v for k, v in dist["lifecycle"].items() if k},
        "run_id": run.pk if run else None,
        "period": run.period if run else None,
    }


class ValueRunOut(Schema):
    id: int
    period: str
    as_of: dt.date
    population: int
    moved_up: int
    moved_down: int
    tasks_created: int
    finished_at: dt.datetime | None


def _run(r: ClassificationRun) -> dict[str, Any]:
    return {
        f: getattr(r, f)
        for f in ("period", "as_of", "population", "moved_up", "moved_down", "tasks_created", "finished_at")
    } | {"id": r.pk}


@router.get("/value/runs", response={200: list[ValueRunOut], **ERRORS}, summary="Recent re-evaluations")
def runs(request: HttpRequest) -> list[dict[str, Any]]:
    actor(request)
    return [_run(r) for r in selectors.run_list()]


class ValueMoveOut(Schema):
    customer_id: int
    name: str
    prev_class: str
    value_class: str
    movement: int
    score: int
    prev_score: int | None
    why: list[dict[str, Any]]


@router.get(
    "/value/runs/{run_id}/movement",
    response={200: list[ValueMoveOut], **ERRORS},
    summary="Visible customers whose class moved in a run, and the indicators that moved most",
)
def movement(
    request: HttpRequest, run_id: Id, direction: Literal["", "up", "down"] = ""
) -> list[dict[str, Any]]:
    user = actor(request)
    run = selectors.run_get(run_id)
    assert run is not None
    return [
        {
            "customer_id": r["customer"].pk,
            "name": r["customer"].name,
            "prev_class": r["snapshot"].prev_class,
            "value_class": r["snapshot"].value_class,
            "movement": r["snapshot"].movement,
            "score": r["snapshot"].score,
            "prev_score": r["snapshot"].prev_score,
            "why": [{"name": w["name"], "delta": w["delta"]} for w in r["why"]],
        }
        for r in selectors.movement_list(user=user, run=run, direction=direction)
    ]


class ValueJobOut(Schema):
    job_id: str


@router.post(
    "/value/classify",
    response={202: ValueJobOut, **ERRORS},
    summary="Re-evaluate every customer now, in the background (managers, administrators)",
)
def classify(request: HttpRequest) -> Status[dict[str, str]]:
    job = services.classify_request(actor=actor(request), source=Source.API)
    return Status(202, {"job_id": job})


class ValueConfigIO(Schema):
    weight_revenue: int
    weight_profit: int
    weight_frequency: int
    weight_recency: int
    weight_growth: int
    weight_credit: int
    weight_cost_to_serve: int
    weight_referral: int
    mode: Literal["shares", "thresholds"]
    share_a: int
    share_b: int
    share_c: int
    share_d: int
    threshold_a: Decimal
    threshold_b: Decimal
    threshold_c: Decimal
    window_months: int
    new_days: int
    dormant_factor: Decimal
    lost_factor: Decimal
    default_rhythm_days: int
    fast_growth_pct: int
    default_margin_pct: int
    touch_cost: Decimal
    visit_touches: int


class ValueConfigPatch(Strict):
    weight_revenue: int | None = None
    weight_profit: int | None = None
    weight_frequency: int | None = None
    weight_recency: int | None = None
    weight_growth: int | None = None
    weight_credit: int | None = None
    weight_cost_to_serve: int | None = None
    weight_referral: int | None = None
    mode: Literal["shares", "thresholds"] | None = None
    share_a: int | None = None
    share_b: int | None = None
    share_c: int | None = None
    share_d: int | None = None
    threshold_a: Decimal | None = None
    threshold_b: Decimal | None = None
    threshold_c: Decimal | None = None
    window_months: int | None = None
    new_days: int | None = None
    dormant_factor: Decimal | None = None
    lost_factor: Decimal | None = None
    default_rhythm_days: int | None = None
    fast_growth_pct: int | None = None
    default_margin_pct: int | None = None
    touch_cost: Decimal | None = None
    visit_touches: int | None = None


def _config_out() -> dict[str, Any]:
    config = config_get()
    return {f: getattr(config, f) for f in services.CONFIG_FIELDS}


@router.get(
    "/value/config", response={200: ValueConfigIO, **ERRORS}, summary="The value engine's configuration"
)
def get_config(request: HttpRequest) -> dict[str, Any]:
    if not actor(request).is_admin:
        raise PermissionDenied("只有管理员可以查看", "administrators only")
    return _config_out()


@router.patch(
    "/value/config",
    response={200: ValueConfigIO, **ERRORS},
    summary="Change weights, class shares/thresholds, lifecycle parameters (administrators)",
)
def patch_config(request: HttpRequest, data: ValueConfigPatch) -> dict[str, Any]:
    values = {k: v for k, v in data.dict().items() if v is not None}
    services.config_update(actor=actor(request), source=Source.API, **values)
    return _config_out()


class ValuePolicyOut(Schema):
    id: int
    value_class: str
    tier: str
    terms: ValueTermsOut


@router.get(
    "/value/policies",
    response={200: list[ValuePolicyOut], **ERRORS},
    summary="Service policies per class/tier",
)
def policies(request: HttpRequest) -> list[dict[str, Any]]:
    from guanxi.value.policy import terms_of

    actor(request)
    out = []
    for p in ServicePolicy.objects.all():
        t = terms_of(p)
        out.append(
            {
                "id": p.pk,
                "value_class": p.value_class,
                "tier": p.tier,
                "terms": {**t.__dict__, "value_added_services": list(t.value_added_services)},
            }
        )
    return out


__all__ = ["INDICATORS", "router"]
