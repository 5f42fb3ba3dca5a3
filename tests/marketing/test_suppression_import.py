"""A suppression list imported in admin: entries are normalized as follow-ups normalize them,
and the people on it are never exported and get no follow-up."""

from __future__ import annotations

import datetime
import io
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from apps.followups.models import OutboxMessage, Suppression
from apps.followups.services import outbox_deliver
from apps.marketing.selectors import ContactFilters, marketable_contacts_count
from tests.conftest import staff_client_for
from tests.marketing.conftest import PostPerson

pytestmark = pytest.mark.django_db

IMPORT_URL = "/admin/followups/suppression/import/"


@pytest.fixture
def staff_client(admin_user: User) -> Client:
    return staff_client_for(admin_user)


def _upload(client: Client, text: str) -> str:
    upload = SimpleUploadedFile("list.csv", text.encode("utf-8-sig"), content_type="text/csv")
    response = client.post(IMPORT_URL, {"file": upload, "source": "old ESP"}, follow=True)
    assert response.status_code == 200
    return response.content.decode()


def test_it_imports_emails_and_phones_normalized(staff_client: Client) -> None:
    page = _upload(
        staff_client,
        "email,phone\n Jane.Doe@Example.ORG ,(949) 555-0142\nnot a contact\n,+1 714 555 0199\n"
        "jane.doe@example.org,\n",
    )
    assert "3 added, 1 already on the list" in page
    assert "line(s) 1, 3" in page
    assert set(Suppression.objects.values_list("kind", "value", "reason")) == {
        ("email", "jane.doe@example.org", "imported"),
        ("phone", "+19495550142", "imported"),
        ("phone", "+17145550199", "imported"),
    }
    assert Suppression.objects.filter(source__startswith="old ESP").count() == 3


def test_suppressed_people_never_export_and_get_no_follow_up(
    staff_client: Client,
    post_person: PostPerson,
    django_capture_on_commit_callbacks: Any,
    time_machine: Any,
    mailoutbox: list[Any],
) -> None:
    _upload(staff_client, "DANA@example.org\n(949) 555-0111\n")
    with django_capture_on_commit_callbacks():
        post_person(
            email="dana@example.org", phone="949-555-0111", consent_sms=True, first_name="Dana"
        )
    for channel in ("email", "sms"):
        assert marketable_contacts_count(filters=ContactFilters(channel=channel)) == 0
    to_person = OutboxMessage.objects.filter(recipient=OutboxMessage.Recipient.PERSON)
    assert to_person.exists()
    # Every planned message falls due (the book's drips run over weeks).
    time_machine.move_to(timezone.now() + datetime.timedelta(days=120))
    for message in to_person:
        outbox_deliver(message_id=message.pk)
    statuses = set(to_person.values_list("status", flat=True))
    assert statuses == {OutboxMessage.Status.SKIPPED}
    assert mailoutbox == []


def test_only_staff_who_may_add_suppressions_import(django_user_model: type[User]) -> None:
    clerk = django_user_model.objects.create_user("clerk", password="x", is_staff=True)
    client = staff_client_for(clerk)
    response = client.post(IMPORT_URL, {"file": io.BytesIO(b"a@example.org\n")})
    assert response.status_code == 403
    assert not Suppression.objects.exists()
