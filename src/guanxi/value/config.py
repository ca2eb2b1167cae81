"""Reading and validating the value engine's configuration, tier rules and service policies."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from guanxi.core.errors import ValidationFailed
from guanxi.value.choices import CLASS_ORDER, Lifecycle, Tier
from guanxi.value.models import INDICATORS, ClassMode, TierRule, ValueConfig

# Used when an administrator has deleted every rule: key / important / general / maintain by class.
DEFAULT_TIER_RULES: list[dict[str, Any]] = [
    {"position": 10, "tier": Tier.KEY, "classes": "A", "min_score": Decimal(85), "lifecycles": ""},
    {"position": 20, "tier": Tier.IMPORTANT, "classes": "AB", "min_score": Decimal(0), "lifecycles": ""},
    {"position": 30, "tier": Tier.GENERAL, "classes": "C", "min_score": Decimal(0), "lifecycles": ""},
]


def config_get() -> ValueConfig:
    config, _created = ValueConfig.objects.get_or_create(pk=1)
    return config


def tier_rules() -> list[TierRule]:
    rules = list(TierRule.objects.order_by("position", "id"))
    return rules or [TierRule(**r) for r in DEFAULT_TIER_RULES]


def tier_for(*, value_class: str, score: int | None, lifecycle: str, rules: list[TierRule]) -> str:
    """The Python twin of the engine's tier CASE (used after a manual class override)."""
    for rule in rules:
        classes = [c for c in rule.classes if c in CLASS_ORDER]
        if classes and value_class not in classes:
            continue
        if rule.min_score and (score or 0) < int(rule.min_score * 100):
            continue
        lifecycles = rule.lifecycle_list()
        if lifecycles and lifecycle not in lifecycles:
            continue
        return rule.tier
    return Tier.MAINTAIN


def _fail(zh: str, en: str, field: str) -> None:
    raise ValidationFailed(zh, en, field=field, code="invalid_value_config")


def validate_config(values: dict[str, Any]) -> None:
    """Reject a configuration that cannot classify: raises ValidationFailed (zh + en)."""
    for name in INDICATORS:
        w = values[f"weight_{name}"]
        if not isinstance(w, int) or not 0 <= w <= 100:
            _fail("权重必须是 0–100 的整数", "weights must be whole numbers from 0 to 100", f"weight_{name}")
    if sum(values[f"weight_{name}"] for name in INDICATORS) <= 0:
        _fail("权重之和不能为零", "the weights must not sum to zero", "weight_revenue")
    if values["mode"] not in ClassMode.values:
        _fail("分级方式无效", "mode must be shares or thresholds", "mode")
    shares = [values[f"share_{c}"] for c in "abcd"]
    if any(not isinstance(s, int) or s < 0 or s > 100 for s in shares):
        _fail("占比必须是 0–100 的整数", "shares must be whole numbers from 0 to 100", "share_a")
    if sum(shares) != 100:
        _fail(
            f"ABCD 占比之和必须为 100（现为 {sum(shares)}）",
            f"the class shares must sum to 100 (they sum to {sum(shares)})",
            "share_a",
        )
    ths = [Decimal(values[f"threshold_{c}"]) for c in "abc"]
    if any(t < 0 or t > 100 for t in ths):
        _fail(
            "分数线必须在 0–100 之间（不能为负）",
            "thresholds must be from 0 to 100 (not negative)",
            "threshold_a",
        )
    if not ths[0] > ths[1] > ths[2]:
        _fail("分数线必须 A > B > C", "thresholds must decrease: A > B > C", "threshold_a")
    checks = [
        ("window_months", 1, 60, "评估周期必须是 1–60 个月", "window_months must be 1–60"),
        ("new_days", 1, 730, "新客户天数必须是 1–730", "new_days must be 1–730"),
        ("default_rhythm_days", 7, 730, "默认购买间隔必须是 7–730 天", "default_rhythm_days must be 7–730"),
        ("fast_growth_pct", 1, 1000, "快速成长增幅必须是 1–1000%", "fast_growth_pct must be 1–1000"),
        ("default_margin_pct", 0, 100, "默认毛利率必须是 0–100%", "default_margin_pct must be 0–100"),
        ("visit_touches", 1, 50, "拜访折算次数必须是 1–50", "visit_touches must be 1–50"),
    ]
    for field, low, high, zh, en in checks:
        v = values[field]
        if not isinstance(v, int) or not low <= v <= high:
            _fail(zh, en, field)
    dormant, lost = Decimal(values["dormant_factor"]), Decimal(values["lost_factor"])
    if dormant < 1 or dormant > 50:
        _fail("休眠倍数必须是 1–50", "dormant_factor must be 1–50", "dormant_factor")
    if lost <= dormant or lost > 100:
        _fail(
            "流失倍数必须大于休眠倍数（且不超过 100）",
            "lost_factor must exceed dormant_factor (max 100)",
            "lost_factor",
        )
    if Decimal(values["touch_cost"]) < 0:
        _fail("联系成本不能为负", "touch_cost must not be negative", "touch_cost")


def validate_tier_rule(values: dict[str, Any]) -> None:
    if values["tier"] not in Tier.values:
        _fail("层级无效", "unknown tier", "tier")
    classes = values.get("classes", "") or ""
    if any(c not in CLASS_ORDER for c in classes):
        _fail("适用分级只能包含 A、B、C、D", "classes may only contain A, B, C, D", "classes")
    score = Decimal(values.get("min_score", 0) or 0)
    if score < 0 or score > 100:
        _fail(
            "最低分必须在 0–100 之间（不能为负）",
            "min_score must be from 0 to 100 (not negative)",
            "min_score",
        )
    for lc in (x.strip() for x in (values.get("lifecycles") or "").split(",")):
        if lc and lc not in Lifecycle.values:
            _fail(f"未知生命周期：{lc}", f"unknown lifecycle state: {lc}", "lifecycles")
