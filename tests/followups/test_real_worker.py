"""A form post reaches a real Celery worker: the staff alert and the confirmations go out within
seconds, exactly once each, read back from what the file backends actually wrote.

The worker is ``celery -A asana_leads worker`` in a subprocess, on the suite's broker (Redis
when ``REDIS_URL`` is set, the embedded filesystem broker otherwise) and pytest-django's test
database; the post is made in this process, whose on-commit hand-off is the only trigger (no
beat here, so a broken hand-off cannot hide behind the sweep).
"""

from __future__ import annotations

import email
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from apps.followups.models import OutboxAttempt, OutboxMessage
from apps.leads.models import Submission
from tests.conftest import CONTACT_PATH
from tests.followups.workerkit import Stack, sequences_seed, suite_var_dir, text_file, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]
Status = OutboxMessage.Status
SEND_DEADLINE_SECONDS = 20.0


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    # Requested after the database fixtures (by the test's django_db mark), so it is torn down
    # first: no worker still holds the database when pytest-django flushes it.
    sequences_seed()
    stack = Stack(root=tmp_path, var_dir=suite_var_dir(), redis_url=settings.REDIS_URL)
    yield stack
    stack.stop_all()


@pytest.fixture
def texting_body(contact_body: dict[str, Any]) -> dict[str, Any]:
    """A contact request that gets a staff alert, a confirmation email and a confirmation text."""
    return {**contact_body, "consent_sms": True}


def test_a_contact_request_is_alerted_and_confirmed_once_by_a_real_worker(
    stack: Stack, api_client: APIClient, texting_body: dict[str, Any]
) -> None:
    worker = stack.worker("w1")

    posted = time.monotonic()
    response = api_client.post(CONTACT_PATH, texting_body, format="json")

    assert response.status_code == 201, response.content
    submission = Submission.objects.get(reference=response.json()["reference"])
    due = OutboxMessage.objects.filter(submission=submission, due_at__lte=submission.received_at)
    by_kind = {(m.topic, m.channel): m.pk for m in due}
    assert set(by_kind) == {
        ("staff_alert", "email"),
        ("confirmation", "email"),
        ("confirmation", "sms"),
    }

    def all_sent() -> bool:
        return set(due.values_list("status", flat=True)) == {Status.SENT}

    try:
        wait_for(all_sent, timeout=SEND_DEADLINE_SECONDS, what="the three messages sent")
    except TimeoutError as exc:
        rows = list(due.values_list("pk", "topic", "channel", "status", "last_error"))
        raise AssertionError(f"{exc}: {rows}\n{stack.logs()}") from exc
    delivered_within = time.monotonic() - posted

    # Exactly once each, as written by the backends; nothing else for this submission.
    alert, confirmation, text = (
        by_kind["staff_alert", "email"],
        by_kind["confirmation", "email"],
        by_kind["confirmation", "sms"],
    )
    sent_emails = stack.emails()
    assert sent_emails[alert] == 1
    assert sent_emails[confirmation] == 1
    assert stack.texts() == {text: 1}
    for pk in (alert, confirmation, text):
        attempts = OutboxAttempt.objects.filter(message_id=pk)
        assert list(attempts.values_list("outcome", "worker")) == [("sent", worker.hostname)]
    assert OutboxMessage.objects.get(submission=submission, topic="escalation").status == (
        Status.PENDING  # due at the SLA, not now
    )

    # What the people on each end received.
    (raw_alert,) = stack_emails(stack, alert)
    assert raw_alert["To"] == ", ".join(settings.ADMISSIONS_ALERT_EMAILS)
    assert submission.reference in raw_alert["Subject"]
    (raw_confirmation,) = stack_emails(stack, confirmation)
    assert raw_confirmation["To"] == "dana.rivera@example.org"
    assert raw_confirmation["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert submission.reference in body_text(raw_confirmation)
    texted = text_file(stack.var_dir, text)
    assert texted is not None
    assert texted["to"] == "+19495550142"
    assert submission.reference in texted["body"]
    assert "Dana" in texted["body"]

    # Within seconds of the 201 (a real worker, already running).
    assert delivered_within < SEND_DEADLINE_SECONDS
    alert_row = OutboxMessage.objects.get(pk=alert)
    assert alert_row.sent_at is not None
    print(  # noqa: T201 - reported by `pytest -s`
        json.dumps(
            {
                "broker": "redis" if settings.REDIS_URL else "filesystem",
                "alert_sent_after_received_ms": round(
                    (alert_row.sent_at - submission.received_at).total_seconds() * 1000
                ),
                "all_sent_within_s": round(delivered_within, 2),
            }
        )
    )


def stack_emails(stack: Stack, outbox_id: int) -> list[email.message.Message]:
    from tests.followups.workerkit import emails_for

    return [email.message_from_bytes(raw) for raw in emails_for(stack.var_dir, outbox_id)]


def body_text(message: email.message.Message) -> str:
    parts = message.walk() if message.is_multipart() else [message]
    for part in parts:
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode(part.get_content_charset() or "utf-8")
    return ""
