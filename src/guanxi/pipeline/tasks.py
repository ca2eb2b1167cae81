"""Background jobs of the pipeline; idempotent (the periodic tick may run one twice)."""

from __future__ import annotations

from django_tasks import task

from guanxi.pipeline.forecast import forecast_snapshot_take


@task()
def snapshot_forecasts() -> int:
    """Record today's forecast of every salesperson (one row per owner, period and day)."""
    return forecast_snapshot_take()
