"""The admin export page: filters, count preview, the Part 2 option with its notice and a
required acknowledgement, a Celery task on the exports queue writing to storage, progress on
the run's page, and a signed download link that expires with its file."""

from __future__ import annotations

import contextlib
import datetime
import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.files.storage import storages
from django.test import Client
from django.utils import timezone

from apps.marketing.models import ExportRun
from apps.marketing.services import export_files_expire
from asana_leads.celery import app as celery_app
from tests.conftest import staff_client_for
from tests.marketing.conftest import PostPerson

pytestmark = pytest.mark.django_db

EXPORT_URL = "/admin/marketing/exportrun/export/"


@contextlib.contextmanager
def _eager() -> Iterator[None]:
    # The worker's side runs in-process: the task is the real one, only the broker hop is gone.
    saved = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    try:
        yield
    finally:
        celery_app.conf.task_always_eager = saved


def export_through_admin(client: Client, capture: Any, data: dict[str, str]) -> bytes:
    """Post the export page, run the queued task, follow the download link; the file's bytes."""
    with _eager(), capture(execute=True) as callbacks:
        response = client.post(EXPORT_URL, {**data, "export": "Export"})
    assert response.status_code == 302, response.content
    assert len(callbacks) == 1
    run = ExportRun.objects.latest("pk")
    assert run.status == ExportRun.Status.DONE
    page = client.get(response["Location"]).content.decode()
    link = re.search(r'href="(/admin/marketing/exportrun/download/[^"]+)"', page)
    assert link, page
    download = client.get(link.group(1))
    assert download.status_code == 200
    assert "no-store" in download["Cache-Control"]
    return b"".join(download.streaming_content)  # type: ignore[attr-defined]


@pytest.fixture
def people(post_person: PostPerson) -> None:
    post_person(first_name='=HYPERLINK("http://evil")')
    post_person(first_name="Ann")
    post_person("contact", first_name="Asker")


def test_the_preview_counts_without_exporting(people: None, marketer_client: Client) -> None:
    response = marketer_client.post(
        EXPORT_URL, {"channel": "email", "signup_kind": "book", "format": "csv", "preview": "1"}
    )
    assert response.status_code == 200
    assert "2 contacts match" in response.content.decode()
    assert not ExportRun.objects.exists()


def test_it_exports_in_the_background_and_links_the_file(
    people: None, marketer_client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    content = export_through_admin(
        marketer_client,
        django_capture_on_commit_callbacks,
        {"channel": "email", "signup_kind": "book", "format": "csv", "bom": "on"},
    )
    assert content.startswith(b"\xef\xbb\xbf")
    text = content.decode("utf-8-sig")
    assert "Ann" in text
    assert "Asker" not in text
    assert "'=HYPERLINK" in text
    run = ExportRun.objects.get()
    assert run.rows_written == 2
    assert run.requested_by is not None
    assert run.expires_at is not None
    assert run.expires_at - run.finished_at == datetime.timedelta(hours=24)  # type: ignore[operator]
    import hashlib

    assert hashlib.sha256(content).hexdigest() == run.sha256


def test_inquiries_need_the_acknowledged_notice(people: None, marketer_client: Client) -> None:
    page = marketer_client.get(EXPORT_URL).content.decode()
    assert "42 CFR part 2" in page
    response = marketer_client.post(
        EXPORT_URL,
        {
            "channel": "email",
            "signup_kind": "all",
            "include_inquiries": "on",
            "format": "csv",
            "export": "1",
        },
    )
    assert response.status_code == 200
    assert "Acknowledge the 42 CFR 2.32 notice" in response.content.decode()
    assert not ExportRun.objects.exists()


def test_the_acknowledgement_is_recorded(
    people: None, marketer_client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    content = export_through_admin(
        marketer_client,
        django_capture_on_commit_callbacks,
        {
            "channel": "email",
            "signup_kind": "all",
            "include_inquiries": "on",
            "acknowledge_part2_notice": "on",
            "format": "xlsx",
        },
    )
    assert content[:2] == b"PK"
    run = ExportRun.objects.get()
    assert run.include_inquiries
    assert run.part2_notice_acknowledged_at is not None
    assert run.rows_written == 3


def test_people_without_the_permission_get_no_export_page(
    people: None, django_user_model: type[User]
) -> None:
    clerk = django_user_model.objects.create_user("clerk", password="x", is_staff=True)
    client = staff_client_for(clerk)
    assert client.get(EXPORT_URL).status_code == 403
    assert client.get("/admin/marketing/exportrun/attribution/").status_code == 403


def test_the_link_and_file_expire(
    people: None,
    marketer: User,
    marketer_client: Client,
    django_capture_on_commit_callbacks: Any,
    time_machine: Any,
) -> None:
    export_through_admin(
        marketer_client,
        django_capture_on_commit_callbacks,
        {"channel": "email", "signup_kind": "book", "format": "csv"},
    )
    run = ExportRun.objects.get()
    storage = storages["exports"]
    assert storage.exists(run.file_name)
    page = marketer_client.get(f"/admin/marketing/exportrun/{run.pk}/change/").content.decode()
    link = re.search(r'href="(/admin/marketing/exportrun/download/[^"]+)"', page)
    assert link
    time_machine.move_to(timezone.now() + datetime.timedelta(hours=25))
    staff_client_for(marketer, marketer_client)  # the session itself ended long ago
    assert marketer_client.get(link.group(1)).status_code == 404
    assert export_files_expire() == 1
    assert not storage.exists(run.file_name)
    run.refresh_from_db()
    assert run.status == ExportRun.Status.EXPIRED


def test_a_second_delivery_of_the_task_writes_nothing(
    people: None, marketer_client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    from apps.marketing.tasks import export_run_write

    export_through_admin(
        marketer_client,
        django_capture_on_commit_callbacks,
        {"channel": "email", "signup_kind": "book", "format": "csv"},
    )
    run = ExportRun.objects.get()
    assert export_run_write(run.pk) == 0
    assert ExportRun.objects.get().sha256 == run.sha256
