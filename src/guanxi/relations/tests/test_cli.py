"""The relations commands: results on standard output; bad arguments fail with both languages."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from guanxi.relations.models import DecisionRole, Playbook
from guanxi.testing.factories import make_contact, make_customer

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_relations_gaps_stale_role_link_review(world):
    out = run("relations", "gaps", "--user", "alice")
    assert "华为技术有限公司" in out and "decision_maker_unknown" in out
    zhang = world.customer.contacts.get()
    out = run(
        "relations",
        "role",
        "--user",
        "alice",
        "--contact",
        str(zhang.pk),
        "--roles",
        "decision_maker,purchaser",
    )
    assert "decision_maker,purchaser" in out
    assert DecisionRole.objects.filter(contact=zhang).count() == 2
    boss = make_contact(world.customer, name="李总")
    out = run(
        "relations",
        "link",
        "--user",
        "alice",
        "--from",
        str(zhang.pk),
        "--to",
        str(boss.pk),
        "--kind",
        "reports_to",
    )
    assert "link" in out
    data = json.loads(run("relations", "map", "--user", "alice", "--customer", str(world.customer.pk)))
    assert {n["name"] for n in data["nodes"]} >= {"张伟", "李总"}
    assert "reviewed" in run("relations", "review", "--user", "alice", "--customer", str(world.customer.pk))
    assert run("relations", "stale", "--user", "alice") == ""


def test_relations_errors_are_bilingual(world):
    zhang = world.customer.contacts.get()
    with pytest.raises(CommandError, match=r"未知决策角色.*unknown decision role"):
        run("relations", "role", "--user", "alice", "--contact", str(zhang.pk), "--roles", "boss")
    with pytest.raises(CommandError, match="联系人不存在或无权访问 / contact not found"):
        run("relations", "role", "--user", "charlie", "--contact", str(zhang.pk), "--roles", "user")
    with pytest.raises(CommandError, match="不能把一个人和他自己关联"):
        run(
            "relations",
            "link",
            "--user",
            "alice",
            "--from",
            str(zhang.pk),
            "--to",
            str(zhang.pk),
            "--kind",
            "friend",
        )
    with pytest.raises(CommandError, match="参数错误 / invalid arguments"):
        run("relations", "gaps")
    with pytest.raises(CommandError, match="no active user"):
        run("relations", "gaps", "--user", "nobody")


def test_referrals_add_value_downstream(world):
    other = make_customer(world.owner, name="腾达")
    out = run(
        "referrals",
        "add",
        "--user",
        "alice",
        "--customer",
        str(other.pk),
        "--referrer-customer",
        str(world.customer.pk),
    )
    assert "referral" in out
    run(
        "referrals", "add", "--user", "alice", "--customer", str(world.customer.pk), "--referrer-name", "老周"
    )
    values = json.loads(run("referrals", "value", "--user", "alice", "--json"))
    assert values[0]["label"] in {"老周", "华为技术有限公司"}
    assert {v["label"]: v["total_customers"] for v in values} == {"老周": 2, "华为技术有限公司": 1}
    assert "腾达" in run("referrals", "downstream", "--user", "alice", "--customer", str(world.customer.pk))
    with pytest.raises(CommandError, match="客户不能介绍自己"):
        run(
            "referrals",
            "add",
            "--user",
            "alice",
            "--customer",
            str(other.pk),
            "--referrer-customer",
            str(other.pk),
        )
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        run(
            "referrals",
            "add",
            "--user",
            "alice",
            "--customer",
            str(other.pk),
            "--referrer-name",
            "x",
            "--date",
            "昨天",
        )


def test_playbooks_export_import_reset(world, tmp_path):
    path = tmp_path / "playbooks.json"
    run("playbooks", "export", "--output", str(path))
    data = json.loads(path.read_text(encoding="utf-8"))
    assert len(data) == 4
    data[2]["cadence_days"] = 9
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    assert "1 changed" in run("playbooks", "import", str(path))
    assert Playbook.objects.get(relationship_type="channel").cadence_days == 9
    assert "1 changed" in run("playbooks", "reset")
    assert Playbook.objects.get(relationship_type="channel").cadence_days == 14
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(CommandError, match=r"不是有效的 JSON.* / not valid JSON"):
        run("playbooks", "import", str(path))
    path.write_text('[{"relationship_type": "end", "cadence_days": 999}]', encoding="utf-8")
    with pytest.raises(CommandError, match="联系周期应在1到365天之间"):
        run("playbooks", "import", str(path))
