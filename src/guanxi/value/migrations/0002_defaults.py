"""The default configuration, tier rules and service policies (an administrator edits them later)."""

from decimal import Decimal

from django.db import migrations

TIERS = [
    (10, "key", "A", Decimal(85)),
    (20, "important", "AB", Decimal(0)),
    (30, "general", "C", Decimal(0)),
]
# (tier, cadence days, visit every days, response h, resolution h, discount %, services, weight)
POLICIES = [
    ("key", 7, 30, 2, 24, Decimal(15), "专属客户经理\n优先发货\n高层年度拜访\n定制解决方案", Decimal("1.5")),
    ("important", 14, 60, 4, 48, Decimal(10), "定期回访\n优先技术支持\n新品优先试用", Decimal("1.2")),
    ("general", 30, 120, 24, 120, Decimal(5), "节日问候\n标准技术支持", Decimal(1)),
    ("maintain", 60, None, 48, 168, Decimal(0), "", Decimal("0.6")),
    ("", 30, None, 24, 120, None, "", Decimal(1)),
]


def seed(apps, schema_editor):
    ValueConfig = apps.get_model("value", "ValueConfig")
    TierRule = apps.get_model("value", "TierRule")
    ServicePolicy = apps.get_model("value", "ServicePolicy")
    ValueConfig.objects.get_or_create(pk=1)
    if not TierRule.objects.exists():
        TierRule.objects.bulk_create(
            [TierRule(position=p, tier=t, classes=c, min_score=s, lifecycles="") for p, t, c, s in TIERS]
        )
    if not ServicePolicy.objects.exists():
        ServicePolicy.objects.bulk_create(
            [
                ServicePolicy(
                    value_class="",
                    tier=tier,
                    contact_cadence_days=cadence,
                    visit_every_days=visit,
                    complaint_response_hours=resp,
                    complaint_resolution_hours=res,
                    discount_ceiling_pct=disc,
                    value_added_services=services,
                    weight=weight,
                )
                for tier, cadence, visit, resp, res, disc, services, weight in POLICIES
            ]
        )


class Migration(migrations.Migration):
    dependencies = [("value", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
