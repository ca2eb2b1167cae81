# ruff: noqa: S608 - fixed SQL fragments; every value is a bound parameter
"""The dashboards' figures of a run, pre-aggregated per visibility unit (owner × team): ``RunCube``.

Built at the end of a run (and rebuilt by the tick when stale) with one INSERT…SELECT per kind,
grouped by the customers' current owner and team. The dashboards add up the rows of the user's
owner/team keys and add explicitly shared customers live (``guanxi.value.analytics``). The cube is
valid while ``CubeState.generation`` equals the run's ``cube_generation``: database triggers bump
the generation when a customer's owner, team or status changes or a customer is deleted, and the
value engine bumps it when it changes the value columns (runs, manual overrides).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import connection
from django.db.models import F

from guanxi.value.engine.sql import Dialect
from guanxi.value.models import ClassificationRun, CubeState, RunCube, RunStatus

TREND_RUNS = 12
# Tenure buckets of the loyalty analysis, years since the first order: (low, high], 100 = open.
TENURE_BOUNDS = [(0, 1), (1, 2), (2, 3), (3, 5), (5, 100)]


def years_back(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def tenure_limits(as_of: dt.date) -> list[tuple[dt.date, dt.date]]:
    """(start, end] of each tenure bucket, as the loyalty analysis counts them."""
    out = []
    for low, high in TENURE_BOUNDS:
        start = years_back(as_of, high) if high < 100 else dt.date(1900, 1, 1)
        out.append((start, years_back(as_of, low)))
    return out


WATCHED = ("owner_id", "team_id", "status")
BUMP = "UPDATE value_cubestate SET generation = generation + 1 WHERE id = 1"


def ensure_triggers() -> None:
    """(Re)create the triggers that bump the generation (migration 0003 creates them; on SQLite a later
    migration that rebuilds ``customers_customer`` drops them, so every build checks)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT COUNT(*) FROM pg_trigger WHERE tgname IN ('value_cube_upd', 'value_cube_del')"
            )
            if cursor.fetchone()[0] == 2:
                return
            changed = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in WATCHED)
            cursor.execute(
                "CREATE OR REPLACE FUNCTION value_cube_bump() RETURNS trigger AS $$ BEGIN "
                f"{BUMP}; RETURN NULL; END; $$ LANGUAGE plpgsql"
            )
            cursor.execute("DROP TRIGGER IF EXISTS value_cube_upd ON customers_customer")
            cursor.execute("DROP TRIGGER IF EXISTS value_cube_del ON customers_customer")
            cursor.execute(
                "CREATE TRIGGER value_cube_upd AFTER UPDATE ON customers_customer FOR EACH ROW "
                f"WHEN ({changed}) EXECUTE FUNCTION value_cube_bump()"
            )
            cursor.execute(
                "CREATE TRIGGER value_cube_del AFTER DELETE ON customers_customer FOR EACH STATEMENT "
                "EXECUTE FUNCTION value_cube_bump()"
            )
        else:
            cursor.execute(
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'trigger' "
                "AND name IN ('value_cube_upd', 'value_cube_del')"
            )
            if cursor.fetchone()[0] == 2:
                return
            changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in WATCHED)
            cursor.execute("DROP TRIGGER IF EXISTS value_cube_upd")
            cursor.execute("DROP TRIGGER IF EXISTS value_cube_del")
            cursor.execute(
                "CREATE TRIGGER value_cube_upd AFTER UPDATE ON customers_customer FOR EACH ROW "
                f"WHEN {changed} BEGIN {BUMP}; END"
            )
            cursor.execute(
                f"CREATE TRIGGER value_cube_del AFTER DELETE ON customers_customer BEGIN {BUMP}; END"
            )
    CubeState.objects.get_or_create(id=1)


def generation() -> int:
    return int(CubeState.objects.filter(id=1).values_list("generation", flat=True).first() or 0)


def invalidate() -> None:
    """The customers' value or visibility columns changed: every run's cube stops applying."""
    if not CubeState.objects.filter(id=1).update(generation=F("generation") + 1):
        CubeState.objects.create(id=1, generation=1)


def is_fresh(run: ClassificationRun | None) -> bool:
    return run is not None and run.cube_generation is not None and run.cube_generation == generation()


KEYS = "c.owner_id, c.team_id"


def _statements(d: Dialect, run: ClassificationRun, params: dict[str, Any]) -> dict[str, str]:
    cents = d.cents("c.revenue_total")
    ins = (
        "INSERT INTO value_runcube "
        "(run_id, owner_id, team_id, kind, k1, k2, value_class, n, revenue, profit, m, a, b)"
    )
    live = "FROM customers_customer c WHERE c.status <> 'archived'"
    snap = (
        "FROM value_customersnapshot s JOIN customers_customer c ON c.id = s.customer_id "
        "WHERE s.run_id = %(run_id)s"
    )
    tenure = ["CASE"]
    for i, (start, end) in enumerate(tenure_limits(run.as_of)):
        params[f"ts{i}"] = connection.ops.adapt_datefield_value(start)
        params[f"te{i}"] = connection.ops.adapt_datefield_value(end)
        tenure.append(f"WHEN s.first_order_on > %(ts{i})s AND s.first_order_on <= %(te{i})s THEN '{i}'")
    tenure.append("ELSE '' END")
    tenure_sql = " ".join(tenure)
    out = {
        "dist": f"""{ins}
SELECT %(run_id)s, {KEYS}, 'dist', c.tier, c.lifecycle, c.value_class, COUNT(*), SUM({cents}), 0, 0, 0, 0
{live} GROUP BY {KEYS}, c.tier, c.lifecycle, c.value_class""",
        "seg": f"""{ins}
SELECT %(run_id)s, {KEYS}, 'seg', c.rfm_segment, '', '', COUNT(*), 0, 0, 0, 0, 0
{live} AND c.rfm_segment <> '' GROUP BY {KEYS}, c.rfm_segment""",
        "rfm": f"""{ins}
SELECT %(run_id)s, {KEYS}, 'rfm', CAST(s.rfm_r AS TEXT), CAST(s.rfm_f AS TEXT), '', COUNT(*), 0, 0,
    SUM(s.rfm_m), 0, 0
{snap} GROUP BY {KEYS}, s.rfm_r, s.rfm_f""",
        "loyal": f"""{ins}
SELECT %(run_id)s, t.owner_id, t.team_id, 'loyal', t.bucket, '', t.value_class, COUNT(*), 0, 0, 0,
    SUM(CASE WHEN t.orders_all >= 1 THEN 1 ELSE 0 END), SUM(CASE WHEN t.orders_all >= 2 THEN 1 ELSE 0 END)
FROM (SELECT s.value_class, s.orders_all, {tenure_sql} AS bucket, c.owner_id, c.team_id
    {snap}) t
GROUP BY t.owner_id, t.team_id, t.bucket, t.value_class""",
        "profit": f"""{ins}
SELECT %(run_id)s, {KEYS}, 'profit', '', '', s.value_class, COUNT(*), SUM(s.revenue), SUM(s.profit),
    SUM(s.ltv), SUM(CASE WHEN s.prune THEN 1 ELSE 0 END), 0
{snap} GROUP BY {KEYS}, s.value_class""",
        "product": f"""{ins}
SELECT %(run_id)s, {KEYS}, 'product', p.category, '', s.value_class, 0, SUM({d.cents("l.amount")}), 0, 0, 0, 0
FROM sales_orderline l
JOIN sales_order o ON o.id = l.order_id
JOIN sales_product p ON p.id = l.product_id
JOIN value_customersnapshot s ON s.run_id = %(run_id)s AND s.customer_id = o.customer_id
JOIN customers_customer c ON c.id = o.customer_id
WHERE o.status <> 'cancelled' AND o.ordered_on >= %(start)s AND o.ordered_on <= %(as_of)s
GROUP BY {KEYS}, p.category, s.value_class""",
    }
    for dimension in ("province", "industry", "size", "relationship_type"):
        out[dimension] = f"""{ins}
SELECT %(run_id)s, {KEYS}, '{dimension}', COALESCE(c.{dimension}, ''), '', c.value_class, COUNT(*),
    SUM({cents}), 0, 0, 0, 0
{live} GROUP BY {KEYS}, c.{dimension}, c.value_class"""
    # Pareto buckets over every evaluated customer (owner 0: no user's key; read only when the
    # user sees every evaluated customer).
    ntile = """SELECT bucket, COUNT(*) AS n, SUM({m}) AS {m} FROM (
        SELECT {m}, NTILE(100) OVER (ORDER BY {m} DESC, customer_id) AS bucket
        FROM value_customersnapshot WHERE run_id = %(run_id)s
    ) x GROUP BY bucket"""
    out["pareto"] = f"""{ins}
SELECT %(run_id)s, 0, NULL, 'pareto', CAST(r.bucket AS TEXT), '', '', r.n, r.revenue,
    COALESCE(p.profit, 0), 0, 0, 0
FROM ({ntile.format(m="revenue")}) r LEFT JOIN ({ntile.format(m="profit")}) p ON p.bucket = r.bucket"""
    done = ClassificationRun.objects.filter(status=RunStatus.DONE).exclude(pk=run.pk)
    recent = sorted([run.pk, *done.order_by("-id").values_list("id", flat=True)[:TREND_RUNS]])[-TREND_RUNS:]
    names = []
    for i, run_id in enumerate(recent):
        params[f"tr{i}"] = run_id
        names.append(f"%(tr{i})s")
    out["trend"] = f"""{ins}
SELECT %(run_id)s, {KEYS}, 'trend', CAST(s.run_id AS TEXT), '', s.value_class, COUNT(*), 0, 0, 0,
    SUM(CASE WHEN s.movement > 0 THEN 1 ELSE 0 END), SUM(CASE WHEN s.movement < 0 THEN 1 ELSE 0 END)
FROM value_customersnapshot s JOIN customers_customer c ON c.id = s.customer_id
WHERE s.run_id IN ({", ".join(names)})
GROUP BY {KEYS}, s.run_id, s.value_class"""
    return out  # fixed SQL fragments; every value is a bound parameter


def build(run: ClassificationRun, params: dict[str, Any], timings: dict[str, float] | None = None) -> None:
    """(Re)build ``run``'s cube; ``params`` are the run's SQL parameters (run_id, start, as_of)."""
    import time

    ensure_triggers()
    RunCube.objects.filter(run=run).delete()
    params = dict(params)
    d = Dialect(connection.vendor)
    for name, statement in _statements(d, run, params).items():
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(statement, params)  # fixed SQL fragments, bound values
        if timings is not None:
            timings[f"cube_{name}"] = round(time.perf_counter() - started, 4)
    run.cube_generation = generation()


def refresh_latest(timings: dict[str, float] | None = None) -> bool:
    """Build the latest run's cube when it has none or a customer's owner, team or status changed since
    (after each run, and from the tick)."""
    from django.db import transaction

    from guanxi.value.config import config_get
    from guanxi.value.engine.run import _params, asynchronous_commit, run_memory

    with transaction.atomic(), run_memory():
        asynchronous_commit()  # the cube is derived from the run: rebuilt by the tick when missing
        run = (
            ClassificationRun.objects.select_for_update()
            .filter(status=RunStatus.DONE)
            .order_by("-id")
            .first()
        )
        if run is None or is_fresh(run):
            return False
        config = config_get()
        window = int(run.config.get("window_months", config.window_months) or config.window_months)
        params = _params(run.as_of, window, config.default_margin_pct, config.visit_touches)
        params.update(run_id=run.pk)
        build(run, params, timings)
        run.save(update_fields=["cube_generation"])
    return True
