"""The sales pipeline (销售漏斗): pipelines and their stages, opportunities (商机) with their product
lines, the people on each deal with their decision roles, the stage history behind cycle analysis,
and the forecast snapshots behind forecast accuracy (DOMAIN §8: track every sales activity)."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from guanxi.relations.models import DecisionRoleKind, Stance


class StageKind(models.TextChoices):
    OPEN = "open", _("进行中")
    WON = "won", _("赢单")
    LOST = "lost", _("输单")


class ForecastCategory(models.TextChoices):
    """How sure the owner is that the deal closes in its period (预测类别)."""

    COMMIT = "commit", pgettext_lazy("forecast category", "承诺")  # not 承诺 as in promises
    BEST_CASE = "best_case", _("乐观")
    PIPELINE = "pipeline", _("管道")
    OMITTED = "omitted", _("不计入")


class OpportunitySource(models.TextChoices):
    REFERRAL = "referral", _("转介绍")
    EXISTING = "existing", _("老客户")
    EXHIBITION = "exhibition", _("展会")
    COLD_CALL = "cold_call", _("陌生拜访")
    WEBSITE = "website", _("网站")
    ADVERTISING = "advertising", _("广告")
    PARTNER = "partner", _("合作伙伴")
    OTHER = "other", _("其他")


class LostReason(models.TextChoices):
    """Why a deal was lost (输单原因). The same categories as objections (异议, guanxi.service), so a
    lost deal can be read against the objections raised during the sale."""

    PRICE = "price", _("价格")
    QUALITY = "quality", _("质量")
    STYLE = "style", _("款式")
    TIMING = "timing", _("时机")
    COMPETITOR = "competitor", _("竞争对手")
    AUTHORITY = "authority", _("决策权")
    NEED = "need", _("需求")
    SERVICE = "service", _("服务")
    NO_DECISION = "no_decision", _("无决策")
    OTHER = "other", _("其他")


class Pipeline(models.Model):
    """A sales pipeline (销售流程), e.g. new business or renewals, with its own stages."""

    name = models.CharField(_("名称"), max_length=60, unique=True)
    name_en = models.CharField(_("英文名称"), max_length=60, blank=True)
    position = models.PositiveSmallIntegerField(_("排序"), default=0)
    is_default = models.BooleanField(_("默认"), default=False)
    is_active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name

    def label(self, language: str | None) -> str:
        return self.name_en if (language or "").startswith("en") and self.name_en else self.name


class Stage(models.Model):
    """One stage (销售阶段) of a pipeline, with its default win probability and forecast category.
    Exactly the terminal stages are won or lost; a pipeline has one of each."""

    pipeline = models.ForeignKey(Pipeline, on_delete=models.CASCADE, related_name="stages")
    name = models.CharField(_("名称"), max_length=40)
    name_en = models.CharField(_("英文名称"), max_length=40, blank=True)
    position = models.PositiveSmallIntegerField(_("排序"))
    kind = models.CharField(_("类型"), max_length=5, choices=StageKind.choices, default=StageKind.OPEN)
    probability = models.PositiveSmallIntegerField(_("默认赢率(%)"))
    forecast_category = models.CharField(
        _("默认预测类别"), max_length=10, choices=ForecastCategory.choices, default=ForecastCategory.PIPELINE
    )
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        ordering = ["pipeline_id", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["pipeline", "name"], name="stage_unique_name"),
            models.CheckConstraint(condition=models.Q(probability__lte=100), name="stage_probability_range"),
        ]

    def __str__(self) -> str:
        return self.name

    def label(self, language: str | None) -> str:
        return self.name_en if (language or "").startswith("en") and self.name_en else self.name

    @property
    def is_closed(self) -> bool:
        return self.kind != StageKind.OPEN


class Opportunity(models.Model):
    """An opportunity (商机): a deal being worked on a customer, moving through a pipeline's stages.

    ``status`` repeats the stage's kind and ``team`` the owner's team when the deal was assigned,
    so the board, the forecast and the win rates group and filter on indexed columns.
    ``version`` grows on every write: an edit made on an old copy is refused (409), never applied
    over someone else's change.
    """

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="opportunities", verbose_name=_("客户")
    )
    name = models.CharField(_("商机名称"), max_length=200)
    pipeline = models.ForeignKey(
        Pipeline, on_delete=models.PROTECT, related_name="+", verbose_name=_("销售流程")
    )
    stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="+", verbose_name=_("阶段"))
    status = models.CharField(_("状态"), max_length=5, choices=StageKind.choices, default=StageKind.OPEN)
    probability = models.PositiveSmallIntegerField(_("赢率(%)"))
    amount = models.DecimalField(_("金额"), max_digits=14, decimal_places=2, default=0)
    expected_close_on = models.DateField(_("预计成交日期"))
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="opportunities",
        verbose_name=_("负责人"),
    )
    team = models.ForeignKey(
        "accounts.Team",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("团队"),
    )
    # The customer's owner and team, copied onto the deal by the database (triggers, migration 0005)
    # whenever the deal is written and whenever its customer changes hands, in the same transaction:
    # who may see a deal (whoever sees its customer) is then decided on the deal's own row, inside
    # the indexes the board and the forecast read (opportunity_visibility_q), instead of testing
    # every deal against its customer. Never written by the application; read in queries only.
    customer_owner_id = models.BigIntegerField(null=True, editable=False)
    customer_team_id = models.BigIntegerField(null=True, editable=False)
    source = models.CharField(_("来源"), max_length=12, choices=OpportunitySource.choices, blank=True)
    referral = models.ForeignKey(
        "relations.Referral",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="opportunities",
        verbose_name=_("转介绍"),
    )
    competitors = models.CharField(_("竞争对手"), max_length=200, blank=True)
    next_step = models.CharField(_("下一步"), max_length=200, blank=True)
    next_step_on = models.DateField(_("下一步日期"), null=True, blank=True)
    forecast_category = models.CharField(
        _("预测类别"), max_length=10, choices=ForecastCategory.choices, default=ForecastCategory.PIPELINE
    )
    description = models.TextField(_("说明"), blank=True)
    stage_entered_at = models.DateTimeField(_("进入当前阶段"))
    closed_on = models.DateField(_("成交/关闭日期"), null=True, blank=True)
    lost_reason = models.CharField(_("输单原因"), max_length=12, choices=LostReason.choices, blank=True)
    lost_to = models.CharField(_("输给"), max_length=100, blank=True)
    lost_note = models.TextField(_("输单说明"), blank=True)
    # Which of the objections raised in this sale (异议, guanxi.service) really lost it.
    lost_objection = models.ForeignKey(
        "service.Objection",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("真正的输单异议"),
    )
    order = models.ForeignKey(
        "sales.Order",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="opportunities",
        verbose_name=_("订单"),
    )
    # A decision maker is on the deal and we have actually reached them (maintained with the people).
    decision_maker_engaged = models.BooleanField(_("已接触拍板者"), default=False)
    version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("商机")
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="opportunity_amount_nonneg"),
            models.CheckConstraint(
                condition=models.Q(probability__lte=100), name="opportunity_probability_range"
            ),
        ]
        indexes = [
            # The board and list: a customer's deals, and all deals by stage / close date.
            models.Index(fields=["customer", "status"], name="opp_customer_status"),
            models.Index(fields=["stage", "expected_close_on", "id"], name="opp_stage_close"),
            models.Index(fields=["status", "expected_close_on", "id"], name="opp_status_close"),
            models.Index(fields=["owner", "status", "expected_close_on"], name="opp_owner_status_close"),
            models.Index(fields=["team", "status", "expected_close_on"], name="opp_team_status_close"),
            # Closed deals by close date; covering for the forecast's won figures (owner, team, the
            # visibility copies, amount): 10k won deals at medium in 5 ms instead of 20 ms.
            models.Index(
                fields=[
                    "status",
                    "closed_on",
                    "owner",
                    "team",
                    "customer",
                    "customer_owner_id",
                    "customer_team_id",
                    "amount",
                ],
                name="opp_closed_cover",
            ),
            models.Index(fields=["owner", "next_step_on"], name="opp_owner_next_step"),
            # A salesperson's deals (their customers'), a manager's (their teams' customers').
            models.Index(
                fields=["customer_owner_id", "status", "expected_close_on"], name="opp_cust_owner_close"
            ),
            models.Index(
                fields=["customer_team_id", "status", "expected_close_on"], name="opp_cust_team_close"
            ),
            # Covering indexes: the board's column totals and the forecast read every visible deal of
            # a pipeline / close-date range; with every column they need in the index (the deal's
            # visibility copies too), that is an index-only scan instead of a table lookup per deal
            # (100k deals at medium). The board's is in stage order, as its totals are grouped: in
            # (pipeline, status, stage) order SQLite preferred walking opp_stage_close and reading
            # every deal's row (104 ms against 17 ms for a manager's board at medium).
            models.Index(
                fields=[
                    "pipeline",
                    "stage",
                    "status",
                    "customer",
                    "expected_close_on",
                    "closed_on",
                    "amount",
                    "probability",
                    "customer_owner_id",
                    "customer_team_id",
                ],
                name="opp_board_cover",
            ),
            models.Index(
                fields=[
                    "status",
                    "expected_close_on",
                    "customer",
                    "owner",
                    "team",
                    "forecast_category",
                    "amount",
                    "probability",
                    "customer_owner_id",
                    "customer_team_id",
                ],
                name="opp_forecast_cover",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def weighted_amount(self) -> Decimal:
        return (self.amount * self.probability / 100).quantize(Decimal("0.01"))

    @property
    def is_open(self) -> bool:
        return self.status == StageKind.OPEN


class OpportunityLine(models.Model):
    """A product on a deal, with quantity and the price offered."""

    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(
        "sales.Product", on_delete=models.PROTECT, related_name="+", verbose_name=_("产品")
    )
    quantity = models.DecimalField(_("数量"), max_digits=12, decimal_places=2)
    unit_price = models.DecimalField(_("单价"), max_digits=12, decimal_places=2)
    amount = models.DecimalField(_("金额"), max_digits=14, decimal_places=2)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(quantity__gt=0), name="opportunityline_quantity_pos"),
            models.CheckConstraint(
                condition=models.Q(unit_price__gte=0), name="opportunityline_price_nonneg"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product_id} × {self.quantity}"


class OpportunityPerson(models.Model):
    """A person on a deal (商机决策人) with the part they play in this decision and where they stand.
    Uses the decision-chain roles and stances of guanxi.relations; when added, a person's role and
    stance default to what the customer's decision chain says."""

    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE, related_name="people")
    contact = models.ForeignKey("customers.Contact", on_delete=models.CASCADE, related_name="deal_roles")
    role = models.CharField(_("决策角色"), max_length=24, choices=DecisionRoleKind.choices)
    stance = models.CharField(_("立场"), max_length=10, choices=Stance.choices, default=Stance.UNKNOWN)
    engaged = models.BooleanField(_("已接触"), default=False)
    note = models.CharField(_("备注"), max_length=200, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["opportunity", "contact"], name="opportunityperson_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.contact_id}:{self.role}"


class StageStay(models.Model):
    """One stay of a deal in a stage (阶段停留): entered, and left (NULL while it is still there).
    The history of stage changes; cycle length per stage and conversions are computed from it."""

    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE, related_name="stays")
    stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="+")
    entered_at = models.DateTimeField()
    left_at = models.DateTimeField(null=True, blank=True)
    moved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["entered_at", "id"]
        indexes = [
            models.Index(fields=["opportunity", "entered_at"], name="stay_opportunity"),
            models.Index(fields=["stage", "left_at"], name="stay_stage_left"),
        ]

    def __str__(self) -> str:
        return f"{self.opportunity_id}@{self.stage_id}"


class PeriodKind(models.TextChoices):
    MONTH = "month", _("月")
    QUARTER = "quarter", _("季度")


class ForecastSnapshot(models.Model):
    """What one salesperson's forecast said for a period on a given day (预测快照), so forecast
    accuracy can be measured once the period is over. Taken daily by a scheduled job."""

    period_kind = models.CharField(max_length=7, choices=PeriodKind.choices)
    period_start = models.DateField()
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    taken_on = models.DateField()
    commit = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    best_case = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    pipeline = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    weighted = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    won = models.DecimalField(max_digits=16, decimal_places=2, default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["period_kind", "period_start", "owner", "taken_on"], name="forecastsnapshot_unique"
            ),
        ]
        indexes = [models.Index(fields=["period_kind", "period_start", "taken_on"], name="snapshot_period")]

    def __str__(self) -> str:
        return f"{self.owner_id} {self.period_kind} {self.period_start} @ {self.taken_on}"
