"""The demo's sales pipeline: each salesperson works deals on their active and prospect customers —
new business and renewals, at every stage, with product lines, next steps (some overdue), the people
on each deal with their decision roles, and a history of won deals (each with its order) and lost ones
(each with its real reason). Written through the services; deterministic for a seed and day.

The services stamp stage changes with the current time; so that cycle lengths and stuck deals have
something to show, the demo then spreads each deal's history over the past weeks (the only direct
writes here, to timestamps nothing else derives from)."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from django.db.models import F
from django.utils import timezone

from guanxi.accounts.models import User
from guanxi.audit.models import Source
from guanxi.customers.models import Customer
from guanxi.pipeline import services
from guanxi.pipeline.forecast import forecast_snapshot_take
from guanxi.pipeline.models import Opportunity, Pipeline, StageKind, StageStay
from guanxi.pipeline.services import DealLine
from guanxi.relations.models import DecisionRole, Referral
from guanxi.sales.models import Product
from guanxi.service.services import objection_create

DEAL_NAMES = (
    "年度采购框架",
    "设备更新项目",
    "新产线配套",
    "试用转正式采购",
    "二期扩容",
    "渠道备货",
    "样品试产",
)
COMPETITORS = ("西门子", "施耐德", "欧姆龙", "本地小厂", "汇川", "")
NEXT_STEPS = ("发送修订报价", "安排技术交流", "约见采购经理", "提交样品", "拜访拍板者", "确认合同条款")
LOST = ("price", "competitor", "timing", "no_decision", "authority", "quality")
SALES = ("wang", "zhang", "li", "liu")
# Objections raised in a deal (异议): (category, the customer's words, judgement).
OBJECTIONS = (
    ("price", "你们的价格比别家高了15%", "genuine"),
    ("price", "预算只有这么多，能不能再降点", "pretext"),
    ("competitor", "西门子那边给的条件更好", "unsure"),
    ("timing", "今年预算用完了，明年再说", "pretext"),
    ("authority", "这个要老板拍板，我做不了主", "genuine"),
    ("quality", "上次那批货有两台返修", "genuine"),
    ("style", "外观有点老气了", "pretext"),
)


def apply_pipeline(users: dict[str, User], today: dt.date, seed: int) -> int:
    """Create the demo's deals; returns how many."""
    rng = random.Random(seed + 8)
    cli = Source.CLI
    new_business = Pipeline.objects.filter(is_default=True).first() or Pipeline.objects.first()
    if new_business is None:
        return 0
    renewals = Pipeline.objects.exclude(pk=new_business.pk).first()
    products = list(Product.objects.filter(is_active=True).order_by("code")[:30])
    created = 0
    for username in SALES:
        user = users.get(username)
        if user is None:
            continue
        customers = list(
            Customer.objects.filter(owner=user, status__in=("active", "prospect")).order_by("id")[:14]
        )
        for i, customer in enumerate(customers):
            renewal = renewals is not None and customer.status == "active" and i % 5 == 4
            pipeline = renewals if renewal and renewals is not None else new_business
            stages = list(pipeline.stages.filter(is_active=True).order_by("position"))
            open_stages = [s for s in stages if s.kind == StageKind.OPEN]
            lines = [
                DealLine(p, Decimal(rng.choice((2, 5, 10, 20, 50))))
                for p in rng.sample(products, k=min(len(products), rng.randint(1, 3)))
            ]
            referral = Referral.objects.filter(customer=customer).first() if rng.random() < 0.5 else None
            kind = "续约" if renewal else rng.choice(DEAL_NAMES)
            opp = services.opportunity_create(
                actor=user,
                source=cli,
                customer=customer,
                pipeline=pipeline,
                name=f"{customer.short_name or customer.name[:6]}·{kind}",
                expected_close_on=today + dt.timedelta(days=rng.randint(-10, 120)),
                lines=lines,
                deal_source="existing"
                if renewal
                else (
                    "referral" if referral else rng.choice(("exhibition", "website", "cold_call", "partner"))
                ),
                referral=referral,
                competitors=rng.choice(COMPETITORS),
                next_step=rng.choice(NEXT_STEPS),
                next_step_on=today + dt.timedelta(days=rng.randint(-4, 10)),
            )
            created += 1
            # The people on the deal, from the customer's decision chain.
            for role in DecisionRole.objects.filter(customer=customer).select_related("contact")[:3]:
                services.opportunity_person_set(
                    actor=user,
                    source=cli,
                    opportunity=opp,
                    contact=role.contact,
                    role=role.role,
                    engaged=rng.random() < 0.6,
                )
            # Objections raised along the way (about half the deals), logged on the deal.
            raised = [
                objection_create(
                    actor=user,
                    source=cli,
                    customer=customer,
                    opportunity=opp,
                    category=category,
                    customer_words=words,
                    judgement=judgement,
                    raised_on=min(today, timezone.localdate()) - dt.timedelta(days=rng.randint(1, 40)),
                )
                for category, words, judgement in rng.sample(OBJECTIONS, k=rng.choice((0, 0, 1, 2)))
            ]
            # Move it along; about a third of the deals end, won or lost.
            target = rng.randint(0, len(open_stages) - 1)
            for stage in open_stages[1 : target + 1]:
                opp = services.opportunity_move(
                    actor=user, source=cli, opportunity=opp, stage=stage, version=opp.version
                )
            ending = rng.random()
            if ending < 0.22:
                opp = services.opportunity_win(
                    actor=user,
                    source=cli,
                    opportunity=opp,
                    version=opp.version,
                    create_order=True,
                    closed_on=today - dt.timedelta(days=rng.randint(0, 80)),
                )
            elif ending < 0.36:
                opp = services.opportunity_lose(
                    actor=user,
                    source=cli,
                    opportunity=opp,
                    version=opp.version,
                    # The objection that really lost it, when one was raised; its category is the reason.
                    reason=raised[0].category if raised else rng.choice(LOST),
                    objection=raised[0] if raised else None,
                    lost_to=rng.choice(COMPETITORS[:5]),
                    note="客户最终选择了别家" if rng.random() < 0.5 else "",
                    closed_on=today - dt.timedelta(days=rng.randint(0, 80)),
                )
            _spread_history(opp, rng)
    forecast_snapshot_take(today=today)
    return created


def _spread_history(opp: Opportunity, rng: random.Random) -> None:
    """Place the deal's stage history in the past: a few days to weeks per stage."""
    stays = list(StageStay.objects.filter(opportunity=opp).order_by("entered_at", "id"))
    now = timezone.now()
    at = now - dt.timedelta(days=sum(rng.randint(3, 18) for _ in stays) + 1)
    created_at = at
    for stay in stays:
        stay.entered_at = at
        if stay.left_at is not None:
            at = at + dt.timedelta(days=rng.randint(3, 18), hours=rng.randint(0, 8))
            stay.left_at = at
    StageStay.objects.bulk_update(stays, ["entered_at", "left_at"])
    Opportunity.objects.filter(pk=opp.pk).update(
        created_at=created_at, stage_entered_at=stays[-1].entered_at if stays else F("stage_entered_at")
    )
