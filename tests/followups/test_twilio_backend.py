"""The Twilio SMS backend, through Twilio's own SDK with a canned HTTP client in place of the
network (the SDK's ``http_client`` seam): a 2xx returns the message SID, a 4xx is a permanent
failure, 429/5xx/network trouble are transient, and no error text quotes the phone number."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
import requests
from twilio.http import HttpClient
from twilio.http.response import Response

from apps.followups.models import OutboxAttempt, OutboxMessage
from apps.followups.services import outbox_deliver
from apps.followups.sms import TwilioSmsBackend
from apps.followups.transports import TransportError

ACCOUNT_SID = "AC" + "1" * 32
AUTH_TOKEN = "test-twilio-auth-token"
FROM_NUMBER = "+19494384504"
TO = "+19495550142"
MESSAGE_SID = "SM" + "f" * 32


class CannedHttpClient(HttpClient):
    """Answers every request with one canned response (or raises), and keeps the requests."""

    def __init__(self, status: int = 201, payload: dict[str, Any] | None = None,
                 raises: Exception | None = None, text: str | None = None) -> None:  # fmt: skip
        super().__init__(logger=logging.getLogger("tests.twilio"), is_async=False)
        self.status, self.raises = status, raises
        self.text = text if text is not None else json.dumps(payload or {})
        self.requests: list[dict[str, Any]] = []

    def request(  # noqa: PLR0917 - the SDK's signature, called positionally
        self,
        method: str,
        uri: str,
        params: Any = None,
        data: Any = None,
        headers: Any = None,
        auth: Any = None,
        timeout: Any = None,
        allow_redirects: bool = False,
    ) -> Response:
        self.requests.append({"method": method, "uri": uri, "data": data, "auth": auth})
        if self.raises is not None:
            raise self.raises
        return Response(self.status, self.text)


def _created() -> CannedHttpClient:
    return CannedHttpClient(201, {"sid": MESSAGE_SID, "status": "queued", "to": TO})


def _refused(status: int, code: int) -> CannedHttpClient:
    # Twilio's messages quote the number: none of it may reach our error texts or logs.
    message = f"The 'To' number {TO} is not a valid phone number."
    return CannedHttpClient(status, {"code": code, "message": message, "status": status})


@pytest.fixture(autouse=True)
def _credentials(settings: Any) -> None:
    settings.TWILIO_ACCOUNT_SID = ACCOUNT_SID
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.TWILIO_FROM_NUMBER = FROM_NUMBER


def test_it_sends_through_the_messages_api_and_returns_the_sid() -> None:
    http = _created()

    sid = TwilioSmsBackend(http_client=http).send(to=TO, body="Hello", message_id=7)

    assert sid == MESSAGE_SID
    [sent] = http.requests
    assert sent["method"] == "POST"
    assert sent["uri"] == f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    assert sent["data"]["To"] == TO
    assert sent["data"]["From"] == FROM_NUMBER
    assert sent["data"]["Body"] == "Hello"
    assert sent["auth"] == (ACCOUNT_SID, AUTH_TOKEN)


def test_a_messaging_service_sid_is_sent_as_the_service(settings: Any) -> None:
    settings.TWILIO_FROM_NUMBER = "MG" + "2" * 32
    http = _created()

    TwilioSmsBackend(http_client=http).send(to=TO, body="Hello", message_id=7)

    data = http.requests[0]["data"]
    assert data["MessagingServiceSid"] == "MG" + "2" * 32
    assert "From" not in data


@pytest.mark.parametrize(
    ("status", "code"),
    [(400, 21610), (400, 21211), (400, 21614), (401, 20003), (404, 20404)],
)
def test_a_refused_message_is_a_permanent_failure(status: int, code: int) -> None:
    with pytest.raises(TransportError) as caught:
        TwilioSmsBackend(http_client=_refused(status, code)).send(to=TO, body="x", message_id=1)

    assert caught.value.permanent is True
    assert str(caught.value) == f"twilio: HTTP {status} code {code}"
    assert TO not in str(caught.value)


@pytest.mark.parametrize(("status", "code"), [(429, 20429), (500, 20500), (503, 20503)])
def test_twilio_busy_or_down_is_a_transient_failure(status: int, code: int) -> None:
    with pytest.raises(TransportError) as caught:
        TwilioSmsBackend(http_client=_refused(status, code)).send(to=TO, body="x", message_id=1)

    assert caught.value.permanent is False


def test_an_error_page_that_is_not_json_is_still_classified() -> None:
    http = CannedHttpClient(502, text="<html><body>Bad gateway</body></html>")

    with pytest.raises(TransportError) as caught:
        TwilioSmsBackend(http_client=http).send(to=TO, body="x", message_id=1)

    assert caught.value.permanent is False


@pytest.mark.parametrize(
    "error", [requests.ConnectionError("refused"), requests.Timeout("slow"), OSError("reset")]
)
def test_network_trouble_is_a_transient_failure(error: Exception) -> None:
    http = CannedHttpClient(raises=error)

    with pytest.raises(TransportError) as caught:
        TwilioSmsBackend(http_client=http).send(to=TO, body="x", message_id=1)

    assert caught.value.permanent is False


def test_missing_settings_fail_before_any_request(settings: Any) -> None:
    settings.TWILIO_AUTH_TOKEN = ""
    http = _created()

    with pytest.raises(TransportError) as caught:
        TwilioSmsBackend(http_client=http).send(to=TO, body="x", message_id=1)

    assert caught.value.permanent is False
    assert http.requests == []


# --- Through the outbox, as SMS_BACKEND -----------------------------------------------------------


class AcceptingTwilio(TwilioSmsBackend):
    def __init__(self) -> None:
        super().__init__(http_client=_created())


class RefusingTwilio(TwilioSmsBackend):
    def __init__(self) -> None:
        super().__init__(http_client=_refused(400, 21610))


def _text_to_number() -> OutboxMessage:
    return OutboxMessage.objects.create(
        topic=OutboxMessage.Topic.SMS_REPLY,
        channel="sms",
        queue=OutboxMessage.Queue.ALERTS,
        recipient=OutboxMessage.Recipient.ADDRESS,
        address=TO,
        template="sms_help",
        dedupe_key="sms_reply:SMtest",
        due_at="2025-01-01T00:00Z",
    )


@pytest.mark.django_db
def test_the_outbox_records_twilios_message_sid(settings: Any) -> None:
    settings.SMS_BACKEND = f"{__name__}.AcceptingTwilio"
    message = _text_to_number()

    assert outbox_deliver(message_id=message.pk) == "sent"

    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.SENT
    assert message.provider_message_id == MESSAGE_SID


@pytest.mark.django_db
def test_a_refused_number_fails_the_message_without_retrying(
    settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    settings.SMS_BACKEND = f"{__name__}.RefusingTwilio"
    message = _text_to_number()

    assert outbox_deliver(message_id=message.pk) == "failed"

    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.FAILED
    assert message.attempts == 1
    assert message.last_error == "twilio: HTTP 400 code 21610"
    assert message.tries.get().outcome == OutboxAttempt.Outcome.PERMANENT
    assert TO not in caplog.text
