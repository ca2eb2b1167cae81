from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.serializers.json import DjangoJSONEncoder

from guanxi.accounts.models import User
from guanxi.followup import selectors
from guanxi.followup.api import today_out


def active_user(name: str) -> User:
    user = User.objects.filter(username=name, is_active=True).first()
    if user is None:
        raise CommandError(f"没有该用户 / no active user {name!r}")
    return user


class Command(BaseCommand):
    help = "The Today page of a user: tasks, cadence, reminders, appointments / 今日工作"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--user", required=True)
        parser.add_argument("--json", action="store_true", help="machine-readable output")

    def handle(self, *args: Any, **opts: Any) -> None:
        user = active_user(opts["user"])
        today = selectors.today_for_user(user)
        data = today_out(today)
        if opts["json"]:
            self.stdout.write(json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2))
            return
        w = self.stdout.write
        w(f"今日 / Today {today.day.isoformat()} — {user}")
        w(f"\n预约 / Appointments ({len(today.appointments)})")
        for a in today.appointments:
            w(f"  {a.starts_at.astimezone().strftime('%H:%M')}  {a.title} · {a.customer.name}")
        w(f"\n任务 / Tasks due ({len(today.tasks)}, overdue {today.overdue_tasks})")
        for t in today.tasks:
            w(f"  {t.effective_due.isoformat()}  {t.title}" + (f" · {t.customer.name}" if t.customer else ""))
        w(f"\n该联系了 / Cadence breaches ({today.breach_total})")
        for b in today.breaches:
            since = "never" if b.days_since is None else f"{b.days_since:.0f} d"
            w(f"  {b.customer.name}  ({since}, every {b.cadence_days} d)")
        w(f"\n生日与节日 / Birthdays and festivals ({len(today.reminders)})")
        for r in today.reminders:
            w(f"  {r.occurs_on.isoformat()}  {r.get_kind_display()} {r.title}")
