"""Service policies: terms by class/tier (most specific wins), the cadence policy built from them,
overrides still winning, and bad policies and configurations rejected in both languages."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from guanxi.audit.models import Source
from guanxi.core.errors import PermissionDenied, ValidationFailed
from guanxi.customers.models import Customer
from guanxi.followup import cadence
from guanxi.value import services
from guanxi.value.models import ServicePolicy, ValueConfig
from guanxi.value.policy import ServiceTerms, terms_for

pytestmark = pytest.mark.django_db


def _classify(customer: Customer, value_class: str, tier: str) -> Customer:
    Customer.objects.filter(pk=customer.pk).update(value_class=value_class, tier=tier)
    return Customer.objects.get(pk=customer.pk)


def test_default_terms_per_tier(world):
    c = _classify(world.customer, "A", "key")
    t = terms_for(c)
    assert isinstance(t, ServiceTerms)
    assert t == ServiceTerms(
        7, 30, 2, 24, Decimal(15), ("专属客户经理", "优先发货", "高层年度拜访", "定制解决方案")
    )
    c = _classify(world.customer, "D", "maintain")
    assert terms_for(c).contact_cadence_days == 60 and terms_for(c).visit_every_days is None
    c = _classify(world.customer, "", "")  # not evaluated yet: the catch-all
    assert terms_for(c).complaint_response_hours == 24 and terms_for(c).discount_ceiling_pct is None


def test_most_specific_policy_wins(world):
    services.service_policy_save(
        actor=world.admin,
        source=Source.UI,
        value_class="B",
        tier="important",
        contact_cadence_days=10,
        complaint_response_hours=3,
        complaint_resolution_hours=30,
        value_added_services="专人对接\n\n季度回顾",
    )
    c = _classify(world.customer, "B", "important")
    t = terms_for(c)
    assert (t.contact_cadence_days, t.complaint_response_hours, t.value_added_services) == (
        10,
        3,
        ("专人对接", "季度回顾"),
    )
    c = _classify(world.customer, "A", "important")  # falls back to the tier-wide row
    assert terms_for(c).contact_cadence_days == 14


def test_cadence_policy_reads_service_policy_and_keeps_overrides(world):
    c = _classify(world.customer, "A", "key")
    assert cadence.cadence_days(c) == 7
    assert cadence.policy().weight_expression() is not None
    c.cadence_days = 3
    assert cadence.cadence_days(c) == 3 and cadence.default_cadence_days(c) == 7
    c.cadence_days = None
    c.status = "archived"
    assert cadence.cadence_days(c) is None
    # Unclassified customers keep the relationship-type rules (prospect → 14).
    c = _classify(world.customer, "", "")
    assert c.status == "prospect" and cadence.cadence_days(c) == 14
    # The same rules in SQL: the overdue list uses the policy's CASE.
    _classify(world.customer, "D", "maintain")
    from django.utils import timezone

    qs = cadence.annotate_cadence(Customer.objects.filter(pk=world.customer.pk), timezone.now())
    assert qs.get().cadence == 60


def test_policy_change_applies_at_once(world):
    c = _classify(world.customer, "A", "key")
    key = ServicePolicy.objects.get(value_class="", tier="key")
    services.service_policy_save(actor=world.admin, source=Source.UI, policy=key, contact_cadence_days=5)
    assert terms_for(c).contact_cadence_days == 5 and cadence.cadence_days(c) == 5


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"complaint_response_hours": 48, "complaint_resolution_hours": 24}, "complaint_resolution_hours"),
        ({"contact_cadence_days": 0}, "contact_cadence_days"),
        ({"discount_ceiling_pct": "120"}, "discount_ceiling_pct"),
        ({"discount_ceiling_pct": "abc"}, "discount_ceiling_pct"),
        ({"value_class": "E"}, "value_class"),
    ],
)
def test_bad_policy_rejected(world, values, field):
    with pytest.raises(ValidationFailed) as exc:
        services.service_policy_save(
            actor=world.admin, source=Source.UI, **({"tier": "key", "value_class": "A"} | values)
        )
    assert exc.value.field == field and exc.value.message_zh and exc.value.message_en


def test_duplicate_scope_and_non_admin_rejected(world):
    with pytest.raises(ValidationFailed):
        services.service_policy_save(actor=world.admin, source=Source.UI, tier="key")
    with pytest.raises(PermissionDenied):
        services.service_policy_save(actor=world.manager, source=Source.UI, tier="key", value_class="A")


@pytest.mark.parametrize(
    ("values", "text"),
    [
        (
            {
                f"weight_{n}": 0
                for n in (
                    "revenue",
                    "profit",
                    "frequency",
                    "recency",
                    "growth",
                    "credit",
                    "cost_to_serve",
                    "referral",
                )
            },
            "sum to zero",
        ),
        ({"share_a": 20, "share_b": 30, "share_c": 30, "share_d": 10}, "sum to 100"),
        ({"threshold_c": Decimal(-5)}, "negative"),
        ({"threshold_a": 40, "threshold_b": 50}, "decrease"),
        ({"weight_profit": -1}, "0 to 100"),
        ({"lost_factor": Decimal(1), "dormant_factor": Decimal(2)}, "lost_factor"),
        ({"window_months": 0}, "window_months"),
        ({"threshold_a": "x"}, "number"),
    ],
)
def test_bad_configuration_rejected_clearly(world, values, text):
    before = ValueConfig.objects.get(pk=1).weights()
    with pytest.raises(ValidationFailed) as exc:
        services.config_update(actor=world.admin, source=Source.UI, **values)
    assert text in exc.value.message_en and exc.value.message_zh
    assert ValueConfig.objects.get(pk=1).weights() == before  # nothing half-written


def test_config_is_admin_only(world):
    with pytest.raises(PermissionDenied):
        services.config_update(actor=world.manager, source=Source.UI, weight_revenue=10)


def test_tier_rules_editable(world):
    from guanxi.value.config import tier_rules
    from guanxi.value.engine.run import classify

    services.tier_rule_save(
        actor=world.admin, source=Source.UI, position=5, tier="key", classes="a", min_score="0"
    )
    assert tier_rules()[0].classes == "A" and len(tier_rules()) == 4
    classify(as_of=dt.date(2026, 6, 30))
    assert Customer.objects.get(pk=world.customer.pk).tier == "key"
    with pytest.raises(ValidationFailed):
        services.tier_rule_save(
            actor=world.admin, source=Source.UI, position=1, tier="key", classes="AX", min_score=0
        )
    with pytest.raises(ValidationFailed):
        services.tier_rule_save(
            actor=world.admin, source=Source.UI, position=1, tier="key", classes="A", min_score=-1
        )
    with pytest.raises(ValidationFailed):
        services.tier_rule_save(
            actor=world.admin,
            source=Source.UI,
            position=1,
            tier="key",
            classes="A",
            min_score=0,
            lifecycles="sleepy",
        )
