"""Writes of the value engine: configuration, tier rules, service policies, class overrides, and the
request of a re-evaluation. Keyword-only, one transaction, an audit row each."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction

from guanxi.accounts.models import User
from guanxi.audit.models import Source
from guanxi.audit.services import audit_record, diff, snapshot
from guanxi.core.errors import PermissionDenied, ValidationFailed, require
from guanxi.customers.models import Customer
from guanxi.customers.selectors import customer_get_for_user
from guanxi.value import policy as policy_module
from guanxi.value.choices import CLASS_ORDER, Tier, ValueClass
from guanxi.value.config import config_get, tier_for, tier_rules, validate_config, validate_tier_rule
from guanxi.value.engine import cube
from guanxi.value.models import INDICATORS, CustomerSnapshot, ServicePolicy, TierRule, ValueConfig

CONFIG_FIELDS = [f"weight_{n}" for n in INDICATORS] + [
    "mode",
    "share_a",
    "share_b",
    "share_c",
    "share_d",
    "threshold_a",
    "threshold_b",
    "threshold_c",
    "window_months",
    "new_days",
    "dormant_factor",
    "lost_factor",
    "default_rhythm_days",
    "fast_growth_pct",
    "default_margin_pct",
    "touch_cost",
    "visit_touches",
]
POLICY_FIELDS = [
    "value_class",
    "tier",
    "contact_cadence_days",
    "visit_every_days",
    "complaint_response_hours",
    "complaint_resolution_hours",
    "discount_ceiling_pct",
    "value_added_services",
    "weight",
]


def _require_admin(actor: User) -> None:
    if not actor.is_admin:
        raise PermissionDenied(
            "只有管理员可以修改客户价值设置", "only administrators may change value settings"
        )


def _decimal(value: Any, field: str) -> Decimal:
    try:
        result = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValidationFailed("请输入数字", f"{field} must be a number", field=field) from None
    require(result.is_finite(), "请输入数字", f"{field} must be a number", field=field)
    return result


@transaction.atomic
def config_update(*, actor: User, source: Source, **values: Any) -> ValueConfig:
    """Change the weights, class shares/thresholds and lifecycle parameters (administrators only)."""
    _require_admin(actor)
    unknown = set(values) - set(CONFIG_FIELDS)
    require(
        not unknown,
        "未知字段",
        f"unknown fields: {', '.join(sorted(unknown))}",
        field=next(iter(unknown), None),
    )
    config = ValueConfig.objects.select_for_update().filter(pk=1).first() or config_get()
    merged = {f: getattr(config, f) for f in CONFIG_FIELDS}
    merged.update(values)
    for f in ("threshold_a", "threshold_b", "threshold_c", "dormant_factor", "lost_factor", "touch_cost"):
        merged[f] = _decimal(merged[f], f)
    validate_config(merged)
    before = snapshot(config, CONFIG_FIELDS)
    for f, v in merged.items():
        setattr(config, f, v)
    config.save()
    changes = diff(before, snapshot(config, CONFIG_FIELDS))
    if changes:
        audit_record(actor=actor, source=source, action="value_config.update", obj=config, changes=changes)
    return config


@transaction.atomic
def tier_rule_save(*, actor: User, source: Source, rule: TierRule | None = None, **values: Any) -> TierRule:
    """Create (``rule`` None) or change a tier rule."""
    _require_admin(actor)
    if not TierRule.objects.exists():
        # The first edit materialises the built-in defaults so they can be edited one by one.
        TierRule.objects.bulk_create(tier_rules())
    values["min_score"] = _decimal(values.get("min_score", 0) or 0, "min_score")
    values["classes"] = "".join(
        sorted(set((values.get("classes") or "").upper().replace(",", "").replace(" ", "")))
    )
    values["lifecycles"] = ",".join(
        x.strip() for x in (values.get("lifecycles") or "").split(",") if x.strip()
    )
    validate_tier_rule(values)
    require(
        0 <= int(values.get("position", 0)) <= 1000,
        "顺序必须是 0–1000",
        "position must be 0–1000",
        field="position",
    )
    fields = ["position", "tier", "classes", "min_score", "lifecycles"]
    before = snapshot(rule, fields) if rule else {}
    rule = rule or TierRule()
    for f in fields:
        setattr(rule, f, values[f])
    rule.save()
    audit_record(
        actor=actor,
        source=source,
        action="tier_rule.save",
        obj=rule,
        changes=diff(before, snapshot(rule, fields)),
    )
    return rule


@transaction.atomic
def tier_rule_delete(*, actor: User, source: Source, rule: TierRule) -> None:
    _require_admin(actor)
    audit_record(actor=actor, source=source, action="tier_rule.delete", obj=rule, changes={})
    rule.delete()


def _validate_policy(values: dict[str, Any]) -> None:
    def fail(zh: str, en: str, field: str) -> None:
        raise ValidationFailed(zh, en, field=field, code="invalid_service_policy")

    if values["value_class"] and values["value_class"] not in ValueClass.values:
        fail("分级无效", "unknown class", "value_class")
    if values["tier"] and values["tier"] not in Tier.values:
        fail("层级无效", "unknown tier", "tier")
    for f in ("contact_cadence_days", "visit_every_days"):
        v = values[f]
        if v is not None and (not isinstance(v, int) or not 1 <= v <= 730):
            fail("天数必须是 1–730", f"{f} must be 1–730 days", f)
    resp, res = values["complaint_response_hours"], values["complaint_resolution_hours"]
    if not isinstance(resp, int) or not 1 <= resp <= 720:
        fail(
            "响应时限必须是 1–720 小时", "complaint_response_hours must be 1–720", "complaint_response_hours"
        )
    if not isinstance(res, int) or not resp <= res <= 2160:
        fail(
            "解决时限必须不短于响应时限（且不超过 2160 小时）",
            "complaint_resolution_hours must be at least the response time (max 2160)",
            "complaint_resolution_hours",
        )
    d = values["discount_ceiling_pct"]
    if d is not None and not Decimal(0) <= d <= Decimal(100):
        fail("折扣上限必须在 0–100% 之间", "discount_ceiling_pct must be 0–100", "discount_ceiling_pct")
    if not Decimal("0.1") <= values["weight"] <= Decimal(10):
        fail("优先权重必须在 0.1–10 之间", "weight must be 0.1–10", "weight")


@transaction.atomic
def service_policy_save(
    *, actor: User, source: Source, policy: ServicePolicy | None = None, **values: Any
) -> ServicePolicy:
    """Create (``policy`` None) or change the service policy of a class/tier scope."""
    _require_admin(actor)
    unknown = set(values) - set(POLICY_FIELDS)
    require(
        not unknown,
        "未知字段",
        f"unknown fields: {', '.join(sorted(unknown))}",
        field=next(iter(unknown), None),
    )
    before = snapshot(policy, POLICY_FIELDS) if policy else {}
    merged = (
        {f: getattr(policy, f) for f in POLICY_FIELDS}
        if policy
        else {
            "value_class": "",
            "tier": "",
            "contact_cadence_days": None,
            "visit_every_days": None,
            "complaint_response_hours": 24,
            "complaint_resolution_hours": 120,
            "discount_ceiling_pct": None,
            "value_added_services": "",
            "weight": Decimal(1),
        }
    )
    merged.update(values)
    merged["value_class"] = merged["value_class"] or ""
    merged["tier"] = merged["tier"] or ""
    if merged["discount_ceiling_pct"] is not None:
        merged["discount_ceiling_pct"] = _decimal(merged["discount_ceiling_pct"], "discount_ceiling_pct")
    merged["weight"] = _decimal(merged["weight"], "weight")
    merged["value_added_services"] = "\n".join(
        line.strip() for line in str(merged["value_added_services"] or "").splitlines() if line.strip()
    )
    _validate_policy(merged)
    clash = ServicePolicy.objects.filter(value_class=merged["value_class"], tier=merged["tier"])
    if policy is not None:
        clash = clash.exclude(pk=policy.pk)
    require(
        not clash.exists(),
        "该分级/层级已有服务政策",
        "a policy for this class/tier already exists",
        field="tier",
        code="duplicate",
    )
    policy = policy or ServicePolicy()
    for f in POLICY_FIELDS:
        setattr(policy, f, merged[f])
    policy.save()
    audit_record(
        actor=actor,
        source=source,
        action="service_policy.save",
        obj=policy,
        changes=diff(before, snapshot(policy, POLICY_FIELDS)),
    )
    transaction.on_commit(policy_module.invalidate)
    policy_module.invalidate()
    return policy


@transaction.atomic
def service_policy_delete(*, actor: User, source: Source, policy: ServicePolicy) -> None:
    _require_admin(actor)
    audit_record(actor=actor, source=source, action="service_policy.delete", obj=policy, changes={})
    policy.delete()
    transaction.on_commit(policy_module.invalidate)
    policy_module.invalidate()


@transaction.atomic
def customer_class_override(
    *, actor: User, source: Source, customer: Customer, value_class: str, reason: str
) -> Customer:
    """Set (or with ``value_class=""`` clear) a manual class (人工分级); it wins until cleared.

    Managers and administrators only; the reason is required when setting. The class and tier take
    effect at once (the tier from the tier rules, with the last computed score and lifecycle).
    """
    if not (actor.is_admin or actor.is_manager):
        raise PermissionDenied(
            "只有经理或管理员可以调整分级", "only managers and administrators may override a class"
        )
    customer = customer_get_for_user(user=actor, customer_id=customer.pk)  # 404 outside scope
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    value_class = (value_class or "").strip().upper()
    reason = (reason or "").strip()
    require(
        value_class in ("", *CLASS_ORDER),
        "分级必须是 A、B、C 或 D",
        "class must be A, B, C or D",
        field="value_class",
    )
    if value_class:
        require(bool(reason), "请填写调整原因", "a reason is required", field="reason")
        require(len(reason) <= 300, "原因不超过300字", "reason is at most 300 characters", field="reason")
    fields = ["value_class_override", "value_override_reason", "value_class", "tier"]
    before = snapshot(customer, fields)
    last = (
        CustomerSnapshot.objects.filter(customer=customer)
        .order_by("-run_id")
        .values("computed_class", "score", "lifecycle")
        .first()
    )
    customer.value_class_override = value_class
    customer.value_override_reason = reason if value_class else ""
    effective = value_class or (last["computed_class"] if last else "")
    customer.value_class = effective
    if effective:
        customer.tier = tier_for(
            value_class=effective,
            score=last["score"] if last else 0,
            lifecycle=last["lifecycle"] if last else customer.lifecycle,
            rules=tier_rules(),
        )
    customer.save(update_fields=[*fields, "updated_at"])
    cube.invalidate()
    audit_record(
        actor=actor,
        source=source,
        action="customer.value_override",
        obj=customer,
        customer_id=customer.pk,
        changes=diff(before, snapshot(customer, fields)),
    )
    return customer


def classify_request(*, actor: User, source: Source, force: bool = True) -> str:
    """Enqueue a re-evaluation (managers and administrators); returns the job id."""
    if not (actor.is_admin or actor.is_manager):
        raise PermissionDenied(
            "只有经理或管理员可以重新评估", "only managers and administrators may re-evaluate"
        )
    from guanxi.value.tasks import classify_customers

    result = classify_customers.enqueue(actor_id=actor.pk, source=str(source), force=force)
    return str(result.id)
