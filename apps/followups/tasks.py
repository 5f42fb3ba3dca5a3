"""Celery entry points: thin, idempotent, IDs only."""

from __future__ import annotations

from typing import Any

from celery import Task, shared_task


@shared_task(
    bind=True,
    name="followups.outbox_deliver",
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
)
def outbox_deliver(self: Task[Any, Any], message_id: int) -> str:
    """Deliver one outbox row; a second delivery of the same task does nothing."""
    from apps.followups.services import outbox_deliver as deliver

    return deliver(message_id=message_id, worker=str(self.request.hostname or ""))


@shared_task(name="followups.outbox_sweep", ignore_result=True)
def outbox_sweep() -> int:
    """Hand over due rows the broker never got; recover expired claims."""
    from apps.followups.services import outbox_sweep as sweep

    report = sweep()
    return report.handed
