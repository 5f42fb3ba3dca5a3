"""Planning reads the sequences as they are now: an edit applies to the very next post.

(The steps query is compiled once per process and run on every post; nothing caches the
steps themselves. These tests fail if something starts to.)
"""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from rest_framework.test import APIClient

from apps.followups.models import OutboxMessage, Sequence, SequenceStep
from apps.followups.selectors import sequence_steps_active
from apps.leads.models import Submission
from tests.conftest import BOOK_PATH, CONTACT_PATH

pytestmark = pytest.mark.django_db


def _post(client: APIClient, path: str, body: dict[str, Any], n: int) -> Submission:
    response = client.post(path, {**body, "email": f"reader{n}@example.org"}, format="json")
    assert response.status_code == 201, response.content
    return Submission.objects.get(reference=response.json()["reference"])


def _person_messages(submission: Submission) -> list[tuple[str, str, int | None]]:
    return sorted(
        OutboxMessage.objects.filter(submission=submission, recipient="person").values_list(
            "topic", "channel", "step_id"
        ),
        key=str,
    )


def test_a_step_switched_off_is_not_planned_for_the_next_post(
    api_client: APIClient, contact_body: dict[str, Any]
) -> None:
    body = {**contact_body, "consent_sms": True}
    before = _post(api_client, CONTACT_PATH, body, 1)
    sms_step = SequenceStep.objects.get(sequence__submission_kind="contact", channel="sms")
    assert ("confirmation", "sms", sms_step.pk) in _person_messages(before)

    sms_step.active = False
    sms_step.save()
    after = _post(api_client, CONTACT_PATH, body, 2)

    assert [channel for _, channel, _ in _person_messages(after)] == ["email"]


def test_a_sequence_switched_off_plans_nothing_but_staff_messages(
    api_client: APIClient, contact_body: dict[str, Any]
) -> None:
    _post(api_client, CONTACT_PATH, contact_body, 1)
    Sequence.objects.filter(submission_kind="contact").update(active=False)

    after = _post(api_client, CONTACT_PATH, contact_body, 2)

    assert _person_messages(after) == []
    assert OutboxMessage.objects.filter(submission=after, topic="staff_alert").exists()


def test_an_edited_delay_applies_to_the_next_post(
    api_client: APIClient, book_body: dict[str, Any]
) -> None:
    _post(api_client, BOOK_PATH, {**book_body, "consent_email": True}, 1)
    drip = SequenceStep.objects.filter(sequence__submission_kind="book", purpose="drip").first()
    assert drip is not None
    SequenceStep.objects.filter(pk=drip.pk).update(delay_minutes=4321)

    after = _post(api_client, BOOK_PATH, {**book_body, "consent_email": True}, 2)

    planned = OutboxMessage.objects.get(submission=after, step_id=drip.pk)
    assert planned.due_at == after.received_at + datetime.timedelta(minutes=4321)


def test_steps_come_by_sequence_then_position_and_only_for_the_kind() -> None:
    steps = sequence_steps_active(kind="book")

    expected = list(
        SequenceStep.objects.filter(
            active=True, sequence__active=True, sequence__submission_kind="book"
        )
        .order_by("sequence_id", "position")
        .values_list("pk", flat=True)
    )
    assert [step.pk for step in steps] == expected
    assert expected
    assert sequence_steps_active(kind="no-such-kind") == []
