"""Idempotency-Key: a retry answers as the first attempt did and stores nothing new."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from apps.leads.models import Consent, Person, Submission
from tests.conftest import BOOK_PATH, CONTACT_PATH

pytestmark = pytest.mark.django_db


def test_a_retry_with_the_same_key_and_body_replays_the_first_answer(
    api_client: APIClient, contact_body: dict[str, Any]
) -> None:
    first = api_client.post(CONTACT_PATH, contact_body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = api_client.post(CONTACT_PATH, contact_body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert Submission.objects.count() == 1
    assert Consent.objects.count() == 3


def test_the_same_body_re_encoded_is_the_same_request(api_client: APIClient) -> None:
    body = {"first_name": "A", "last_name": "B", "email": "a@example.org", "message": "hi"}
    first = api_client.post(CONTACT_PATH, body, format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    again = api_client.post(CONTACT_PATH, body, format="multipart", HTTP_IDEMPOTENCY_KEY="k-2")

    assert again.status_code == 201
    assert again.json()["reference"] == first.json()["reference"]


def test_the_same_key_with_another_body_is_422(
    api_client: APIClient, contact_body: dict[str, Any]
) -> None:
    api_client.post(CONTACT_PATH, contact_body, format="json", HTTP_IDEMPOTENCY_KEY="k-3")

    response = api_client.post(
        CONTACT_PATH,
        {**contact_body, "message": "something else"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k-3",
    )

    assert response.status_code == 422
    assert "Idempotency-Key" in response.json()["detail"]
    assert Submission.objects.count() == 1


def test_keys_are_per_form(
    api_client: APIClient, contact_body: dict[str, Any], book_body: dict[str, Any]
) -> None:
    api_client.post(CONTACT_PATH, contact_body, format="json", HTTP_IDEMPOTENCY_KEY="k-4")
    response = api_client.post(BOOK_PATH, book_body, format="json", HTTP_IDEMPOTENCY_KEY="k-4")

    assert response.status_code == 201
    assert Submission.objects.count() == 2


def test_without_a_key_a_repeat_is_a_new_submission(
    api_client: APIClient, contact_body: dict[str, Any]
) -> None:
    api_client.post(CONTACT_PATH, contact_body, format="json")
    api_client.post(CONTACT_PATH, contact_body, format="json")

    assert Submission.objects.count() == 2
    assert Person.objects.count() == 1


def test_a_key_over_255_characters_is_400(
    api_client: APIClient, contact_body: dict[str, Any]
) -> None:
    response = api_client.post(
        CONTACT_PATH, contact_body, format="json", HTTP_IDEMPOTENCY_KEY="k" * 256
    )

    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["detail"]
    assert Submission.objects.count() == 0


def test_keys_past_their_retention_are_purged(
    api_client: APIClient, contact_body: dict[str, Any]
) -> None:
    import datetime

    from apps.intake.models import IdempotencyKey
    from apps.intake.tasks import idempotency_keys_purge

    api_client.post(CONTACT_PATH, contact_body, format="json", HTTP_IDEMPOTENCY_KEY="old")
    api_client.post(CONTACT_PATH, contact_body, format="json", HTTP_IDEMPOTENCY_KEY="new")
    IdempotencyKey.objects.filter(key="old").update(
        created_at=datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)
    )

    assert idempotency_keys_purge() == 1
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["new"]
    assert Submission.objects.count() == 2
