"""Reads of the outbox for health checks and admin."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Count, Q
from django.utils import timezone

from apps.followups.models import OutboxMessage

Status = OutboxMessage.Status
OVERDUE_AFTER = datetime.timedelta(minutes=2)


@dataclass(frozen=True)
class OutboxHealth:
    """Counts an operator watches: failures, and due work nobody is doing."""

    failed: int
    pending_overdue: int
    sending: int
    oldest_overdue_seconds: int

    @property
    def healthy(self) -> bool:
        return self.failed == 0 and self.pending_overdue == 0


def outbox_health() -> OutboxHealth:
    """Failed messages, pending messages overdue by more than two minutes, claims in flight."""
    now = timezone.now()
    counts = OutboxMessage.objects.aggregate(
        failed=Count("pk", filter=Q(status=Status.FAILED)),
        sending=Count("pk", filter=Q(status=Status.SENDING)),
    )
    overdue = OutboxMessage.objects.filter(status=Status.PENDING, due_at__lt=now - OVERDUE_AFTER)
    oldest = overdue.order_by("due_at").values_list("due_at", flat=True).first()
    return OutboxHealth(
        failed=counts["failed"],
        pending_overdue=overdue.count(),
        sending=counts["sending"],
        oldest_overdue_seconds=int((now - oldest).total_seconds()) if oldest else 0,
    )


def followups_for_submissions(*, submission_ids: list[int]) -> list[OutboxMessage]:
    """Every message planned for these submissions (sent, pending, cancelled...), newest first,
    for a lead's timeline. Rows carry no PHI: the text is rendered only when a message is sent."""
    return list(
        OutboxMessage.objects.filter(submission_id__in=submission_ids)
        .only(
            "pk",
            "submission_id",
            "topic",
            "channel",
            "recipient",
            "template",
            "status",
            "due_at",
            "sent_at",
            "skip_reason",
            "created_at",
        )
        .order_by("-due_at", "-pk")
    )
