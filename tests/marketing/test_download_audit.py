"""Every download of an export file is an audit row naming who downloaded it, the run, the file's
SHA-256 and its row count, written before the file is served. A refused download (bad or
expired link, no permission, file gone) writes none. Compliance sees the rows in the audit log."""

from __future__ import annotations

import csv
import datetime
import hashlib
import io
import json
import re
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.core.exceptions import PermissionDenied
from django.core.files.storage import storages
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from apps.marketing.models import ExportRun
from apps.marketing.selectors import CONTACT_COLUMNS, ContactFilters
from apps.marketing.services import (
    export_download_token,
    export_file_download,
    export_run_create,
    export_run_write,
)
from apps.privacy.models import AuditEvent
from tests.conftest import staff_client_for
from tests.marketing.conftest import PostPerson

pytestmark = pytest.mark.django_db

DOWNLOADED = "export_download"


@pytest.fixture
def run(post_person: PostPerson, marketer: User) -> ExportRun:
    """A finished admin export of two contacts, requested by the marketer, not yet downloaded."""
    post_person()
    post_person()
    queued = export_run_create(
        filters=ContactFilters(channel="email"),
        fmt=ExportRun.Format.CSV,
        via=ExportRun.Via.ADMIN,
        actor=marketer,
    )
    written = export_run_write(run_id=queued.pk)
    assert written is not None
    assert written.status == ExportRun.Status.DONE
    return written


@pytest.fixture
def colleague(marketer: User) -> User:
    """Another member of Marketing: may download any run's file, and is then on record."""
    user = User.objects.create_user("colleague", password="x", is_staff=True)
    user.groups.add(Group.objects.get(name="Marketing"))
    return user


def _link(run: ExportRun) -> str:
    return reverse(
        "admin:marketing_exportrun_download", args=[export_download_token(run_id=run.pk)]
    )


def _downloads() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=DOWNLOADED).order_by("id"))


def test_a_download_is_audited_with_the_downloader_the_hash_and_the_rows(
    run: ExportRun, marketer: User, colleague: User, post_person: PostPerson
) -> None:
    response = staff_client_for(colleague).get(_link(run))

    assert response.status_code == 200
    # Written before the file is served: the row is there before a byte is read.
    [event] = _downloads()
    content = b"".join(response.streaming_content)  # type: ignore[attr-defined]
    assert event.actor == colleague
    assert event.actor_username == "colleague"
    assert event.target_id == str(run.pk)
    assert event.target_type is not None
    assert event.target_type.model == "exportrun"
    assert event.details["export_run"] == run.pk
    assert event.details["sha256"] == run.sha256 == hashlib.sha256(content).hexdigest()
    assert event.details["rows"] == run.rows_written == 2
    assert event.details["requested_by"] == marketer.username
    assert event.fields == list(CONTACT_COLUMNS)
    assert event.ip_address == "127.0.0.1"


def test_each_download_is_its_own_row(run: ExportRun, marketer_client: Client) -> None:
    link = _link(run)

    assert marketer_client.get(link).status_code == 200
    assert marketer_client.get(link).status_code == 200

    assert [e.actor_username for e in _downloads()] == ["marketer", "marketer"]


def test_the_link_on_the_runs_page_is_audited(run: ExportRun, marketer_client: Client) -> None:
    page = marketer_client.get(f"/admin/marketing/exportrun/{run.pk}/change/").content.decode()
    link = re.search(r'href="(/admin/marketing/exportrun/download/[^"]+)"', page)
    assert link

    assert marketer_client.get(link.group(1)).status_code == 200

    assert len(_downloads()) == 1


def test_the_audit_row_holds_no_contact(
    post_person: PostPerson, run: ExportRun, marketer_client: Client
) -> None:
    marketer_client.get(_link(run))

    [event] = _downloads()
    stored = json.dumps(event.details) + event.target_label + event.reason
    assert "@example.org" not in stored
    assert "Reader" not in stored
    assert "Lastname" not in stored


def test_an_expired_link_is_refused_and_not_audited(
    run: ExportRun, marketer: User, marketer_client: Client, time_machine: Any
) -> None:
    link = _link(run)
    time_machine.move_to(timezone.now() + datetime.timedelta(hours=25))
    staff_client_for(marketer, marketer_client)  # the session itself ended long ago

    assert marketer_client.get(link).status_code == 404
    assert _downloads() == []


def test_a_tampered_link_is_refused_and_not_audited(
    run: ExportRun, marketer_client: Client
) -> None:
    token = export_download_token(run_id=run.pk)
    forged = reverse("admin:marketing_exportrun_download", args=[token[:-2] + "xx"])

    assert marketer_client.get(forged).status_code == 404
    assert marketer_client.get("/admin/marketing/exportrun/download/nonsense/").status_code == 404
    assert _downloads() == []


def test_someone_without_the_permission_is_refused_and_not_audited(run: ExportRun) -> None:
    clerk = User.objects.create_user("clerk", password="x", is_staff=True)

    assert staff_client_for(clerk).get(_link(run)).status_code == 403
    assert _downloads() == []


def test_the_service_itself_refuses_someone_without_the_permission(run: ExportRun) -> None:
    clerk = User.objects.create_user("clerk", password="x", is_staff=True)

    with pytest.raises(PermissionDenied):
        export_file_download(token=export_download_token(run_id=run.pk), actor=clerk)
    assert _downloads() == []


def test_a_file_that_is_gone_is_refused_and_not_audited(
    run: ExportRun, marketer_client: Client
) -> None:
    storages["exports"].delete(run.file_name)

    assert marketer_client.get(_link(run)).status_code == 404
    assert _downloads() == []


def test_an_expired_run_is_refused_and_not_audited(run: ExportRun, marketer_client: Client) -> None:
    link = _link(run)
    ExportRun.objects.filter(pk=run.pk).update(status=ExportRun.Status.EXPIRED)

    assert marketer_client.get(link).status_code == 404
    assert _downloads() == []


def test_the_audit_chain_still_verifies_after_downloads(
    run: ExportRun, marketer_client: Client, colleague: User
) -> None:
    marketer_client.get(_link(run))
    staff_client_for(colleague).get(_link(run))
    out = io.StringIO()

    call_command("verify_audit_log", stdout=out)

    assert len(_downloads()) == 2
    assert "intact" in out.getvalue()


def test_compliance_finds_downloads_in_the_audit_log_and_its_csv(
    run: ExportRun, colleague: User
) -> None:
    staff_client_for(colleague).get(_link(run))
    officer = User.objects.create_user("officer", password="x" * 14, is_staff=True)
    officer.groups.add(Group.objects.get(name="Compliance"))
    compliance = staff_client_for(officer)
    url = "/admin/privacy/auditevent/"

    listed = compliance.get(url, {"action__exact": DOWNLOADED})
    [event] = _downloads()
    exported = compliance.post(
        url + f"?action__exact={DOWNLOADED}",
        {"action": "export_csv", "_selected_action": [event.pk]},
    )

    assert listed.status_code == 200
    assert [e.pk for e in listed.context["cl"].result_list] == [event.pk]
    assert "Export file downloaded" in listed.content.decode()
    rows = list(csv.DictReader(io.StringIO(exported.content.decode())))
    assert [(r["action"], r["actor_username"]) for r in rows] == [(DOWNLOADED, "colleague")]
    assert run.sha256 in rows[0]["details"]
