"""Timed pages of the pipeline for ``make bench``: the board and the forecast (p95 target 150 ms at
medium), of the bench salesperson and manager, in HTML and through the API, and the list.

The generated data has customers and orders but no deals. The first call creates the scale's
opportunities (100k at medium: one per customer on average, spread like the customers, each owned by
its customer's owner) with their stage history, in bulk inserts, once: a later run with ``--keep``
finds them and creates nothing.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from guanxi.accounts.models import User
from guanxi.bench.measure import Page
from guanxi.customers.models import Customer
from guanxi.pipeline.models import Opportunity, OpportunitySource, Pipeline, Stage, StageKind, StageStay

TARGET_MS = 150
BATCH = 5000
SOURCES = OpportunitySource.values
NAMES = ("年度采购", "设备更新", "扩产项目", "试用转正式", "续约", "二期项目", "渠道备货", "样品试产")


def _stage_path(stages: list[Stage], final: Stage) -> list[Stage]:
    """The open stages a deal went through before ``final`` (some are skipped)."""
    if final.kind == StageKind.OPEN:
        return [s for s in stages if s.kind == StageKind.OPEN and s.position < final.position]
    return [s for s in stages if s.kind == StageKind.OPEN]


def ensure_opportunities(n: int, rng: random.Random) -> int:
    """Create ``n`` opportunities (with their stage history) unless they exist already."""
    have = Opportunity.objects.count()
    if have >= n:
        return 0
    customers = list(Customer.objects.order_by("id").values_list("id", "owner_id", "team_id"))
    if not customers:
        return 0
    pipelines = list(Pipeline.objects.filter(is_active=True).order_by("position"))
    stages = {p.pk: list(p.stages.filter(is_active=True).order_by("position")) for p in pipelines}
    today = timezone.localdate()
    now = timezone.now()
    bench_user = User.objects.order_by("id").first()
    created = 0
    for start in range(have, n, BATCH):
        opps: list[Opportunity] = []
        paths: list[tuple[list[Stage], Stage]] = []
        for _ in range(min(BATCH, n - start)):
            cid, owner_id, team_id = rng.choice(customers)
            pipeline = pipelines[0] if rng.random() < 0.8 or len(pipelines) == 1 else pipelines[1]
            ps = stages[pipeline.pk]
            roll = rng.random()
            open_stages = [s for s in ps if s.kind == StageKind.OPEN]
            if roll < 0.6:
                stage = rng.choice(open_stages)
            else:
                stage = next(s for s in ps if s.kind == (StageKind.WON if roll < 0.85 else StageKind.LOST))
            entered = now - dt.timedelta(days=rng.randint(1, 120), hours=rng.randint(0, 23))
            amount = Decimal(int(10 ** rng.uniform(3.7, 5.7))).quantize(Decimal("1.00"))
            closed = stage.kind != StageKind.OPEN
            opps.append(
                Opportunity(
                    customer_id=cid,
                    name=rng.choice(NAMES),
                    pipeline=pipeline,
                    stage=stage,
                    status=stage.kind,
                    probability=stage.probability,
                    amount=amount,
                    expected_close_on=today + dt.timedelta(days=rng.randint(-30, 180)),
                    owner_id=owner_id,
                    team_id=team_id,
                    source=rng.choice(SOURCES),
                    forecast_category=stage.forecast_category,
                    stage_entered_at=entered,
                    closed_on=(today - dt.timedelta(days=rng.randint(0, 365))) if closed else None,
                    lost_reason=rng.choice(("price", "competitor", "timing", "no_decision"))
                    if stage.kind == "lost"
                    else "",
                    decision_maker_engaged=rng.random() < 0.4,
                    next_step="跟进报价" if not closed else "",
                    next_step_on=(today + dt.timedelta(days=rng.randint(-5, 20))) if not closed else None,
                    created_by=bench_user,
                )
            )
            paths.append((_stage_path(ps, stage), stage))
        with transaction.atomic():
            Opportunity.objects.bulk_create(opps, batch_size=1000)
            stays: list[StageStay] = []
            for opp, (before, final) in zip(opps, paths, strict=True):
                at = opp.stage_entered_at - dt.timedelta(days=4 * len(before) + 1)
                for s in before:
                    left = at + dt.timedelta(days=rng.randint(1, 8))
                    stays.append(StageStay(opportunity=opp, stage=s, entered_at=at, left_at=left))
                    at = left
                stays.append(StageStay(opportunity=opp, stage=final, entered_at=opp.stage_entered_at))
            StageStay.objects.bulk_create(stays, batch_size=2000)
        created += len(opps)
    return created


def pages(*, sales: User, manager: User, rng: random.Random, n: int) -> list[Page]:
    customers = Customer.objects.count()
    # medium (100k customers) → 100k deals; other scales in proportion, at most 1M.
    ensure_opportunities(min(max(customers, 1000), 1_000_000), rng)
    return [
        Page(
            "pipeline_board",
            "Pipeline board (salesperson)",
            ["/pipeline/"] * n,
            user="sales",
            target_ms=TARGET_MS,
        ),
        Page(
            "pipeline_board_mgr",
            "Pipeline board (manager, whole team)",
            ["/pipeline/"] * n,
            user="manager",
            target_ms=TARGET_MS,
        ),
        Page(
            "pipeline_forecast",
            "Forecast, 4 quarters (salesperson)",
            ["/pipeline/forecast/"] * n,
            user="sales",
            target_ms=TARGET_MS,
        ),
        Page(
            "pipeline_forecast_mgr",
            "Forecast, 4 quarters by salesperson (manager)",
            ["/pipeline/forecast/"] * n,
            user="manager",
            target_ms=TARGET_MS,
        ),
        Page(
            "api_pipeline_board",
            "API: GET /api/v1/pipeline/board",
            ["/api/v1/pipeline/board"] * n,
            user="sales",
        ),
        Page(
            "pipeline_list", "Opportunity list, first page (manager)", ["/pipeline/list/"] * n, user="manager"
        ),
    ]
