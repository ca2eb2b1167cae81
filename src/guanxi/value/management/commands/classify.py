"""``guanxi classify``: re-evaluate customer value now (classes, tiers, lifecycle, RFM, snapshot)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from guanxi.audit.models import Source
from guanxi.core.errors import GuanxiError
from guanxi.value.engine.run import classify, period_of


class Command(BaseCommand):
    help = "Re-evaluate customer value (idempotent per period; --force re-runs it) / 客户价值评估"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--date", default=None, help="evaluate as of YYYY-MM-DD (default today)")
        parser.add_argument(
            "--force", action="store_true", help="re-run the period even if already evaluated"
        )
        parser.add_argument("--json", action="store_true", help="print the run as JSON")

    def handle(self, *args: Any, **opts: Any) -> None:
        as_of = None
        if opts["date"]:
            try:
                as_of = dt.date.fromisoformat(opts["date"])
            except ValueError:
                raise CommandError(f"日期无效 / invalid date: {opts['date']!r} (YYYY-MM-DD)") from None
        try:
            run = classify(as_of=as_of, source=Source.CLI, force=opts["force"])
        except GuanxiError as exc:
            raise CommandError(f"{exc.message_zh} / {exc.message_en}") from None
        if run is None:
            period = period_of(as_of or timezone.localdate())
            self.stdout.write(
                f"本期已评估，未重复执行（加 --force 重新评估）/ period {period} already evaluated "
                "(use --force to re-run)"
            )
            return
        data = {
            "run": run.pk,
            "period": run.period,
            "as_of": run.as_of.isoformat(),
            "population": run.population,
            "moved_up": run.moved_up,
            "moved_down": run.moved_down,
            "tasks_created": run.tasks_created,
            "timings": run.timings,
        }
        if opts["json"]:
            self.stdout.write(json.dumps(data, ensure_ascii=False))
            return
        self.stdout.write(
            f"评估完成 / done: {run.period} · 客户 customers {run.population} · "
            f"上升 up {run.moved_up} · 下降 down {run.moved_down} · 任务 tasks {run.tasks_created}"
        )
