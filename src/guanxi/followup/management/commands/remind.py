from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from guanxi.followup import reminders


class Command(BaseCommand):
    help = "Create the birthday, anniversary and festival reminders due (idempotent) / 生成提醒"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--date", default=None, help="as if today were YYYY-MM-DD")
        parser.add_argument("--send", action="store_true", help="also send the greetings due today")

    def handle(self, *args: Any, **opts: Any) -> None:
        today = None
        if opts["date"]:
            try:
                today = dt.date.fromisoformat(opts["date"])
            except ValueError:
                raise CommandError(f"日期无效 / invalid date: {opts['date']!r} (YYYY-MM-DD)") from None
        created = reminders.reminders_generate(today=today)
        self.stdout.write(f"新提醒 / new reminders: {created}")
        if opts["send"]:
            sent = sum(reminders.greeting_deliver(i) for i in reminders.greetings_due(today))
            self.stdout.write(f"已发送祝福 / greetings sent: {sent}")
