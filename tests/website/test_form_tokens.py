"""A render-time token flags forms sent faster than a human could fill them, and nothing else."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.core import signing
from django.test import override_settings
from rest_framework.test import APIClient

from apps.intake.form_tokens import SALT, form_token_issue
from apps.leads.models import Submission
from tests.conftest import BOOK_PATH, CONTACT_PATH

pytestmark = pytest.mark.django_db
TOKENS_PATH = "/api/v1/form-tokens/"


def _token_from(api_client: APIClient) -> str:
    response = api_client.get(TOKENS_PATH)
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    token: str = response.json()["form_token"]
    return token


def test_a_form_sent_at_once_is_stored_as_spam_and_answered_like_any_other(
    api_client: APIClient, contact_body: dict[str, Any]
) -> None:
    contact_body["form_token"] = _token_from(api_client)

    response = api_client.post(CONTACT_PATH, contact_body, format="json")

    assert response.status_code == 201
    assert set(response.json()) == {"reference", "received_at", "next_steps"}
    submission = Submission.objects.get()
    assert submission.is_spam
    assert submission.spam_reason == Submission.SpamReason.TOO_FAST


def test_a_form_filled_at_human_speed_is_accepted(
    api_client: APIClient, book_body: dict[str, Any]
) -> None:
    book_body["form_token"] = form_token_issue(now=time.time() - 40)

    response = api_client.post(BOOK_PATH, book_body)

    assert response.status_code == 201
    assert not Submission.objects.get().is_spam


@override_settings(FORMS_MIN_FILL_SECONDS=0.5)
def test_the_threshold_is_a_setting(api_client: APIClient, book_body: dict[str, Any]) -> None:
    book_body["form_token"] = form_token_issue(now=time.time() - 1)

    api_client.post(BOOK_PATH, book_body)

    assert not Submission.objects.get().is_spam


@pytest.mark.parametrize(
    "token",
    [
        "",
        "not-a-token",
        "x" * 5000,
        "\ud800",
        signing.dumps({"t": round(time.time() * 1000)}, salt="another-salt"),
        signing.dumps({"t": "soon"}, salt=SALT),
        signing.dumps(["t"], salt=SALT),
        "expired",
        "future",
    ],
)
def test_a_missing_forged_or_expired_token_counts_as_none(
    api_client: APIClient, contact_body: dict[str, Any], token: str
) -> None:
    if token == "expired":
        token = form_token_issue(now=time.time() - 25 * 3600)
    elif token == "future":
        token = form_token_issue(now=time.time() + 60)
    contact_body["form_token"] = token

    response = api_client.post(CONTACT_PATH, contact_body, format="json")

    assert response.status_code == 201
    assert not Submission.objects.get().is_spam


def test_the_honeypot_wins_over_the_token(
    api_client: APIClient, contact_body: dict[str, Any]
) -> None:
    contact_body["form_token"] = _token_from(api_client)
    contact_body["website"] = "http://spam.example"

    api_client.post(CONTACT_PATH, contact_body, format="json")

    assert Submission.objects.get().spam_reason == Submission.SpamReason.HONEYPOT


def test_a_token_holds_only_the_time_it_was_issued(api_client: APIClient) -> None:
    payload = signing.loads(_token_from(api_client), salt=SALT)

    assert set(payload) == {"t"}
    assert abs(payload["t"] / 1000 - time.time()) < 5


def test_the_site_origin_may_fetch_a_token(api_client: APIClient, settings: Any) -> None:
    settings.CORS_ALLOWED_ORIGINS = ["https://www.asanarecovery.com"]

    response = api_client.get(TOKENS_PATH, HTTP_ORIGIN="https://www.asanarecovery.com")

    assert response["Access-Control-Allow-Origin"] == "https://www.asanarecovery.com"
