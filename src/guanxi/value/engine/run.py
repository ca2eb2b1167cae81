"""One re-evaluation: stage → snapshot → persist → summary → lifecycle tasks → owner digests.

All in one transaction, so a failure leaves the previous result in place. Idempotent per period: the
periodic tick calls ``classify_due`` daily and it runs only when the current period has no run yet;
``classify(force=True)`` recomputes the period's run in place (same run row, same lifecycle tasks).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.accounts.models import User
from guanxi.audit.models import Source
from guanxi.audit.services import audit_record
from guanxi.core.pagecache import page_cache
from guanxi.followup.models import FollowUpTask
from guanxi.value.choices import ACTIONS
from guanxi.value.config import config_get, tier_rules
from guanxi.value.engine import cube, sql
from guanxi.value.models import (
    INDICATORS,
    ClassificationRun,
    CustomerSnapshot,
    IndicatorStage,
    RunDigest,
    RunStatus,
    RunSummary,
)

TASK_DUE_DAYS = 7


def period_of(day: dt.date, kind: str | None = None) -> str:
    kind = kind or settings.GUANXI_VALUE_PERIOD
    if kind == "quarter":
        return f"{day.year}-Q{(day.month - 1) // 3 + 1}"
    if kind == "week":
        year, week, _weekday = day.isocalendar()
        return f"{year}-W{week:02d}"
    return f"{day.year}-{day.month:02d}"


def months_back(day: dt.date, months: int) -> dt.date:
    month0 = day.year * 12 + day.month - 1 - months
    year, month = divmod(month0, 12)
    month += 1
    for d in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, d)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def _params(as_of: dt.date, window_months: int, margin_pct: int, visit_touches: int) -> dict[str, Any]:
    ops = connection.ops
    start = months_back(as_of, window_months) + dt.timedelta(days=1)
    half = start + (as_of - start) / 2 + dt.timedelta(days=1)
    tz = timezone.get_current_timezone()
    start_at = dt.datetime.combine(start, dt.time.min, tzinfo=tz)
    end_at = dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    return {
        "as_of": ops.adapt_datefield_value(as_of),
        "start": ops.adapt_datefield_value(start),
        "half": ops.adapt_datefield_value(half),
        "start_at": ops.adapt_datetimefield_value(start_at),
        "end_at": ops.adapt_datetimefield_value(end_at),
        "margin_pct": margin_pct,
        "visit_touches": visit_touches,
    }


def _execute(statement: str, params: dict[str, Any]) -> int:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return int(cursor.rowcount or 0)


@contextmanager
def run_memory() -> Iterator[None]:
    """The memory of a set-based pass over every customer, ``GUANXI_VALUE_WORK_MEM_MB``, for the
    block; call it inside the block's transaction.

    PostgreSQL: the transaction's work_mem (SET LOCAL; the default 4 MB sends the aggregates and
    sorts over every customer to disk). SQLite: the connection's page cache (``core.pagecache``):
    the run's snapshot goes into five indexes at once, and with the default cache their pages were
    written out and read back — the snapshot step ~2.3 s → ~1.95 s at 100k customers."""
    megabytes = int(settings.GUANXI_VALUE_WORK_MEM_MB)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL work_mem = '{megabytes}MB'")
    with page_cache(megabytes):
        yield


def asynchronous_commit() -> None:
    """PostgreSQL: this transaction's COMMIT does not wait for its write-ahead log to reach the disk.

    A run writes ~1 GB of log at 1M customers (the snapshot, its indexes, the changed customers'
    pages) and a synchronous COMMIT waited ~20 s for the disk. What a run writes is derived data: if
    the server crashed in the fraction of a second before the log is flushed, the database is still
    consistent — the run, its tasks and its actions are simply absent together — and the next tick
    re-evaluates the period (``classify_due``). Other transactions stay synchronous.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = off")


def _open_stage() -> None:
    """Ready the scratch table of the stage step: a TEMP table named as the model's, which shadows
    it for this connection, so its rows (one per customer) stay out of the write-ahead log.
    Dropped at the end of the run, or with its rollback.

    SQLite: created empty, with the model table's definition, and filled by INSERT … SELECT.
    PostgreSQL: made by the stage step itself (``_fill_stage``)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("DROP TABLE IF EXISTS pg_temp.value_indicatorstage")
            return
        cursor.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'value_indicatorstage'")
        ddl = cursor.fetchone()[0]
        cursor.execute("DROP TABLE IF EXISTS temp.value_indicatorstage")
        cursor.execute(ddl.replace("CREATE TABLE", "CREATE TEMP TABLE", 1))


# PostgreSQL's default cost of passing a row from a parallel worker (0.1) keeps the stage's scan of
# every order (5M at large) in one process: the planner prices the 4.7M rows through the Gather above
# the time the second core saves. At 0.001 both cores scan: the step 8–9 s → ~6 s at 1M customers
# (BENCHMARKS.md). Set for the stage's statement only.
STAGE_PARALLEL = {"parallel_tuple_cost": "0.001", "parallel_setup_cost": "10"}


def _fill_stage(d: sql.Dialect, params: dict[str, Any]) -> int:
    """Step 1; returns the population (rows staged)."""
    if connection.vendor != "postgresql":
        return _execute(sql.stage_sql(d), params)
    types = {f.column: str(f.db_type(connection)) for f in IndicatorStage._meta.concrete_fields}
    with connection.cursor() as cursor:
        for name, value in STAGE_PARALLEL.items():
            cursor.execute(f"SET LOCAL {name} = {value}")
        try:
            cursor.execute(sql.stage_create_sql(d, types), params)
            population = int(cursor.rowcount or 0)
        finally:
            for name in STAGE_PARALLEL:
                cursor.execute(f"SET LOCAL {name} = DEFAULT")
        # Statistics for the snapshot's plan: a new table has none (and autovacuum never reads
        # temporary tables).
        cursor.execute("ANALYZE pg_temp.value_indicatorstage")
    return population


def _close_stage() -> None:
    with connection.cursor() as cursor:
        schema = "pg_temp" if connection.vendor == "postgresql" else "temp"
        cursor.execute(f"DROP TABLE {schema}.value_indicatorstage")


def classify(
    *,
    as_of: dt.date | None = None,
    actor: User | None = None,
    source: Source | str = Source.SYSTEM,
    force: bool = False,
) -> ClassificationRun | None:
    """Re-evaluate every customer for the period of ``as_of`` (default today).

    Returns the run, or None when the period already has a finished run and ``force`` is False.
    """
    as_of = as_of or timezone.localdate()
    period = period_of(as_of)
    with transaction.atomic(), run_memory():
        run = ClassificationRun.objects.select_for_update().filter(period=period).first()
        if run is not None and run.status == RunStatus.DONE and not force:
            return None
        asynchronous_commit()
        cube.invalidate()
        config = config_get()
        rules = tier_rules()
        timings: dict[str, float] = {}
        now = timezone.now()
        if run is None:
            run = ClassificationRun.objects.create(period=period, as_of=as_of, started_at=now)
        else:
            run.snapshots.all().delete()
            run.summaries.all().delete()
            run.cube.all().delete()
            run.as_of = as_of
            run.started_at = now
        prev = ClassificationRun.objects.filter(status=RunStatus.DONE, id__lt=run.pk).order_by("-id").first()
        d = sql.Dialect(connection.vendor)
        params = _params(as_of, config.window_months, config.default_margin_pct, config.visit_touches)
        params.update(run_id=run.pk, prev_run_id=prev.pk if prev else 0, period=period)

        def step(name: str, statement: str) -> int:
            with _timed(timings, name):
                return _execute(statement, params)

        with _timed(timings, "clear"):
            _open_stage()
        with _timed(timings, "stage"):
            population = _fill_stage(d, params)
        params["population"] = population  # the n of every percentile rank (no COUNT(*) OVER () pass)
        step("snapshot", sql.snapshot_sql(d, config, rules, params))
        if connection.vendor == "postgresql":
            # The run's rows are new: without fresh statistics the planner takes the snapshot to
            # hold one row per run and reads a million through an index in owner order, at random
            # (the summary's pass 2.4 s → 1 s at 1M customers; sampling costs ~0.5 s).
            step("analyze", "ANALYZE value_customersnapshot")
        persisted = step("persist", sql.persist_sql(d))
        step("clear_archived", sql.CLEAR_SQL)
        with _timed(timings, "summary"):
            class_stats = _summarise(run)
        with _timed(timings, "actions"):
            tasks = _lifecycle_tasks(run, as_of, period)
        with _timed(timings, "tasks"):
            tasks += _digests(run, as_of)
        _close_stage()
        run.population = population
        run.tasks_created += tasks
        run.status = RunStatus.DONE
        run.finished_at = timezone.now()
        run.triggered_by = actor
        run.source = str(source)
        run.config = _config_record(config, rules) | {"classes": class_stats, "persisted": persisted}
        run.timings = timings
        run.save()
        audit_record(
            actor=actor,
            source=source,
            action="value.classify",
            obj=run,
            changes={
                "population": [None, population],
                "moved_up": [None, run.moved_up],
                "moved_down": [None, run.moved_down],
            },
        )
        committing = time.perf_counter()
    # COMMIT runs the deferred checks of the foreign keys of the follow-up tasks the run inserted.
    timings["commit"] = round(time.perf_counter() - committing, 4)
    # The dashboards' summary cube, after the run is committed: until it is built the dashboards
    # compute from the snapshot live, so the re-evaluation does not wait for it (nor hold its lock).
    cube_timings: dict[str, float] = {}
    with _timed(cube_timings, "cube"):
        cube.refresh_latest(timings=cube_timings)
    run.timings = timings | cube_timings
    ClassificationRun.objects.filter(pk=run.pk).update(timings=run.timings)
    run.refresh_from_db(fields=["cube_generation"])
    return run


@contextmanager
def _timed(timings: dict[str, float], name: str) -> Iterator[None]:
    """Seconds spent in the block as ``timings[name]`` (the run's steps, shown with the run)."""
    started = time.perf_counter()
    try:
        yield
    finally:
        timings[name] = round(time.perf_counter() - started, 4)


def _config_record(config: Any, rules: list[Any]) -> dict[str, Any]:
    return {
        "weights": config.weights(),
        "mode": config.mode,
        "shares": [config.share_a, config.share_b, config.share_c, config.share_d],
        "thresholds": [str(config.threshold_a), str(config.threshold_b), str(config.threshold_c)],
        "window_months": config.window_months,
        "tiers": [[r.tier, r.classes, str(r.min_score), r.lifecycles] for r in rules],
    }


def _summarise(run: ClassificationRun) -> dict[str, Any]:
    """One pass over the run's snapshot for everything counted from it: the summary rows (class ×
    tier × lifecycle, for the trend charts), the moves up and down, and per computed class its
    count, lowest score and mean percentile ranks (the "path up" reads them). Returns the latter.

    One GROUP BY over the four labels, folded in Python (at most 4 × 4 × 4 × 6 groups): three
    separate passes over 100k wide snapshot rows took ~0.3 s of a run at medium scale."""
    prs = ", ".join(f"SUM(pr_{name})" for name in INDICATORS)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT computed_class, value_class, tier, lifecycle, COUNT(*), SUM(revenue), SUM(profit),
                MIN(score), SUM(CASE WHEN movement > 0 THEN 1 ELSE 0 END),
                SUM(CASE WHEN movement < 0 THEN 1 ELSE 0 END), {prs}
            FROM value_customersnapshot WHERE run_id = %s
            GROUP BY computed_class, value_class, tier, lifecycle""",  # noqa: S608 - fixed column names
            [run.pk],
        )
        groups = cursor.fetchall()
    summary: dict[tuple[str, str, str], list[int]] = {}
    classes: dict[str, dict[str, Any]] = {}
    run.moved_up = run.moved_down = 0
    for computed, value_class, tier, lifecycle, n, revenue, profit, low, up, down, *pr_sums in groups:
        row = summary.setdefault((value_class, tier, lifecycle), [0, 0, 0])
        row[0] += n
        row[1] += int(revenue or 0)
        row[2] += int(profit or 0)
        run.moved_up += int(up)
        run.moved_down += int(down)
        c = classes.setdefault(computed, {"count": 0, "min_score": low, "sums": [0] * len(INDICATORS)})
        c["count"] += n
        c["min_score"] = min(c["min_score"], low)
        c["sums"] = [a + int(b or 0) for a, b in zip(c["sums"], pr_sums, strict=True)]
    RunSummary.objects.bulk_create(
        RunSummary(
            run=run, value_class=k[0], tier=k[1], lifecycle=k[2], customers=v[0], revenue=v[1], profit=v[2]
        )
        for k, v in sorted(summary.items())
    )
    return {
        computed: {
            "count": c["count"],
            "min_score": c["min_score"],
            "pr": {
                name: round(total / c["count"]) for name, total in zip(INDICATORS, c["sums"], strict=True)
            },
        }
        for computed, c in sorted(classes.items())
    }


def _lifecycle_tasks(run: ClassificationRun, as_of: dt.date, period: str) -> int:
    """One follow-up task per customer that entered a lifecycle state this period, and its action row.

    Set-based, in two statements: the tasks of the customers whose state changed since the previous
    run and who have no action for that state in this period yet, then their actions, each with its
    task's id (found again by customer, creation time and this run's note — a run gives a customer at
    most one state). At 1M customers ~200k customers change state between two monthly runs; building
    them as Python objects took minutes, and linking the tasks with an UPDATE afterwards 5 s.
    """
    now = timezone.now()
    ops = connection.ops
    params: dict[str, Any] = {
        "run_id": run.pk,
        "period": period,
        "notes": _("客户价值评估 %(period)s：进入生命周期状态后的建议动作") % {"period": run.period},
        "due": ops.adapt_datefield_value(as_of + dt.timedelta(days=TASK_DUE_DAYS)),
        "now": ops.adapt_datetimefield_value(now),
    }
    whens = []
    for i, (state, action) in enumerate(ACTIONS.items()):
        params[f"s{i}"], params[f"t{i}"] = str(state), str(action)[:200]
        whens.append(f"WHEN %(s{i})s THEN %(t{i})s")
    with connection.cursor() as cursor:
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM followup_followuptask")
        params["after"] = int(cursor.fetchone()[0])
        cursor.execute(
            f"""INSERT INTO followup_followuptask (title, notes, due_on, assignee_id, customer_id, status,
                created_at, updated_at)
            SELECT CASE s.lifecycle {" ".join(whens)} ELSE s.lifecycle END, %(notes)s, %(due)s, s.owner_id,
                s.customer_id, 'open', %(now)s, %(now)s
            FROM value_customersnapshot s
            WHERE s.run_id = %(run_id)s AND s.prev_lifecycle <> '' AND s.lifecycle <> s.prev_lifecycle
              AND NOT EXISTS (
                SELECT 1 FROM value_lifecycleaction a
                WHERE a.customer_id = s.customer_id AND a.lifecycle = s.lifecycle AND a.period = %(period)s)
            ORDER BY s.customer_id""",  # noqa: S608 - fixed SQL fragments, bound values
            params,
        )
        created = int(cursor.rowcount or 0)
        if created:
            cursor.execute(
                """INSERT INTO value_lifecycleaction (customer_id, lifecycle, period, run_id, task_id)
                SELECT s.customer_id, s.lifecycle, %(period)s, s.run_id, t.id
                FROM followup_followuptask t
                JOIN value_customersnapshot s ON s.run_id = %(run_id)s AND s.customer_id = t.customer_id
                WHERE t.id > %(after)s AND t.created_at = %(now)s AND t.notes = %(notes)s
                ORDER BY t.id""",
                params,
            )
    return created


def _digests(run: ClassificationRun, as_of: dt.date) -> int:
    """One task per owner summarising whose class moved, linking to the movement page."""
    from django.db.models import Count, Q

    rows = (
        CustomerSnapshot.objects.filter(run=run)
        .exclude(movement=0)
        .values("owner_id")
        .annotate(up=Count("id", filter=Q(movement__gt=0)), down=Count("id", filter=Q(movement__lt=0)))
    )
    done = set(RunDigest.objects.filter(run=run).values_list("user_id", flat=True))
    active = set(User.objects.filter(is_active=True).values_list("id", flat=True))
    todo = [r for r in rows if r["owner_id"] not in done and r["owner_id"] in active]
    if not todo:
        return 0
    tasks = [
        FollowUpTask(
            title=(
                _("客户分级变动 %(period)s：%(up)s 个上升，%(down)s 个下降")
                % {"period": run.period, "up": r["up"], "down": r["down"]}
            )[:200],
            notes=_("查看：/value/movement/?run=%(run)s&mine=1") % {"run": run.pk},
            due_on=as_of,
            assignee_id=r["owner_id"],
        )
        for r in todo
    ]
    FollowUpTask.objects.bulk_create(tasks)
    RunDigest.objects.bulk_create(
        [RunDigest(run=run, user_id=r["owner_id"], task=t) for r, t in zip(todo, tasks, strict=True)]
    )
    return len(tasks)


def classify_due(*, today: dt.date | None = None) -> ClassificationRun | None:
    """The periodic entry point: runs when the current period has no finished run (idempotent)."""
    if settings.GUANXI_VALUE_PERIOD == "off":
        return None
    return classify(as_of=today, force=False)


def latest_run() -> ClassificationRun | None:
    return ClassificationRun.objects.filter(status=RunStatus.DONE).order_by("-id").first()


__all__ = ["IndicatorStage", "RunSummary", "classify", "classify_due", "latest_run", "period_of"]
