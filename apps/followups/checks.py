"""Start-up checks of the follow-up settings."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, register


@register()
def lease_outlives_task(app_configs: Any, **kwargs: Any) -> list[Error]:
    """A claim's lease must outlive the task's hard time limit, or a slow but living worker's
    message would be handed to a second worker and sent twice."""
    if settings.OUTBOX_LEASE_SECONDS <= settings.CELERY_TASK_TIME_LIMIT:
        return [
            Error(
                "OUTBOX_LEASE_SECONDS must be longer than CELERY_TASK_TIME_LIMIT.",
                hint="A message could be sent twice while its first worker is still sending.",
                id="followups.E001",
            )
        ]
    return []
