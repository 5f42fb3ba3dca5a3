"""A list sync the client never finishes ends: after EXPORT_SYNC_IDLE_MINUTES without a page
the hourly expiry task marks its run abandoned (audited, since its pages went out), its cursor
stops working, and the next incremental sync starts where the last *completed* one stopped."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.utils import timezone
from rest_framework.test import APIClient

from apps.marketing.models import ExportDestination, ExportRun
from apps.marketing.services import export_files_expire, export_token_create
from apps.privacy.models import AuditEvent
from tests.conftest import staff_client_for
from tests.marketing.conftest import PostPerson

pytestmark = pytest.mark.django_db

URL = "/api/v1/marketing/contacts/"


@pytest.fixture
def client() -> APIClient:
    _, raw = export_token_create(
        name="sync", destination=ExportDestination.objects.create(name="ESP"), actor=None
    )
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return api


@pytest.fixture
def three(post_person: PostPerson) -> None:
    for name in ("A", "B", "C"):
        post_person(first_name=name)


def _idle(time_machine: Any, minutes: float) -> None:
    time_machine.move_to(timezone.now() + datetime.timedelta(minutes=minutes))


def test_an_idle_sync_is_abandoned_and_its_cursor_ends(
    three: None, client: APIClient, time_machine: Any
) -> None:
    first = client.get(URL, {"channel": "email", "page_size": 1}).json()
    _idle(time_machine, settings.EXPORT_SYNC_IDLE_MINUTES + 1)

    export_files_expire()

    run = ExportRun.objects.get()
    assert run.status == ExportRun.Status.ABANDONED
    assert run.finished_at is not None
    response = client.get(URL, {"channel": "email", "cursor": first["next"]})
    assert response.status_code == 400
    assert "cursor" in response.json()


def test_a_slow_sync_that_keeps_asking_is_not_abandoned(
    three: None, client: APIClient, time_machine: Any
) -> None:
    idle = settings.EXPORT_SYNC_IDLE_MINUTES
    first = client.get(URL, {"channel": "email", "page_size": 1}).json()
    _idle(time_machine, idle - 5)
    second = client.get(URL, {"channel": "email", "page_size": 1, "cursor": first["next"]})
    _idle(time_machine, idle - 5)  # started long ago, but the last page was recent

    export_files_expire()

    assert ExportRun.objects.get().status == ExportRun.Status.RUNNING
    last = client.get(URL, {"channel": "email", "page_size": 5, "cursor": second.json()["next"]})
    assert [row["first_name"] for row in last.json()["results"]] == ["C"]
    assert ExportRun.objects.get().status == ExportRun.Status.DONE


def test_an_abandoned_sync_leaves_the_incremental_cutoff_alone(
    three: None, client: APIClient, time_machine: Any
) -> None:
    _idle(time_machine, settings.EXPORT_SETTLING_SECONDS / 60 + 1)  # A, B, C are past the margin
    first = client.get(URL, {"channel": "email", "page_size": 1, "incremental": "true"}).json()
    assert [row["first_name"] for row in first["results"]] == ["A"]
    _idle(time_machine, settings.EXPORT_SYNC_IDLE_MINUTES + 1)
    export_files_expire()

    again = client.get(URL, {"channel": "email", "page_size": 10, "incremental": "true"}).json()

    assert [row["first_name"] for row in again["results"]] == ["A", "B", "C"]
    assert again["next"] is None


def test_the_pages_an_abandoned_sync_served_are_audited(
    three: None, client: APIClient, time_machine: Any
) -> None:
    client.get(URL, {"channel": "email", "page_size": 2})
    _idle(time_machine, settings.EXPORT_SYNC_IDLE_MINUTES + 1)

    export_files_expire()
    export_files_expire()  # the next hour's sweep finds nothing more to do

    event = AuditEvent.objects.get(action="export")
    assert event.details["rows"] == 2
    assert event.details["status"] == ExportRun.Status.ABANDONED
    assert event.details["via"] == "api"


def test_admin_shows_the_run_as_abandoned_and_stops_refreshing(
    three: None, client: APIClient, time_machine: Any, marketer: User
) -> None:
    client.get(URL, {"channel": "email", "page_size": 1})
    _idle(time_machine, settings.EXPORT_SYNC_IDLE_MINUTES + 1)
    export_files_expire()
    run = ExportRun.objects.get()

    marketer_client = staff_client_for(marketer)
    page = marketer_client.get(f"/admin/marketing/exportrun/{run.pk}/change/").content.decode()
    listing = marketer_client.get("/admin/marketing/exportrun/").content.decode()

    assert "Abandoned" in page
    assert 'http-equiv="refresh"' not in page
    assert "Abandoned" in listing


def test_replaying_an_early_cursor_does_not_lower_the_audited_count(
    three: None, post_person: PostPerson, client: APIClient, time_machine: Any
) -> None:
    post_person(first_name="D")
    first = client.get(URL, {"channel": "email", "page_size": 1}).json()
    second = client.get(URL, {"channel": "email", "page_size": 1, "cursor": first["next"]})
    third = client.get(URL, {"channel": "email", "page_size": 1, "cursor": second.json()["next"]})
    assert third.json()["next"] is not None  # A, B, C served; D still to come
    client.get(URL, {"channel": "email", "page_size": 1, "cursor": first["next"]})  # B again
    _idle(time_machine, settings.EXPORT_SYNC_IDLE_MINUTES + 1)

    export_files_expire()

    assert AuditEvent.objects.get(action="export").details["rows"] == 3
