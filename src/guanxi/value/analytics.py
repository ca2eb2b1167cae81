"""The value dashboards' numbers (DOMAIN §3), every one over the user's visible customers only.

While the latest run's cube is fresh (``guanxi.value.engine.cube``), every figure is a sum over the
cube rows of the user's visibility units — their own owner rows, the rows of the teams they manage,
everything for an administrator — plus the explicitly shared customers outside those units, counted
live over that short id list (a customer both shared and owned counts once). Otherwise (no cube, a
customer reassigned or archived since, a user with a long share list) the same figures are computed
live over the visible customers: distributions with one GROUP BY over the customers' maintained value
columns, run figures over the visible snapshots. The Pareto curve needs the visible customers in
revenue order, so it buckets them into 100 percentiles in SQL (NTILE); no page moves 100k rows into
Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Count, Q, QuerySet, Sum

from guanxi.accounts.models import User
from guanxi.accounts.selectors import managed_team_ids
from guanxi.core.errors import ValidationFailed
from guanxi.customers.models import CompanySize, Customer, CustomerStatus, RelationshipType
from guanxi.customers.selectors import customer_queryset_for_user, visibility_branches
from guanxi.value.choices import CLASS_ORDER, Lifecycle, RfmSegment, Tier
from guanxi.value.engine import cube
from guanxi.value.models import ClassificationRun, CustomerSnapshot, RunCube, RunStatus, RunSummary
from guanxi.value.selectors import latest_run, visible_snapshots

LIFECYCLE_ORDER = [
    Lifecycle.NEW,
    Lifecycle.CULTIVATE,
    Lifecycle.FAST_GROWING,
    Lifecycle.LOYAL,
    Lifecycle.DORMANT,
    Lifecycle.LOST,
]
TIER_ORDER = [Tier.KEY, Tier.IMPORTANT, Tier.GENERAL, Tier.MAINTAIN]
DIMENSIONS = {
    "province": "省份",
    "industry": "行业",
    "size": "规模",
    "relationship_type": "关系类型",
}


def visible_customers(user: User) -> QuerySet[Customer]:
    return customer_queryset_for_user(user).exclude(status=CustomerStatus.ARCHIVED)


@dataclass
class CubeScope:
    """The cube rows of a user's visibility units, and the shared customers outside them (live)."""

    run: ClassificationRun
    rows: QuerySet[RunCube]
    extra: QuerySet[Customer] | None  # None: nothing to add

    def kind(self, kind: str) -> QuerySet[RunCube]:
        return self.rows.filter(kind=kind)

    def extra_customers(self) -> QuerySet[Customer] | None:
        return None if self.extra is None else self.extra.exclude(status=CustomerStatus.ARCHIVED)

    def extra_snapshots(self, run: ClassificationRun) -> QuerySet[CustomerSnapshot] | None:
        if self.extra is None:
            return None
        return CustomerSnapshot.objects.filter(run=run, customer_id__in=self.extra.values("id"))


def cube_scope(user: User, run: ClassificationRun | None) -> CubeScope | None:
    """The user's share of ``run``'s cube, or None when the figures must be computed live."""
    if run is None or not user.is_authenticated or not user.is_active or not cube.is_fresh(run):
        return None
    rows = RunCube.objects.filter(run=run)
    if user.is_admin:
        return CubeScope(run, rows, None)
    teams = sorted(managed_team_ids(user)) if user.is_manager else []
    keys = Q(owner_id=user.pk) | Q(team_id__in=teams) if teams else Q(owner_id=user.pk)
    extra: QuerySet[Customer] | None = None
    for branch in visibility_branches(user):
        if branch.scope is not None or branch.everything:
            continue  # an owner or team unit: in the cube rows
        if not branch.few:
            return None  # a long share list: live
        # Shared customers the owner/team rows do not already count (counted once).
        extra = branch.customers.exclude(owner_id=user.pk)
        if teams:
            extra = extra.exclude(team_id__in=teams)
    return CubeScope(run, rows.filter(keys), extra)


def distribution(user: User) -> dict[str, Any]:
    """Customers by class × tier, and by lifecycle state, with revenue per class."""
    scope = cube_scope(user, latest_run())
    if scope is None:
        rows = _distribution_rows(visible_customers(user))
    else:
        rows = [
            {
                "value_class": r["value_class"],
                "tier": r["k1"],
                "lifecycle": r["k2"],
                "n": r["n"],
                "revenue": (r["revenue"] or 0) / 100,
            }
            for r in scope.kind("dist")
            .values("value_class", "k1", "k2")
            .annotate(n=Sum("n"), revenue=Sum("revenue"))
            .order_by()
        ]
        extra = scope.extra_customers()
        if extra is not None:
            rows += _distribution_rows(extra)
    classes = dict.fromkeys([*CLASS_ORDER, ""], 0)
    tiers = dict.fromkeys([*TIER_ORDER, ""], 0)
    lifecycle = dict.fromkeys([*LIFECYCLE_ORDER, ""], 0)
    matrix: dict[tuple[str, str], int] = {}
    revenue = dict.fromkeys([*CLASS_ORDER, ""], 0.0)
    for r in rows:
        classes[r["value_class"]] = classes.get(r["value_class"], 0) + r["n"]
        tiers[r["tier"]] = tiers.get(r["tier"], 0) + r["n"]
        lifecycle[r["lifecycle"]] = lifecycle.get(r["lifecycle"], 0) + r["n"]
        key = (r["value_class"], r["tier"])
        matrix[key] = matrix.get(key, 0) + r["n"]
        revenue[r["value_class"]] = revenue.get(r["value_class"], 0.0) + float(r["revenue"] or 0)
    total = sum(classes.values())
    return {
        "total": total,
        "classes": classes,
        "tiers": tiers,
        "lifecycle": lifecycle,
        "matrix": {f"{c}|{t}": n for (c, t), n in matrix.items()},
        "revenue": revenue,
    }


def _distribution_rows(customers: QuerySet[Customer]) -> list[dict[str, Any]]:
    return list(
        customers.values("value_class", "tier", "lifecycle")
        .annotate(n=Count("id"), revenue=Sum("revenue_total"))
        .order_by()
    )


def trend(user: User, *, runs: int = 12) -> dict[str, Any]:
    """Class counts per run (the last ``runs`` runs), oldest first: movement over time."""
    recent = list(ClassificationRun.objects.filter(status=RunStatus.DONE).order_by("-id")[:runs])[::-1]
    ids = [r.pk for r in recent]
    counts: dict[int, dict[str, int]] = {r.pk: dict.fromkeys(CLASS_ORDER, 0) for r in recent}
    moves: dict[int, dict[str, int]] = {r.pk: {"up": r.moved_up, "down": r.moved_down} for r in recent}
    if user.is_admin:
        summary = RunSummary.objects.filter(run_id__in=ids).values("run_id", "value_class")
        for r in summary.annotate(n=Sum("customers")).order_by():
            counts[r["run_id"]][r["value_class"]] = int(r["n"])
    else:
        moves = {r.pk: {"up": 0, "down": 0} for r in recent}
        scope = cube_scope(user, recent[-1]) if recent and runs <= cube.TREND_RUNS else None
        if scope is None:
            visible: QuerySet[Customer] | None = customer_queryset_for_user(user)
        else:
            for r in (
                scope.kind("trend")
                .filter(k1__in=[str(i) for i in ids])
                .values("k1", "value_class")
                .annotate(n=Sum("n"), up=Sum("a"), down=Sum("b"))
                .order_by()
            ):
                run_id = int(r["k1"])
                if r["value_class"] in counts[run_id]:
                    counts[run_id][r["value_class"]] += int(r["n"])
                moves[run_id]["up"] += int(r["up"])
                moves[run_id]["down"] += int(r["down"])
            visible = scope.extra
        if visible is not None:
            snaps = CustomerSnapshot.objects.filter(run_id__in=ids, customer_id__in=visible.values("id"))
            for r in snaps.values("run_id", "value_class").annotate(n=Count("id")).order_by():
                counts[r["run_id"]][r["value_class"]] += int(r["n"])
            moved = (
                snaps.exclude(movement=0)
                .values("run_id")
                .annotate(
                    up=Count("id", filter=Q(movement__gt=0)), down=Count("id", filter=Q(movement__lt=0))
                )
                .order_by()
            )
            for m in moved:
                moves[m["run_id"]]["up"] += m["up"]
                moves[m["run_id"]]["down"] += m["down"]
    return {
        "periods": [r.period for r in recent],
        "runs": [r.pk for r in recent],
        "series": {c: [counts[r.pk][c] for r in recent] for c in CLASS_ORDER},
        "up": [moves[r.pk]["up"] for r in recent],
        "down": [moves[r.pk]["down"] for r in recent],
    }


def _visible_clause(user: User) -> tuple[str, list[Any]]:
    if user.is_admin:
        return "", []
    sub, params = customer_queryset_for_user(user).values("id").query.sql_with_params()
    return f" AND customer_id IN ({sub})", list(params)


def _pareto_buckets(user: User, run: ClassificationRun) -> list[tuple[int, int, int]]:
    """(customers, revenue, profit) per percentile bucket, revenue and profit each in their own order."""
    scope = cube_scope(user, run)
    if scope is not None:
        # Precomputed over every evaluated customer: exact when the user sees all of them (an
        # administrator, a manager of every team) and no shared customer adds a snapshot.
        everything = RunCube.objects.filter(run=run, kind="profit").aggregate(n=Sum("n"))["n"] or 0
        mine = scope.kind("profit").aggregate(n=Sum("n"))["n"] or 0
        extra = scope.extra_snapshots(run)
        if mine == everything and (extra is None or not extra.exists()):
            rows = (
                RunCube.objects.filter(run=run, kind="pareto")
                .values_list("k1", "n", "revenue", "profit")
                .order_by()
            )
            return [
                (int(n), int(rev), int(prof)) for _k, n, rev, prof in sorted(rows, key=lambda r: int(r[0]))
            ]
    clause, vparams = _visible_clause(user)
    sql = f"""
SELECT b.bucket, b.n, b.revenue, COALESCE(p.profit, 0) FROM (
    SELECT bucket, COUNT(*) AS n, SUM(revenue) AS revenue FROM (
        SELECT revenue, NTILE(100) OVER (ORDER BY revenue DESC, customer_id) AS bucket
        FROM value_customersnapshot WHERE run_id = %s{clause}
    ) r GROUP BY bucket
) b LEFT JOIN (
    SELECT bucket, SUM(profit) AS profit FROM (
        SELECT profit, NTILE(100) OVER (ORDER BY profit DESC, customer_id) AS bucket
        FROM value_customersnapshot WHERE run_id = %s{clause}
    ) q GROUP BY bucket
) p ON p.bucket = b.bucket
ORDER BY b.bucket"""  # noqa: S608 - fixed fragments, bound values
    with connection.cursor() as cursor:
        cursor.execute(sql, [run.pk, *vparams, run.pk, *vparams])
        return [(int(n), int(rev or 0), int(prof or 0)) for _b, n, rev, prof in cursor.fetchall()]


def pareto(user: User, run: ClassificationRun | None) -> dict[str, Any]:
    """Cumulative share of revenue and of profit brought by the top x % of customers (x = 1…100)."""
    empty: dict[str, Any] = {"points": [], "revenue_top20": None, "profit_top20": None, "customers": 0}
    if run is None:
        return empty
    buckets = _pareto_buckets(user, run)
    customers = sum(b[0] for b in buckets)
    out: dict[str, list[float]] = {}
    for measure, col in (("revenue", 1), ("profit", 2)):
        total = sum(max(b[col], 0) for b in buckets)
        running, cumulative = 0, []
        for b in buckets:
            running += max(b[col], 0)
            cumulative.append(round(100.0 * running / total, 1) if total else 0.0)
        out[measure] = cumulative
    n = len(buckets)
    if not n:
        return empty
    points = [
        {"pct": round(100.0 * (i + 1) / n, 1), "revenue": out["revenue"][i], "profit": out["profit"][i]}
        for i in range(n)
    ]

    def at(measure: str, pct: float) -> float:
        for p in points:
            if p["pct"] >= pct:
                return float(p[measure])
        return 100.0

    return {
        "points": points,
        "revenue_top20": at("revenue", 20),
        "profit_top20": at("profit", 20),
        "customers": customers,
    }


def rfm_grid(user: User, run: ClassificationRun | None) -> dict[str, Any]:
    """Customers per (R, F) cell, 5 × 5, with mean M, and per RFM segment."""
    cells = {f"{r}{f}": {"n": 0, "m": 0.0} for r in range(1, 6) for f in range(1, 6)}
    scope = cube_scope(user, run)
    sums: dict[str, list[int]] = {}
    if run is not None:
        grid = (
            [
                {"rfm_r": r["k1"], "rfm_f": r["k2"], "n": r["n"], "m": r["m"]}
                for r in scope.kind("rfm").values("k1", "k2").annotate(n=Sum("n"), m=Sum("m")).order_by()
            ]
            if scope is not None
            else []
        )
        live = visible_snapshots(user, run) if scope is None else scope.extra_snapshots(run)
        if live is not None:
            grid += list(live.values("rfm_r", "rfm_f").annotate(n=Count("id"), m=Sum("rfm_m")).order_by())
        for r in grid:
            cell = sums.setdefault(f"{r['rfm_r']}{r['rfm_f']}", [0, 0])
            cell[0] += int(r["n"])
            cell[1] += int(r["m"] or 0)
        for key, (n, m) in sums.items():
            cells[key] = {"n": n, "m": round(m / n, 2) if n else 0.0}
    segments = dict.fromkeys(RfmSegment.values, 0)
    seg_scope = cube_scope(user, latest_run())
    seg_rows: list[dict[str, Any]] = []
    if seg_scope is not None:
        seg_rows = [
            {"rfm_segment": r["k1"], "n": r["n"]}
            for r in seg_scope.kind("seg").values("k1").annotate(n=Sum("n")).order_by()
        ]
    customers = visible_customers(user) if seg_scope is None else seg_scope.extra_customers()
    if customers is not None:
        seg_rows += list(
            customers.exclude(rfm_segment="").values("rfm_segment").annotate(n=Count("id")).order_by()
        )
    for r in seg_rows:
        segments[r["rfm_segment"]] = segments.get(r["rfm_segment"], 0) + int(r["n"])
    return {"cells": cells, "segments": segments}


def structure(user: User, dimension: str, *, top: int = 15) -> dict[str, Any]:
    """Customer structure (客户结构): customers per value of ``dimension`` × class, largest first."""
    if dimension not in DIMENSIONS:
        raise ValidationFailed(
            "维度无效", f"dimension must be one of {', '.join(DIMENSIONS)}", field="dimension"
        )
    scope = cube_scope(user, latest_run())
    rows: list[dict[str, Any]] = []
    if scope is not None:
        rows = [
            {
                dimension: r["k1"],
                "value_class": r["value_class"],
                "n": r["n"],
                "revenue": (r["revenue"] or 0) / 100,
            }
            for r in scope.kind(dimension)
            .values("k1", "value_class")
            .annotate(n=Sum("n"), revenue=Sum("revenue"))
            .order_by()
        ]
    customers = visible_customers(user) if scope is None else scope.extra_customers()
    if customers is not None:
        rows += list(
            customers.values(dimension, "value_class")
            .annotate(n=Count("id"), revenue=Sum("revenue_total"))
            .order_by()
        )
    groups: dict[str, dict[str, Any]] = {}
    for r in rows:
        key = r[dimension] or ""
        g = groups.setdefault(
            key, {"key": key, "total": 0, "revenue": 0.0, "classes": dict.fromkeys(CLASS_ORDER, 0)}
        )
        g["total"] += r["n"]
        g["revenue"] += float(r["revenue"] or 0)
        if r["value_class"] in g["classes"]:
            g["classes"][r["value_class"]] += r["n"]
    labels: dict[str, str] = {}
    if dimension == "size":
        labels = {k: str(v) for k, v in CompanySize.choices}
    elif dimension == "relationship_type":
        labels = {k: str(v) for k, v in RelationshipType.choices}
    ordered = sorted(groups.values(), key=lambda g: (-g["total"], g["key"]))[:top]
    for g in ordered:
        g["label"] = labels.get(g["key"], g["key"]) or "—"
    return {"dimension": dimension, "groups": ordered}


def loyalty(user: User, run: ClassificationRun | None) -> dict[str, Any]:
    """Repeat rate (customers with ≥ 2 orders among buyers) per class, and tenure since first order."""
    if run is None:
        return {"classes": [], "tenure": []}
    limits = cube.tenure_limits(run.as_of)
    per_class: dict[str, list[int]] = {}
    tenure_n = [0] * len(limits)
    scope = cube_scope(user, run)
    if scope is not None:
        for r in (
            scope.kind("loyal")
            .values("k1", "value_class")
            .annotate(buyers=Sum("a"), repeat=Sum("b"), n=Sum("n"))
            .order_by()
        ):
            c = per_class.setdefault(r["value_class"], [0, 0])
            c[0] += int(r["buyers"])
            c[1] += int(r["repeat"])
            if r["k1"] != "":
                tenure_n[int(r["k1"])] += int(r["n"])
    qs = visible_snapshots(user, run) if scope is None else scope.extra_snapshots(run)
    if qs is not None:
        for r in (
            qs.values("value_class")
            .annotate(
                buyers=Count("id", filter=Q(orders_all__gte=1)),
                repeat=Count("id", filter=Q(orders_all__gte=2)),
            )
            .order_by()
        ):
            c = per_class.setdefault(r["value_class"], [0, 0])
            c[0] += r["buyers"]
            c[1] += r["repeat"]
        aggs = {
            f"t{i}": Count("id", filter=Q(first_order_on__gt=start, first_order_on__lte=end))
            for i, (start, end) in enumerate(limits)
        }
        t = qs.aggregate(**aggs)
        for i in range(len(limits)):
            tenure_n[i] += int(t[f"t{i}"])
    classes = [
        {
            "value_class": vc,
            "buyers": buyers,
            "repeat": repeat,
            "rate": round(100.0 * repeat / buyers, 1) if buyers else 0.0,
        }
        for vc, (buyers, repeat) in sorted(per_class.items())
    ]
    tenure = [
        {"label": f"{low}–{high}" if high < 100 else f"{low}+", "n": tenure_n[i]}
        for i, (low, high) in enumerate(cube.TENURE_BOUNDS)
    ]
    return {"classes": classes, "tenure": tenure}


def profit(user: User, run: ClassificationRun | None) -> dict[str, Any]:
    """Revenue, margin, LTV, ARPU (per customer per month) and pruning candidates per class."""
    if run is None:
        return {"classes": [], "window_months": 12}
    months = int(run.config.get("window_months", 12) or 12)
    per_class: dict[str, list[int]] = {}
    rows: list[dict[str, Any]] = []
    scope = cube_scope(user, run)
    if scope is not None:
        rows = list(
            scope.kind("profit")
            .values("value_class")
            .annotate(n=Sum("n"), revenue=Sum("revenue"), profit=Sum("profit"), ltv=Sum("m"), prune=Sum("a"))
            .order_by()
        )
    qs = visible_snapshots(user, run) if scope is None else scope.extra_snapshots(run)
    if qs is not None:
        rows += list(
            qs.values("value_class")
            .annotate(
                n=Count("id"),
                revenue=Sum("revenue"),
                profit=Sum("profit"),
                ltv=Sum("ltv"),
                prune=Count("id", filter=Q(prune=True)),
            )
            .order_by()
        )
    for r in rows:
        c = per_class.setdefault(r["value_class"], [0, 0, 0, 0, 0])
        for i, key in enumerate(("n", "revenue", "profit", "ltv", "prune")):
            c[i] += int(r[key] or 0)
    classes = []
    for vc, (count, revenue, margin, ltv, prune) in sorted(per_class.items()):
        n = count or 1
        classes.append(
            {
                "value_class": vc,
                "customers": count,
                "revenue": revenue / 100,
                "profit": margin / 100,
                "ltv_avg": round(ltv / 100 / n, 2),
                "arpu": round(revenue / 100 / n / months, 2),
                "prune": prune,
            }
        )
    return {"classes": classes, "window_months": months}


def products(user: User, run: ClassificationRun | None, *, top: int = 12) -> dict[str, Any]:
    """What each class buys: revenue per product category and class over the window."""
    if run is None:
        return {"categories": [], "series": {}}
    scope = cube_scope(user, run)
    rows: list[dict[str, Any]] = []
    if scope is not None:
        rows = [
            {"category": r["k1"], "value_class": r["value_class"], "revenue": int(r["revenue"] or 0)}
            for r in scope.kind("product")
            .values("k1", "value_class")
            .annotate(revenue=Sum("revenue"))
            .order_by()
        ]
    visible = customer_queryset_for_user(user) if scope is None else scope.extra
    if visible is not None:
        from guanxi.sales.models import OrderLine
        from guanxi.value.engine.run import months_back

        start = months_back(run.as_of, int(run.config.get("window_months", 12) or 12))
        lines = OrderLine.objects.filter(
            order__ordered_on__lte=run.as_of, order__ordered_on__gt=start
        ).exclude(order__status="cancelled")
        if not user.is_admin or scope is not None:
            lines = lines.filter(order__customer_id__in=visible.values("id"))
        rows += [
            {
                "category": r["product__category"],
                "value_class": r["order__customer__value_class"],
                "revenue": int((r["revenue"] or 0) * 100),
            }
            for r in lines.values("product__category", "order__customer__value_class")
            .annotate(revenue=Sum("amount"))
            .order_by()
        ]
    totals: dict[str, int] = {}
    for r in rows:
        totals[r["category"]] = totals.get(r["category"], 0) + int(r["revenue"] or 0)
    categories = sorted(totals, key=lambda c: -totals[c])[:top]
    series = {c: [0.0] * len(categories) for c in CLASS_ORDER}
    for r in rows:
        if r["category"] in categories and r["value_class"] in series:
            series[r["value_class"]][categories.index(r["category"])] += int(r["revenue"] or 0) / 100
    return {"categories": categories, "series": series}
