"""Customer value (客户价值): configuration, tier rules, service policies, runs and snapshots.

A *run* (一次评估) re-evaluates every non-archived customer set-based in the database (see
``guanxi.value.engine``) and keeps one *snapshot* row per customer with the indicator values, their
percentile ranks, the composite score, the class, tier, lifecycle state and RFM scores, so movement
between runs can be shown and explained. Money is kept in integer cents and scores in basis points
(0–10000) so both database engines compute bit-identical results.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from guanxi.value.choices import Lifecycle, RfmSegment, Tier, ValueClass

INDICATORS = ("revenue", "profit", "frequency", "recency", "growth", "credit", "cost_to_serve", "referral")


class ClassMode(models.TextChoices):
    SHARES = "shares", _("按目标占比")
    THRESHOLDS = "thresholds", _("按分数阈值")


class ValueConfig(models.Model):
    """The one configuration row (pk=1) of the value engine, edited by an administrator."""

    # Indicator weights (0–100); they are relative, only their sum must be positive.
    weight_revenue = models.PositiveSmallIntegerField(_("销售额权重"), default=25)
    weight_profit = models.PositiveSmallIntegerField(_("利润权重"), default=25)
    weight_frequency = models.PositiveSmallIntegerField(_("频次权重"), default=15)
    weight_recency = models.PositiveSmallIntegerField(_("最近购买权重"), default=10)
    weight_growth = models.PositiveSmallIntegerField(_("增长权重"), default=10)
    weight_credit = models.PositiveSmallIntegerField(_("信用权重"), default=5)
    weight_cost_to_serve = models.PositiveSmallIntegerField(_("服务成本权重"), default=5)
    weight_referral = models.PositiveSmallIntegerField(_("转介绍权重"), default=5)
    mode = models.CharField(_("分级方式"), max_length=10, choices=ClassMode.choices, default=ClassMode.SHARES)
    share_a = models.PositiveSmallIntegerField(_("A类占比%"), default=20)
    share_b = models.PositiveSmallIntegerField(_("B类占比%"), default=30)
    share_c = models.PositiveSmallIntegerField(_("C类占比%"), default=30)
    share_d = models.PositiveSmallIntegerField(_("D类占比%"), default=20)
    # Thresholds on the 0–100 score, used in threshold mode: score ≥ threshold_a → A, and so on.
    threshold_a = models.DecimalField(_("A类分数线"), max_digits=5, decimal_places=2, default=Decimal(75))
    threshold_b = models.DecimalField(_("B类分数线"), max_digits=5, decimal_places=2, default=Decimal(50))
    threshold_c = models.DecimalField(_("C类分数线"), max_digits=5, decimal_places=2, default=Decimal(25))
    window_months = models.PositiveSmallIntegerField(_("评估周期(月)"), default=12)
    new_days = models.PositiveSmallIntegerField(_("新客户天数"), default=90)
    # Dormant / lost: days since the last order beyond this many of the customer's own buying rhythm.
    dormant_factor = models.DecimalField(_("休眠倍数"), max_digits=4, decimal_places=1, default=Decimal(2))
    lost_factor = models.DecimalField(_("流失倍数"), max_digits=4, decimal_places=1, default=Decimal(4))
    default_rhythm_days = models.PositiveSmallIntegerField(_("默认购买间隔(天)"), default=90)
    fast_growth_pct = models.PositiveSmallIntegerField(_("快速成长增幅%"), default=30)
    # Margin assumed on order lines whose product has no cost.
    default_margin_pct = models.PositiveSmallIntegerField(_("默认毛利率%"), default=20)
    # Cost of one touch (interaction); a visit counts as ``visit_touches`` touches.
    touch_cost = models.DecimalField(
        _("每次联系成本(元)"), max_digits=10, decimal_places=2, default=Decimal(50)
    )
    visit_touches = models.PositiveSmallIntegerField(_("拜访折算联系次数"), default=4)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return "value config"

    def weights(self) -> dict[str, int]:
        return {name: int(getattr(self, f"weight_{name}")) for name in INDICATORS}


class TierRule(models.Model):
    """A tier rule (客户层级规则): first match by position wins; no match → maintain (维持客户)."""

    position = models.PositiveSmallIntegerField(_("顺序"))
    tier = models.CharField(_("层级"), max_length=10, choices=Tier.choices)
    classes = models.CharField(_("适用分级"), max_length=8, blank=True, help_text=_("如 AB；留空=任意"))
    min_score = models.DecimalField(_("最低分"), max_digits=5, decimal_places=2, default=Decimal(0))
    lifecycles = models.CharField(
        _("适用生命周期"), max_length=120, blank=True, help_text=_("逗号分隔；留空=任意")
    )

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(min_score__gte=0, min_score__lte=100), name="tierrule_score_range"
            )
        ]

    def __str__(self) -> str:
        return f"{self.position}: {self.tier}"

    def lifecycle_list(self) -> list[str]:
        return [x.strip() for x in self.lifecycles.split(",") if x.strip()]


class ServicePolicy(models.Model):
    """Service policy (差异化服务) for a class and/or tier; the most specific row applies.

    Match order: (class, tier) → (any class, tier) → (class, any tier) → (any, any).
    """

    value_class = models.CharField(_("分级"), max_length=1, choices=ValueClass.choices, blank=True)
    tier = models.CharField(_("层级"), max_length=10, choices=Tier.choices, blank=True)
    contact_cadence_days = models.PositiveSmallIntegerField(_("联系频率(天)"), null=True, blank=True)
    visit_every_days = models.PositiveSmallIntegerField(_("拜访频率(天)"), null=True, blank=True)
    complaint_response_hours = models.PositiveSmallIntegerField(_("投诉响应时限(小时)"), default=24)
    complaint_resolution_hours = models.PositiveSmallIntegerField(_("投诉解决时限(小时)"), default=120)
    discount_ceiling_pct = models.DecimalField(
        _("折扣上限%"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    value_added_services = models.TextField(_("增值服务"), blank=True, help_text=_("每行一项"))
    # Importance when ranking overdue relationships (follow-up cadence).
    weight = models.DecimalField(_("优先权重"), max_digits=4, decimal_places=2, default=Decimal(1))
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["value_class", "tier"], name="servicepolicy_scope_once"),
            models.CheckConstraint(
                condition=models.Q(contact_cadence_days__isnull=True)
                | models.Q(contact_cadence_days__gte=1, contact_cadence_days__lte=730),
                name="servicepolicy_cadence_range",
            ),
            models.CheckConstraint(
                condition=models.Q(complaint_resolution_hours__gte=models.F("complaint_response_hours")),
                name="servicepolicy_resolution_after_response",
            ),
            models.CheckConstraint(
                condition=models.Q(discount_ceiling_pct__isnull=True)
                | models.Q(discount_ceiling_pct__gte=0, discount_ceiling_pct__lte=100),
                name="servicepolicy_discount_range",
            ),
        ]
        ordering = ["value_class", "tier"]

    def __str__(self) -> str:
        return f"{self.value_class or '*'}/{self.tier or '*'}"

    def services_list(self) -> list[str]:
        return [x.strip() for x in self.value_added_services.splitlines() if x.strip()]


class RunStatus(models.TextChoices):
    RUNNING = "running", _("进行中")
    DONE = "done", _("已完成")
    FAILED = "failed", _("失败")


class ClassificationRun(models.Model):
    """One re-evaluation (评估批次) of a period (``2026-11``); a forced re-run replaces its snapshot."""

    period = models.CharField(_("周期"), max_length=12, unique=True)
    as_of = models.DateField(_("评估日期"))
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.RUNNING)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    triggered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    source = models.CharField(max_length=10, default="system")
    population = models.PositiveIntegerField(default=0)
    moved_up = models.PositiveIntegerField(default=0)
    moved_down = models.PositiveIntegerField(default=0)
    tasks_created = models.PositiveIntegerField(default=0)
    config = models.JSONField(default=dict)  # the configuration the run used
    timings = models.JSONField(default=dict)  # seconds per step
    # CubeState.generation when the run's RunCube was built (None: no cube; the dashboards go live)
    cube_generation = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-as_of", "-id"]

    def __str__(self) -> str:
        return self.period


class CustomerSnapshot(models.Model):
    """A customer's evaluation in one run (客户价值快照)."""

    # No single-column indexes on the two keys: the unique (run, customer) and the (customer, run)
    # indexes serve both lookups, and every index costs on the 100k-row INSERT of each run.
    # No foreign-key constraints in the database either (``db_constraint=False``): the engine writes
    # only ids it has just read, deletes cascade through Django's collector as before, and the
    # constraints' deferred checks — one locking lookup per key and row at COMMIT — took 26 s of a
    # run at 1M customers on PostgreSQL (and dirtied every customer page with the row locks).
    run = models.ForeignKey(
        ClassificationRun,
        on_delete=models.CASCADE,
        related_name="snapshots",
        db_index=False,
        db_constraint=False,
    )
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.CASCADE,
        related_name="value_snapshots",
        db_index=False,
        db_constraint=False,
    )
    owner_id = models.IntegerField()  # the owner at evaluation time (notifications, summaries)
    # Indicator values over the window (money in cents).
    revenue = models.BigIntegerField(default=0)
    profit = models.BigIntegerField(default=0)
    orders = models.IntegerField(default=0)
    recency_days = models.IntegerField(null=True)
    growth = models.IntegerField(default=0)  # ‰ change, last half of the window vs the first
    credit = models.SmallIntegerField(default=0)  # 1 (C) … 5 (AAA); 3 when unrated
    touches = models.IntegerField(default=0)
    cost_index = models.BigIntegerField(default=0)  # touches per ¥10k of revenue × 100
    referral = models.BigIntegerField(default=0)  # revenue (cents) of the customers it referred
    profit_all = models.BigIntegerField(default=0)  # all-time margin, for LTV
    service_cost = models.BigIntegerField(default=0)  # cents, for pruning
    orders_all = models.IntegerField(default=0)
    first_order_on = models.DateField(null=True)
    last_order_on = models.DateField(null=True)
    # Percentile ranks, 0–10000 (higher = better for the customer's value).
    pr_revenue = models.SmallIntegerField(default=0)
    pr_profit = models.SmallIntegerField(default=0)
    pr_frequency = models.SmallIntegerField(default=0)
    pr_recency = models.SmallIntegerField(default=0)
    pr_growth = models.SmallIntegerField(default=0)
    pr_credit = models.SmallIntegerField(default=0)
    pr_cost_to_serve = models.SmallIntegerField(default=0)
    pr_referral = models.SmallIntegerField(default=0)
    score = models.SmallIntegerField(default=0)  # basis points 0–10000
    computed_class = models.CharField(max_length=1, choices=ValueClass.choices)
    value_class = models.CharField(max_length=1, choices=ValueClass.choices)  # after override
    tier = models.CharField(max_length=10, choices=Tier.choices)
    lifecycle = models.CharField(max_length=15, choices=Lifecycle.choices)
    rfm_r = models.SmallIntegerField(default=1)
    rfm_f = models.SmallIntegerField(default=1)
    rfm_m = models.SmallIntegerField(default=1)
    rfm_segment = models.CharField(max_length=12, choices=RfmSegment.choices)
    ltv = models.BigIntegerField(default=0)  # cents
    prune = models.BooleanField(default=False)
    prev_class = models.CharField(max_length=1, blank=True)
    prev_tier = models.CharField(max_length=10, blank=True)
    prev_lifecycle = models.CharField(max_length=15, blank=True)
    prev_score = models.SmallIntegerField(null=True)
    movement = models.SmallIntegerField(default=0)  # +2 = up two classes; 0 also when new

    class Meta:
        constraints = [models.UniqueConstraint(fields=["run", "customer"], name="snapshot_once")]
        indexes = [
            models.Index(fields=["customer", "run"], name="snapshot_customer_run"),
            # Only the customers who moved (~1 in 8): the movement pages ask for nothing else, and a
            # run then writes 125k entries of this index at 1M customers instead of a million.
            models.Index(fields=["run", "movement"], name="snapshot_run_moved", condition=~Q(movement=0)),
            models.Index(fields=["run", "owner_id"], name="snapshot_run_owner"),
        ]

    def __str__(self) -> str:
        return f"{self.run_id}:{self.customer_id} {self.value_class}"


class IndicatorStage(models.Model):
    """The definition of the engine's first step's scratch table (raw indicators); always empty.

    A run works in a TEMP table of the same name, which shadows this one for its connection and is
    dropped with the run (engine.run._open_stage): on SQLite a copy of this table's definition, on
    PostgreSQL made by CREATE TABLE … AS with these columns' types (``_fill_stage``). This table
    stays UNLOGGED and empty (migration 0005).
    """

    customer_id = models.IntegerField(primary_key=True)
    owner_id = models.IntegerField()
    override = models.CharField(max_length=1, blank=True)
    created_on = models.DateField()
    revenue = models.BigIntegerField()
    revenue_recent = models.BigIntegerField()
    revenue_prior = models.BigIntegerField()
    profit = models.BigIntegerField()
    profit_all = models.BigIntegerField()
    orders = models.IntegerField()
    orders_all = models.IntegerField()
    first_order_on = models.DateField(null=True)
    last_order_on = models.DateField(null=True)
    credit = models.SmallIntegerField()
    touches = models.IntegerField()
    referral = models.BigIntegerField()

    class Meta:
        managed = True

    def __str__(self) -> str:
        return str(self.customer_id)


class RunSummary(models.Model):
    """Pre-aggregated counts of a run (class × tier × lifecycle) for the admin's trend charts."""

    run = models.ForeignKey(ClassificationRun, on_delete=models.CASCADE, related_name="summaries")
    value_class = models.CharField(max_length=1)
    tier = models.CharField(max_length=10)
    lifecycle = models.CharField(max_length=15)
    customers = models.IntegerField()
    revenue = models.BigIntegerField()
    profit = models.BigIntegerField()

    class Meta:
        indexes = [models.Index(fields=["run"], name="runsummary_run")]

    def __str__(self) -> str:
        return f"{self.run_id}:{self.value_class}/{self.tier}/{self.lifecycle}"


class LifecycleAction(models.Model):
    """The follow-up task created when a customer entered a lifecycle state in a period (idempotence)."""

    # No index of its own: the unique (customer, lifecycle, period) serves every lookup by customer.
    # Written set-based by the engine like the snapshot, hence no database constraints on its keys.
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    lifecycle = models.CharField(max_length=15, choices=Lifecycle.choices)
    period = models.CharField(max_length=12)
    run = models.ForeignKey(
        ClassificationRun, on_delete=models.CASCADE, related_name="actions", db_constraint=False
    )
    # Its task too (migration 0008): the run inserts ~200k tasks and actions at 1M customers, and
    # the deferred check of this key — one lookup per action at COMMIT — was a third of the commit's
    # 3.2 s (BENCHMARKS.md). A deleted task still sets it NULL (Django's collector).
    task = models.ForeignKey(
        "followup.FollowUpTask", null=True, on_delete=models.SET_NULL, related_name="+", db_constraint=False
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["customer", "lifecycle", "period"], name="lifecycleaction_once")
        ]

    def __str__(self) -> str:
        return f"{self.customer_id}:{self.lifecycle}@{self.period}"


class RunDigest(models.Model):
    """The one digest task per owner and run telling them whose class moved (idempotence)."""

    run = models.ForeignKey(ClassificationRun, on_delete=models.CASCADE, related_name="digests")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    task = models.ForeignKey("followup.FollowUpTask", null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["run", "user"], name="rundigest_once")]

    def __str__(self) -> str:
        return f"{self.run_id}:{self.user_id}"


class RunCube(models.Model):
    """A run's dashboard figures pre-aggregated per visibility unit (owner × team), DOMAIN §3.

    One row per (kind, keys, class) and per (owner, team) pair of the customers at build time: a
    salesperson's figure is the sum of their owner rows, a manager's the sum over the rows of the
    teams they manage (plus their own), an administrator's the sum of all rows; explicitly shared
    customers are added live (see ``guanxi.value.analytics``). Valid only while ``CubeState``'s
    generation equals the run's ``cube_generation`` (database triggers bump it whenever a customer's
    owner, team, status or value columns change, or a customer is deleted).
    """

    run = models.ForeignKey(ClassificationRun, on_delete=models.CASCADE, related_name="cube")
    owner_id = models.IntegerField()
    team_id = models.IntegerField(null=True)
    kind = models.CharField(max_length=20)
    k1 = models.CharField(max_length=100, default="")
    k2 = models.CharField(max_length=100, default="")
    value_class = models.CharField(max_length=1, default="")
    n = models.IntegerField(default=0)
    revenue = models.BigIntegerField(default=0)  # cents
    profit = models.BigIntegerField(default=0)  # cents
    m = models.BigIntegerField(default=0)  # kind-specific sum (RFM M, LTV cents)
    a = models.IntegerField(default=0)  # kind-specific count (buyers, prune, moved up)
    b = models.IntegerField(default=0)  # kind-specific count (repeat buyers, moved down)

    class Meta:
        indexes = [
            models.Index(fields=["run", "kind", "owner_id"], name="runcube_owner"),
            models.Index(fields=["run", "kind", "team_id"], name="runcube_team"),
        ]

    def __str__(self) -> str:
        return f"{self.run_id}:{self.kind}/{self.k1}/{self.k2}/{self.value_class}"


class CubeState(models.Model):
    """One row: the generation of the customers' visibility-relevant columns (bumped by triggers)."""

    generation = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return str(self.generation)
