"""Twilio's inbound-text webhook: signed requests only, each message handled once, STOP opts
the number out of every future text with one confirmation, START opts back in, HELP answers,
free-text revocations count; and the revocation staff record from a phone call."""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from django.apps import apps as django_apps
from django.contrib.auth.models import User
from django.db import connection
from django.http import HttpResponse
from django.test import Client
from rest_framework.test import APIClient
from twilio.request_validator import RequestValidator

from apps.followups.inbound import consent_revocation_record_by_staff
from apps.followups.models import InboundText, OutboxMessage, Sequence, Suppression
from apps.followups.services import outbox_deliver
from apps.leads.models import Consent, Person
from tests.conftest import CONTACT_PATH

pytestmark = pytest.mark.django_db

AUTH_TOKEN = "test-twilio-auth-token"
BASE_URL = "https://leads.example.org"
INBOUND_PATH = "/f/sms/inbound/"
PHONE = "+19495550142"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'
Status = OutboxMessage.Status


@pytest.fixture(autouse=True)
def _seeded_sequences(db: None) -> None:
    # Sequences are seeded by a migration; a transactional test elsewhere in the suite empties
    # every table (the shared conftest re-seeds payers only), so make sure they are back.
    if not Sequence.objects.exists():
        seed = importlib.import_module("apps.followups.migrations.0002_seed_sequences").seed
        seed(django_apps, None)


@pytest.fixture(autouse=True)
def _twilio(settings: Any, tmp_path: Path) -> None:
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.PUBLIC_BASE_URL = BASE_URL
    settings.SMS_BACKEND = "apps.followups.sms.FileSmsBackend"
    settings.SMS_FILE_PATH = str(tmp_path / "sms")


@pytest.fixture
def texter(api_client: APIClient, contact_body: dict[str, Any]) -> Person:
    """Someone who agreed to texts: an SMS confirmation is planned for them."""
    body = {**contact_body, "consent_sms": True}
    response = api_client.post(CONTACT_PATH, body, format="json")
    assert response.status_code == 201, response.content
    person = Person.objects.get()
    assert person.phone == PHONE
    assert person.consent_sms
    return person


def _params(body: str, sid: str = "SM" + "a" * 32, sender: str = PHONE) -> dict[str, str]:
    return {
        "MessageSid": sid,
        "AccountSid": "AC" + "0" * 32,
        "From": sender,
        "To": "+19494384504",
        "Body": body,
        "NumMedia": "0",
    }


def _signed_post(params: dict[str, str], *, token: str = AUTH_TOKEN) -> HttpResponse:
    signature = RequestValidator(token).compute_signature(BASE_URL + INBOUND_PATH, params)
    response: HttpResponse = Client().post(
        INBOUND_PATH,
        urlencode(params),
        content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": signature},
    )
    return response


def _text(body: str, sid: str = "SM" + "a" * 32, sender: str = PHONE) -> HttpResponse:
    response = _signed_post(_params(body, sid, sender))
    assert response.status_code == 200, response.content
    return response


def _replies() -> list[OutboxMessage]:
    return list(OutboxMessage.objects.filter(topic=OutboxMessage.Topic.SMS_REPLY))


def _sent_text(settings: Any, message: OutboxMessage) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        (Path(settings.SMS_FILE_PATH) / f"{message.pk}.json").read_text()
    )
    return data


# --- The signature -----------------------------------------------------------------------------


def test_it_refuses_an_unsigned_request(texter: Person) -> None:
    response = Client().post(INBOUND_PATH, _params("STOP"))

    assert response.status_code == 403
    assert not InboundText.objects.exists()
    texter.refresh_from_db()
    assert texter.consent_sms is True


def test_it_refuses_a_request_signed_with_another_token(texter: Person) -> None:
    response = _signed_post(_params("STOP"), token="someone-elses-token")

    assert response.status_code == 403
    assert not Suppression.objects.exists()


def test_it_refuses_a_request_whose_parameters_were_changed(texter: Person) -> None:
    params = _params("HELP")
    signature = RequestValidator(AUTH_TOKEN).compute_signature(BASE_URL + INBOUND_PATH, params)

    response = Client().post(
        INBOUND_PATH,
        urlencode({**params, "Body": "STOP"}),
        content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": signature},
    )

    assert response.status_code == 403
    assert not InboundText.objects.exists()


def test_without_an_auth_token_every_request_is_refused(settings: Any) -> None:
    settings.TWILIO_AUTH_TOKEN = ""

    response = _signed_post(_params("STOP"), token="")

    assert response.status_code == 403
    assert not InboundText.objects.exists()


def test_a_get_is_not_allowed() -> None:
    assert Client().get(INBOUND_PATH).status_code == 405


def test_a_signed_request_without_a_message_id_is_a_bad_request() -> None:
    params = _params("STOP")
    del params["MessageSid"]

    response = _signed_post(params)

    assert response.status_code == 400
    assert not InboundText.objects.exists()


# --- STOP --------------------------------------------------------------------------------------


def test_stop_opts_the_number_out_of_every_future_text(texter: Person) -> None:
    response = _text("STOP")

    assert response["Content-Type"].startswith("text/xml")
    assert response.content.decode() == EMPTY_TWIML
    suppression = Suppression.objects.get(kind="phone")
    assert (suppression.value, suppression.reason) == (PHONE, "sms_stop")
    texter.refresh_from_db()
    assert texter.consent_sms is False
    revoked = Consent.objects.get(person=texter, action=Consent.Action.REVOKED)
    assert (revoked.channel, revoked.source) == ("sms", "sms_reply")
    sms_confirmation = OutboxMessage.objects.get(person=texter, topic="confirmation", channel="sms")
    assert sms_confirmation.status == Status.CANCELLED
    email_confirmation = OutboxMessage.objects.get(
        person=texter, topic="confirmation", channel="email"
    )
    assert email_confirmation.status == Status.PENDING  # a text opts out of texts only
    inbound = InboundText.objects.get()
    assert (inbound.from_phone, inbound.action, inbound.body) == (PHONE, "stop", "STOP")


def test_stop_plans_exactly_one_confirmation_on_the_alerts_queue(texter: Person) -> None:
    _text("  stop. ", sid="SM" + "b" * 32)

    [reply] = _replies()
    assert reply.channel == "sms"
    assert reply.recipient == OutboxMessage.Recipient.ADDRESS
    assert reply.address == PHONE
    assert reply.template == "sms_stop_confirmation"
    assert reply.queue == OutboxMessage.Queue.ALERTS
    assert reply.dedupe_key == "sms_reply:SM" + "b" * 32
    assert reply.status == Status.PENDING


def test_the_confirmation_is_handed_to_celery_after_commit(
    texter: Person, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks() as callbacks:
        _text("STOP")

    assert len(callbacks) == 1


def test_the_confirmation_reaches_the_opted_out_number_even_at_night(
    texter: Person, settings: Any, time_machine: Any
) -> None:
    # 23:30 in California: no text may go to a person now, but this one answers their STOP.
    # Needs the send-time recheck to let recipient=address + topic=sms_reply through
    # suppression, consent and quiet hours.
    time_machine.move_to("2025-03-01T07:30Z", tick=False)
    _text("STOP")
    [reply] = _replies()

    assert outbox_deliver(message_id=reply.pk) == "sent"

    sent = _sent_text(settings, reply)
    assert sent["to"] == PHONE
    assert sent["body"].startswith("Asana Recovery: You are unsubscribed")
    assert "Reply START" in sent["body"]


def test_a_redelivered_webhook_is_handled_once(texter: Person) -> None:
    _text("STOP", sid="SM" + "c" * 32)
    again = _text("STOP", sid="SM" + "c" * 32)

    assert again.content.decode() == EMPTY_TWIML
    assert InboundText.objects.count() == 1
    assert len(_replies()) == 1
    assert Consent.objects.filter(action=Consent.Action.REVOKED).count() == 1


def test_a_second_stop_is_recorded_but_not_confirmed_again(texter: Person) -> None:
    _text("STOP", sid="SM" + "d" * 32)
    _text("Stop", sid="SM" + "e" * 32)

    assert InboundText.objects.count() == 2
    assert len(_replies()) == 1


def test_stop_from_a_number_we_do_not_know_is_still_honoured() -> None:
    _text("UNSUBSCRIBE", sender="+1 (714) 555-0100")

    assert Suppression.objects.filter(kind="phone", value="+17145550100").exists()
    [reply] = _replies()
    assert reply.address == "+17145550100"


@pytest.mark.parametrize("keyword", ["STOPALL", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"])
def test_every_opt_out_keyword_opts_out(texter: Person, keyword: str) -> None:
    _text(keyword)

    texter.refresh_from_db()
    assert texter.consent_sms is False
    assert Suppression.objects.filter(kind="phone", value=PHONE, reason="sms_stop").exists()


# --- Free text ---------------------------------------------------------------------------------


def test_a_free_text_revocation_is_handled_like_stop(texter: Person) -> None:
    _text("Please stop texting me")

    texter.refresh_from_db()
    assert texter.consent_sms is False
    assert texter.consent_calls is True
    assert Suppression.objects.filter(kind="phone", value=PHONE, reason="sms_stop").exists()
    [reply] = _replies()
    assert reply.template == "sms_stop_confirmation"
    assert InboundText.objects.get().action == "revocation"


def test_dont_call_me_again_withdraws_calls_and_texts(texter: Person) -> None:
    _text("don't call me again")

    texter.refresh_from_db()
    assert (texter.consent_sms, texter.consent_calls) == (False, False)
    revoked = Consent.objects.filter(person=texter, action=Consent.Action.REVOKED)
    assert sorted(revoked.values_list("channel", flat=True)) == ["calls", "sms"]


def test_dont_call_me_text_me_withdraws_calls_only(texter: Person) -> None:
    _text("Don't call me, text me instead")

    texter.refresh_from_db()
    assert (texter.consent_sms, texter.consent_calls) == (True, False)
    assert not Suppression.objects.exists()
    assert _replies() == []


def test_a_message_about_stopping_drinking_is_kept_but_not_acted_on(texter: Person) -> None:
    _text("How do I stop drinking? Can you call me?")

    inbound = InboundText.objects.get()
    assert inbound.action == ""
    assert not Suppression.objects.exists()
    assert _replies() == []
    texter.refresh_from_db()
    assert texter.consent_sms is True


def test_the_words_are_stored_encrypted(texter: Person) -> None:
    _text("I relapsed last night, please call")

    with connection.cursor() as cursor:
        cursor.execute("SELECT body FROM followups_inboundtext")
        [(stored,)] = cursor.fetchall()
    assert "relapsed" not in stored
    assert InboundText.objects.get().body == "I relapsed last night, please call"


# --- START and HELP ----------------------------------------------------------------------------


def test_start_opts_the_number_back_in(texter: Person, settings: Any) -> None:
    _text("STOP", sid="SM" + "1" * 32)
    _text("Start", sid="SM" + "2" * 32)

    assert not Suppression.objects.exists()
    texter.refresh_from_db()
    assert texter.consent_sms is True
    granted = Consent.objects.filter(person=texter, channel="sms").latest("recorded_at")
    assert (granted.action, granted.source) == ("granted", "sms_reply")
    assert granted.wording is not None
    assert "START" in granted.wording.text
    start_reply = OutboxMessage.objects.get(dedupe_key="sms_reply:SM" + "2" * 32)
    assert start_reply.template == "sms_start"
    assert outbox_deliver(message_id=start_reply.pk) == "sent"
    assert "STOP to opt out" in _sent_text(settings, start_reply)["body"]


def test_start_does_not_lift_a_revocation_staff_recorded(texter: Person, admin_user: User) -> None:
    consent_revocation_record_by_staff(
        person_id=texter.pk, channels=("sms",), actor_id=admin_user.pk
    )

    _text("START")

    assert Suppression.objects.get(kind="phone").reason == "revoked"
    texter.refresh_from_db()
    assert texter.consent_sms is False
    assert InboundText.objects.get().action == "start_held"
    [reply] = _replies()
    assert reply.template == "sms_help"


def test_help_answers_with_the_help_text(texter: Person, settings: Any) -> None:
    _text("help")

    [reply] = _replies()
    assert reply.template == "sms_help"
    assert outbox_deliver(message_id=reply.pk) == "sent"
    body = _sent_text(settings, reply)["body"]
    assert "Asana Recovery" in body
    assert "(949) 438-4504" in body
    assert body.endswith("Reply STOP to opt out. Msg & data rates may apply.")
    texter.refresh_from_db()
    assert texter.consent_sms is True
    assert not Suppression.objects.exists()


def test_help_is_answered_after_an_opt_out_too(texter: Person) -> None:
    _text("STOP", sid="SM" + "3" * 32)
    _text("INFO", sid="SM" + "4" * 32)

    help_reply = OutboxMessage.objects.get(dedupe_key="sms_reply:SM" + "4" * 32)
    assert help_reply.template == "sms_help"
    assert outbox_deliver(message_id=help_reply.pk) == "sent"


# --- Staff record a revocation heard on the phone -----------------------------------------------


def test_staff_record_a_revocation_of_texts_and_email(texter: Person, admin_user: User) -> None:
    consent_revocation_record_by_staff(
        person_id=texter.pk, channels=("email", "sms"), actor_id=admin_user.pk
    )

    texter.refresh_from_db()
    assert (texter.consent_email, texter.consent_sms, texter.consent_calls) == (False, False, True)
    revoked = Consent.objects.filter(person=texter, action=Consent.Action.REVOKED)
    assert {(c.channel, c.source, c.recorded_by_id) for c in revoked} == {
        ("email", "staff", admin_user.pk),
        ("sms", "staff", admin_user.pk),
    }
    assert set(Suppression.objects.values_list("kind", "value", "reason")) == {
        ("email", "dana.rivera@example.org", "revoked"),
        ("phone", PHONE, "revoked"),
    }
    mine = OutboxMessage.objects.filter(person=texter, recipient="person")
    assert set(mine.values_list("status", flat=True)) == {Status.CANCELLED}
    staff = OutboxMessage.objects.filter(person=texter).exclude(recipient="person")
    assert staff.exists()
    assert set(staff.values_list("status", flat=True)) == {Status.PENDING}


def test_staff_recording_calls_only_leaves_texts_and_email_alone(
    texter: Person, admin_user: User
) -> None:
    consent_revocation_record_by_staff(
        person_id=texter.pk, channels=("calls",), actor_id=admin_user.pk
    )

    texter.refresh_from_db()
    assert (texter.consent_email, texter.consent_sms, texter.consent_calls) == (True, True, False)
    assert not Suppression.objects.exists()
    assert not OutboxMessage.objects.filter(status=Status.CANCELLED).exists()


def test_staff_cannot_record_an_unknown_channel(texter: Person, admin_user: User) -> None:
    with pytest.raises(ValueError, match="unknown consent channels"):
        consent_revocation_record_by_staff(
            person_id=texter.pk, channels=("fax",), actor_id=admin_user.pk
        )

    assert not Consent.objects.filter(action=Consent.Action.REVOKED).exists()


def test_free_text_alerts_admissions_without_the_text(texter: Person) -> None:
    from django.core import mail

    from apps.followups.services import outbox_deliver

    submission = texter.submissions.get()
    _text("I relapsed last night, please call me", sid="SMfree1")

    alert = OutboxMessage.objects.get(dedupe_key__startswith="inbound:SMfree1")
    assert (alert.topic, alert.queue, alert.submission_id) == (
        "staff_alert",
        "alerts",
        submission.pk,
    )
    assert outbox_deliver(message_id=alert.pk) == "sent"
    (sent,) = [m for m in mail.outbox if "text message arrived" in m.subject]
    assert submission.reference in sent.subject + sent.body
    assert "relapsed" not in sent.subject + sent.body
    assert "URGENT" not in sent.subject


def test_free_text_that_reads_like_a_crisis_is_urgent(texter: Person) -> None:
    from django.core import mail

    from apps.followups.services import outbox_deliver

    _text("my son overdosed, please help", sid="SMfree2")

    alert = OutboxMessage.objects.get(dedupe_key__startswith="inbound:SMfree2")
    assert alert.template == "inbound_text_alert_urgent"
    assert outbox_deliver(message_id=alert.pk) == "sent"
    (sent,) = [m for m in mail.outbox if "text message arrived" in m.subject]
    assert sent.subject.startswith("URGENT")
    assert "overdosed" not in sent.subject + sent.body


def test_a_keyword_alerts_no_one(texter: Person) -> None:
    _text("HELP", sid="SMfree3")

    assert not OutboxMessage.objects.filter(dedupe_key__startswith="inbound:").exists()
