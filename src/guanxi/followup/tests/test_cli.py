"""The CLI: today (text and JSON), plan, remind; bad arguments exit non-zero in both languages; two
``remind`` processes and two ``tick`` processes at once on the SQLite file never duplicate anything."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[4]
GUANXI = Path(sys.executable).parent / "guanxi"

pytestmark = pytest.mark.slow


def run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(GUANXI), *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        cwd=PROJECT,
        timeout=300,
        check=False,
    )


def spawn(*args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(GUANXI), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **env},
        cwd=PROJECT,
    )


@pytest.fixture(scope="module")
def demo_env(tmp_path_factory):
    env = {
        "GUANXI_DATA_DIR": str(tmp_path_factory.mktemp("followup-cli")),
        "DATABASE_URL": "",
        "GUANXI_ENV": "test",
    }
    assert run("migrate", "-v", "0", env=env).returncode == 0
    result = run("demo", "--customers", "24", env=env)
    assert result.returncode == 0, result.stderr
    return env


def count(env: dict[str, str], model: str) -> int:
    code = f"from guanxi.followup.models import {model}; print({model}.objects.count())"
    result = run("manage", "shell", "--no-imports", "-c", code, env=env)
    assert result.returncode == 0, result.stderr
    return int(result.stdout.strip())


def test_today_text_and_json(demo_env):
    text = run("today", "--user", "wang", env=demo_env)
    assert text.returncode == 0, text.stderr
    assert "今日 / Today" in text.stdout and "预约 / Appointments" in text.stdout
    data = json.loads(run("today", "--user", "wang", "--json", env=demo_env).stdout)
    assert data["appointments"] and data["tasks"] and data["overdue_tasks"] >= 1
    missing = run("today", "--user", "nobody", env=demo_env)
    assert missing.returncode != 0 and "没有该用户" in missing.stderr and "no active user" in missing.stderr


def test_plan_prints_the_route(demo_env):
    result = run(
        "plan", "--user", "wang", "--date", __import__("datetime").date.today().isoformat(), env=demo_env
    )
    assert result.returncode == 0, result.stderr
    assert "拜访计划 / Visit plan" in result.stdout and " 1. " in result.stdout
    bad = run("plan", "--user", "wang", "--date", "2026-02-30", env=demo_env)
    assert bad.returncode != 0 and "日期无效" in bad.stderr and "invalid date" in bad.stderr
    far = run("plan", "--user", "wang", "--date", "2031-01-01", env=demo_env)
    assert far.returncode != 0 and "60" in far.stderr


def test_two_concurrent_remind_processes(demo_env):
    before = count(demo_env, "Reminder")
    days = ["2026-01-20", "2026-09-20", "2026-05-28"]
    for day in days:
        procs = [spawn("remind", "--date", day, env=demo_env) for _ in range(2)]
        for p in procs:
            _, err = p.communicate(timeout=300)
            assert p.returncode == 0, err
    after = count(demo_env, "Reminder")
    assert after > before
    for day in days:
        assert run("remind", "--date", day, env=demo_env).stdout.strip().endswith(": 0")
    assert count(demo_env, "Reminder") == after
    code = (
        "from django.db.models import Count; from guanxi.followup.models import Reminder; "
        "print(Reminder.objects.values('user','kind','subject','occurs_on').annotate(n=Count('id')).filter(n__gt=1).count())"
    )
    assert run("manage", "shell", "--no-imports", "-c", code, env=demo_env).stdout.strip() == "0"


def test_two_concurrent_ticks_enqueue_each_job_once(demo_env):
    procs = [spawn("tick", env=demo_env) for _ in range(2)]
    outs = []
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
        outs.append(out)
    both = "".join(outs)
    assert both.count("followup_reminders") == 1 and both.count("followup_greetings") == 1
    code = (
        "from django_tasks_db.models import DBTaskResult; "
        "print(DBTaskResult.objects.filter(task_path='guanxi.followup.tasks.generate_reminders').count())"
    )
    assert run("manage", "shell", "--no-imports", "-c", code, env=demo_env).stdout.strip() == "1"
    assert "nothing due" in run("tick", env=demo_env).stdout
