from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from guanxi.service.models import Complaint, Promise


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_complaint_commands(world):
    created = json.loads(
        run(
            "complaints",
            "--user",
            "alice",
            "--json",
            "log",
            "--customer",
            str(world.customer.pk),
            "--summary",
            "发票开错",
            "--category",
            "billing",
            "--beyond-authority",
        )
    )
    assert created["escalated_to"]["id"] == world.manager.pk
    cid = str(created["id"])
    assert "发票开错" in run("complaints", "--user", "alice", "list")
    run("complaints", "--user", "alice", "acknowledge", cid, "--note", "已致电")
    resolved = json.loads(
        run("complaints", "--user", "alice", "--json", "resolve", cid, "--resolution", "已重开")
    )
    assert resolved["status"] == "resolved"
    shown = json.loads(run("complaints", "--user", "alice", "--json", "show", cid))
    assert [s.split()[-1] for s in shown["steps"]][-1] == "complaint.resolve"
    assert json.loads(run("complaints", "--user", "manager", "--json", "stats"))[0]["key"] == "billing"


def test_cli_bad_input_and_outsider_fail_in_both_languages(world):
    with pytest.raises(CommandError, match="no active user"):
        run("complaints", "--user", "nobody", "list")
    with pytest.raises(CommandError) as exc:
        run(
            "complaints",
            "--user",
            "charlie",
            "log",
            "--customer",
            str(world.customer.pk),
            "--summary",
            "x",
            "--category",
            "other",
        )
    assert "不存在" in str(exc.value) and "not found" in str(exc.value)
    with pytest.raises(CommandError) as exc:
        run(
            "promises",
            "--user",
            "alice",
            "add",
            "--customer",
            str(world.customer.pk),
            "--what",
            "x",
            "--due",
            "June",
        )
    assert "YYYY-MM-DD" in str(exc.value)
    with pytest.raises(CommandError):
        run("complaints", "--user", "alice", "check")  # administrators only
    assert not Complaint.objects.exists() and not Promise.objects.exists()


def test_promise_objection_and_survey_commands(world):
    p = json.loads(
        run(
            "promises",
            "--user",
            "alice",
            "--json",
            "add",
            "--customer",
            str(world.customer.pk),
            "--what",
            "寄样品",
            "--due",
            "2026-12-01",
        )
    )
    closed = json.loads(
        run(
            "promises",
            "--user",
            "alice",
            "--json",
            "close",
            str(p["id"]),
            "--outcome",
            "withdrawn",
            "--reason",
            "客户取消",
        )
    )
    assert closed["status"] == "withdrawn"
    run(
        "objections",
        "--user",
        "alice",
        "add",
        "--customer",
        str(world.customer.pk),
        "--category",
        "price",
        "--words",
        "太贵",
        "--response",
        "批量折扣",
        "--outcome",
        "won",
    )
    assert "批量折扣" in run("objections", "--user", "bob", "knowledge", "太贵")
    invite = json.loads(
        run("surveys", "--user", "alice", "--json", "invite", "--customer", str(world.customer.pk))
    )
    assert "/s/" in invite["link"]
    assert json.loads(run("surveys", "--user", "alice", "--json", "results"))["invitations"]["total"] == 1
    assert json.loads(run("complaints", "--user", "admin", "--json", "check")) == {
        "warnings": 0,
        "escalations": 0,
        "promise_reminders": 0,
    }
