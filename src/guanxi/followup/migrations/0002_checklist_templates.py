"""Default visit checklists (DOMAIN §4: what to bring, the key points, the questions to expect)."""

from django.db import migrations

MATERIALS = [
    ("产品宣传册", "Brochures"),
    ("样品", "Samples"),
    ("产品/案例照片", "Product and reference photos"),
    ("资质证书", "Certificates"),
    ("名片", "Business cards"),
    ("介绍信", "Introduction letter"),
    ("合同和订单表格", "Contract and order forms"),
    ("定金收据", "Deposit receipt"),
    ("小礼品", "Small gift"),
]
TEMPLATES = [
    (
        "标准拜访",
        "Standard visit",
        True,
        [m for m in MATERIALS if m[0] not in ("定金收据", "合同和订单表格")],
        "1. 回顾上次沟通的结论\n2. 了解客户近期需求与变化\n3. 介绍新产品/新方案\n4. 约定下一步",
    ),
    (
        "首次拜访",
        "First visit",
        False,
        [m for m in MATERIALS if m[0] not in ("定金收据", "合同和订单表格")],
        "1. 介绍公司与自己\n2. 了解客户的组织和决策链\n3. 了解需求和痛点\n4. 预约下次拜访",
    ),
    (
        "签约拜访",
        "Signing visit",
        False,
        MATERIALS,
        "1. 确认价格、交期和付款方式\n2. 逐条确认合同条款\n3. 收取定金并开具收据\n4. 说明售后服务安排",
    ),
]


def create(apps, schema_editor):
    ChecklistTemplate = apps.get_model("followup", "ChecklistTemplate")
    for position, (name, name_en, default, items, points) in enumerate(TEMPLATES):
        ChecklistTemplate.objects.get_or_create(
            name=name,
            defaults={
                "name_en": name_en,
                "is_default": default,
                "position": position,
                "items": [{"zh": zh, "en": en} for zh, en in items],
                "key_points": points,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("followup", "0001_initial")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
