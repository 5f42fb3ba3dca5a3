"""The hand-off on the suite's real broker (Redis or the embedded filesystem broker): a row
waiting its turn behind a backlog is not handed over again, a row the broker lost is; drips go
behind confirmations on the followups queue.

These tests read and empty the broker's queues themselves, so they start and end with them
empty (other in-process tests leave messages no worker of theirs consumes).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone
from rest_framework.test import APIClient

from apps.followups import services
from apps.followups.models import OutboxMessage
from apps.leads.models import Submission
from tests.conftest import BOOK_PATH, CONTACT_PATH
from tests.followups.workerkit import (
    CeleryWorker,
    Stack,
    broker_queue_sizes,
    broker_queues_purge,
    on_redis,
    sequences_seed,
    suite_var_dir,
)

Status = OutboxMessage.Status
_queue_sizes = broker_queue_sizes
_purge = broker_queues_purge


def _post(client: APIClient, path: str, body: dict[str, Any]) -> Submission:
    response = client.post(path, body, format="json")
    assert response.status_code == 201, response.content
    return Submission.objects.get(reference=response.json()["reference"])


@pytest.mark.django_db
def test_a_row_waiting_in_its_queue_is_not_handed_again_but_a_lost_one_is(
    api_client: APIClient, contact_body: dict[str, Any], empty_queues: None
) -> None:
    submission = _post(api_client, CONTACT_PATH, contact_body)
    due = OutboxMessage.objects.filter(submission=submission, due_at__lte=timezone.now())
    rows = list(due.values_list("pk", "queue"))
    assert services.outbox_hand_over(messages=rows) == 2  # the staff alert, the confirmation
    assert _queue_sizes() == {"alerts": 1, "followups": 1, "default": 0}
    # Handed over long ago and still pending: behind a backlog, or lost by the broker.
    long_ago = timezone.now() - datetime.timedelta(seconds=settings.OUTBOX_REHAND_SECONDS + 1)
    due.update(handed_at=long_ago)

    # Their queues still hold their messages: no duplicate.
    assert services.outbox_sweep().handed == 0
    assert _queue_sizes() == {"alerts": 1, "followups": 1, "default": 0}
    assert set(due.values_list("handed_at", flat=True)) == {long_ago}

    _purge()  # the broker loses them (a Redis restarted without persistence)

    assert services.outbox_sweep().handed == 2
    assert _queue_sizes() == {"alerts": 1, "followups": 1, "default": 0}
    assert long_ago not in set(due.values_list("handed_at", flat=True))


# --- Drips behind confirmations ---------------------------------------------------------------

DRIP_BACKLOG = 200


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    if not on_redis():
        pytest.skip("priorities are Redis's: the embedded broker serves a queue in order")
    sequences_seed()
    stack = Stack(root=tmp_path, var_dir=suite_var_dir(), redis_url=settings.REDIS_URL)
    yield stack
    stack.stop_all()


def _drip_backlog(book: Submission, n: int) -> list[OutboxMessage]:
    """``n`` drip emails due now for the book signup, as the sweep finds them on day 2."""
    template = OutboxMessage.objects.filter(submission=book, topic="drip").order_by("due_at")[0]
    now = timezone.now()
    rows = [
        OutboxMessage(
            topic=template.topic, channel=template.channel, queue=template.queue,
            recipient=template.recipient, template=template.template, submission=book,
            person=template.person, step=template.step, due_at=now, handed_at=now,
            max_attempts=template.max_attempts, dedupe_key=f"backlog:{i}",
        )
        for i in range(n)
    ]  # fmt: skip
    return OutboxMessage.objects.bulk_create(rows)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_confirmation_goes_ahead_of_a_drip_backlog_on_its_queue(
    stack: Stack, api_client: APIClient, contact_body: dict[str, Any], empty_queues: None
) -> None:
    book = _post(api_client, BOOK_PATH, {"first_name": "Lee", "email": "lee@example.org",
                                         "consent_email": True})  # fmt: skip
    drips = _drip_backlog(book, DRIP_BACKLOG)
    handed = services.outbox_hand_over(
        messages=[(row.pk, row.queue) for row in drips], drips=[row.pk for row in drips]
    )
    assert handed == DRIP_BACKLOG
    # Posted after the whole backlog was queued, on the same queue (followups).
    submission = _post(api_client, CONTACT_PATH, contact_body)
    confirmation = OutboxMessage.objects.get(submission=submission, topic="confirmation")
    assert confirmation.queue == drips[0].queue == "followups"

    # One pool process: one message at a time, in the order the broker serves them.
    worker = CeleryWorker(name="w1", env=stack.env(), workdir=stack.root, concurrency=1)
    stack.started.append(worker)
    worker.start()

    def sent() -> OutboxMessage | None:
        row = OutboxMessage.objects.get(pk=confirmation.pk)
        return row if row.status == Status.SENT else None

    done = stack.wait(sent, what="the confirmation sent")
    assert done.sent_at is not None
    drips_before = OutboxMessage.objects.filter(
        pk__in=[row.pk for row in drips], status=Status.SENT, sent_at__lt=done.sent_at
    ).count()
    # At most what the worker had already taken when it started (its prefetch), not the
    # backlog.
    assert drips_before <= 2, drips_before
    stack.wait(
        lambda: (
            not OutboxMessage.objects.filter(
                pk__in=[row.pk for row in drips], status=Status.PENDING
            ).exists()
        ),
        timeout=60,
        what="the drips sent after it",
    )
