"""Periodic housekeeping of the public API."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="intake.idempotency_keys_purge", ignore_result=True)
def idempotency_keys_purge() -> int:
    """Forget Idempotency-Keys past their retention."""
    from apps.intake.services import idempotency_keys_purge as purge

    return purge()
