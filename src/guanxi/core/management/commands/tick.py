from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from guanxi.core.schedule import tick


class Command(BaseCommand):
    help = "Enqueue the scheduled jobs that are due (idempotent; run from cron every few minutes)"

    def handle(self, *args: Any, **opts: Any) -> None:
        started = tick()
        self.stdout.write("enqueued: " + (", ".join(started) if started else "nothing due"))
