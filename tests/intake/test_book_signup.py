"""POST /api/v1/book-signups/: first name and email, nothing else required."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from apps.leads.models import Person, Submission
from tests.conftest import BOOK_PATH

pytestmark = pytest.mark.django_db


def test_it_stores_a_book_signup(api_client: APIClient, book_body: dict[str, Any]) -> None:
    response = api_client.post(BOOK_PATH, book_body, format="json")

    assert response.status_code == 201, response.content
    submission = Submission.objects.get()
    assert submission.kind == "book"
    assert submission.sla_due_at is None
    person = Person.objects.get()
    assert person.is_inquiry is False
    assert person.consent_email is False


def test_it_requires_an_email(api_client: APIClient) -> None:
    response = api_client.post(
        BOOK_PATH, {"first_name": "Lee", "phone": "949 555 0100"}, format="json"
    )

    assert response.status_code == 400
    assert list(response.json()) == ["email"]


def test_a_book_reader_who_later_asks_for_help_becomes_an_inquiry(
    api_client: APIClient, book_body: dict[str, Any]
) -> None:
    api_client.post(BOOK_PATH, book_body, format="json")
    api_client.post(
        "/api/v1/contact-requests/",
        {"first_name": "Lee", "last_name": "Park", "email": "LEE@example.org", "message": "help"},
        format="json",
    )

    person = Person.objects.get()
    assert person.is_inquiry is True
    assert person.last_name == "Park"
