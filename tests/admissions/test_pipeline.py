"""The lead pipeline: allowed moves only, reasons to close, every change timestamped and
attributed, and each change counts as a touch."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from apps.admissions.exceptions import (
    LeadChangedError,
    PipelineTransitionError,
    ReasonRequiredError,
)
from apps.admissions.models import StatusChange
from apps.admissions.pipeline import TRANSITIONS
from apps.admissions.services import lead_status_change
from apps.followups.models import OutboxMessage
from apps.leads.models import Submission
from tests.admissions.factories import lead_make
from tests.conftest import VERIFICATION_PATH

pytestmark = pytest.mark.django_db
Status = Submission.Status


def test_it_moves_a_new_lead_to_contacted_and_records_who_and_when(coordinator: User) -> None:
    lead = lead_make()

    change = lead_status_change(submission=lead, to_status=Status.CONTACTED, actor=coordinator)

    lead.refresh_from_db()
    assert lead.status == Status.CONTACTED
    assert lead.status_changed_at is not None
    assert lead.first_touched_at is not None
    change.refresh_from_db()
    assert (change.from_status, change.to_status) == (Status.NEW, Status.CONTACTED)
    assert change.created_by == coordinator
    assert change.created_at is not None


def test_it_refuses_a_move_the_pipeline_does_not_allow(coordinator: User) -> None:
    lead = lead_make()

    with pytest.raises(PipelineTransitionError):
        lead_status_change(submission=lead, to_status=Status.ADMITTED, actor=coordinator)

    lead.refresh_from_db()
    assert lead.status == Status.NEW
    assert not StatusChange.objects.exists()


def test_admitted_is_final(coordinator: User) -> None:
    lead = lead_make(status=Status.ADMITTED)

    for target in Status.values:
        with pytest.raises(PipelineTransitionError):
            lead_status_change(submission=lead, to_status=target, actor=coordinator)


@pytest.mark.parametrize("closing", [Status.LOST, Status.NOT_ADMITTED])
def test_closing_a_lead_needs_a_reason(coordinator: User, closing: str) -> None:
    lead = lead_make(status=Status.CONTACTED)

    with pytest.raises(ReasonRequiredError):
        lead_status_change(submission=lead, to_status=closing, actor=coordinator, reason="  ")
    lead_status_change(
        submission=lead, to_status=closing, actor=coordinator, reason="Chose a program nearer home"
    )

    assert Submission.objects.get(pk=lead.pk).status == closing
    assert StatusChange.objects.get().reason == "Chose a program nearer home"


def test_the_reason_is_stored_encrypted(coordinator: User) -> None:
    from django.db import connection

    lead = lead_make(status=Status.CONTACTED)
    lead_status_change(
        submission=lead, to_status=Status.LOST, actor=coordinator, reason="relapsed, in hospital"
    )

    with connection.cursor() as cursor:
        cursor.execute("SELECT reason FROM admissions_statuschange")
        (raw,) = cursor.fetchone()
    assert "hospital" not in raw


def test_two_coordinators_cannot_both_move_the_same_lead(
    coordinator: User, colleague: User
) -> None:
    lead = lead_make()
    stale_copy = Submission.objects.get(pk=lead.pk)
    lead_status_change(submission=lead, to_status=Status.CONTACTED, actor=coordinator)

    with pytest.raises(LeadChangedError):
        lead_status_change(submission=stale_copy, to_status=Status.VERIFYING, actor=colleague)

    assert Submission.objects.get(pk=lead.pk).status == Status.CONTACTED
    assert StatusChange.objects.count() == 1


def test_every_status_has_a_row_in_the_transition_table() -> None:
    assert set(TRANSITIONS) == set(Status.values)
    for targets in TRANSITIONS.values():
        assert targets <= set(Status.values)


def test_a_status_change_cancels_pending_escalations(
    api_client: APIClient, verification_body: dict[str, Any], coordinator: User
) -> None:
    api_client.post(VERIFICATION_PATH, verification_body, format="json")
    lead = Submission.objects.get()
    escalations = OutboxMessage.objects.filter(submission=lead, topic="escalation")
    assert escalations.filter(status="pending").exists()

    lead_status_change(submission=lead, to_status=Status.CONTACTED, actor=coordinator)

    assert not escalations.filter(status="pending").exists()
