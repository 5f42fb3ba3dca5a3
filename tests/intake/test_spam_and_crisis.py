"""Honeypot hits are stored as spam and answered like anything else; crisis language is urgent."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from rest_framework.test import APIClient

from apps.intake.signals import submission_stored
from apps.leads.models import Submission
from tests.conftest import CONTACT_PATH, VERIFICATION_PATH

pytestmark = pytest.mark.django_db


@pytest.fixture
def announcements() -> Iterator[list[dict[str, Any]]]:
    """What the follow-ups side is told, as a receiver of the seam sees it."""
    seen: list[dict[str, Any]] = []

    def receiver(sender: object, **kwargs: Any) -> None:
        seen.append(kwargs)

    submission_stored.connect(receiver, dispatch_uid="test-announcements")
    yield seen
    submission_stored.disconnect(dispatch_uid="test-announcements")


def test_a_honeypot_hit_answers_201_like_any_other(
    api_client: APIClient, contact_body: dict[str, Any]
) -> None:
    clean = api_client.post(CONTACT_PATH, contact_body, format="json")
    spam = api_client.post(
        CONTACT_PATH,
        {**contact_body, "email": "bot@example.org", "website": "http://spam.example"},
        format="json",
    )

    assert spam.status_code == 201
    assert set(spam.json()) == set(clean.json())
    stored = Submission.objects.get(reference=spam.json()["reference"])
    assert stored.is_spam
    assert stored.spam_reason == "honeypot"
    assert stored.sla_due_at is None


def test_every_stored_submission_is_announced_once_with_its_spam_flag(
    api_client: APIClient,
    contact_body: dict[str, Any],
    announcements: list[dict[str, Any]],
) -> None:
    api_client.post(CONTACT_PATH, contact_body, format="json")
    api_client.post(CONTACT_PATH, {**contact_body, "website": "x"}, format="json")

    assert [a["is_spam"] for a in announcements] == [False, True]
    ids = set(Submission.objects.values_list("pk", flat=True))
    assert {a["submission_id"] for a in announcements} == ids
    assert all(a["kind"] == "contact" for a in announcements)


def test_a_rejected_post_is_not_announced(
    api_client: APIClient, announcements: list[dict[str, Any]]
) -> None:
    api_client.post(CONTACT_PATH, {"first_name": "A"}, format="json")

    assert announcements == []


def test_crisis_language_is_urgent_and_answers_with_988(
    api_client: APIClient,
    contact_body: dict[str, Any],
    announcements: list[dict[str, Any]],
) -> None:
    response = api_client.post(
        CONTACT_PATH,
        {**contact_body, "message": "My son overdosed last night and I am scared"},
        format="json",
    )

    assert response.status_code == 201
    resources = response.json()["crisis_resources"]
    assert "988" in str(resources)
    assert "911" in str(resources)
    submission = Submission.objects.get()
    assert submission.urgency == "urgent"
    assert submission.crisis_signals == ["overdose"]
    assert announcements[0]["is_urgent"] is True
    assert submission.sla_due_at is not None
    assert (submission.sla_due_at - submission.received_at).total_seconds() == 5 * 60


def test_crisis_language_in_a_verification_message_is_urgent(
    api_client: APIClient, verification_body: dict[str, Any]
) -> None:
    response = api_client.post(
        VERIFICATION_PATH,
        {**verification_body, "message": "quiero morir, necesito ayuda"},
        format="json",
    )

    assert "crisis_resources" in response.json()
    assert Submission.objects.get().urgency == "urgent"


def test_a_negated_phrase_is_routine(api_client: APIClient, contact_body: dict[str, Any]) -> None:
    response = api_client.post(
        CONTACT_PATH,
        {**contact_body, "message": "I am not suicidal, just need help with drinking."},
        format="json",
    )

    assert "crisis_resources" not in response.json()
    assert Submission.objects.get().urgency == "routine"
