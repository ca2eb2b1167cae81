"""guanxi pipeline …: results on standard output, visibility, bad arguments in both languages."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from guanxi.pipeline.models import ForecastSnapshot, Opportunity

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_create_move_lose_list_board_forecast(world, stages):
    close = (timezone.localdate() + dt.timedelta(days=15)).isoformat()
    out = run(
        "pipeline",
        "create",
        "--user",
        "alice",
        "--customer",
        str(world.customer.pk),
        "--name",
        "命令行商机",
        "--amount",
        "12000",
        "--close",
        close,
        "--source",
        "website",
    )
    opp = Opportunity.objects.get(name="命令行商机")
    assert f"opportunity {opp.pk} v1" in out
    out = run(
        "pipeline",
        "move",
        "--user",
        "alice",
        "--id",
        str(opp.pk),
        "--stage",
        str(stages["Proposal"].pk),
        "--version",
        "1",
    )
    assert "方案报价" in out
    assert "命令行商机" in run("pipeline", "list", "--user", "alice")
    assert "命令行商机" not in run("pipeline", "list", "--user", "charlie")
    board = run("pipeline", "board", "--user", "manager")
    assert "1 open" in board and "12000" in board
    assert "王丽" in run("pipeline", "forecast", "--user", "alice", "--kind", "month", "--periods", "3")
    assert "snapshots: 2" in run("pipeline", "snapshot")  # this month's and this quarter's
    assert ForecastSnapshot.objects.filter(owner=world.owner).count() == 2
    shown = json.loads(run("pipeline", "show", "--user", "alice", "--id", str(opp.pk)))
    assert shown["version"] == 2
    out = run(
        "pipeline", "lose", "--user", "alice", "--id", str(opp.pk), "--version", "2", "--reason", "price"
    )
    assert "(lost)" in out
    assert json.loads(run("pipeline", "analysis", "--user", "alice"))["lost"] == 1


def test_errors_exit_with_both_languages(world, stages):
    with pytest.raises(CommandError, match="不存在或无权访问 / opportunity not found"):
        run("pipeline", "show", "--user", "charlie", "--id", "999")
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        run(
            "pipeline",
            "create",
            "--user",
            "alice",
            "--customer",
            str(world.customer.pk),
            "--name",
            "x",
            "--close",
            "tomorrow",
        )
    with pytest.raises(CommandError, match="negative"):
        run(
            "pipeline",
            "create",
            "--user",
            "alice",
            "--customer",
            str(world.customer.pk),
            "--name",
            "x",
            "--amount",
            "-5",
            "--close",
            timezone.localdate().isoformat(),
        )
    with pytest.raises(CommandError, match="unknown stage"):
        run(
            "pipeline",
            "create",
            "--user",
            "alice",
            "--customer",
            str(world.customer.pk),
            "--name",
            "x",
            "--stage",
            "9999",
            "--close",
            timezone.localdate().isoformat(),
        )
    with pytest.raises(CommandError, match="customer not found"):
        run(
            "pipeline",
            "create",
            "--user",
            "charlie",
            "--customer",
            str(world.customer.pk),
            "--name",
            "x",
            "--close",
            timezone.localdate().isoformat(),
        )
    assert not Opportunity.objects.exists()


def test_stale_version_on_the_command_line(world, stages):
    close = (timezone.localdate() + dt.timedelta(days=15)).isoformat()
    run(
        "pipeline",
        "create",
        "--user",
        "alice",
        "--customer",
        str(world.customer.pk),
        "--name",
        "并发",
        "--close",
        close,
    )
    opp = Opportunity.objects.get(name="并发")
    run(
        "pipeline",
        "move",
        "--user",
        "alice",
        "--id",
        str(opp.pk),
        "--stage",
        str(stages["Proposal"].pk),
        "--version",
        "1",
    )
    with pytest.raises(CommandError, match="changed by someone else"):
        run(
            "pipeline",
            "move",
            "--user",
            "manager",
            "--id",
            str(opp.pk),
            "--stage",
            str(stages["Contract"].pk),
            "--version",
            "1",
        )
