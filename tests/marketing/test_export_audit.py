"""Every export is an audit row: who, when, filters, row count, format, SHA-256; the Part 2
acknowledgement when inquiries went out. Never a contact in it."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client
from rest_framework.test import APIClient

from apps.marketing.models import ExportDestination, ExportRun
from apps.marketing.services import export_token_create
from apps.privacy.models import AuditEvent
from tests.marketing.conftest import PostPerson

pytestmark = pytest.mark.django_db


def test_a_command_export_is_audited(
    post_person: PostPerson, tmp_path: Path, admin_user: User
) -> None:
    person = post_person("contact")
    out = tmp_path / "list.csv"
    call_command(
        "export_contacts",
        channel="email",
        format="csv",
        output=str(out),
        since="2020-01-01",
        signup_kind="all",
        include_inquiries=True,
        acknowledge_part2_notice=True,
        user=admin_user.username,
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )
    event = AuditEvent.objects.get(action="export")
    run = ExportRun.objects.get()
    assert event.actor == admin_user
    assert event.target_id == str(run.pk)
    assert event.details["rows"] == 1
    assert event.details["format"] == "csv"
    assert event.details["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    assert event.details["filters"]["since"].startswith("2020-01-01")
    assert event.details["include_inquiries"] is True
    assert event.details["part2_notice_acknowledged_at"]
    assert person.email not in repr(event.details)
    assert person.first_name not in repr(event.details)


def test_an_admin_export_is_audited_with_its_exporter(
    post_person: PostPerson,
    marketer: User,
    marketer_client: Client,
    django_capture_on_commit_callbacks: Any,
) -> None:
    from tests.marketing.test_admin_export import export_through_admin

    post_person()
    export_through_admin(
        marketer_client,
        django_capture_on_commit_callbacks,
        {"channel": "email", "signup_kind": "book", "format": "xlsx"},
    )
    event = AuditEvent.objects.get(action="export")
    assert event.actor == marketer
    assert event.details["format"] == "xlsx"
    assert event.details["rows"] == 1


def test_a_completed_api_sync_is_audited(post_person: PostPerson) -> None:
    post_person()
    _, raw = export_token_create(
        name="sync", destination=ExportDestination.objects.create(name="ESP"), actor=None
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert client.get("/api/v1/marketing/contacts/", {"channel": "email"}).status_code == 200
    event = AuditEvent.objects.get(action="export")
    assert event.details["via"] == "api"
    assert event.details["token"] == raw[:12]
    assert event.details["rows"] == 1
