"""Every write of the pipeline: validated, in one transaction, audited on the deal's customer (so each
event is on the customer's timeline), with the stage history kept for cycle analysis.

Edits of an opportunity carry the ``version`` the editor saw; a write on an older version is refused
with a 409 (``stale_version``) instead of silently erasing someone else's change.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from guanxi.accounts.models import User
from guanxi.accounts.selectors import user_list_visible
from guanxi.audit.models import Source
from guanxi.audit.services import audit_record, diff, snapshot
from guanxi.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed, require
from guanxi.customers.models import Contact, Customer
from guanxi.pipeline.models import (
    ForecastCategory,
    LostReason,
    Opportunity,
    OpportunityLine,
    OpportunityPerson,
    OpportunitySource,
    Pipeline,
    Stage,
    StageKind,
    StageStay,
)
from guanxi.relations.models import ContactStanding, DecisionRole, DecisionRoleKind, Referral, Stance
from guanxi.sales.models import Order, Product
from guanxi.sales.services import LineInput, order_create
from guanxi.service.models import Objection

OPPORTUNITY_FIELDS = [
    "name",
    "pipeline",
    "stage",
    "status",
    "probability",
    "amount",
    "expected_close_on",
    "owner",
    "source",
    "referral",
    "competitors",
    "next_step",
    "next_step_on",
    "forecast_category",
    "description",
    "closed_on",
    "lost_reason",
    "lost_to",
    "lost_note",
    "lost_objection",
    "order",
]
CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("1e12")
MAX_LINES = 100
# An open deal's expected close date may lie a little in the past (the owner has not updated it yet),
# not years: a date further back than this is a typing error.
CLOSE_PAST_DAYS = 90
CLOSE_FUTURE_DAYS = 5 * 366


@dataclass(frozen=True)
class DealLine:
    product: Product
    quantity: Any
    unit_price: Any = None  # defaults to the product's list price


def _number(value: Any, field: str, *, positive: bool = False, limit: Decimal = Decimal("1e10")) -> Decimal:
    try:
        number = Decimal(str(value))
    except (ArithmeticError, ValueError):
        raise ValidationFailed(f"{field} 不是数字", f"{field} is not a number", field=field) from None
    require(number.is_finite(), f"{field} 不是有限数字", f"{field} must be finite", field=field)
    if positive:
        require(
            number > 0, f"{field} 必须大于0", f"{field} must be positive", field=field, code="not_positive"
        )
    else:
        require(
            number >= 0,
            f"{field} 不能为负数",
            f"{field} cannot be negative",
            field=field,
            code="negative_amount",
        )
    require(abs(number) < limit, f"{field} 过大", f"{field} is too large", field=field, code="too_large")
    return number.quantize(CENT)


def _lines(lines: list[DealLine]) -> list[OpportunityLine]:
    require(len(lines) <= MAX_LINES, f"最多 {MAX_LINES} 行产品", f"at most {MAX_LINES} lines", field="lines")
    built = []
    for line in lines:
        quantity = _number(line.quantity, "quantity", positive=True)
        price = _number(line.unit_price if line.unit_price is not None else line.product.price, "unit_price")
        built.append(
            OpportunityLine(
                product=line.product,
                quantity=quantity,
                unit_price=price,
                amount=(quantity * price).quantize(CENT),
            )
        )
    return built


def _check_close_date(value: Any) -> dt.date:
    require(
        isinstance(value, dt.date),
        "预计成交日期无效",
        "expected close date is not a date",
        field="expected_close_on",
        code="invalid_date",
    )
    today = timezone.localdate()
    require(
        value >= today - dt.timedelta(days=CLOSE_PAST_DAYS),
        f"预计成交日期不能早于 {CLOSE_PAST_DAYS} 天前：{value}",
        f"expected close date is too far in the past (more than {CLOSE_PAST_DAYS} days ago): {value}",
        field="expected_close_on",
        code="close_date_past",
    )
    require(
        value <= today + dt.timedelta(days=CLOSE_FUTURE_DAYS),
        f"预计成交日期太远：{value}",
        f"expected close date is too far in the future: {value}",
        field="expected_close_on",
        code="close_date_future",
    )
    day: dt.date = value
    return day


def _check_text(value: Any, field: str, limit: int, *, required: bool = False) -> str:
    text = str(value or "").strip()
    if required:
        require(bool(text), f"{field} 不能为空", f"{field} is required", field=field, code="required")
    require(
        len(text) <= limit, f"{field} 不超过{limit}字", f"{field} at most {limit} characters", field=field
    )
    return text


def _check_probability(value: Any) -> int:
    require(
        isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 100,
        "赢率应在0到100之间",
        "probability must be between 0 and 100",
        field="probability",
        code="invalid_probability",
    )
    return int(value)


def _check_choice(value: str, choices: type[Any], field: str) -> str:
    require(
        value in choices.values,
        f"未知{field}：{value}（可选：{'、'.join(choices.values)}）",
        f"unknown {field}: {value} (one of {', '.join(choices.values)})",
        field=field,
        code=f"unknown_{field}",
    )
    return value


def _check_owner(actor: User, owner: User, customer: Customer) -> None:
    """A deal's owner is the actor, the customer's owner, or someone the actor may assign work to."""
    if owner.pk in (actor.pk, customer.owner_id):
        require(
            owner.is_active, "负责人已停用", "the owner is inactive", field="owner", code="inactive_owner"
        )
        return
    if owner.pk not in {u.pk for u in user_list_visible(actor)}:
        raise NotFound("用户", "user")


def _stage_of(pipeline: Pipeline, stage: Stage | None) -> Stage:
    if stage is None:
        first = pipeline.stages.filter(kind=StageKind.OPEN, is_active=True).order_by("position", "id").first()
        if first is None:
            raise ValidationFailed("该流程没有可用阶段", "the pipeline has no open stage", field="stage")
        return first
    require(
        stage.pipeline_id == pipeline.pk,
        f"阶段“{stage.name}”不属于流程“{pipeline.name}”",
        f"stage {stage.name} is not a stage of pipeline {pipeline.name}",
        field="stage",
        code="unknown_stage",
    )
    require(stage.is_active, "该阶段已停用", "the stage is inactive", field="stage", code="inactive_stage")
    return stage


def _terminal(pipeline: Pipeline, kind: str) -> Stage:
    stage = pipeline.stages.filter(kind=kind).order_by("position", "id").first()
    if stage is None:
        raise ValidationFailed("该流程没有结束阶段", f"the pipeline has no {kind} stage", field="stage")
    return stage


def _audit(
    actor: User | None, source: Source | str, action: str, opp: Opportunity, changes: dict[str, Any]
) -> None:
    audit_record(
        actor=actor, source=source, action=action, obj=opp, customer_id=opp.customer_id, changes=changes
    )


def _locked_with_customer(opportunity: Opportunity) -> Opportunity:
    """The deal's row and its customer's, locked together, as ``_locked`` does: a write to a deal
    reads its customer's owner in the database (migration 0005, FOR SHARE on PostgreSQL), and a
    customer's handover updates its deals; taking the customer first makes the two wait for each
    other instead of deadlocking."""
    return Opportunity.objects.select_for_update().select_related("customer").get(pk=opportunity.pk)


def _locked(opportunity: Opportunity, version: Any) -> Opportunity:
    """The row, locked, if ``version`` is still its version; a 409 otherwise."""
    require(
        isinstance(version, int) and not isinstance(version, bool),
        "缺少版本号",
        "version is required",
        field="version",
        code="version_required",
    )
    opp = (
        Opportunity.objects.select_for_update()
        .select_related("pipeline", "stage", "customer", "owner")
        .get(pk=opportunity.pk)
    )
    if opp.version != version:
        raise Conflict(
            f"该商机已被他人修改（你看到的是第 {version} 版，当前是第 {opp.version} 版），请刷新后再改",
            f"this opportunity was changed by someone else (you edited version {version}, it is now "
            f"version {opp.version}); reload it and apply your change again",
            field="version",
            code="stale_version",
        )
    return opp


def _enter(opp: Opportunity, stage: Stage, actor: User | None, now: dt.datetime) -> None:
    """Close the current stay and open one in ``stage`` (the stage history)."""
    StageStay.objects.filter(opportunity=opp, left_at__isnull=True).update(left_at=now)
    StageStay.objects.create(
        opportunity=opp, stage=stage, entered_at=now, moved_by=actor if actor and actor.pk else None
    )
    opp.stage = stage
    opp.status = stage.kind
    opp.stage_entered_at = now


# --- Opportunities --------------------------------------------------------------------------------


@transaction.atomic
def opportunity_create(
    *,
    actor: User,
    source: Source | str,
    customer: Customer,
    name: str,
    expected_close_on: dt.date,
    pipeline: Pipeline | None = None,
    stage: Stage | None = None,
    amount: Any = None,
    lines: list[DealLine] | None = None,
    owner: User | None = None,
    probability: int | None = None,
    deal_source: str = "",
    referral: Referral | None = None,
    competitors: str = "",
    next_step: str = "",
    next_step_on: dt.date | None = None,
    forecast_category: str | None = None,
    description: str = "",
) -> Opportunity:
    name = _check_text(name, "name", 200, required=True)
    pipeline = (
        pipeline or Pipeline.objects.filter(is_active=True).order_by("-is_default", "position", "id").first()
    )
    if pipeline is None:
        raise ValidationFailed("还没有销售流程", "no pipeline is set up", field="pipeline")
    require(pipeline.is_active, "该流程已停用", "the pipeline is inactive", field="pipeline")
    stage = _stage_of(pipeline, stage)
    require(
        stage.kind == StageKind.OPEN,
        "新商机不能直接进入赢单/输单阶段",
        "a new opportunity starts in an open stage (win or lose it afterwards)",
        field="stage",
        code="closed_stage",
    )
    owner = owner or actor
    _check_owner(actor, owner, customer)
    built = _lines(lines or [])
    total = (
        sum((b.amount for b in built), Decimal(0))
        if built
        else _number(amount or 0, "amount", limit=MAX_AMOUNT)
    )
    require(total < MAX_AMOUNT, "金额过大", "amount too large", field="amount", code="too_large")
    if deal_source:
        _check_choice(deal_source, OpportunitySource, "source")
    if referral is not None:
        require(
            referral.customer_id == customer.pk,
            "该转介绍不是这个客户的",
            "the referral is not one of this customer's",
            field="referral",
            code="foreign_referral",
        )
        deal_source = OpportunitySource.REFERRAL
    category = forecast_category or stage.forecast_category
    _check_choice(category, ForecastCategory, "forecast_category")
    now = timezone.now()
    opp = Opportunity(
        customer=customer,
        name=name,
        pipeline=pipeline,
        stage=stage,
        status=StageKind.OPEN,
        probability=_check_probability(probability) if probability is not None else stage.probability,
        amount=total,
        expected_close_on=_check_close_date(expected_close_on),
        owner=owner,
        team_id=owner.team_id,
        source=deal_source,
        referral=referral,
        competitors=_check_text(competitors, "competitors", 200),
        next_step=_check_text(next_step, "next_step", 200),
        next_step_on=next_step_on,
        forecast_category=category,
        description=_check_text(description, "description", 5000),
        stage_entered_at=now,
        created_by=actor,
    )
    opp.save()
    for b in built:
        b.opportunity = opp
    OpportunityLine.objects.bulk_create(built)
    StageStay.objects.create(opportunity=opp, stage=stage, entered_at=now, moved_by=actor)
    changes = diff({}, snapshot(opp, OPPORTUNITY_FIELDS))
    if built:
        changes["lines"] = [[], [_line_text(b) for b in built]]
    _audit(actor, source, "opportunity.create", opp, changes)
    return opp


def _line_text(line: OpportunityLine) -> str:
    return f"{line.product.code} × {line.quantity} @ {line.unit_price}"


UNSET: Any = object()


@transaction.atomic
def opportunity_update(
    *,
    actor: User,
    source: Source | str,
    opportunity: Opportunity,
    version: int,
    name: str | None = None,
    expected_close_on: dt.date | None = None,
    amount: Any = None,
    lines: list[DealLine] | None = None,
    owner: User | None = None,
    probability: int | None = None,
    deal_source: str | None = None,
    referral: Any = UNSET,
    competitors: str | None = None,
    next_step: str | None = None,
    next_step_on: Any = UNSET,
    forecast_category: str | None = None,
    description: str | None = None,
    stage: Stage | None = None,
) -> Opportunity:
    """Change the fields given (``None`` leaves one as it is). A stage given here moves the deal
    like ``opportunity_move`` (open stages only; use win/lose for the terminal ones)."""
    opp = _locked(opportunity, version)
    before = snapshot(opp, OPPORTUNITY_FIELDS)
    before_lines = [_line_text(b) for b in opp.lines.select_related("product")]
    if name is not None:
        opp.name = _check_text(name, "name", 200, required=True)
    if expected_close_on is not None and expected_close_on != opp.expected_close_on:
        opp.expected_close_on = _check_close_date(expected_close_on)
    if owner is not None and owner.pk != opp.owner_id:
        _check_owner(actor, owner, opp.customer)
        opp.owner, opp.team_id = owner, owner.team_id
    if deal_source is not None:
        if deal_source:
            _check_choice(deal_source, OpportunitySource, "source")
        opp.source = deal_source
    if referral is not UNSET:
        if referral is not None:
            require(
                referral.customer_id == opp.customer_id,
                "该转介绍不是这个客户的",
                "the referral is not one of this customer's",
                field="referral",
                code="foreign_referral",
            )
            opp.source = OpportunitySource.REFERRAL
        opp.referral = referral
    if competitors is not None:
        opp.competitors = _check_text(competitors, "competitors", 200)
    if next_step is not None:
        opp.next_step = _check_text(next_step, "next_step", 200)
    if next_step_on is not UNSET:
        opp.next_step_on = next_step_on
    if description is not None:
        opp.description = _check_text(description, "description", 5000)
    if forecast_category is not None:
        opp.forecast_category = _check_choice(forecast_category, ForecastCategory, "forecast_category")
    if stage is not None and stage.pk != opp.stage_id:
        stage = _stage_of(opp.pipeline, stage)
        require(
            stage.kind == StageKind.OPEN and opp.is_open,
            "赢单、输单和重新打开请用对应的操作",
            "use win, lose or reopen to close or reopen a deal",
            field="stage",
            code="closed_stage",
        )
        _enter(opp, stage, actor, timezone.now())
        if probability is None:
            opp.probability = stage.probability
        if forecast_category is None:
            opp.forecast_category = stage.forecast_category
    if probability is not None:
        opp.probability = _check_probability(probability)
    if lines is not None:
        built = _lines(lines)
        opp.lines.all().delete()
        for b in built:
            b.opportunity = opp
        OpportunityLine.objects.bulk_create(built)
        opp.amount = sum((b.amount for b in built), Decimal(0))
        after_lines = [_line_text(b) for b in built]
    else:
        after_lines = before_lines
        if amount is not None:
            require(
                not before_lines,
                "有产品明细的商机金额由明细计算",
                "the amount of a deal with product lines is the sum of its lines",
                field="amount",
                code="amount_from_lines",
            )
            opp.amount = _number(amount, "amount", limit=MAX_AMOUNT)
    require(opp.amount < MAX_AMOUNT, "金额过大", "amount too large", field="amount", code="too_large")
    changes = diff(before, snapshot(opp, OPPORTUNITY_FIELDS))
    if after_lines != before_lines:
        changes["lines"] = [before_lines, after_lines]
    if changes:
        opp.version += 1
        opp.save()
        action = "opportunity.stage" if "stage" in changes else "opportunity.update"
        _audit(actor, source, action, opp, changes)
    return opp


@transaction.atomic
def opportunity_move(
    *, actor: User, source: Source | str, opportunity: Opportunity, stage: Stage, version: int
) -> Opportunity:
    """Move an open deal to another open stage (the board's drag and drop); the stage's default
    probability and forecast category come with it."""
    return opportunity_update(
        actor=actor, source=source, opportunity=opportunity, version=version, stage=stage
    )


@transaction.atomic
def opportunity_win(
    *,
    actor: User,
    source: Source | str,
    opportunity: Opportunity,
    version: int,
    order: Order | None = None,
    create_order: bool = False,
    closed_on: dt.date | None = None,
) -> Opportunity:
    """Won (赢单): link the customer's order for the deal, or create one from the deal's lines
    (through the sales services, so the customer's figures stay current)."""
    opp = _locked(opportunity, version)
    require(
        opp.is_open, "商机已关闭", "the opportunity is already closed", field="stage", code="already_closed"
    )
    today = timezone.localdate()
    closed_on = closed_on or today
    require(closed_on <= today, "成交日期不能在未来", "closed_on cannot be in the future", field="closed_on")
    require(
        closed_on >= opp.created_at.date() - dt.timedelta(days=CLOSE_PAST_DAYS),
        "成交日期太早",
        "closed_on is too far in the past",
        field="closed_on",
        code="close_date_past",
    )
    before = snapshot(opp, OPPORTUNITY_FIELDS)
    if order is not None:
        require(
            order.customer_id == opp.customer_id,
            "该订单不是这个客户的",
            "the order belongs to another customer",
            field="order",
            code="foreign_order",
        )
    elif create_order or opp.lines.exists():
        lines = list(opp.lines.select_related("product"))
        require(
            bool(lines),
            "商机没有产品明细，无法生成订单；请关联已有订单",
            "the deal has no product lines to make an order from; link an existing order instead",
            field="order",
            code="no_lines",
        )
        order = order_create(
            actor=actor,
            source=Source(str(source)),
            customer=opp.customer,
            lines=[
                LineInput(product=line.product, quantity=line.quantity, unit_price=line.unit_price)
                for line in lines
            ],
            ordered_on=closed_on,
            notes=f"商机 / opportunity #{opp.pk}: {opp.name}"[:500],
        )
    else:
        raise ValidationFailed(
            "赢单需要关联订单或由产品明细生成订单",
            "a won deal needs an order: link one or add product lines to create it",
            field="order",
            code="order_required",
        )
    _enter(opp, _terminal(opp.pipeline, StageKind.WON), actor, timezone.now())
    opp.probability = 100
    opp.closed_on = closed_on
    opp.order = order
    opp.lost_reason = opp.lost_to = opp.lost_note = ""
    if not opp.lines.exists() and order.amount:
        opp.amount = order.amount
    opp.version += 1
    opp.save()
    _audit(actor, source, "opportunity.won", opp, diff(before, snapshot(opp, OPPORTUNITY_FIELDS)))
    return opp


@transaction.atomic
def opportunity_lose(
    *,
    actor: User,
    source: Source | str,
    opportunity: Opportunity,
    version: int,
    reason: str,
    lost_to: str = "",
    note: str = "",
    closed_on: dt.date | None = None,
    objection: Objection | None = None,
) -> Opportunity:
    """Lost (输单), with the real reason — the same categories as objections — and, when one of the
    objections raised in this sale was what really lost it, that objection."""
    opp = _locked(opportunity, version)
    require(
        opp.is_open, "商机已关闭", "the opportunity is already closed", field="stage", code="already_closed"
    )
    _check_choice(reason, LostReason, "reason")
    if objection is not None:
        require(
            objection.opportunity_id == opp.pk,
            "这条异议不是在这个商机中提出的",
            "the objection was not raised in this opportunity",
            field="objection_id",
            code="wrong_opportunity",
        )
    today = timezone.localdate()
    closed_on = closed_on or today
    require(closed_on <= today, "关闭日期不能在未来", "closed_on cannot be in the future", field="closed_on")
    before = snapshot(opp, OPPORTUNITY_FIELDS)
    _enter(opp, _terminal(opp.pipeline, StageKind.LOST), actor, timezone.now())
    opp.probability = 0
    opp.closed_on = closed_on
    opp.lost_reason = reason
    opp.lost_to = _check_text(lost_to, "lost_to", 100)
    opp.lost_note = _check_text(note, "note", 5000)
    opp.lost_objection = objection
    opp.version += 1
    opp.save()
    _audit(actor, source, "opportunity.lost", opp, diff(before, snapshot(opp, OPPORTUNITY_FIELDS)))
    return opp


@transaction.atomic
def opportunity_reopen(
    *,
    actor: User,
    source: Source | str,
    opportunity: Opportunity,
    version: int,
    stage: Stage | None = None,
    expected_close_on: dt.date | None = None,
) -> Opportunity:
    """Reopen a closed deal in an open stage (the last open stage it was in, by default). The order
    it was linked to stays an order; the deal is no longer tied to it."""
    opp = _locked(opportunity, version)
    require(not opp.is_open, "商机未关闭", "the opportunity is open", field="stage", code="not_closed")
    if stage is None:
        last = (
            StageStay.objects.filter(opportunity=opp, stage__kind=StageKind.OPEN)
            .order_by("-entered_at", "-id")
            .select_related("stage")
            .first()
        )
        stage = last.stage if last and last.stage.is_active else None
    stage = _stage_of(opp.pipeline, stage)
    require(
        stage.kind == StageKind.OPEN,
        "请选择进行中的阶段",
        "choose an open stage",
        field="stage",
        code="closed_stage",
    )
    before = snapshot(opp, OPPORTUNITY_FIELDS)
    _enter(opp, stage, actor, timezone.now())
    opp.probability = stage.probability
    opp.forecast_category = stage.forecast_category
    opp.closed_on = None
    opp.order = None
    opp.lost_reason = opp.lost_to = opp.lost_note = ""
    opp.lost_objection = None
    today = timezone.localdate()
    if expected_close_on is not None:
        opp.expected_close_on = _check_close_date(expected_close_on)
    elif opp.expected_close_on < today:
        opp.expected_close_on = today + dt.timedelta(days=30)
    opp.version += 1
    opp.save()
    _audit(actor, source, "opportunity.reopen", opp, diff(before, snapshot(opp, OPPORTUNITY_FIELDS)))
    return opp


# --- People on a deal ----------------------------------------------------------------------------


def _refresh_engagement(opp: Opportunity) -> None:
    engaged = OpportunityPerson.objects.filter(
        opportunity=opp, role=DecisionRoleKind.DECISION_MAKER, engaged=True
    ).exists()
    if engaged != opp.decision_maker_engaged:
        Opportunity.objects.filter(pk=opp.pk).update(decision_maker_engaged=engaged)
        opp.decision_maker_engaged = engaged


def _people_text(opp: Opportunity) -> list[str]:
    return [
        f"{p.contact.name}: {p.role}/{p.stance}{' ✓' if p.engaged else ''}"
        for p in OpportunityPerson.objects.filter(opportunity=opp).select_related("contact").order_by("id")
    ]


@transaction.atomic
def opportunity_person_set(
    *,
    actor: User,
    source: Source | str,
    opportunity: Opportunity,
    contact: Contact,
    role: str | None = None,
    stance: str | None = None,
    engaged: bool | None = None,
    note: str | None = None,
) -> OpportunityPerson:
    """Put a person on the deal, or change their part in it. Role and stance default to the
    customer's decision chain (guanxi.relations) for that person."""
    opp = _locked_with_customer(opportunity)
    require(
        contact.customer_id == opp.customer_id,
        "该联系人不是这个客户的",
        "the contact belongs to another customer",
        field="contact",
        code="foreign_contact",
    )
    if role is not None:
        _check_choice(role, DecisionRoleKind, "role")
    if stance is not None:
        _check_choice(stance, Stance, "stance")
    before = _people_text(opp)
    person = OpportunityPerson.objects.filter(opportunity=opp, contact=contact).first()
    if person is None:
        chain_role = (
            DecisionRole.objects.filter(contact=contact).order_by("id").values_list("role", flat=True).first()
        )
        standing = ContactStanding.objects.filter(contact=contact).values_list("stance", flat=True).first()
        person = OpportunityPerson(
            opportunity=opp,
            contact=contact,
            role=role or chain_role or DecisionRoleKind.INFLUENCER,
            stance=stance or standing or Stance.UNKNOWN,
        )
    else:
        person.role = role or person.role
        person.stance = stance or person.stance
    if engaged is not None:
        person.engaged = bool(engaged)
    if note is not None:
        person.note = _check_text(note, "note", 200)
    person.save()
    _refresh_engagement(opp)
    after = _people_text(opp)
    if after != before:
        _audit(actor, source, "opportunity.people", opp, {"people": [before, after]})
    return person


@transaction.atomic
def opportunity_person_remove(
    *, actor: User, source: Source | str, opportunity: Opportunity, person_id: int
) -> None:
    opp = _locked_with_customer(opportunity)
    person = OpportunityPerson.objects.filter(opportunity=opp, pk=person_id).first()
    if person is None:
        raise NotFound("商机决策人", "deal person")
    before = _people_text(opp)
    person.delete()
    _refresh_engagement(opp)
    _audit(actor, source, "opportunity.people", opp, {"people": [before, _people_text(opp)]})


# --- Pipelines and stages (administrators) -------------------------------------------------------

PIPELINE_FIELDS = ["name", "name_en", "position", "is_default", "is_active"]
STAGE_FIELDS = ["name", "name_en", "position", "kind", "probability", "forecast_category", "is_active"]


def _admin(actor: User) -> None:
    if not actor.is_admin:
        raise PermissionDenied("只有管理员可以修改销售流程", "only an administrator can change pipelines")


@transaction.atomic
def pipeline_create(
    *, actor: User, source: Source | str, name: str, name_en: str = "", is_default: bool = False
) -> Pipeline:
    """A new pipeline, with its won and lost stages; add the open stages with ``stage_create``."""
    _admin(actor)
    name = _check_text(name, "name", 60, required=True)
    if Pipeline.objects.filter(name=name).exists():
        raise Conflict(
            "流程名称已存在", "a pipeline with this name exists", field="name", code="duplicate_name"
        )
    position = (Pipeline.objects.aggregate(m=Max("position"))["m"] or 0) + 1
    if is_default:
        Pipeline.objects.filter(is_default=True).update(is_default=False)
    pipeline = Pipeline.objects.create(
        name=name, name_en=_check_text(name_en, "name_en", 60), position=position, is_default=is_default
    )
    Stage.objects.create(
        pipeline=pipeline,
        name="赢单",
        name_en="Won",
        position=100,
        kind=StageKind.WON,
        probability=100,
        forecast_category=ForecastCategory.COMMIT,
    )
    Stage.objects.create(
        pipeline=pipeline,
        name="输单",
        name_en="Lost",
        position=101,
        kind=StageKind.LOST,
        probability=0,
        forecast_category=ForecastCategory.OMITTED,
    )
    audit_record(
        actor=actor,
        source=source,
        action="pipeline.create",
        obj=pipeline,
        changes=diff({}, snapshot(pipeline, PIPELINE_FIELDS)),
    )
    return pipeline


@transaction.atomic
def pipeline_update(*, actor: User, source: Source | str, pipeline: Pipeline, **data: Any) -> Pipeline:
    _admin(actor)
    pipeline = Pipeline.objects.select_for_update().get(pk=pipeline.pk)
    before = snapshot(pipeline, PIPELINE_FIELDS)
    for key, value in data.items():
        require(key in PIPELINE_FIELDS, f"未知字段：{key}", f"unknown field: {key}", field=key)
        if value is None:
            continue
        if key == "name":
            value = _check_text(value, "name", 60, required=True)
            if Pipeline.objects.filter(name=value).exclude(pk=pipeline.pk).exists():
                raise Conflict(
                    "流程名称已存在", "a pipeline with this name exists", field="name", code="duplicate_name"
                )
        elif key == "name_en":
            value = _check_text(value, "name_en", 60)
        setattr(pipeline, key, value)
    if pipeline.is_default:
        Pipeline.objects.filter(is_default=True).exclude(pk=pipeline.pk).update(is_default=False)
    require(
        pipeline.is_active or not pipeline.is_default,
        "默认流程不能停用",
        "the default pipeline cannot be inactive",
        field="is_active",
    )
    pipeline.save()
    changes = diff(before, snapshot(pipeline, PIPELINE_FIELDS))
    if changes:
        audit_record(actor=actor, source=source, action="pipeline.update", obj=pipeline, changes=changes)
    return pipeline


def _stage_values(data: dict[str, Any], kind: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if data.get("name") is not None:
        out["name"] = _check_text(data["name"], "name", 40, required=True)
    if data.get("name_en") is not None:
        out["name_en"] = _check_text(data["name_en"], "name_en", 40)
    if data.get("probability") is not None:
        out["probability"] = _check_probability(data["probability"])
        if kind != StageKind.OPEN:
            require(
                out["probability"] == (100 if kind == StageKind.WON else 0),
                "赢单阶段赢率为100，输单阶段为0",
                "a won stage has probability 100, a lost stage 0",
                field="probability",
            )
    if data.get("forecast_category") is not None:
        out["forecast_category"] = _check_choice(
            data["forecast_category"], ForecastCategory, "forecast_category"
        )
    if data.get("position") is not None:
        position = data["position"]
        require(
            isinstance(position, int) and 0 <= position <= 1000,
            "排序应在0到1000之间",
            "position must be 0–1000",
            field="position",
        )
        out["position"] = position
    if data.get("is_active") is not None:
        require(
            kind == StageKind.OPEN or bool(data["is_active"]),
            "结束阶段不能停用",
            "won and lost stages cannot be deactivated",
            field="is_active",
        )
        out["is_active"] = bool(data["is_active"])
    return out


@transaction.atomic
def stage_create(
    *,
    actor: User,
    source: Source | str,
    pipeline: Pipeline,
    name: str,
    probability: int,
    name_en: str = "",
    position: int | None = None,
    forecast_category: str = ForecastCategory.PIPELINE,
) -> Stage:
    """An open stage; won and lost stages come with the pipeline (one of each)."""
    _admin(actor)
    values = _stage_values(
        {
            "name": name,
            "name_en": name_en,
            "probability": probability,
            "forecast_category": forecast_category,
            "position": position,
        },
        StageKind.OPEN,
    )
    if pipeline.stages.filter(name=values["name"]).exists():
        raise Conflict("阶段名称已存在", "a stage with this name exists", field="name", code="duplicate_name")
    if "position" not in values:
        last_open = pipeline.stages.filter(kind=StageKind.OPEN).aggregate(m=Max("position"))["m"] or 0
        values["position"] = last_open + 1
    stage = Stage.objects.create(pipeline=pipeline, kind=StageKind.OPEN, **values)
    audit_record(
        actor=actor,
        source=source,
        action="stage.create",
        obj=stage,
        changes=diff({}, snapshot(stage, STAGE_FIELDS)),
    )
    return stage


@transaction.atomic
def stage_update(*, actor: User, source: Source | str, stage: Stage, **data: Any) -> Stage:
    """Rename, reorder, re-weight or deactivate a stage. Its kind never changes: the history and
    the win rates of past deals depend on it. Deals already in it keep their probability."""
    _admin(actor)
    stage = Stage.objects.select_for_update().get(pk=stage.pk)
    for key in data:
        require(
            key in STAGE_FIELDS and key != "kind",
            f"未知字段：{key}",
            f"cannot change field: {key}",
            field=key,
        )
    values = _stage_values(data, stage.kind)
    if "name" in values and stage.pipeline.stages.filter(name=values["name"]).exclude(pk=stage.pk).exists():
        raise Conflict("阶段名称已存在", "a stage with this name exists", field="name", code="duplicate_name")
    if values.get("is_active") is False:
        require(
            stage.pipeline.stages.filter(kind=StageKind.OPEN, is_active=True).exclude(pk=stage.pk).exists(),
            "流程至少要有一个启用的阶段",
            "a pipeline needs at least one active open stage",
            field="is_active",
        )
        require(
            not Opportunity.objects.filter(stage=stage).exists(),
            "该阶段还有商机，先把它们移到其他阶段",
            "deals are still in this stage: move them first",
            field="is_active",
            code="stage_in_use",
        )
    before = snapshot(stage, STAGE_FIELDS)
    for key, value in values.items():
        setattr(stage, key, value)
    stage.save()
    changes = diff(before, snapshot(stage, STAGE_FIELDS))
    if changes:
        audit_record(actor=actor, source=source, action="stage.update", obj=stage, changes=changes)
    return stage
