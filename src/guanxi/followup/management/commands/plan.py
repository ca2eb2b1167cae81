from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from guanxi.audit.models import Source
from guanxi.core.errors import GuanxiError
from guanxi.followup import selectors, visits
from guanxi.followup.management.commands.today import active_user


class Command(BaseCommand):
    help = "Plan a user's visits for a day and print the route / 安排拜访路线"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--user", required=True)
        parser.add_argument("--date", required=True, help="YYYY-MM-DD")
        parser.add_argument("--start", choices=["office", "home"], default="office")
        parser.add_argument("--minutes", type=int, default=None, help="time available (minutes)")

    def handle(self, *args: Any, **opts: Any) -> None:
        user = active_user(opts["user"])
        try:
            day = dt.date.fromisoformat(opts["date"])
        except ValueError:
            raise CommandError(f"日期无效 / invalid date: {opts['date']!r} (YYYY-MM-DD)") from None
        try:
            plan = visits.visit_plan_build(
                actor=user,
                source=Source.CLI,
                day=day,
                start_point=opts["start"],
                available_minutes=opts["minutes"],
            )
        except GuanxiError as exc:
            raise CommandError(f"{exc.message_zh} / {exc.message_en}") from None
        stops = selectors.visit_stops(plan, user)
        self.stdout.write(
            f"拜访计划 / Visit plan {day.isoformat()} — {user}: {plan.total_km:.1f} km, "
            f"{plan.total_minutes:.0f} min{' (optimal)' if plan.exact else ''}"
        )
        for s in stops:
            if s.position:
                arrive = s.arrive_at.strftime("%H:%M") if s.arrive_at else "--:--"
                self.stdout.write(f"  {s.position:>2}. {arrive}  {s.customer.name}  [{s.reason}]")
        missing = [s for s in stops if not s.position]
        if missing:
            self.stdout.write(
                "没有坐标 / without coordinates: " + "、".join(s.customer.name for s in missing)
            )
