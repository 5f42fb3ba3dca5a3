"""The follow-ups admin: the outbox is read-only and failed messages are retried by an action;
sequences are edited with their steps; the suppression list is searched and added to through the
service; inbound texts are read-only with their words masked."""

from __future__ import annotations

import importlib
from typing import Any

import pytest
from django.apps import apps as django_apps
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from apps.followups.inbound import inbound_text_receive
from apps.followups.models import InboundText, OutboxMessage, Sequence, SequenceStep, Suppression
from apps.leads.models import Person
from tests.conftest import CONTACT_PATH, staff_client_for

pytestmark = pytest.mark.django_db

ADMIN = "/admin/followups"
Status = OutboxMessage.Status


@pytest.fixture(autouse=True)
def _seeded_sequences(db: None) -> None:
    # Sequences are seeded by a migration; a transactional test elsewhere in the suite empties
    # every table (the shared conftest re-seeds payers only), so make sure they are back.
    if not Sequence.objects.exists():
        seed = importlib.import_module("apps.followups.migrations.0002_seed_sequences").seed
        seed(django_apps, None)


@pytest.fixture
def staff_client(admin_user: User) -> Client:
    return staff_client_for(admin_user)


@pytest.fixture
def person(api_client: APIClient, contact_body: dict[str, Any]) -> Person:
    response = api_client.post(CONTACT_PATH, contact_body, format="json")
    assert response.status_code == 201, response.content
    return Person.objects.get()


@pytest.fixture
def failed(person: Person) -> OutboxMessage:
    message = OutboxMessage.objects.get(person=person, topic="confirmation", channel="email")
    OutboxMessage.objects.filter(pk=message.pk).update(
        status=Status.FAILED, attempts=6, last_error="email: SMTPServerDisconnected"
    )
    message.refresh_from_db()
    return message


# --- Outbox -----------------------------------------------------------------------------------


def test_the_outbox_list_filters_by_status(staff_client: Client, failed: OutboxMessage) -> None:
    response = staff_client.get(f"{ADMIN}/outboxmessage/", {"status__exact": "failed"})

    assert response.status_code == 200
    rows = list(response.context["cl"].result_list)
    assert rows == [failed]
    assert "SMTPServerDisconnected" in response.content.decode()


@pytest.mark.parametrize(
    ("name", "value"),
    [("topic__exact", "staff_alert"), ("channel__exact", "email"), ("queue__exact", "alerts")],
)
def test_the_outbox_list_filters_by_topic_channel_and_queue(
    staff_client: Client, person: Person, name: str, value: str
) -> None:
    response = staff_client.get(f"{ADMIN}/outboxmessage/", {name: value})

    assert response.status_code == 200
    rows = list(response.context["cl"].result_list)
    assert rows
    assert {getattr(row, name.split("__", maxsplit=1)[0]) for row in rows} == {value}


def test_retry_gives_a_failed_message_a_fresh_start(
    staff_client: Client, failed: OutboxMessage, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks() as callbacks:
        response = staff_client.post(
            f"{ADMIN}/outboxmessage/",
            {"action": "retry", "_selected_action": [str(failed.pk)]},
            follow=True,
        )

    assert response.status_code == 200
    assert "1 of 1 message(s) will be sent again" in response.content.decode()
    failed.refresh_from_db()
    assert (failed.status, failed.attempts) == (Status.PENDING, 0)
    assert failed.due_at <= timezone.now()
    assert len(callbacks) == 1  # handed to Celery after commit


def test_retry_leaves_sent_and_pending_messages_alone(staff_client: Client, person: Person) -> None:
    pending = OutboxMessage.objects.filter(person=person, status=Status.PENDING)
    before = {m.pk: (m.status, m.attempts, m.due_at) for m in pending}

    response = staff_client.post(
        f"{ADMIN}/outboxmessage/",
        {"action": "retry", "_selected_action": [str(pk) for pk in before]},
        follow=True,
    )

    assert "0 of" in response.content.decode()
    after = {m.pk: (m.status, m.attempts, m.due_at) for m in OutboxMessage.objects.all()}
    assert all(after[pk] == state for pk, state in before.items())


def test_the_change_page_shows_the_attempts_and_cannot_save(
    staff_client: Client, failed: OutboxMessage
) -> None:
    failed.tries.create(
        started_at=timezone.now(), duration_ms=12, outcome="transient", error="timed out"
    )

    response = staff_client.get(f"{ADMIN}/outboxmessage/{failed.pk}/change/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "timed out" in html
    assert 'name="_save"' not in html
    posted = staff_client.post(
        f"{ADMIN}/outboxmessage/{failed.pk}/change/", {"status": "sent", "template": "x"}
    )
    assert posted.status_code in (200, 302)
    failed.refresh_from_db()
    assert (failed.status, failed.template) == (Status.FAILED, "confirmation")


def test_nobody_adds_or_deletes_outbox_rows_here(
    staff_client: Client, failed: OutboxMessage
) -> None:
    assert staff_client.get(f"{ADMIN}/outboxmessage/add/").status_code == 403
    delete = staff_client.post(f"{ADMIN}/outboxmessage/{failed.pk}/delete/", {"post": "yes"})
    assert delete.status_code == 403
    assert OutboxMessage.objects.filter(pk=failed.pk).exists()


# --- Sequences ----------------------------------------------------------------------------------


def _sequence_form(sequence: Sequence, **changes: Any) -> dict[str, Any]:
    steps = list(sequence.steps.order_by("position"))
    data: dict[str, Any] = {
        "name": sequence.name,
        "submission_kind": sequence.submission_kind,
        "active": "on" if sequence.active else "",
        "description": sequence.description,
        "steps-TOTAL_FORMS": str(len(steps)),
        "steps-INITIAL_FORMS": str(len(steps)),
        "steps-MIN_NUM_FORMS": "0",
        "steps-MAX_NUM_FORMS": "1000",
    }
    for index, step in enumerate(steps):
        prefix = f"steps-{index}-"
        data |= {
            f"{prefix}id": str(step.pk),
            f"{prefix}sequence": str(sequence.pk),
            f"{prefix}position": str(step.position),
            f"{prefix}delay_minutes": str(step.delay_minutes),
            f"{prefix}channel": step.channel,
            f"{prefix}purpose": step.purpose,
            f"{prefix}template": step.template,
            f"{prefix}active": "on" if step.active else "",
        }
    return data | changes


def test_a_sequence_step_delay_is_edited_in_admin(staff_client: Client) -> None:
    sequence = Sequence.objects.get(submission_kind="book")
    second = sequence.steps.get(position=2)
    index = list(sequence.steps.order_by("position")).index(second)

    response = staff_client.post(
        f"{ADMIN}/sequence/{sequence.pk}/change/",
        _sequence_form(sequence, **{f"steps-{index}-delay_minutes": "1440"}),
    )

    assert response.status_code == 302, response.context["errors"] if response.context else ""
    second.refresh_from_db()
    assert second.delay_minutes == 1440


def test_a_step_naming_a_missing_template_is_refused(staff_client: Client) -> None:
    sequence = Sequence.objects.get(submission_kind="contact")
    step = sequence.steps.get(channel="sms")
    index = list(sequence.steps.order_by("position")).index(step)

    response = staff_client.post(
        f"{ADMIN}/sequence/{sequence.pk}/change/",
        _sequence_form(sequence, **{f"steps-{index}-template": "no_such_template"}),
    )

    assert response.status_code == 200
    assert "No template followups/no_such_template.sms.txt" in response.content.decode()
    step.refresh_from_db()
    assert step.template == "confirmation"
    assert SequenceStep.objects.filter(template="no_such_template").count() == 0


# --- Suppression list ---------------------------------------------------------------------------


def test_staff_add_a_typed_phone_number_normalized(staff_client: Client, admin_user: User) -> None:
    response = staff_client.post(
        f"{ADMIN}/suppression/add/",
        {"kind": "phone", "value": "(949) 555-0142", "reason": "staff", "source": "call log"},
    )

    assert response.status_code == 302
    suppression = Suppression.objects.get()
    assert (suppression.kind, suppression.value, suppression.reason) == (
        "phone",
        "+19495550142",
        "staff",
    )
    assert suppression.source == f"call log ({admin_user.get_username()})"


def test_an_email_is_added_lowercased(staff_client: Client) -> None:
    staff_client.post(
        f"{ADMIN}/suppression/add/",
        {"kind": "email", "value": " Jane.Doe@Example.ORG ", "reason": "staff", "source": ""},
    )

    assert Suppression.objects.get().value == "jane.doe@example.org"


def test_a_value_that_is_not_a_phone_number_is_refused(staff_client: Client) -> None:
    response = staff_client.post(
        f"{ADMIN}/suppression/add/",
        {"kind": "phone", "value": "call me maybe", "reason": "staff", "source": ""},
    )

    assert response.status_code == 200
    assert "Enter a phone number." in response.content.decode()
    assert not Suppression.objects.exists()


def test_the_list_is_searched_by_a_number_as_staff_type_it(staff_client: Client) -> None:
    Suppression.objects.create(kind="phone", value="+19495550142", reason="sms_stop")
    Suppression.objects.create(kind="phone", value="+17145550100", reason="sms_stop")

    response = staff_client.get(f"{ADMIN}/suppression/", {"q": "949-555-0142"})

    assert response.status_code == 200
    assert [s.value for s in response.context["cl"].result_list] == ["+19495550142"]


def test_a_suppression_is_never_edited_or_deleted_here(staff_client: Client) -> None:
    suppression = Suppression.objects.create(kind="email", value="a@example.org", reason="bounce")
    url = f"{ADMIN}/suppression/{suppression.pk}/"

    staff_client.post(url + "change/", {"kind": "email", "value": "b@example.org"})
    delete = staff_client.post(url + "delete/", {"post": "yes"})

    assert delete.status_code == 403
    suppression.refresh_from_db()
    assert suppression.value == "a@example.org"


# --- Inbound texts ------------------------------------------------------------------------------


@pytest.fixture
def inbound() -> InboundText:
    inbound_text_receive(
        provider_message_id="SM" + "9" * 32,
        from_phone="+19495550142",
        body="ZZ I relapsed on Tuesday",
    )
    return InboundText.objects.get()


def test_an_inbound_text_is_shown_with_its_words_masked(
    staff_client: Client, inbound: InboundText
) -> None:
    listing = staff_client.get(f"{ADMIN}/inboundtext/")
    detail = staff_client.get(f"{ADMIN}/inboundtext/{inbound.pk}/change/")

    for response in (listing, detail):
        assert response.status_code == 200
        html = response.content.decode()
        assert "relapsed" not in html
        assert "••••" in html
        assert "+19495550142" in html


def test_inbound_texts_filter_by_action(staff_client: Client, inbound: InboundText) -> None:
    inbound_text_receive(
        provider_message_id="SM" + "8" * 32, from_phone="+17145550100", body="STOP"
    )

    stops = staff_client.get(f"{ADMIN}/inboundtext/", {"action": "stop"})
    others = staff_client.get(f"{ADMIN}/inboundtext/", {"action": "none"})

    assert [t.from_phone for t in stops.context["cl"].result_list] == ["+17145550100"]
    assert [t.pk for t in others.context["cl"].result_list] == [inbound.pk]


def test_inbound_texts_are_read_only(staff_client: Client, inbound: InboundText) -> None:
    assert staff_client.get(f"{ADMIN}/inboundtext/add/").status_code == 403
    delete = staff_client.post(f"{ADMIN}/inboundtext/{inbound.pk}/delete/", {"post": "yes"})
    assert delete.status_code == 403
    assert InboundText.objects.filter(pk=inbound.pk).exists()
