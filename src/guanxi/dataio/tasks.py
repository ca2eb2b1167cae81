"""Background jobs of data in and out: each takes an id and calls a service."""

from __future__ import annotations

from django_tasks import task

from guanxi.dataio.services import import_execute, import_expire_previews


@task()
def run_import_job(job_id: int) -> str:
    """Run a confirmed import (idempotent: a job already claimed is left alone)."""
    return str(import_execute(job_id=job_id).status)


@task()
def expire_import_previews() -> int:
    """Delete the uploads and plans of previews nobody confirmed (GUANXI_IMPORT_PREVIEW_HOURS)."""
    return import_expire_previews()
