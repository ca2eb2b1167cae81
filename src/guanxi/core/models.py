from __future__ import annotations

from django.db import models


class ScheduledJobRun(models.Model):
    """When each scheduled job last ran; ``guanxi tick`` uses it to run each job at most once per period."""

    name = models.CharField(max_length=100, unique=True)
    last_run_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} @ {self.last_run_at:%Y-%m-%d %H:%M}"
