"""Reads of the value engine: runs, one customer's value and its path up, movement, pruning.

Everything about customers goes through ``guanxi.customers.selectors`` visibility: a customer
outside the user's scope is 404, and lists count only visible customers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from guanxi.accounts.models import User
from guanxi.core.errors import NotFound, ValidationFailed
from guanxi.customers.models import Customer
from guanxi.customers.selectors import customer_queryset_for_user
from guanxi.value.choices import CLASS_ORDER, Tier
from guanxi.value.config import config_get
from guanxi.value.models import INDICATORS, ClassificationRun, CustomerSnapshot, RunStatus
from guanxi.value.policy import ServiceTerms, terms_for

INDICATOR_LABELS = {
    "revenue": _("销售额"),
    "profit": _("利润"),
    "frequency": _("购买频次"),
    "recency": _("最近购买"),
    "growth": _("增长"),
    "credit": _("信用"),
    "cost_to_serve": _("服务成本"),
    "referral": _("转介绍"),
}


def run_list(limit: int = 24) -> list[ClassificationRun]:
    return list(ClassificationRun.objects.filter(status=RunStatus.DONE).order_by("-id")[:limit])


def latest_run() -> ClassificationRun | None:
    return ClassificationRun.objects.filter(status=RunStatus.DONE).order_by("-id").first()


def run_get(run_id: int | None) -> ClassificationRun | None:
    if run_id is None:
        return latest_run()
    run = ClassificationRun.objects.filter(pk=run_id, status=RunStatus.DONE).first()
    if run is None:
        raise NotFound("评估批次", "run")
    return run


def visible_snapshots(user: User, run: ClassificationRun) -> QuerySet[CustomerSnapshot]:
    qs = CustomerSnapshot.objects.filter(run=run)
    if not user.is_admin:
        qs = qs.filter(customer_id__in=customer_queryset_for_user(user).values("id"))
    return qs


@dataclass
class IndicatorGap:
    name: str
    rank: int  # the customer's percentile rank, 0–10000
    target: int  # mean rank of the class above
    weight: int
    gap: int  # weighted shortfall in score points (basis points)
    label: str = ""


@dataclass
class CustomerValue:
    customer: Customer
    snapshot: CustomerSnapshot | None
    history: list[CustomerSnapshot]
    terms: ServiceTerms
    next_class: str | None = None
    score_gap: int | None = None  # basis points to the next class's lowest score
    weakest: list[IndicatorGap] = field(default_factory=list)
    indicators: list[dict[str, Any]] = field(default_factory=list)

    @property
    def overridden(self) -> bool:
        return bool(self.customer.value_class_override)

    @property
    def score(self) -> int | None:
        """The latest run's score in basis points (kept in the snapshot, not on the customer: it
        moves for nearly every customer each run, the class and tier for a few)."""
        return self.snapshot.score if self.snapshot is not None and self.customer.value_class else None

    @property
    def score_display(self) -> str:
        return "" if self.score is None else f"{self.score / 100:.2f}"


def customer_value(*, customer: Customer, history: int = 12) -> CustomerValue:
    """The customer's latest evaluation, movement history and what would move it up a class.

    The path up compares the customer with the class above in the latest run: the score gap to that
    class's lowest score, and the indicators where the customer falls furthest below that class's mean
    percentile rank, weighted by the indicator's weight.
    """
    snaps = list(
        CustomerSnapshot.objects.filter(customer=customer).select_related("run").order_by("-run_id")[:history]
    )
    snap = snaps[0] if snaps else None
    result = CustomerValue(customer=customer, snapshot=snap, history=snaps, terms=terms_for(customer))
    if snap is None:
        return result
    weights = snap.run.config.get("weights") or config_get().weights()
    total = sum(weights.values()) or 1
    for name in INDICATORS:
        result.indicators.append(
            {
                "name": name,
                "label": INDICATOR_LABELS[name],
                "rank": getattr(snap, f"pr_{name}"),
                "weight": weights.get(name, 0),
            }
        )
    idx = CLASS_ORDER.index(snap.computed_class) if snap.computed_class in CLASS_ORDER else 0
    if idx == 0:
        return result
    # The nearest class above that has customers in this run (a tiny population may leave one empty).
    classes = snap.run.config.get("classes") or {}
    above = next((c for c in reversed(CLASS_ORDER[:idx]) if c in classes), CLASS_ORDER[idx - 1])
    result.next_class = above
    stats = classes.get(above)
    if not stats:
        return result
    result.score_gap = max(0, int(stats["min_score"]) - snap.score)
    gaps = []
    for name in INDICATORS:
        w = int(weights.get(name, 0))
        mine = getattr(snap, f"pr_{name}")
        target = int(stats["pr"].get(name, 0))
        if w and target > mine:
            gaps.append(
                IndicatorGap(name, mine, target, w, (target - mine) * w // total, str(INDICATOR_LABELS[name]))
            )
    result.weakest = sorted(gaps, key=lambda g: -g.gap)[:3]
    return result


def movement_list(
    *, user: User, run: ClassificationRun, direction: str = "", mine: bool = False, limit: int = 200
) -> list[dict[str, Any]]:
    """Customers whose class moved in ``run`` (visible ones), with the indicators that moved most."""
    if direction not in ("", "up", "down"):
        raise ValidationFailed("方向无效", "direction must be up or down", field="direction")
    qs = visible_snapshots(user, run).exclude(movement=0)
    if mine:
        qs = qs.filter(owner_id=user.pk)
    if direction == "up":
        qs = qs.filter(movement__gt=0)
    elif direction == "down":
        qs = qs.filter(movement__lt=0)
    rows = list(qs.select_related("customer").order_by("-movement", "-score", "id")[:limit])
    prev_run = ClassificationRun.objects.filter(status=RunStatus.DONE, id__lt=run.pk).order_by("-id").first()
    prev = {}
    if prev_run is not None and rows:
        prev = {
            s.customer_id: s
            for s in CustomerSnapshot.objects.filter(
                run=prev_run, customer_id__in=[r.customer_id for r in rows]
            )
        }
    out = []
    for r in rows:
        before = prev.get(r.customer_id)
        deltas = []
        if before is not None:
            for name in INDICATORS:
                delta = getattr(r, f"pr_{name}") - getattr(before, f"pr_{name}")
                if delta:
                    deltas.append({"name": name, "label": INDICATOR_LABELS[name], "delta": delta})
            deltas.sort(key=lambda d: -abs(d["delta"]))
        out.append({"snapshot": r, "customer": r.customer, "why": deltas[:3]})
    return out


def pruning_list(*, user: User, run: ClassificationRun, limit: int = 200) -> list[CustomerSnapshot]:
    """Customers whose cost to serve exceeded their margin over the window (抓大放小), worst first."""
    return list(
        visible_snapshots(user, run)
        .filter(prune=True)
        .select_related("customer", "customer__owner")
        .order_by("profit", "-service_cost", "id")[:limit]
    )


TIER_ORDER = [Tier.KEY, Tier.IMPORTANT, Tier.GENERAL, Tier.MAINTAIN]
