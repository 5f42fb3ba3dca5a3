"""Browsers on the site's origins may post (preflight included); other origins get no grant."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from tests.conftest import CONTACT_PATH

pytestmark = pytest.mark.django_db
SITE = "https://www.asanarecovery.com"


@override_settings(CORS_ALLOWED_ORIGINS=[SITE])
def test_a_preflight_from_the_site_is_granted(api_client: APIClient) -> None:
    response = api_client.options(
        CONTACT_PATH,
        HTTP_ORIGIN=SITE,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="content-type, idempotency-key",
    )

    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == SITE
    assert "POST" in response["Access-Control-Allow-Methods"]
    assert "idempotency-key" in response["Access-Control-Allow-Headers"]


@override_settings(CORS_ALLOWED_ORIGINS=[SITE])
def test_a_post_from_the_site_is_granted(
    api_client: APIClient, contact_body: dict[str, Any]
) -> None:
    response = api_client.post(CONTACT_PATH, contact_body, format="json", HTTP_ORIGIN=SITE)

    assert response.status_code == 201
    assert response["Access-Control-Allow-Origin"] == SITE


@override_settings(CORS_ALLOWED_ORIGINS=[SITE])
def test_another_origin_gets_no_grant(api_client: APIClient) -> None:
    response = api_client.options(
        CONTACT_PATH,
        HTTP_ORIGIN="https://evil.example",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
    )

    assert "Access-Control-Allow-Origin" not in response
