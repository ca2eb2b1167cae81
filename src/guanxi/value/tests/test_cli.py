"""``guanxi classify`` and the periodic tick."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from guanxi.core.schedule import SCHEDULE, tick
from guanxi.value.models import ClassificationRun
from guanxi.value.tasks import classify_if_due

pytestmark = pytest.mark.django_db


def test_classify_command(world):
    out = StringIO()
    call_command("classify", "--date", "2026-06-30", "--json", stdout=out)
    data = json.loads(out.getvalue())
    assert data["period"] == "2026-06" and data["population"] == 1
    out = StringIO()
    call_command("classify", "--date", "2026-06-30", stdout=out)
    assert "already evaluated" in out.getvalue()
    out = StringIO()
    call_command("classify", "--date", "2026-06-30", "--force", stdout=out)
    assert "done" in out.getvalue() and ClassificationRun.objects.count() == 1


def test_classify_command_rejects_bad_date(world):
    with pytest.raises(CommandError) as exc:
        call_command("classify", "--date", "2026-13-01")
    assert "日期无效" in str(exc.value) and "invalid date" in str(exc.value)


def test_cli_lists_classify():
    from guanxi.cli import COMMANDS

    assert "classify" in COMMANDS


def test_tick_enqueues_the_value_job_daily_and_it_runs_once_per_period(world):
    job = next(j for j in SCHEDULE if j.name == "value_classify")
    now = dt.datetime(2026, 6, 1, 1, 0, tzinfo=dt.UTC)
    assert tick(now=now, jobs=[job]) == ["value_classify"]
    assert tick(now=now + dt.timedelta(hours=1), jobs=[job]) == []
    assert classify_if_due.call() is not None
    assert classify_if_due.call() is None  # same period: idempotent


@override_settings(GUANXI_VALUE_PERIOD="off")
def test_value_period_off(world):
    assert classify_if_due.call() is None
    assert not ClassificationRun.objects.exists()
