"""The sync API: token auth scoped to exports (hashed, shown once, revocable), cursor pagination
over a fixed snapshot, the same selector as files, throttled, in the OpenAPI schema."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client, override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from apps.marketing.models import ExportDestination, ExportRun, ExportToken
from apps.marketing.services import export_token_create
from apps.privacy.models import AuditEvent
from tests.marketing.conftest import PostPerson

pytestmark = pytest.mark.django_db

URL = "/api/v1/marketing/contacts/"


@pytest.fixture
def destination() -> ExportDestination:
    return ExportDestination.objects.create(name="Mail platform")


@pytest.fixture
def raw_token(destination: ExportDestination) -> str:
    _, raw = export_token_create(name="sync", destination=destination, actor=None)
    return raw


def _client(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def _all_pages(client: APIClient, **params: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    query: dict[str, Any] = dict(params)
    while True:
        response = client.get(URL, query)
        assert response.status_code == 200, response.content
        body = response.json()
        rows += body["results"]
        if body["next"] is None:
            return rows
        query = {**params, "cursor": body["next"]}


def _settle(time_machine: Any) -> None:
    # Later than EXPORT_SETTLING_SECONDS: the incremental cutoff has passed every post so far.
    time_machine.move_to(
        timezone.now() + datetime.timedelta(seconds=settings.EXPORT_SETTLING_SECONDS + 1)
    )


def test_it_pages_through_the_list_with_a_cursor(post_person: PostPerson, raw_token: str) -> None:
    people = [post_person(first_name=f"P{i}") for i in range(5)]
    post_person("contact", first_name="Inquirer")
    rows = _all_pages(_client(raw_token), channel="email", page_size=2)
    assert [row["first_name"] for row in rows] == [p.first_name for p in people]
    assert set(rows[0]) == {
        "first_name",
        "last_name",
        "email",
        "phone",
        "consent_channel",
        "consented_at",
        "consent_wording_id",
        "first_source",
        "first_medium",
        "first_campaign",
        "latest_source",
        "latest_medium",
        "latest_campaign",
    }
    run = ExportRun.objects.get()
    assert run.via == ExportRun.Via.API
    assert run.status == ExportRun.Status.DONE
    assert run.rows_written == 5


def test_later_pages_keep_the_first_pages_snapshot(
    post_person: PostPerson, raw_token: str, time_machine: Any
) -> None:
    post_person(first_name="A")
    post_person(first_name="B")
    _settle(time_machine)
    client = _client(raw_token)
    first = client.get(URL, {"channel": "email", "page_size": 1}).json()
    post_person(first_name="Late")  # consented after the snapshot's cutoff
    second = client.get(URL, {"channel": "email", "page_size": 1, "cursor": first["next"]}).json()
    assert [r["first_name"] for r in first["results"] + second["results"]] == ["A", "B"]
    assert second["next"] is None
    # The next incremental sync picks up where this one stopped.
    _settle(time_machine)
    rows = _all_pages(client, channel="email", incremental="true")
    assert [r["first_name"] for r in rows] == ["Late"]


def test_it_refuses_missing_wrong_and_revoked_tokens(raw_token: str) -> None:
    assert APIClient().get(URL, {"channel": "email"}).status_code == 401
    assert _client("mkx_nope").get(URL, {"channel": "email"}).status_code == 401
    ExportToken.objects.update(revoked_at="2026-01-01T00:00:00Z")
    assert _client(raw_token).get(URL, {"channel": "email"}).status_code == 401


def test_tokens_are_stored_hashed(raw_token: str) -> None:
    token = ExportToken.objects.get()
    assert raw_token not in (token.key_sha256, token.key_prefix)
    assert raw_token.startswith(token.key_prefix)


def test_bad_parameters_and_cursors_are_400(raw_token: str) -> None:
    client = _client(raw_token)
    assert client.get(URL, {"channel": "fax"}).status_code == 400
    assert client.get(URL, {"channel": "email", "page_size": 0}).status_code == 400
    response = client.get(URL, {"channel": "email", "cursor": "forged"})
    assert response.status_code == 400
    assert "cursor" in response.json()


def test_a_book_only_token_cannot_ask_for_inquiries(raw_token: str) -> None:
    response = _client(raw_token).get(URL, {"channel": "email", "signup_kind": "all"})
    assert response.status_code == 403


def test_a_part2_token_lists_inquiries(
    post_person: PostPerson, destination: ExportDestination
) -> None:
    post_person("contact", first_name="Inquirer")
    _, raw = export_token_create(
        name="p2",
        destination=destination,
        actor=None,
        include_inquiries=True,
        part2_acknowledged=True,
    )
    rows = _all_pages(_client(raw), channel="email", signup_kind="all")
    assert [r["first_name"] for r in rows] == ["Inquirer"]
    assert ExportRun.objects.get().part2_notice_acknowledged_at is not None


def test_it_is_throttled_per_token(raw_token: str) -> None:
    rates = {"export_sync": "2/hour"}
    with override_settings(
        API_THROTTLE=True,
        REST_FRAMEWORK={**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates},
    ):
        client = _client(raw_token)
        codes = [client.get(URL, {"channel": "email"}).status_code for _ in range(3)]
    assert codes == [200, 200, 429]


def test_it_is_in_the_openapi_schema(client: Client) -> None:
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    operation = schema["paths"][URL]["get"]
    assert operation["operationId"] == "marketing_contacts_list"
    assert {"exportToken": []} in operation["security"]


def test_a_token_is_shown_once_when_created_in_admin(
    marketer: User, marketer_client: Client, destination: ExportDestination
) -> None:
    from django.contrib.auth.models import Permission

    marketer.groups.get().permissions.add(Permission.objects.get(codename="add_exporttoken"))
    response = marketer_client.post(
        "/admin/marketing/exporttoken/add/",
        {"name": "mailchimp", "destination": destination.pk},
    )
    assert response.status_code == 200
    page = response.content.decode()
    token = ExportToken.objects.get()
    raw = page.split('<code id="sync-token">')[1].split("</code>")[0]
    assert raw.startswith(token.key_prefix)
    assert _client(raw).get(URL, {"channel": "email"}).status_code == 200
    listing = marketer_client.get("/admin/marketing/exporttoken/").content.decode()
    assert raw not in listing


def test_a_retried_page_is_counted_once(post_person: PostPerson, raw_token: str) -> None:
    for name in ("A", "B", "C"):
        post_person(first_name=name)
    client = _client(raw_token)
    first = client.get(URL, {"channel": "email", "page_size": 1}).json()
    for _ in range(2):  # the client lost the answer and asked again
        second = client.get(URL, {"channel": "email", "page_size": 1, "cursor": first["next"]})
    client.get(URL, {"channel": "email", "page_size": 5, "cursor": second.json()["next"]})

    run = ExportRun.objects.get()
    assert run.status == ExportRun.Status.DONE
    assert run.rows_written == 3
    assert AuditEvent.objects.get(action="export").details["rows"] == 3
