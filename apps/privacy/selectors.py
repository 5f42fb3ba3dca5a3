"""Reads of the audit log."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db import models

from apps.privacy.models import AuditEvent


def audit_events_for_target(*, target: models.Model, limit: int = 50) -> list[AuditEvent]:
    """The newest audit rows about ``target`` (who revealed, viewed, downloaded or exported
    it), newest first: for a record's own page."""
    content_type = ContentType.objects.get_for_model(target, for_concrete_model=False)
    return list(
        AuditEvent.objects.filter(target_type=content_type, target_id=str(target.pk))
        .select_related("actor")
        .order_by("-id")[:limit]
    )
