"""/healthz/ says the process serves; /readyz/ checks the database and the broker."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings

pytestmark = pytest.mark.django_db


def test_liveness_is_200(client: Client) -> None:
    assert client.get("/healthz/").json() == {"status": "ok"}


def test_readiness_is_200_when_database_and_broker_answer(client: Client) -> None:
    response = client.get("/readyz/")

    assert response.status_code == 200, response.content
    assert response.json()["checks"] == {"database": "ok", "broker": "ok"}


def test_readiness_is_503_naming_the_broker_when_it_is_down(client: Client) -> None:
    from asana_leads.celery import app

    original = app.conf.broker_url, app.conf.broker_transport
    app.conf.broker_url = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    app.conf.broker_transport = None
    try:
        with override_settings(CELERY_BROKER_URL="redis://127.0.0.1:1/0"):
            response = client.get("/readyz/")
    finally:
        app.conf.broker_url, app.conf.broker_transport = original

    assert response.status_code == 503
    assert response.json()["failed"] == ["broker"]
    assert response["Retry-After"]


def test_outbox_health_counts_failed_messages(client: Client) -> None:
    from rest_framework.test import APIClient

    from apps.followups.models import OutboxMessage

    assert client.get("/healthz/outbox/").json()["status"] == "ok"
    APIClient().post(
        "/api/v1/contact-requests/",
        {"first_name": "A", "last_name": "B", "email": "a@example.org", "message": "hi"},
        format="json",
    )
    OutboxMessage.objects.filter(topic="staff_alert").update(status="failed")

    response = client.get("/healthz/outbox/")

    assert response.status_code == 503
    assert response.json()["failed"] == 1
