from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django_tasks import task


@task()
def prune_task_results(days: int = 30) -> int:
    """Delete finished background-job records older than ``days``."""
    from django_tasks_db.models import DBTaskResult

    cutoff = timezone.now() - dt.timedelta(days=days)
    deleted, _ = DBTaskResult.objects.filter(finished_at__lt=cutoff).delete()
    return deleted
