"""Reads of the outbox for health checks and admin, and of the sequences for planning."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Count, Q
from django.utils import timezone

from apps.followups.models import OutboxMessage, SequenceStep

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


@dataclass(frozen=True)
class PlannedStep:
    """One active step of an active sequence, as planning needs it."""

    pk: int
    channel: str
    purpose: str
    delay_minutes: int
    template: str


# The steps query per form kind, compiled by the ORM once per process: building a query costs
# five times running it, and this one runs in every submission's transaction. Not a cache of
# the steps: every call reads them from the database, so an edit in admin applies at once.
_STEPS_SQL: dict[tuple[str, str], tuple[str, tuple[Any, ...]]] = {}


def sequence_steps_active(*, kind: str) -> list[PlannedStep]:
    """The active steps of the active sequences for this kind of form, by sequence, in order."""
    compiled = _STEPS_SQL.get((connection.vendor, kind))
    if compiled is None:
        query = (
            SequenceStep.objects.filter(
                active=True, sequence__active=True, sequence__submission_kind=kind
            )
            .order_by("sequence_id", "position")
            .values_list("pk", "channel", "purpose", "delay_minutes", "template")
            .query
        )
        sql, params = query.sql_with_params()
        compiled = _STEPS_SQL[(connection.vendor, kind)] = (sql, tuple(params))
    with connection.cursor() as cursor:
        sql, params = compiled
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return [PlannedStep(*row) for row in rows]


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
