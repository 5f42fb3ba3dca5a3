"""Abuse limits answer 429 with Retry-After, per IP and per email/phone."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from apps.leads.models import Submission
from tests.conftest import CONTACT_PATH

pytestmark = pytest.mark.django_db


def _rates(ip: str, contact: str) -> dict[str, Any]:
    from django.conf import settings

    return {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"intake_ip": ip, "intake_contact": contact, "payers": None},
    }


def test_too_many_posts_from_one_ip_are_429(
    api_client: APIClient, contact_body: dict[str, Any]
) -> None:
    with override_settings(API_THROTTLE=True, REST_FRAMEWORK=_rates("3/hour", "100/hour")):
        codes = [
            api_client.post(
                CONTACT_PATH, {**contact_body, "email": f"p{i}@example.org"}, format="json"
            ).status_code
            for i in range(4)
        ]
        last = api_client.post(CONTACT_PATH, contact_body, format="json")

    assert codes == [201, 201, 201, 429]
    assert int(last["Retry-After"]) > 0
    assert "detail" in last.json()
    assert Submission.objects.count() == 3


def test_too_many_posts_for_one_email_are_429_from_any_ip(
    api_client: APIClient, contact_body: dict[str, Any]
) -> None:
    with override_settings(API_THROTTLE=True, REST_FRAMEWORK=_rates("100/hour", "2/hour")):
        codes = [
            api_client.post(
                CONTACT_PATH,
                {**contact_body, "phone": ""},
                format="json",
                REMOTE_ADDR=f"198.51.100.{i}",
            ).status_code
            for i in range(3)
        ]

    assert codes == [201, 201, 429]


def test_throttling_can_be_switched_off_for_load_tests(
    api_client: APIClient, contact_body: dict[str, Any]
) -> None:
    with override_settings(API_THROTTLE=False, REST_FRAMEWORK=_rates("1/hour", "1/hour")):
        codes = {api_client.post(CONTACT_PATH, contact_body, format="json").status_code
                 for _ in range(3)}  # fmt: skip

    assert codes == {201}
