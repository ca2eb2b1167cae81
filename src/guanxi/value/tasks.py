"""Background jobs of the value engine (django-tasks). Idempotent: a period is evaluated once unless
forced, and a forced re-run replaces the period's snapshot without duplicating tasks."""

from __future__ import annotations

from django_tasks import task

from guanxi.accounts.models import User
from guanxi.value.engine import cube
from guanxi.value.engine.run import classify, classify_due


@task()
def classify_customers(actor_id: int | None = None, source: str = "job", force: bool = True) -> int | None:
    actor = User.objects.filter(pk=actor_id).first() if actor_id else None
    run = classify(actor=actor, source=source, force=force)
    return run.pk if run else None


@task()
def classify_if_due() -> int | None:
    """From the periodic tick (daily): evaluates when the current period has no run yet, and otherwise
    rebuilds the latest run's dashboard cube when customers were reassigned or archived since."""
    run = classify_due()
    if run is None:
        cube.refresh_latest()
    return run.pk if run else None
