"""One-click unsubscribe (RFC 8058): GET only asks, POST unsubscribes at once and idempotently,
and the suppression it leaves makes the outbox skip the person's emails."""

from __future__ import annotations

import importlib
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.apps import apps as django_apps
from django.core import mail
from django.test import Client
from rest_framework.test import APIClient

from apps.followups.models import OutboxMessage, Sequence, Suppression
from apps.followups.optout import unsubscribe_url
from apps.followups.services import outbox_deliver
from apps.leads.models import Consent, Person
from tests.conftest import BOOK_PATH, CONTACT_PATH

pytestmark = pytest.mark.django_db

Status = OutboxMessage.Status
Topic = OutboxMessage.Topic
BROWSER = "Mozilla/5.0 (test browser)"


@pytest.fixture(autouse=True)
def _seeded_sequences(db: None) -> None:
    # Sequences are seeded by a migration; a transactional test elsewhere in the suite empties
    # every table (the shared conftest re-seeds payers only), so make sure they are back.
    if not Sequence.objects.exists():
        seed = importlib.import_module("apps.followups.migrations.0002_seed_sequences").seed
        seed(django_apps, None)


@pytest.fixture
def reader(api_client: APIClient, book_body: dict[str, Any]) -> Person:
    """A book signup who agreed to the drip: the book email and three drips are planned."""
    response = api_client.post(BOOK_PATH, {**book_body, "consent_email": True}, format="json")
    assert response.status_code == 201, response.content
    return Person.objects.get()


@pytest.fixture
def writer(api_client: APIClient, contact_body: dict[str, Any]) -> Person:
    """A contact request: a confirmation email is planned, due now."""
    response = api_client.post(CONTACT_PATH, contact_body, format="json")
    assert response.status_code == 201, response.content
    return Person.objects.get()


def _path(person: Person) -> str:
    return urlsplit(unsubscribe_url(person_id=person.pk)).path


def _pending_drips(person: Person) -> int:
    return OutboxMessage.objects.filter(
        person=person, topic=Topic.DRIP, status=Status.PENDING
    ).count()


def test_get_shows_the_confirmation_page_and_unsubscribes_nobody(reader: Person) -> None:
    response = Client().get(_path(reader))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Unsubscribe from emails" in html
    assert "Asana Recovery" in html
    assert '<form method="post"' in html
    assert 'type="submit"' in html
    assert "l•••@example.org" in html
    assert "lee@example.org" not in html
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert "no-store" in response["Cache-Control"]
    reader.refresh_from_db()
    assert reader.consent_email is True
    assert not Suppression.objects.exists()
    assert not Consent.objects.filter(action=Consent.Action.REVOKED).exists()
    assert _pending_drips(reader) == 3


def test_post_unsubscribes_at_once(reader: Person) -> None:
    response = Client().post(_path(reader), headers={"user-agent": BROWSER})

    assert response.status_code == 200
    assert "You are unsubscribed" in response.content.decode()
    reader.refresh_from_db()
    assert reader.consent_email is False
    revoked = Consent.objects.get(person=reader, action=Consent.Action.REVOKED)
    assert (revoked.channel, revoked.source) == ("email", "unsubscribe_link")
    assert revoked.ip_address == "127.0.0.1"
    assert revoked.user_agent == BROWSER
    assert revoked.recorded_at is not None
    suppression = Suppression.objects.get()
    assert (suppression.kind, suppression.value) == ("email", "lee@example.org")
    assert (suppression.reason, suppression.source) == ("unsubscribe", "unsubscribe_link")
    assert _pending_drips(reader) == 0
    cancelled = OutboxMessage.objects.filter(person=reader, topic=Topic.DRIP)
    assert {m.skip_reason for m in cancelled} == {"unsubscribed"}


def test_the_book_already_planned_is_not_cancelled_but_skipped_at_send(reader: Person) -> None:
    Client().post(_path(reader))

    book = OutboxMessage.objects.get(person=reader, topic=Topic.BOOK_DELIVERY)
    assert book.status == Status.PENDING  # only drips are cancelled; the send-time check decides
    assert outbox_deliver(message_id=book.pk) == "skipped"
    book.refresh_from_db()
    assert book.skip_reason == "email suppressed"
    assert mail.outbox == []


def test_a_second_post_changes_nothing(reader: Person) -> None:
    client = Client()
    first = client.post(_path(reader))
    second = client.post(_path(reader))

    assert first.status_code == second.status_code == 200
    assert Consent.objects.filter(person=reader, action=Consent.Action.REVOKED).count() == 1
    assert Suppression.objects.count() == 1


def test_a_mail_clients_one_click_post_needs_no_csrf_token(reader: Person) -> None:
    client = Client(enforce_csrf_checks=True)

    response = client.post(
        _path(reader),
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 200
    reader.refresh_from_db()
    assert reader.consent_email is False
    assert Suppression.objects.filter(kind="email", value="lee@example.org").exists()


def test_the_page_after_unsubscribing_says_so(reader: Person) -> None:
    client = Client()
    client.post(_path(reader))

    response = client.get(_path(reader))

    assert response.status_code == 200
    assert "You are unsubscribed" in response.content.decode()


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_bad_token_answers_a_plain_not_found_page(reader: Person, method: str) -> None:
    response = getattr(Client(), method)("/f/unsubscribe/not-a-signed-token/")

    assert response.status_code == 404
    assert "We could not find this link" in response.content.decode()
    assert not Suppression.objects.exists()
    reader.refresh_from_db()
    assert reader.consent_email is True


def test_a_tampered_token_unsubscribes_nobody(reader: Person) -> None:
    path = _path(reader)
    token = path.split("/")[-2]
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")

    response = Client().post(f"/f/unsubscribe/{tampered}/")

    assert response.status_code == 404
    assert not Suppression.objects.exists()


def test_a_suppressed_address_makes_the_outbox_skip_the_email(writer: Person) -> None:
    confirmation = OutboxMessage.objects.get(
        person=writer, topic=Topic.CONFIRMATION, channel="email"
    )
    Client().post(_path(writer))

    result = outbox_deliver(message_id=confirmation.pk)

    assert result == "skipped"
    confirmation.refresh_from_db()
    assert confirmation.status == Status.SKIPPED
    assert confirmation.skip_reason == "email suppressed"
    assert confirmation.tries.get().outcome == "skipped"
    assert mail.outbox == []


def test_staff_alerts_about_the_person_still_go(writer: Person) -> None:
    Client().post(_path(writer))
    alert = OutboxMessage.objects.get(submission__person=writer, topic=Topic.STAFF_ALERT)

    assert outbox_deliver(message_id=alert.pk) == "sent"
    assert len(mail.outbox) == 1


def test_the_link_in_a_sent_email_unsubscribes_with_one_click(writer: Person) -> None:
    confirmation = OutboxMessage.objects.get(
        person=writer, topic=Topic.CONFIRMATION, channel="email"
    )
    assert outbox_deliver(message_id=confirmation.pk) == "sent"
    sent = mail.outbox[0]
    assert sent.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = sent.extra_headers["List-Unsubscribe"].strip("<>")

    response = Client(enforce_csrf_checks=True).post(
        urlsplit(link).path,
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 200
    assert Suppression.objects.filter(kind="email", value="dana.rivera@example.org").exists()
    writer.refresh_from_db()
    assert writer.consent_email is False
