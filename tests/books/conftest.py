"""Book signups posted through the API as the website sends them, and their planned emails."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from apps.followups.models import OutboxMessage
from apps.leads.models import Submission
from tests.conftest import BOOK_PATH

SIGNUP = {"first_name": "Lee", "email": "lee@example.org"}


def local_path(url: str) -> str:
    """The path of an absolute link we emailed, for the test client."""
    assert url.startswith(settings.PUBLIC_BASE_URL + "/"), url
    return urlsplit(url).path


@pytest.fixture
def book_signup(api_client: APIClient) -> Submission:
    """A book signup without email consent: the book is sent, no drip."""
    response = api_client.post(BOOK_PATH, SIGNUP, format="json")
    assert response.status_code == 201, response.content
    return Submission.objects.get(reference=response.json()["reference"])


@pytest.fixture
def book_signup_with_consent(api_client: APIClient) -> Submission:
    """A book signup that agreed to email: the book and the drip are planned."""
    body = {**SIGNUP, "consent_email": True, "consent_text": "Send me the book and news."}
    response = api_client.post(BOOK_PATH, body, format="json")
    assert response.status_code == 201, response.content
    return Submission.objects.get(reference=response.json()["reference"])


def planned(submission: Submission, template: str) -> OutboxMessage:
    """The outbox row the follow-ups receiver planned for this signup and template."""
    return OutboxMessage.objects.get(submission=submission, template=template)
