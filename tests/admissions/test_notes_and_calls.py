"""A note or a logged call is the touch that stops escalations; notes are stored encrypted."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from rest_framework.test import APIClient

from apps.admissions.exceptions import VerificationInvalidError
from apps.admissions.models import CallLog, Note, StatusChange
from apps.admissions.services import call_log, note_add
from apps.followups.models import OutboxMessage
from apps.leads.models import Submission
from tests.admissions.factories import lead_make
from tests.conftest import VERIFICATION_PATH

pytestmark = pytest.mark.django_db


@pytest.fixture
def posted_lead(api_client: APIClient, verification_body: dict[str, Any]) -> Submission:
    api_client.post(VERIFICATION_PATH, verification_body, format="json")
    lead = Submission.objects.get()
    assert OutboxMessage.objects.filter(submission=lead, topic="escalation", status="pending")
    return lead


def _pending_escalations(lead: Submission) -> int:
    return OutboxMessage.objects.filter(
        submission=lead, topic="escalation", status="pending"
    ).count()


def test_a_note_is_a_touch_that_cancels_escalations(
    posted_lead: Submission, coordinator: User
) -> None:
    note = note_add(submission=posted_lead, actor=coordinator, text="Left details with mother")

    posted_lead.refresh_from_db()
    assert posted_lead.first_touched_at is not None
    assert _pending_escalations(posted_lead) == 0
    assert Note.objects.get(pk=note.pk).text == "Left details with mother"
    assert note.created_by == coordinator


def test_a_note_is_stored_encrypted(coordinator: User) -> None:
    note_add(submission=lead_make(), actor=coordinator, text="history of seizures")

    with connection.cursor() as cursor:
        cursor.execute("SELECT text FROM admissions_note")
        (raw,) = cursor.fetchone()
    assert "seizures" not in raw


def test_an_empty_note_is_refused(coordinator: User) -> None:
    with pytest.raises(VerificationInvalidError):
        note_add(submission=lead_make(), actor=coordinator, text="   ")
    assert not Note.objects.exists()


def test_a_logged_call_is_a_touch_that_cancels_escalations(
    posted_lead: Submission, coordinator: User
) -> None:
    call = call_log(
        submission=posted_lead, actor=coordinator, outcome="voicemail", duration_seconds=45
    )

    assert CallLog.objects.get(pk=call.pk).duration_seconds == 45
    assert _pending_escalations(posted_lead) == 0
    posted_lead.refresh_from_db()
    assert posted_lead.status == Submission.Status.NEW  # a voicemail reached nobody


def test_reaching_the_person_moves_a_new_lead_to_contacted(coordinator: User) -> None:
    lead = lead_make()

    call_log(submission=lead, actor=coordinator, outcome="reached", duration_seconds=300)

    lead.refresh_from_db()
    assert lead.status == Submission.Status.CONTACTED
    assert StatusChange.objects.get().created_by == coordinator


@pytest.mark.parametrize(
    ("outcome", "seconds"), [("reached", -1), ("reached", 7 * 3600), ("teleported", 10)]
)
def test_a_call_with_bad_values_is_refused(coordinator: User, outcome: str, seconds: int) -> None:
    with pytest.raises(VerificationInvalidError):
        call_log(
            submission=lead_make(), actor=coordinator, outcome=outcome, duration_seconds=seconds
        )
    assert not CallLog.objects.exists()
