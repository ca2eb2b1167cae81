"""Every read of opportunities: the visibility rule of customers applies (a deal is seen by whoever
sees its customer: owner, shares, managed teams, administrators), and anything outside it is a 404.
The board, the list, the opportunity page and the Today section read through here; the forecast and
the pipeline analysis in ``guanxi.pipeline.forecast`` start from ``opportunity_queryset_for_user``."""

from __future__ import annotations

import datetime as dt
import operator
from dataclasses import dataclass, field
from decimal import Decimal
from functools import reduce
from typing import Any

from django.db.models import Count, DecimalField, ExpressionWrapper, F, Q, QuerySet, Sum, Window
from django.db.models.functions import Coalesce, RowNumber
from django.utils import timezone

from guanxi.accounts.models import User
from guanxi.audit.models import AuditEvent
from guanxi.core.errors import NotFound, ValidationFailed
from guanxi.core.pagination import Page, SortSpec, paginate
from guanxi.customers.selectors import Branch, visibility_branches
from guanxi.pipeline.models import (
    Opportunity,
    OpportunityPerson,
    OpportunitySource,
    Pipeline,
    Stage,
    StageKind,
    StageStay,
)
from guanxi.relations.models import DecisionRoleKind

CARDS_PER_COLUMN = 25
ZERO = Decimal("0.00")


# A customer's columns in the visibility rule (customers.selectors.Branch.rule) → the deal's own
# copies of them (Opportunity.customer_owner_id / customer_team_id, kept by the database).
DEAL_CUSTOMER_COLUMNS = {
    "owner_id": "customer_owner_id",
    "team_id": "customer_team_id",
    "id": "customer_id",
    "pk": "customer_id",
}


def opportunity_visibility_q(user: User, *, branches: list[Branch] | None = None) -> Q | None:
    """Deals whose customer the user sees (own customers, each managed team's, the shared ones),
    tested on the deal's own row. ``None``: everything (an administrator).

    The deal carries its customer's owner and team (copied by the database, migration 0005), so
    the rule needs no customer row: the forecast and the board's totals read every visible deal
    straight from their covering indexes, and a board column's first cards stop after a few.
    Testing each deal against its customer instead (an ``IN (SELECT …)`` set per branch, or a
    lookup per deal) was a third of a manager's forecast at 100k deals. The shared customers stay
    a short id list (or a subquery over the shares)."""
    branches = visibility_branches(user) if branches is None else branches
    if any(branch.everything for branch in branches):
        return None
    return reduce(operator.or_, (branch.rule_as(DEAL_CUSTOMER_COLUMNS) for branch in branches))


def opportunity_queryset_for_user(
    user: User, *, branches: list[Branch] | None = None
) -> QuerySet[Opportunity]:
    """The deals ``user`` may see; ``branches``: the user's, already read (visibility_branches)."""
    if not user.is_authenticated or not user.is_active:
        return Opportunity.objects.none()
    if user.is_admin:
        return Opportunity.objects.all()
    q = opportunity_visibility_q(user, branches=branches)
    return Opportunity.objects.filter(q) if q is not None else Opportunity.objects.all()


def opportunity_get_for_user(*, user: User, opportunity_id: int) -> Opportunity:
    opp = (
        opportunity_queryset_for_user(user)
        .select_related(
            "customer", "owner", "team", "pipeline", "stage", "referral", "order", "lost_objection"
        )
        .defer("customer__search_doc")
        .filter(pk=opportunity_id)
        .first()
    )
    if opp is None:
        raise NotFound("商机", "opportunity")
    return opp


def pipelines_active() -> list[Pipeline]:
    pipelines = list(Pipeline.objects.filter(is_active=True).order_by("position", "id"))
    stages = Stage.objects.filter(pipeline__in=pipelines, is_active=True).order_by("position", "id")
    by_pipeline: dict[int, list[Stage]] = {}
    for s in stages:
        by_pipeline.setdefault(s.pipeline_id, []).append(s)
    for p in pipelines:
        p.active_stages = by_pipeline.get(p.pk, [])  # type: ignore[attr-defined]
    return pipelines


def pipeline_get(pipeline_id: int | None) -> Pipeline:
    qs = Pipeline.objects.filter(is_active=True)
    pipeline = (
        qs.filter(pk=pipeline_id).first() if pipeline_id else qs.order_by("-is_default", "position").first()
    )
    if pipeline is None:
        raise NotFound("销售流程", "pipeline")
    return pipeline


def stage_get(*, pipeline: Pipeline | None = None, stage_id: Any) -> Stage:
    """A stage by id (of ``pipeline`` if given); an unknown one is a clear 400, not a 500."""
    qs = Stage.objects.select_related("pipeline").filter(pk=stage_id) if isinstance(stage_id, int) else None
    if qs is not None and pipeline is not None:
        qs = qs.filter(pipeline=pipeline)
    stage = qs.first() if qs is not None else None
    if stage is None:
        raise ValidationFailed(
            f"未知阶段：{stage_id}", f"unknown stage: {stage_id}", field="stage", code="unknown_stage"
        )
    return stage


# --- Filters --------------------------------------------------------------------------------------


@dataclass
class DealFilters:
    pipeline_id: int | None = None
    owner_id: int | None = None
    team_id: int | None = None
    source: str = ""
    close_from: dt.date | None = None
    close_to: dt.date | None = None
    stage_id: int | None = None
    status: str = ""  # "", open, won, lost
    customer_id: int | None = None
    q: str = ""

    def check(self) -> DealFilters:
        if self.source and self.source not in OpportunitySource.values:
            raise ValidationFailed(
                f"未知来源：{self.source}", f"unknown source: {self.source}", field="source"
            )
        if self.status and self.status not in StageKind.values:
            raise ValidationFailed(
                f"未知状态：{self.status}", f"unknown status: {self.status}", field="status"
            )
        if self.close_from and self.close_to and self.close_from > self.close_to:
            raise ValidationFailed("日期范围无效", "close_from is after close_to", field="close_from")
        return self


def _filtered(qs: QuerySet[Opportunity], f: DealFilters) -> QuerySet[Opportunity]:
    exact = {
        "pipeline_id": f.pipeline_id,
        "owner_id": f.owner_id,
        "team_id": f.team_id,
        "source": f.source,
        "stage_id": f.stage_id,
        "status": f.status,
        "customer_id": f.customer_id,
    }
    qs = qs.filter(**{k: v for k, v in exact.items() if v})
    if f.q.strip():
        qs = qs.filter(Q(name__icontains=f.q.strip()) | Q(customer__name__icontains=f.q.strip()))
    return qs


def period_bounds(period: str, today: dt.date) -> tuple[dt.date | None, dt.date | None]:
    """Named close periods of the filters: this/next month or quarter, overdue, or everything."""
    month_start = today.replace(day=1)
    q_start = dt.date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)

    def add_months(d: dt.date, n: int) -> dt.date:
        m = d.month - 1 + n
        return dt.date(d.year + m // 12, m % 12 + 1, 1)

    bounds = {
        "this_month": (month_start, add_months(month_start, 1) - dt.timedelta(days=1)),
        "next_month": (add_months(month_start, 1), add_months(month_start, 2) - dt.timedelta(days=1)),
        "this_quarter": (q_start, add_months(q_start, 3) - dt.timedelta(days=1)),
        "next_quarter": (add_months(q_start, 3), add_months(q_start, 6) - dt.timedelta(days=1)),
        "overdue": (None, today - dt.timedelta(days=1)),
        "": (None, None),
    }
    if period not in bounds:
        raise ValidationFailed(f"未知期间：{period}", f"unknown period: {period}", field="period")
    return bounds[period]


# --- Board ----------------------------------------------------------------------------------------


@dataclass
class Column:
    stage: Stage
    count: int = 0
    amount: Decimal = ZERO
    weighted: Decimal = ZERO
    cards: list[Opportunity] = field(default_factory=list)

    @property
    def more(self) -> int:
        return max(0, self.count - len(self.cards))


@dataclass
class Board:
    pipeline: Pipeline
    columns: list[Column]
    closed_since: dt.date

    @property
    def open_count(self) -> int:
        return sum(c.count for c in self.columns if c.stage.kind == StageKind.OPEN)

    @property
    def open_amount(self) -> Decimal:
        return sum((c.amount for c in self.columns if c.stage.kind == StageKind.OPEN), ZERO)

    @property
    def open_weighted(self) -> Decimal:
        return sum((c.weighted for c in self.columns if c.stage.kind == StageKind.OPEN), ZERO)


CARD_FIELDS = (
    "id",
    "name",
    "stage_id",
    "status",
    "amount",
    "probability",
    "expected_close_on",
    "next_step",
    "next_step_on",
    "version",
    "decision_maker_engaged",
    "forecast_category",
    "closed_on",
    "customer__id",
    "customer__name",
    "owner__id",
    "owner__username",
    "owner__display_name",
)
WEIGHTED = ExpressionWrapper(
    F("amount") * F("probability") / 100, output_field=DecimalField(max_digits=20, decimal_places=4)
)
CLOSED_DAYS = 90


def board(*, user: User, filters: DealFilters, today: dt.date | None = None) -> Board:
    """The kanban: one column per active stage of the pipeline, with the totals of every deal the
    user may see in it (count, amount, weighted) and the first cards by close date.

    Open columns hold the open deals whose expected close date is in the filter's period; the won
    and lost columns the deals closed in the period (by default the last 90 days), so they stay
    short. Three queries: stages, totals (one GROUP BY), cards (a window per stage)."""
    filters.check()
    today = today or timezone.localdate()
    pipeline = pipeline_get(filters.pipeline_id)
    stages = list(pipeline.stages.filter(is_active=True).order_by("position", "id"))
    narrowing = DealFilters(
        owner_id=filters.owner_id,
        team_id=filters.team_id,
        source=filters.source,
        q=filters.q,
        customer_id=filters.customer_id,
    )
    branches = visibility_branches(user)
    base = _filtered(
        opportunity_queryset_for_user(user, branches=branches).filter(pipeline=pipeline), narrowing
    )
    open_q = Q(status=StageKind.OPEN)
    if filters.close_from:
        open_q &= Q(expected_close_on__gte=filters.close_from)
    if filters.close_to:
        open_q &= Q(expected_close_on__lte=filters.close_to)
    closed_since = filters.close_from or today - dt.timedelta(days=CLOSED_DAYS)
    closed_q = ~Q(status=StageKind.OPEN) & Q(closed_on__gte=closed_since)
    if filters.close_to:
        closed_q &= Q(closed_on__lte=filters.close_to)
    shown = base.filter(open_q | closed_q)
    totals = {
        row["stage_id"]: row
        for row in shown.values("stage_id")
        .annotate(n=Count("id"), total=Coalesce(Sum("amount"), ZERO), weighted=Coalesce(Sum(WEIGHTED), ZERO))
        .order_by()
    }
    # The first cards of each column. A salesperson sees few deals (their customers' and the
    # shared ones): one query numbers them per stage (a window over ~1k rows) and keeps the first
    # of each. A manager or an administrator sees most of them, and a window over every visible
    # deal was the slowest part of the page at 100k: one short query per stage walks the (stage,
    # close date) index until it has found enough visible deals.
    cards: dict[int, list[Opportunity]] = {}
    few = not user.is_admin and all(b.team_id is None for b in branches)
    if few:
        numbered = (
            shown.select_related("customer", "owner")
            .only(*CARD_FIELDS)
            .annotate(
                card_no=Window(
                    RowNumber(),
                    partition_by=[F("stage_id")],
                    order_by=[F("expected_close_on").asc(), F("id").asc()],
                )
            )
            .filter(card_no__lte=CARDS_PER_COLUMN)
            .order_by("stage_id", "card_no")
        )
        for opp in numbered:
            cards.setdefault(opp.stage_id, []).append(opp)
    else:
        for stage in stages:
            cards[stage.pk] = list(
                shown.filter(stage_id=stage.pk)
                .select_related("customer", "owner")
                .only(*CARD_FIELDS)
                .order_by("expected_close_on", "id")[:CARDS_PER_COLUMN]
            )
    columns = []
    for s in stages:
        t = totals.get(s.pk, {})
        columns.append(
            Column(
                stage=s,
                count=t.get("n", 0),
                amount=Decimal(t.get("total") or 0).quantize(Decimal("0.01")),
                weighted=Decimal(t.get("weighted") or 0).quantize(Decimal("0.01")),
                cards=cards.get(s.pk, []),
            )
        )
    return Board(pipeline=pipeline, columns=columns, closed_since=closed_since)


# --- List -----------------------------------------------------------------------------------------

SORTS = {
    "close": SortSpec("expected_close_on", descending=False, kind="date"),
    "created": SortSpec("created_at", descending=True, kind="datetime"),
}


def opportunity_list(
    *, user: User, filters: DealFilters, sort: str = "close", cursor: str | None = None, size: int = 50
) -> Page[Opportunity]:
    filters.check()
    if sort not in SORTS:
        raise ValidationFailed(
            f"未知排序：{sort}", f"unknown sort: {sort}", field="sort", code="invalid_sort"
        )
    qs = _filtered(opportunity_queryset_for_user(user), filters)
    if filters.close_from:
        qs = qs.filter(expected_close_on__gte=filters.close_from)
    if filters.close_to:
        qs = qs.filter(expected_close_on__lte=filters.close_to)
    qs = qs.select_related("customer", "owner", "stage", "pipeline").defer(
        "customer__search_doc", "description"
    )
    return paginate(qs, SORTS[sort], cursor=cursor, size=size)


# --- One opportunity ------------------------------------------------------------------------------


def opportunity_people(opp: Opportunity) -> list[OpportunityPerson]:
    return list(opp.people.select_related("contact").order_by("id"))


def decision_maker_warning(opp: Opportunity, people: list[OpportunityPerson]) -> dict[str, str] | None:
    """Why the deal is at risk on the decision side (no decision maker listed, or none reached)."""
    if not opp.is_open:
        return None
    makers = [p for p in people if p.role == DecisionRoleKind.DECISION_MAKER]
    if not makers:
        return {
            "code": "no_decision_maker",
            "message_zh": "这个商机还没有拍板者：谁最终拍板？",
            "message_en": "No decision maker on this deal: who signs off?",
        }
    if not any(p.engaged for p in makers):
        return {
            "code": "decision_maker_not_engaged",
            "message_zh": "拍板者还没有接触过：只和影响者谈，赢单的把握不大。",
            "message_en": "The decision maker has not been engaged yet: talking to others only is risky.",
        }
    return None


def opportunity_stays(opp: Opportunity) -> list[StageStay]:
    return list(opp.stays.select_related("stage", "moved_by").order_by("entered_at", "id"))


def opportunity_events(opp: Opportunity, limit: int = 50) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(object_type="opportunity", object_id=opp.pk)
        .select_related("actor")
        .order_by("-created_at", "-id")[:limit]
    )


def customer_opportunities(*, user: User, customer_id: int, limit: int = 20) -> list[Opportunity]:
    return list(
        opportunity_queryset_for_user(user)
        .filter(customer_id=customer_id)
        .select_related("stage", "owner")
        .order_by("status", "expected_close_on", "id")[:limit]
    )


# --- Today ----------------------------------------------------------------------------------------


def next_steps_due(user: User, day: dt.date, limit: int = 50) -> list[Opportunity]:
    """The user's open deals whose next step is due today or overdue."""
    return list(
        opportunity_queryset_for_user(user)
        .filter(owner=user, status=StageKind.OPEN, next_step_on__lte=day)
        .select_related("customer")
        .only("id", "name", "next_step", "next_step_on", "customer__id", "customer__name")
        .order_by("next_step_on", "id")[:limit]
    )


def closing_soon(user: User, day: dt.date, days: int = 7, limit: int = 50) -> list[Opportunity]:
    """The user's open deals whose expected close date has passed or comes within ``days``."""
    return list(
        opportunity_queryset_for_user(user)
        .filter(owner=user, status=StageKind.OPEN, expected_close_on__lte=day + dt.timedelta(days=days))
        .select_related("customer")
        .only("id", "name", "expected_close_on", "amount", "customer__id", "customer__name")
        .order_by("expected_close_on", "id")[:limit]
    )
