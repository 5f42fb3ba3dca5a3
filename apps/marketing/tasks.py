"""Celery entry points on the ``exports`` queue: thin, idempotent, IDs only."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings


@shared_task(
    name="marketing.export_run_write",
    queue="exports",
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    time_limit=settings.EXPORT_TASK_TIME_LIMIT,
    soft_time_limit=settings.EXPORT_TASK_TIME_LIMIT - 30,
)
def export_run_write(run_id: int) -> int:
    """Write one queued export to storage; a second delivery finds it claimed and returns."""
    from apps.marketing.services import export_run_write as write

    run = write(run_id=run_id)
    return run.rows_written if run is not None else 0


@shared_task(name="marketing.export_files_expire", queue="exports", ignore_result=True)
def export_files_expire() -> int:
    """Delete export files past their link's expiry."""
    from apps.marketing.services import export_files_expire as expire

    return expire()
