"""The forecast (销售预测) and the pipeline analysis — reads over the deals a user may see, in a few
GROUP BY queries each (never a loop over deals in Python).

Forecast figures per period (month or quarter, by expected close date) and per salesperson or team:

* ``commit``   — open deals the owner commits to (forecast category *commit*);
* ``best_case`` — commit plus the *best case* deals: what comes in if things go well;
* ``pipeline`` — every open deal not *omitted*;
* ``weighted`` — Σ amount × probability over the same deals as ``pipeline``;
* ``won``      — deals won with a close date in the period (the actual).

A past period is compared with what the forecast said when it began: the latest snapshot taken on or
before its first day (or, failing that, the first one taken during its first week); see
``forecast_snapshot_take``, run daily from ``core.schedule``.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import pairwise
from typing import Any

from django.db import transaction
from django.db.models import (
    Avg,
    Case,
    Count,
    DateField,
    DurationField,
    ExpressionWrapper,
    F,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from guanxi.accounts.models import Team, User
from guanxi.accounts.selectors import managed_team_ids
from guanxi.core.errors import ValidationFailed
from guanxi.pipeline.models import (
    ForecastCategory,
    ForecastSnapshot,
    LostReason,
    Opportunity,
    OpportunitySource,
    PeriodKind,
    Pipeline,
    Stage,
    StageKind,
    StageStay,
)
from guanxi.pipeline.selectors import WEIGHTED, ZERO, DealFilters, _filtered, opportunity_queryset_for_user
from guanxi.service.models import Objection, ObjectionCategory

CENT = Decimal("0.01")
MAX_PERIODS = 12
SNAPSHOT_WINDOW_DAYS = 7


# --- Periods --------------------------------------------------------------------------------------


def period_start(day: dt.date, kind: str) -> dt.date:
    if kind == PeriodKind.MONTH:
        return day.replace(day=1)
    if kind == PeriodKind.QUARTER:
        return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    raise ValidationFailed(
        f"未知期间类型：{kind}", f"unknown period kind: {kind} (month, quarter)", field="period"
    )


def add_periods(start: dt.date, kind: str, n: int) -> dt.date:
    months = n * (3 if kind == PeriodKind.QUARTER else 1)
    m = start.month - 1 + months
    return dt.date(start.year + m // 12, m % 12 + 1, 1)


def period_of(field: str, starts: list[dt.date]) -> Case:
    """The start of the period (one of ``starts``, ascending) a date column falls in, for rows already
    limited to those periods — in plain SQL: ``Trunc`` is a Python function called once per row on
    SQLite, and at 100k deals that call was most of the forecast's time."""
    whens = [When(**{f"{field}__lt": nxt}, then=Value(start)) for start, nxt in pairwise(starts)]
    return Case(*whens, default=Value(starts[-1]), output_field=DateField())


def period_label(start: dt.date, kind: str) -> str:
    if kind == PeriodKind.QUARTER:
        return f"{start.year} Q{(start.month - 1) // 3 + 1}"
    return f"{start:%Y-%m}"


# --- Forecast -------------------------------------------------------------------------------------


@dataclass
class Figures:
    commit: Decimal = ZERO
    best_case: Decimal = ZERO
    pipeline: Decimal = ZERO
    weighted: Decimal = ZERO
    won: Decimal = ZERO
    open_count: int = 0
    won_count: int = 0
    # What the forecast said when the period began (past periods with a snapshot only).
    forecast_commit: Decimal | None = None
    forecast_weighted: Decimal | None = None

    def add(self, other: Figures) -> None:
        for name in ("commit", "best_case", "pipeline", "weighted", "won", "open_count", "won_count"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for name in ("forecast_commit", "forecast_weighted"):
            theirs = getattr(other, name)
            if theirs is not None:
                setattr(self, name, (getattr(self, name) or ZERO) + theirs)

    @property
    def accuracy(self) -> Decimal | None:
        """Won as a share of the committed forecast at the start of the period (1.00 = on target)."""
        if not self.forecast_commit:
            return None
        return (self.won / self.forecast_commit).quantize(CENT)

    @property
    def weighted_error(self) -> Decimal | None:
        """How far the weighted forecast was from the actual, as a share of the forecast."""
        if not self.forecast_weighted:
            return None
        return (abs(self.won - self.forecast_weighted) / self.forecast_weighted).quantize(CENT)


@dataclass
class ForecastRow:
    key: int | None  # owner or team id (None: no team)
    label: str
    periods: dict[dt.date, Figures] = field(default_factory=dict)


@dataclass
class Forecast:
    kind: str
    starts: list[dt.date]
    group: str
    rows: list[ForecastRow]
    totals: dict[dt.date, Figures]
    today: dt.date

    def is_past(self, start: dt.date) -> bool:
        return add_periods(start, self.kind, 1) <= self.today

    @property
    def labels(self) -> list[tuple[dt.date, str, bool]]:
        return [(s, period_label(s, self.kind), self.is_past(s)) for s in self.starts]


def _categorised(figures: Figures, category: str, amount: Decimal, weighted: Decimal, n: int) -> None:
    if category == ForecastCategory.OMITTED:
        return
    figures.pipeline += amount
    figures.weighted += weighted
    figures.open_count += n
    if category in (ForecastCategory.COMMIT, ForecastCategory.BEST_CASE):
        figures.best_case += amount
    if category == ForecastCategory.COMMIT:
        figures.commit += amount


def visible_owner_ids(user: User) -> set[int] | None:
    """Whose forecast snapshots a user may read: their own, their managed teams' (None: everyone's)."""
    if user.is_admin:
        return None
    ids = {user.pk}
    if user.is_manager:
        ids |= set(User.objects.filter(team_id__in=managed_team_ids(user)).values_list("id", flat=True))
    return ids


def forecast(
    *,
    user: User,
    kind: str = PeriodKind.QUARTER,
    start: dt.date | None = None,
    periods: int = 4,
    group: str = "owner",
    filters: DealFilters | None = None,
    today: dt.date | None = None,
) -> Forecast:
    """Forecast per period and per salesperson (``group="owner"``) or team, over visible deals."""
    today = today or timezone.localdate()
    filters = (filters or DealFilters()).check()
    if group not in ("owner", "team"):
        raise ValidationFailed(f"未知分组：{group}", f"unknown group: {group} (owner, team)", field="group")
    if not 1 <= periods <= MAX_PERIODS:
        raise ValidationFailed(
            f"期间数应在1到{MAX_PERIODS}之间", f"periods must be 1–{MAX_PERIODS}", field="periods"
        )
    first = period_start(start or add_periods(period_start(today, kind), kind, -1), kind)
    starts = [add_periods(first, kind, i) for i in range(periods)]
    end = add_periods(first, kind, periods)
    key = "owner_id" if group == "owner" else "team_id"
    base = _filtered(
        opportunity_queryset_for_user(user),
        DealFilters(
            pipeline_id=filters.pipeline_id,
            owner_id=filters.owner_id,
            team_id=filters.team_id,
            source=filters.source,
        ),
    )
    cells: dict[tuple[int | None, dt.date], Figures] = defaultdict(Figures)
    open_rows = (
        base.filter(status=StageKind.OPEN, expected_close_on__gte=first, expected_close_on__lt=end)
        .annotate(period=period_of("expected_close_on", starts))
        .values("period", key, "forecast_category")
        .annotate(total=Coalesce(Sum("amount"), ZERO), weighted=Coalesce(Sum(WEIGHTED), ZERO), n=Count("id"))
        .order_by()
    )
    for r in open_rows:
        _categorised(cells[(r[key], r["period"])], r["forecast_category"], r["total"], r["weighted"], r["n"])
    won_rows = (
        base.filter(status=StageKind.WON, closed_on__gte=first, closed_on__lt=end)
        .annotate(period=period_of("closed_on", starts))
        .values("period", key)
        .annotate(amount=Coalesce(Sum("amount"), ZERO), n=Count("id"))
        .order_by()
    )
    for r in won_rows:
        cell = cells[(r[key], r["period"])]
        cell.won += r["amount"]
        cell.won_count += r["n"]
    _apply_snapshots(
        cells,
        user=user,
        kind=kind,
        starts=[s for s in starts if add_periods(s, kind, 1) <= today],
        key=key,
        filters=filters,
    )
    for cell in cells.values():
        cell.weighted = cell.weighted.quantize(CENT)
    keys = sorted({k for k, _ in cells}, key=lambda k: (k is None, k or 0))
    names = _names(group, [k for k in keys if k is not None])
    rows = []
    totals: dict[dt.date, Figures] = {s: Figures() for s in starts}
    for k in keys:
        row = ForecastRow(key=k, label=names.get(k, "—") if k is not None else "—")
        for s in starts:
            figures = cells.get((k, s), Figures())
            row.periods[s] = figures
            totals[s].add(figures)
        rows.append(row)
    rows.sort(key=lambda r: r.label)
    return Forecast(kind=kind, starts=starts, group=group, rows=rows, totals=totals, today=today)


def _names(group: str, ids: list[int]) -> dict[int, str]:
    if group == "owner":
        return {u.pk: str(u) for u in User.objects.filter(pk__in=ids).only("id", "username", "display_name")}
    return dict(Team.objects.filter(pk__in=ids).values_list("id", "name"))


def _apply_snapshots(
    cells: dict[tuple[int | None, dt.date], Figures],
    *,
    user: User,
    kind: str,
    starts: list[dt.date],
    key: str,
    filters: DealFilters,
) -> None:
    """Put the opening forecast of each past period (from the snapshots) beside its actual."""
    if not starts or filters.pipeline_id or filters.source:
        return  # snapshots are per salesperson over all pipelines and sources
    qs = ForecastSnapshot.objects.filter(
        period_kind=kind,
        period_start__in=starts,
        taken_on__lte=F("period_start") + dt.timedelta(days=SNAPSHOT_WINDOW_DAYS),
    )
    owners = visible_owner_ids(user)
    if owners is not None:
        qs = qs.filter(owner_id__in=owners)
    if filters.owner_id:
        qs = qs.filter(owner_id=filters.owner_id)
    if filters.team_id:
        qs = qs.filter(team_id=filters.team_id)
    chosen: dict[tuple[int, dt.date], ForecastSnapshot] = {}
    for snap in qs.order_by("taken_on", "id"):
        ident = (snap.owner_id, snap.period_start)
        current = chosen.get(ident)
        # The latest one taken before the period began; else the earliest one inside it.
        if current is None or (snap.taken_on <= snap.period_start and current.taken_on <= snap.taken_on):
            chosen[ident] = snap
    for snap in chosen.values():
        cell = cells[(snap.owner_id if key == "owner_id" else snap.team_id, snap.period_start)]
        cell.forecast_commit = (cell.forecast_commit or ZERO) + snap.commit
        cell.forecast_weighted = (cell.forecast_weighted or ZERO) + snap.weighted


@transaction.atomic
def forecast_snapshot_take(*, today: dt.date | None = None) -> int:
    """Record every salesperson's forecast for the current and the next month and quarter (one row
    per owner, period and day; re-running the same day overwrites it). Returns the rows written."""
    today = today or timezone.localdate()
    rows: list[ForecastSnapshot] = []
    for kind in (PeriodKind.MONTH, PeriodKind.QUARTER):
        first = period_start(today, kind)
        end = add_periods(first, kind, 2)
        cells: dict[tuple[int, dt.date], Figures] = defaultdict(Figures)
        teams: dict[int, int | None] = {}
        for r in (
            Opportunity.objects.filter(
                status=StageKind.OPEN, expected_close_on__gte=first, expected_close_on__lt=end
            )
            .annotate(period=period_of("expected_close_on", [first, add_periods(first, kind, 1)]))
            .values("period", "owner_id", "owner__team_id", "forecast_category")
            .annotate(
                total=Coalesce(Sum("amount"), ZERO), weighted=Coalesce(Sum(WEIGHTED), ZERO), n=Count("id")
            )
            .order_by()
        ):
            _categorised(
                cells[(r["owner_id"], r["period"])],
                r["forecast_category"],
                r["total"],
                r["weighted"],
                r["n"],
            )
            teams[r["owner_id"]] = r["owner__team_id"]
        for r in (
            Opportunity.objects.filter(status=StageKind.WON, closed_on__gte=first, closed_on__lt=end)
            .annotate(period=period_of("closed_on", [first, add_periods(first, kind, 1)]))
            .values("period", "owner_id", "owner__team_id")
            .annotate(amount=Coalesce(Sum("amount"), ZERO))
            .order_by()
        ):
            cells[(r["owner_id"], r["period"])].won += r["amount"]
            teams[r["owner_id"]] = r["owner__team_id"]
        for (owner_id, start), f in cells.items():
            rows.append(
                ForecastSnapshot(
                    period_kind=kind,
                    period_start=start,
                    owner_id=owner_id,
                    team_id=teams.get(owner_id),
                    taken_on=today,
                    commit=f.commit,
                    best_case=f.best_case,
                    pipeline=f.pipeline,
                    weighted=f.weighted.quantize(CENT),
                    won=f.won,
                )
            )
    ForecastSnapshot.objects.bulk_create(
        rows,
        batch_size=500,
        update_conflicts=True,
        unique_fields=["period_kind", "period_start", "owner", "taken_on"],
        update_fields=["team", "commit", "best_case", "pipeline", "weighted", "won"],
    )
    return len(rows)


# --- Analysis -------------------------------------------------------------------------------------


@dataclass
class StageCycle:
    stage: Stage
    stays: int
    avg_days: float | None
    reached: int = 0
    conversion: float | None = None  # share of the deals that reached this stage and went further
    stuck_after_days: float = 0.0


@dataclass
class Rate:
    key: str
    label: str
    won: int
    lost: int

    @property
    def total(self) -> int:
        return self.won + self.lost

    @property
    def rate(self) -> float | None:
        return self.won / self.total if self.total else None


@dataclass
class Analysis:
    pipeline: Pipeline
    stages: list[StageCycle]
    cycle_won_days: float | None
    cycle_lost_days: float | None
    won: int
    lost: int
    by_source: list[Rate]
    by_decision_maker: list[Rate]
    by_objection: list[Rate]
    lost_reasons: list[tuple[str, str, int]]
    stuck: list[Opportunity]

    @property
    def win_rate(self) -> float | None:
        return self.won / (self.won + self.lost) if self.won + self.lost else None


DAY_SECONDS = 86400.0
STUCK_FACTOR = 1.5
STUCK_MIN_DAYS = 7.0
STUCK_DEFAULT_DAYS = 30.0
MIN_STAYS_FOR_NORM = 3


def _days(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, dt.timedelta):
        return value.total_seconds() / DAY_SECONDS
    return float(value) / 1e6 / DAY_SECONDS  # microseconds (SQLite)


def _duration(start: str, end: str) -> ExpressionWrapper[Any]:
    return ExpressionWrapper(F(end) - F(start), output_field=DurationField())


def objection_categories() -> list[tuple[str, str]]:
    """The objection categories (异议类别) win rates are broken down by: those of the objection log
    (``guanxi.service.models.ObjectionCategory``), then ``no_decision`` from ``LostReason``.

    ``LostReason`` repeats the objection categories on purpose, so a lost deal's reason reads
    against the objections raised in the sale; it adds ``no_decision`` (无决策), a way to lose that
    is not something a customer objects to. It is listed here so the two lists stay one vocabulary
    (a test checks every objection category is a lost reason too).
    """
    categories = [(str(v), str(label)) for v, label in ObjectionCategory.choices]
    if LostReason.NO_DECISION.value not in ObjectionCategory.values:
        categories.append((LostReason.NO_DECISION.value, str(LostReason.NO_DECISION.label)))
    return categories


def objection_pairs(closed: QuerySet[Opportunity]) -> Iterable[tuple[int, str]]:
    """(opportunity id, objection category) for the objections raised in the given closed deals, won
    and lost alike; a deal with two price objections counts once for price."""
    pairs: Iterable[tuple[int, str]] = (
        Objection.objects.filter(opportunity__in=closed.values("id"))
        .values_list("opportunity_id", "category")
        .distinct()
        .order_by()
    )
    return pairs


def analysis(
    *,
    user: User,
    filters: DealFilters | None = None,
    now: dt.datetime | None = None,
    since: dt.date | None = None,
) -> Analysis:
    """Cycle length per stage and overall, stage-to-stage conversion, win rates (by source, by
    decision-maker engagement, by objection category), lost reasons and the deals stuck in a stage
    longer than usual — all over the deals the user may see in one pipeline."""
    from guanxi.pipeline.selectors import pipeline_get

    now = now or timezone.now()
    filters = (filters or DealFilters()).check()
    pipeline = pipeline_get(filters.pipeline_id)
    deals = _filtered(
        opportunity_queryset_for_user(user).filter(pipeline=pipeline),
        DealFilters(owner_id=filters.owner_id, team_id=filters.team_id, source=filters.source),
    )
    stages = list(pipeline.stages.filter(is_active=True).order_by("position", "id"))
    open_stages = [s for s in stages if s.kind == StageKind.OPEN]

    stay_rows = {
        r["stage_id"]: r
        for r in StageStay.objects.filter(opportunity__in=deals.values("id"), left_at__isnull=False)
        .values("stage_id")
        .annotate(n=Count("id"), avg=Avg(_duration("entered_at", "left_at")))
        .order_by()
    }
    # How far each deal got: the furthest open stage it was ever in (by position).
    furthest = Subquery(
        StageStay.objects.filter(opportunity=OuterRef("pk"), stage__kind=StageKind.OPEN)
        .values("opportunity")
        .annotate(m=Max("stage__position"))
        .values("m")
    )
    reach_rows = list(
        deals.annotate(furthest=furthest).values("furthest", "status").annotate(n=Count("id")).order_by()
    )
    won = sum(r["n"] for r in reach_rows if r["status"] == StageKind.WON)
    lost = sum(r["n"] for r in reach_rows if r["status"] == StageKind.LOST)
    cycles: list[StageCycle] = []
    for s in open_stages:
        row = stay_rows.get(s.pk, {})
        avg = _days(row.get("avg"))
        # A won deal went through every stage (some are skipped in practice, not in the funnel).
        reached = sum(
            r["n"] for r in reach_rows if r["status"] == StageKind.WON or (r["furthest"] or 0) >= s.position
        )
        norm = avg if avg is not None and row.get("n", 0) >= MIN_STAYS_FOR_NORM else None
        stuck_after = max(norm * STUCK_FACTOR, STUCK_MIN_DAYS) if norm is not None else STUCK_DEFAULT_DAYS
        cycles.append(
            StageCycle(
                stage=s, stays=row.get("n", 0), avg_days=avg, reached=reached, stuck_after_days=stuck_after
            )
        )
    for i, c in enumerate(cycles):
        after = cycles[i + 1].reached if i + 1 < len(cycles) else won
        c.conversion = after / c.reached if c.reached else None

    closed = deals.exclude(status=StageKind.OPEN)
    if since:
        closed = closed.filter(closed_on__gte=since)
    cycle = {
        r["status"]: _days(r["avg"])
        for r in closed.values("status")
        .annotate(avg=Avg(_duration("created_at", "stage_entered_at")))
        .order_by()
    }
    by_source = _rates(closed, "source", dict(OpportunitySource.choices))
    dm_labels = {"True": "已接触拍板者", "False": "未接触拍板者"}
    by_dm = [
        Rate(r.key, dm_labels.get(r.key, r.key), r.won, r.lost)
        for r in _rates(closed, "decision_maker_engaged", {})
    ]
    by_objection = _objection_rates(closed)
    lost_reasons = [
        (r["lost_reason"], str(dict(LostReason.choices).get(r["lost_reason"], r["lost_reason"])), r["n"])
        for r in closed.filter(status=StageKind.LOST)
        .values("lost_reason")
        .annotate(n=Count("id"))
        .order_by("-n")
    ]
    stuck_q = Q()
    for c in cycles:
        stuck_q |= Q(stage_id=c.stage.pk, stage_entered_at__lt=now - dt.timedelta(days=c.stuck_after_days))
    stuck = (
        list(
            deals.filter(stuck_q, status=StageKind.OPEN)
            .select_related("customer", "owner", "stage")
            .defer("customer__search_doc")
            .order_by("stage_entered_at", "id")[:50]
        )
        if cycles
        else []
    )
    return Analysis(
        pipeline=pipeline,
        stages=cycles,
        cycle_won_days=cycle.get(StageKind.WON),
        cycle_lost_days=cycle.get(StageKind.LOST),
        won=won,
        lost=lost,
        by_source=by_source,
        by_decision_maker=by_dm,
        by_objection=by_objection,
        lost_reasons=lost_reasons,
        stuck=stuck,
    )


def _rates(closed: QuerySet[Opportunity], column: str, labels: dict[Any, Any]) -> list[Rate]:
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for r in closed.values(column, "status").annotate(n=Count("id")).order_by():
        counts[str(r[column])][0 if r["status"] == StageKind.WON else 1] += r["n"]
    return sorted(
        (Rate(k, str(labels.get(k, k)) if k else "—", w, lost) for k, (w, lost) in counts.items()),
        key=lambda r: -r.total,
    )


def _objection_rates(closed: QuerySet[Opportunity]) -> list[Rate]:
    pairs = list(objection_pairs(closed))
    status = dict(closed.filter(id__in={opp_id for opp_id, _ in pairs}).values_list("id", "status"))
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for opp_id, category in pairs:
        if opp_id in status:
            counts[category][0 if status[opp_id] == StageKind.WON else 1] += 1
    labels = dict(objection_categories())
    return [
        Rate(k, labels.get(k, k), counts[k][0], counts[k][1])
        for k, _ in objection_categories()
        if k in counts
    ]
