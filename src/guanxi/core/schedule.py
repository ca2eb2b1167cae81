"""Periodic jobs. ``guanxi tick`` (cron, every few minutes) enqueues each job that is due.

Idempotent: the claim on a job is an UPDATE guarded by the previous run time, so two ticks racing
each other enqueue a job once, and a tick run twice in a row enqueues nothing the second time.
Later capabilities add their jobs to ``SCHEDULE``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from importlib import import_module
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from guanxi.core.models import ScheduledJobRun


@dataclass(frozen=True)
class ScheduledJob:
    name: str
    task: str  # dotted path to a django-tasks Task
    every: dt.timedelta


SCHEDULE: list[ScheduledJob] = [
    ScheduledJob("prune_task_results", "guanxi.core.tasks.prune_task_results", dt.timedelta(days=1)),
    ScheduledJob(
        "verify_customer_figures", "guanxi.sales.tasks.verify_customer_figures", dt.timedelta(days=1)
    ),
    ScheduledJob("repair_search_scopes", "guanxi.customers.tasks.repair_search_scopes", dt.timedelta(days=1)),
    ScheduledJob("followup_reminders", "guanxi.followup.tasks.generate_reminders", dt.timedelta(hours=1)),
    ScheduledJob("followup_greetings", "guanxi.followup.tasks.send_due_greetings", dt.timedelta(minutes=10)),
    # Checks daily; evaluates once per GUANXI_VALUE_PERIOD (monthly by default).
    ScheduledJob("value_classify", "guanxi.value.tasks.classify_if_due", dt.timedelta(days=1)),
    ScheduledJob("service_deadlines", "guanxi.service.tasks.check_deadlines", dt.timedelta(minutes=5)),
    ScheduledJob(
        "expire_import_previews", "guanxi.dataio.tasks.expire_import_previews", dt.timedelta(hours=1)
    ),
    ScheduledJob(
        "pipeline_forecast_snapshot", "guanxi.pipeline.tasks.snapshot_forecasts", dt.timedelta(hours=12)
    ),
]


def _load(path: str) -> Any:
    module, _, attr = path.rpartition(".")
    return getattr(import_module(module), attr)


def _claim(job: ScheduledJob, now: dt.datetime) -> bool:
    with transaction.atomic():
        row = ScheduledJobRun.objects.filter(name=job.name).first()
        if row is None:
            try:
                with transaction.atomic():
                    ScheduledJobRun.objects.create(name=job.name, last_run_at=now)
                return True
            except IntegrityError:
                return False
        if now - row.last_run_at < job.every:
            return False
        return (
            ScheduledJobRun.objects.filter(name=job.name, last_run_at=row.last_run_at).update(last_run_at=now)
            == 1
        )


def tick(now: dt.datetime | None = None, jobs: list[ScheduledJob] | None = None) -> list[str]:
    """Enqueue every due job; returns the names enqueued."""
    now = now or timezone.now()
    started = []
    for job in jobs if jobs is not None else SCHEDULE:
        if _claim(job, now):
            _load(job.task).enqueue()
            started.append(job.name)
    return started
