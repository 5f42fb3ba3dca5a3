"""A task that does nothing, for the worker-throughput baseline of bench/followups.

Declared with the same options as ``followups.outbox_deliver`` (acks_late, reject on worker
lost, no result), so the ratio measures what delivering an outbox message costs over the
broker round trip and Celery's own bookkeeping, nothing else.
"""

from __future__ import annotations

from typing import Any

from celery import Task, shared_task


@shared_task(
    bind=True,
    name="bench.noop",
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
)
def noop(self: Task[Any, Any], message_id: int) -> str:
    """Take the same argument as ``outbox_deliver`` and return at once."""
    return "noop"
