"""Odd input on the marketing admin pages is a form error or a redirect, never a 500."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_a_run_page_with_a_non_numeric_id_redirects(marketer_client: Client) -> None:
    response = marketer_client.get("/admin/marketing/exportrun/abc/change/")
    assert response.status_code == 302


def test_the_last_possible_day_is_a_form_error_in_the_report(marketer_client: Client) -> None:
    response = marketer_client.get(
        "/admin/marketing/exportrun/attribution/", {"start": "2026-01-01", "end": "9999-12-31"}
    )
    assert response.status_code == 200
    assert "errorlist" in response.content.decode()


def test_the_last_possible_day_is_a_form_error_on_the_export_page(
    marketer_client: Client,
) -> None:
    response = marketer_client.post(
        "/admin/marketing/exportrun/export/",
        {
            "channel": "email",
            "signup_kind": "book",
            "format": "csv",
            "until": "9999-12-31",
            "preview": "1",
        },
    )
    assert response.status_code == 200
    assert "errorlist" in response.content.decode()
