"""JSON endpoints of the pipeline: pipelines and stages, opportunities (list, read, create, edit,
move, win, lose, reopen, people, stage history), the board, the forecast and the analysis.

Thin and typed: reads through the selectors (a deal outside the caller's scope is a 404), writes
through the services. Every write of an opportunity carries the ``version`` the caller read; an
older version answers 409 ``stale_version`` and changes nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from pydantic import ConfigDict

from guanxi.accounts.models import User
from guanxi.audit.models import Source
from guanxi.core.api import ERRORS, Id, actor
from guanxi.core.errors import NotFound, ValidationFailed
from guanxi.customers.selectors import contact_get_for_user, customer_get_for_user
from guanxi.pipeline import forecast as fc
from guanxi.pipeline import selectors, services
from guanxi.pipeline.models import Opportunity, StageStay
from guanxi.pipeline.services import UNSET, DealLine
from guanxi.relations.models import Referral
from guanxi.sales.models import Order, Product
from guanxi.service.selectors import objections as objection_sel
from guanxi.service.selectors import promises as promise_sel

router = Router(tags=["pipeline"])

SourceLit = Literal[
    "referral", "existing", "exhibition", "cold_call", "website", "advertising", "partner", "other"
]
CategoryLit = Literal["commit", "best_case", "pipeline", "omitted"]
ReasonLit = Literal[
    "price",
    "quality",
    "style",
    "timing",
    "competitor",
    "authority",
    "need",
    "service",
    "no_decision",
    "other",
]
RoleLit = Literal[
    "decision_maker", "influencer", "user", "technical_evaluator", "purchaser", "gatekeeper", "sponsor"
]
StanceLit = Literal["unknown", "supporter", "neutral", "opponent"]
PeriodLit = Literal["this_month", "next_month", "this_quarter", "next_quarter", "overdue"]
Text200 = Annotated[str, Field(max_length=200)]
Text5000 = Annotated[str, Field(max_length=5000)]


class Strict(Schema):
    model_config = ConfigDict(extra="forbid")


class Ref(Schema):
    id: int
    name: str


class StageOut(Schema):
    id: int
    name: str
    name_en: str
    position: int
    kind: str
    probability: int
    forecast_category: str
    is_active: bool


class PipelineOut(Schema):
    id: int
    name: str
    name_en: str
    is_default: bool
    stages: list[StageOut]


class DealLineIn(Strict):
    product_id: Id
    quantity: Decimal
    unit_price: Decimal | None = None


class DealLineOut(Schema):
    product: Ref
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal


class OpportunityOut(Schema):
    id: int
    version: int
    customer: Ref
    name: str
    pipeline_id: Id
    stage: StageOut
    status: str
    probability: int
    amount: Decimal
    weighted_amount: Decimal
    expected_close_on: dt.date
    owner: Ref
    team_id: int | None
    source: str
    referral_id: int | None
    competitors: str
    next_step: str
    next_step_on: dt.date | None
    forecast_category: str
    description: str
    decision_maker_engaged: bool
    stage_entered_at: dt.datetime
    closed_on: dt.date | None
    lost_reason: str
    lost_to: str
    lost_note: str
    lost_objection_id: int | None
    order_id: int | None
    created_at: dt.datetime
    updated_at: dt.datetime


class DealObjectionOut(Schema):
    id: int
    category: str
    customer_words: str
    judgement: str
    outcome: str
    raised_on: dt.date


class DealPromiseOut(Schema):
    id: int
    what: str
    status: str
    due_on: dt.date
    promised_by: Ref


class OpportunityDetailOut(OpportunityOut):
    lines: list[DealLineOut]
    objections: list[DealObjectionOut]
    promises: list[DealPromiseOut]


class OpportunityPage(Schema):
    items: list[OpportunityOut]
    next_cursor: str | None


def _stage_out(s: Any) -> dict[str, Any]:
    return {k: getattr(s, k) for k in StageOut.model_fields}


def opportunity_out(o: Opportunity) -> dict[str, Any]:
    return {
        "id": o.pk,
        "version": o.version,
        "customer": {"id": o.customer_id, "name": o.customer.name},
        "name": o.name,
        "pipeline_id": o.pipeline_id,
        "stage": _stage_out(o.stage),
        "status": o.status,
        "probability": o.probability,
        "amount": o.amount,
        "weighted_amount": o.weighted_amount,
        "expected_close_on": o.expected_close_on,
        "owner": {"id": o.owner_id, "name": str(o.owner)},
        "team_id": o.team_id,
        "source": o.source,
        "referral_id": o.referral_id,
        "competitors": o.competitors,
        "next_step": o.next_step,
        "next_step_on": o.next_step_on,
        "forecast_category": o.forecast_category,
        "description": o.description,
        "decision_maker_engaged": o.decision_maker_engaged,
        "stage_entered_at": o.stage_entered_at,
        "closed_on": o.closed_on,
        "lost_reason": o.lost_reason,
        "lost_to": o.lost_to,
        "lost_note": o.lost_note,
        "lost_objection_id": o.lost_objection_id,
        "order_id": o.order_id,
        "created_at": o.created_at,
        "updated_at": o.updated_at,
    }


def _detail(o: Opportunity, user: User) -> dict[str, Any]:
    """The deal with its product lines, the objections raised in the sale and the promises made."""
    lines = [
        {
            "product": {"id": ln.product_id, "name": ln.product.name},
            "quantity": ln.quantity,
            "unit_price": ln.unit_price,
            "amount": ln.amount,
        }
        for ln in o.lines.select_related("product")
    ]
    objections = [
        {k: getattr(ob, k) for k in DealObjectionOut.model_fields}
        for ob in objection_sel.opportunity_objections(user=user, opportunity_id=o.pk)
    ]
    promises = [
        {
            "id": p.pk,
            "what": p.what,
            "status": p.status,
            "due_on": p.due_on,
            "promised_by": {"id": p.promised_by_id, "name": str(p.promised_by)},
        }
        for p in promise_sel.opportunity_promises(user=user, opportunity_id=o.pk)
    ]
    return {**opportunity_out(o), "lines": lines, "objections": objections, "promises": promises}


def _reload(user: User, opp: Opportunity) -> dict[str, Any]:
    return _detail(selectors.opportunity_get_for_user(user=user, opportunity_id=opp.pk), user)


# --- Pipelines ------------------------------------------------------------------------------------


@router.get(
    "/pipelines", response={200: list[PipelineOut], **ERRORS}, summary="Active pipelines and their stages"
)
def list_pipelines(request: HttpRequest) -> list[dict[str, Any]]:
    return [
        {
            "id": p.pk,
            "name": p.name,
            "name_en": p.name_en,
            "is_default": p.is_default,
            "stages": [_stage_out(s) for s in p.active_stages],  # type: ignore[attr-defined]
        }
        for p in selectors.pipelines_active()
    ]


# --- Opportunities --------------------------------------------------------------------------------


class ListFilters(Schema):
    pipeline_id: Id | None = None
    owner_id: Id | None = None
    team_id: Id | None = None
    customer_id: Id | None = None
    stage_id: Id | None = None
    status: Literal["open", "won", "lost"] | None = None
    source: SourceLit | None = None
    close_from: dt.date | None = None
    close_to: dt.date | None = None
    q: Annotated[str, Field(max_length=100)] = ""
    sort: Literal["close", "created"] = "close"
    cursor: Annotated[str, Field(max_length=500)] | None = None
    limit: Annotated[int, Field(ge=1, le=200)] = 50


@router.get(
    "/opportunities",
    response={200: OpportunityPage, **ERRORS},
    summary="Opportunities you may see (keyset pages: pass next_cursor back as cursor)",
)
def list_opportunities(request: HttpRequest, filters: Query[ListFilters]) -> dict[str, Any]:
    f = selectors.DealFilters(
        pipeline_id=filters.pipeline_id,
        owner_id=filters.owner_id,
        team_id=filters.team_id,
        customer_id=filters.customer_id,
        stage_id=filters.stage_id,
        status=filters.status or "",
        source=filters.source or "",
        close_from=filters.close_from,
        close_to=filters.close_to,
        q=filters.q,
    )
    page = selectors.opportunity_list(
        user=actor(request), filters=f, sort=filters.sort, cursor=filters.cursor, size=filters.limit
    )
    return {"items": [opportunity_out(o) for o in page.items], "next_cursor": page.next_cursor}


class OpportunityIn(Strict):
    customer_id: Id
    name: Annotated[str, Field(min_length=1, max_length=200)]
    expected_close_on: dt.date
    pipeline_id: Id | None = None
    stage_id: Id | None = None
    amount: Decimal | None = None
    lines: Annotated[list[DealLineIn], Field(max_length=100)] | None = None
    owner_id: Id | None = None
    probability: Annotated[int, Field(ge=0, le=100)] | None = None
    source: SourceLit | None = None
    referral_id: Id | None = None
    competitors: Text200 = ""
    next_step: Text200 = ""
    next_step_on: dt.date | None = None
    forecast_category: CategoryLit | None = None
    description: Text5000 = ""


def _products(lines: list[DealLineIn] | None) -> list[DealLine] | None:
    if lines is None:
        return None
    products = {p.pk: p for p in Product.objects.filter(pk__in=[ln.product_id for ln in lines])}
    out = []
    for ln in lines:
        product = products.get(ln.product_id)
        if product is None:
            raise ValidationFailed(
                f"未知产品：{ln.product_id}",
                f"unknown product: {ln.product_id}",
                field="lines",
                code="unknown_product",
            )
        out.append(DealLine(product, ln.quantity, ln.unit_price))
    return out


def _owner(user: User, owner_id: int | None) -> User | None:
    if owner_id is None:
        return None
    owner = User.objects.filter(pk=owner_id, is_active=True).first()
    if owner is None:
        raise NotFound("用户", "user")
    return owner


def _referral(customer_id: int, referral_id: int | None) -> Referral | None:
    if referral_id is None:
        return None
    referral = Referral.objects.filter(pk=referral_id, customer_id=customer_id).first()
    if referral is None:
        raise NotFound("转介绍", "referral")
    return referral


@router.post(
    "/opportunities",
    response={201: OpportunityDetailOut, **ERRORS},
    summary="Create an opportunity (商机) on a customer you may see",
)
def create_opportunity(request: HttpRequest, payload: OpportunityIn) -> Status[dict[str, Any]]:
    user = actor(request)
    customer = customer_get_for_user(user=user, customer_id=payload.customer_id)
    pipeline = selectors.pipeline_get(payload.pipeline_id) if payload.pipeline_id else None
    stage = None
    if payload.stage_id is not None:
        stage = selectors.stage_get(pipeline=pipeline, stage_id=payload.stage_id)
        pipeline = pipeline or stage.pipeline
    opp = services.opportunity_create(
        actor=user,
        source=Source.API,
        customer=customer,
        name=payload.name,
        expected_close_on=payload.expected_close_on,
        pipeline=pipeline,
        stage=stage,
        amount=payload.amount,
        lines=_products(payload.lines),
        owner=_owner(user, payload.owner_id),
        probability=payload.probability,
        deal_source=payload.source or "",
        referral=_referral(customer.pk, payload.referral_id),
        competitors=payload.competitors,
        next_step=payload.next_step,
        next_step_on=payload.next_step_on,
        forecast_category=payload.forecast_category,
        description=payload.description,
    )
    return Status(201, _reload(user, opp))


@router.get(
    "/opportunities/{opportunity_id}",
    response={200: OpportunityDetailOut, **ERRORS},
    summary="One opportunity",
)
def get_opportunity(request: HttpRequest, opportunity_id: int) -> dict[str, Any]:
    user = actor(request)
    return _detail(selectors.opportunity_get_for_user(user=user, opportunity_id=opportunity_id), user)


class OpportunityPatch(Strict):
    version: int
    name: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    expected_close_on: dt.date | None = None
    stage_id: Id | None = None
    amount: Decimal | None = None
    lines: Annotated[list[DealLineIn], Field(max_length=100)] | None = None
    owner_id: Id | None = None
    probability: Annotated[int, Field(ge=0, le=100)] | None = None
    source: SourceLit | None = None
    referral_id: Id | None = None
    competitors: Text200 | None = None
    next_step: Text200 | None = None
    next_step_on: dt.date | None = None
    forecast_category: CategoryLit | None = None
    description: Text5000 | None = None


@router.patch(
    "/opportunities/{opportunity_id}",
    response={200: OpportunityDetailOut, **ERRORS},
    summary="Change an opportunity; send the version you read (an older one answers 409)",
)
def patch_opportunity(request: HttpRequest, opportunity_id: int, payload: OpportunityPatch) -> dict[str, Any]:
    user = actor(request)
    opp = selectors.opportunity_get_for_user(user=user, opportunity_id=opportunity_id)
    given = payload.model_fields_set
    stage = (
        selectors.stage_get(pipeline=opp.pipeline, stage_id=payload.stage_id) if payload.stage_id else None
    )
    opp = services.opportunity_update(
        actor=user,
        source=Source.API,
        opportunity=opp,
        version=payload.version,
        name=payload.name,
        expected_close_on=payload.expected_close_on,
        stage=stage,
        amount=payload.amount,
        lines=_products(payload.lines),
        owner=_owner(user, payload.owner_id),
        probability=payload.probability,
        deal_source=payload.source,
        referral=_referral(opp.customer_id, payload.referral_id) if "referral_id" in given else UNSET,
        competitors=payload.competitors,
        next_step=payload.next_step,
        next_step_on=payload.next_step_on if "next_step_on" in given else UNSET,
        forecast_category=payload.forecast_category,
        description=payload.description,
    )
    return _reload(user, opp)


class MoveIn(Strict):
    stage_id: Id
    version: int


@router.post(
    "/opportunities/{opportunity_id}/move",
    response={200: OpportunityDetailOut, **ERRORS},
    summary="Move an open opportunity to another open stage of its pipeline (the board's drag and drop)",
)
def move_opportunity(request: HttpRequest, opportunity_id: int, payload: MoveIn) -> dict[str, Any]:
    user = actor(request)
    opp = selectors.opportunity_get_for_user(user=user, opportunity_id=opportunity_id)
    stage = selectors.stage_get(pipeline=opp.pipeline, stage_id=payload.stage_id)
    opp = services.opportunity_move(
        actor=user, source=Source.API, opportunity=opp, stage=stage, version=payload.version
    )
    return _reload(user, opp)


class WinIn(Strict):
    version: int
    order_id: Id | None = None
    create_order: bool = False
    closed_on: dt.date | None = None


@router.post(
    "/opportunities/{opportunity_id}/win",
    response={200: OpportunityDetailOut, **ERRORS},
    summary="Won (赢单): link one of the customer's orders, or create one from the deal's lines",
)
def win_opportunity(request: HttpRequest, opportunity_id: int, payload: WinIn) -> dict[str, Any]:
    user = actor(request)
    opp = selectors.opportunity_get_for_user(user=user, opportunity_id=opportunity_id)
    order = None
    if payload.order_id is not None:
        order = Order.objects.filter(pk=payload.order_id, customer_id=opp.customer_id).first()
        if order is None:
            raise NotFound("订单", "order")
    opp = services.opportunity_win(
        actor=user,
        source=Source.API,
        opportunity=opp,
        version=payload.version,
        order=order,
        create_order=payload.create_order,
        closed_on=payload.closed_on,
    )
    return _reload(user, opp)


class LoseIn(Strict):
    version: int
    reason: ReasonLit
    lost_to: Annotated[str, Field(max_length=100)] = ""
    note: Text5000 = ""
    closed_on: dt.date | None = None
    objection_id: Annotated[int, Field(ge=1, le=2**63 - 1)] | None = Field(
        None, description="the objection raised in this deal that really lost it"
    )


@router.post(
    "/opportunities/{opportunity_id}/lose",
    response={200: OpportunityDetailOut, **ERRORS},
    summary="Lost (输单) with its real reason (the objection categories)",
)
def lose_opportunity(request: HttpRequest, opportunity_id: int, payload: LoseIn) -> dict[str, Any]:
    user = actor(request)
    opp = selectors.opportunity_get_for_user(user=user, opportunity_id=opportunity_id)
    objection = (
        objection_sel.objection_get_for_user(user=user, objection_id=payload.objection_id)
        if payload.objection_id
        else None
    )
    opp = services.opportunity_lose(
        actor=user,
        source=Source.API,
        opportunity=opp,
        version=payload.version,
        reason=payload.reason,
        lost_to=payload.lost_to,
        note=payload.note,
        closed_on=payload.closed_on,
        objection=objection,
    )
    return _reload(user, opp)


class DealReopenIn(Strict):
    version: int
    stage_id: Id | None = None
    expected_close_on: dt.date | None = None


@router.post(
    "/opportunities/{opportunity_id}/reopen",
    response={200: OpportunityDetailOut, **ERRORS},
    summary="Reopen a won or lost opportunity in an open stage",
)
def reopen_opportunity(request: HttpRequest, opportunity_id: int, payload: DealReopenIn) -> dict[str, Any]:
    user = actor(request)
    opp = selectors.opportunity_get_for_user(user=user, opportunity_id=opportunity_id)
    stage = (
        selectors.stage_get(pipeline=opp.pipeline, stage_id=payload.stage_id) if payload.stage_id else None
    )
    opp = services.opportunity_reopen(
        actor=user,
        source=Source.API,
        opportunity=opp,
        version=payload.version,
        stage=stage,
        expected_close_on=payload.expected_close_on,
    )
    return _reload(user, opp)


# --- People and history ---------------------------------------------------------------------------


class PersonOut(Schema):
    id: int
    contact: Ref
    role: str
    stance: str
    engaged: bool
    note: str


class PeopleOut(Schema):
    people: list[PersonOut]
    decision_maker_engaged: bool
    warning: dict[str, str] | None


class PersonIn(Strict):
    contact_id: Id
    role: RoleLit | None = None
    stance: StanceLit | None = None
    engaged: bool | None = None
    note: Text200 | None = None


def _people(opp: Opportunity) -> dict[str, Any]:
    opp.refresh_from_db(fields=["decision_maker_engaged"])
    people = selectors.opportunity_people(opp)
    return {
        "people": [
            {
                "id": p.pk,
                "contact": {"id": p.contact_id, "name": p.contact.name},
                "role": p.role,
                "stance": p.stance,
                "engaged": p.engaged,
                "note": p.note,
            }
            for p in people
        ],
        "decision_maker_engaged": opp.decision_maker_engaged,
        "warning": selectors.decision_maker_warning(opp, people),
    }


@router.get(
    "/opportunities/{opportunity_id}/people",
    response={200: PeopleOut, **ERRORS},
    summary="People on the deal with decision roles and stances; a warning without a decision maker",
)
def get_people(request: HttpRequest, opportunity_id: int) -> dict[str, Any]:
    return _people(selectors.opportunity_get_for_user(user=actor(request), opportunity_id=opportunity_id))


@router.post(
    "/opportunities/{opportunity_id}/people",
    response={200: PeopleOut, **ERRORS},
    summary="Put a person on the deal or change their role, stance, engagement (default: decision chain)",
)
def set_person(request: HttpRequest, opportunity_id: int, payload: PersonIn) -> dict[str, Any]:
    user = actor(request)
    opp = selectors.opportunity_get_for_user(user=user, opportunity_id=opportunity_id)
    contact = contact_get_for_user(user=user, contact_id=payload.contact_id)
    services.opportunity_person_set(
        actor=user,
        source=Source.API,
        opportunity=opp,
        contact=contact,
        role=payload.role,
        stance=payload.stance,
        engaged=payload.engaged,
        note=payload.note,
    )
    return _people(opp)


@router.delete(
    "/opportunities/{opportunity_id}/people/{person_id}",
    response={200: PeopleOut, **ERRORS},
    summary="Take a person off the deal",
)
def remove_person(request: HttpRequest, opportunity_id: int, person_id: int) -> dict[str, Any]:
    user = actor(request)
    opp = selectors.opportunity_get_for_user(user=user, opportunity_id=opportunity_id)
    services.opportunity_person_remove(actor=user, source=Source.API, opportunity=opp, person_id=person_id)
    return _people(opp)


class StayOut(Schema):
    stage: Ref
    entered_at: dt.datetime
    left_at: dt.datetime | None
    days: float | None


def _stay_out(s: StageStay) -> dict[str, Any]:
    return {
        "stage": {"id": s.stage_id, "name": s.stage.name},
        "entered_at": s.entered_at,
        "left_at": s.left_at,
        "days": round((s.left_at - s.entered_at).total_seconds() / 86400, 2) if s.left_at else None,
    }


@router.get(
    "/opportunities/{opportunity_id}/history",
    response={200: list[StayOut], **ERRORS},
    summary="The stages the deal went through, with entry and exit times",
)
def get_history(request: HttpRequest, opportunity_id: int) -> list[dict[str, Any]]:
    opp = selectors.opportunity_get_for_user(user=actor(request), opportunity_id=opportunity_id)
    return [_stay_out(s) for s in selectors.opportunity_stays(opp)]


# --- Board, forecast, analysis --------------------------------------------------------------------


class BoardFilters(Schema):
    pipeline_id: Id | None = None
    owner_id: Id | None = None
    team_id: Id | None = None
    source: SourceLit | None = None
    period: PeriodLit | None = None
    q: Annotated[str, Field(max_length=100)] = ""


class CardOut(Schema):
    id: int
    version: int
    name: str
    customer: Ref
    owner: Ref
    amount: Decimal
    probability: int
    expected_close_on: dt.date
    closed_on: dt.date | None
    next_step: str
    next_step_on: dt.date | None
    decision_maker_engaged: bool


class ColumnOut(Schema):
    stage: StageOut
    count: int
    amount: Decimal
    weighted: Decimal
    cards: list[CardOut]


class BoardOut(Schema):
    pipeline: Ref
    closed_since: dt.date
    open_count: int
    open_amount: Decimal
    open_weighted: Decimal
    columns: list[ColumnOut]


def _filters(f: BoardFilters) -> selectors.DealFilters:
    from django.utils import timezone

    close_from, close_to = selectors.period_bounds(f.period or "", timezone.localdate())
    return selectors.DealFilters(
        pipeline_id=f.pipeline_id,
        owner_id=f.owner_id,
        team_id=f.team_id,
        source=f.source or "",
        close_from=close_from,
        close_to=close_to,
        q=f.q,
    )


@router.get(
    "/pipeline/board",
    response={200: BoardOut, **ERRORS},
    summary="The board: per stage, the totals of every visible deal and the first cards by close date",
)
def get_board(request: HttpRequest, filters: Query[BoardFilters]) -> dict[str, Any]:
    b = selectors.board(user=actor(request), filters=_filters(filters))
    return {
        "pipeline": {"id": b.pipeline.pk, "name": b.pipeline.name},
        "closed_since": b.closed_since,
        "open_count": b.open_count,
        "open_amount": b.open_amount,
        "open_weighted": b.open_weighted,
        "columns": [
            {
                "stage": _stage_out(c.stage),
                "count": c.count,
                "amount": c.amount,
                "weighted": c.weighted,
                "cards": [
                    {
                        "id": o.pk,
                        "version": o.version,
                        "name": o.name,
                        "customer": {"id": o.customer_id, "name": o.customer.name},
                        "owner": {"id": o.owner_id, "name": str(o.owner)},
                        "amount": o.amount,
                        "probability": o.probability,
                        "expected_close_on": o.expected_close_on,
                        "closed_on": o.closed_on,
                        "next_step": o.next_step,
                        "next_step_on": o.next_step_on,
                        "decision_maker_engaged": o.decision_maker_engaged,
                    }
                    for o in c.cards
                ],
            }
            for c in b.columns
        ],
    }


class FiguresOut(Schema):
    period_start: dt.date
    label: str
    past: bool
    commit: Decimal
    best_case: Decimal
    pipeline: Decimal
    weighted: Decimal
    won: Decimal
    open_count: int
    won_count: int
    forecast_commit: Decimal | None
    forecast_weighted: Decimal | None
    accuracy: Decimal | None


class ForecastRowOut(Schema):
    id: int | None
    label: str
    periods: list[FiguresOut]


class ForecastOut(Schema):
    kind: str
    group: str
    rows: list[ForecastRowOut]
    totals: list[FiguresOut]


class ForecastFilters(Schema):
    kind: Literal["month", "quarter"] = "quarter"
    group: Literal["owner", "team"] = "owner"
    start: dt.date | None = None
    periods: Annotated[int, Field(ge=1, le=12)] = 4
    pipeline_id: Id | None = None
    owner_id: Id | None = None
    team_id: Id | None = None


def _figures(f: fc.Forecast, start: dt.date, x: fc.Figures) -> dict[str, Any]:
    return {
        "period_start": start,
        "label": fc.period_label(start, f.kind),
        "past": f.is_past(start),
        "commit": x.commit,
        "best_case": x.best_case,
        "pipeline": x.pipeline,
        "weighted": x.weighted,
        "won": x.won,
        "open_count": x.open_count,
        "won_count": x.won_count,
        "forecast_commit": x.forecast_commit,
        "forecast_weighted": x.forecast_weighted,
        "accuracy": x.accuracy,
    }


@router.get(
    "/pipeline/forecast",
    response={200: ForecastOut, **ERRORS},
    summary="Forecast per period and salesperson/team: commit, best case, pipeline, weighted, won, accuracy",
)
def get_forecast(request: HttpRequest, filters: Query[ForecastFilters]) -> dict[str, Any]:
    f = fc.forecast(
        user=actor(request),
        kind=filters.kind,
        start=filters.start,
        periods=filters.periods,
        group=filters.group,
        filters=selectors.DealFilters(
            pipeline_id=filters.pipeline_id, owner_id=filters.owner_id, team_id=filters.team_id
        ),
    )
    return {
        "kind": f.kind,
        "group": f.group,
        "rows": [
            {"id": r.key, "label": r.label, "periods": [_figures(f, s, x) for s, x in r.periods.items()]}
            for r in f.rows
        ],
        "totals": [_figures(f, s, x) for s, x in f.totals.items()],
    }


class StageAnalysisOut(Schema):
    stage: Ref
    reached: int
    conversion: float | None
    avg_days: float | None
    stays: int
    stuck_after_days: float


class RateOut(Schema):
    key: str
    label: str
    won: int
    lost: int
    rate: float | None


class AnalysisOut(Schema):
    pipeline: Ref
    won: int
    lost: int
    win_rate: float | None
    cycle_won_days: float | None
    cycle_lost_days: float | None
    stages: list[StageAnalysisOut]
    by_source: list[RateOut]
    by_decision_maker: list[RateOut]
    by_objection: list[RateOut]
    stuck: list[OpportunityOut]


def _rate(r: fc.Rate) -> dict[str, Any]:
    return {"key": r.key, "label": r.label, "won": r.won, "lost": r.lost, "rate": r.rate}


@router.get(
    "/pipeline/analysis",
    response={200: AnalysisOut, **ERRORS},
    summary="Cycle per stage, conversions, win rates (source, decision maker, objection), stuck deals",
)
def get_analysis(request: HttpRequest, filters: Query[BoardFilters]) -> dict[str, Any]:
    a = fc.analysis(user=actor(request), filters=_filters(filters))
    return {
        "pipeline": {"id": a.pipeline.pk, "name": a.pipeline.name},
        "won": a.won,
        "lost": a.lost,
        "win_rate": a.win_rate,
        "cycle_won_days": a.cycle_won_days,
        "cycle_lost_days": a.cycle_lost_days,
        "stages": [
            {
                "stage": {"id": c.stage.pk, "name": c.stage.name},
                "reached": c.reached,
                "conversion": c.conversion,
                "avg_days": c.avg_days,
                "stays": c.stays,
                "stuck_after_days": c.stuck_after_days,
            }
            for c in a.stages
        ],
        "by_source": [_rate(r) for r in a.by_source],
        "by_decision_maker": [_rate(r) for r in a.by_decision_maker],
        "by_objection": [_rate(r) for r in a.by_objection],
        "stuck": [opportunity_out(o) for o in a.stuck],
    }
