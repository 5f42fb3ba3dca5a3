"""Text-message backends. The file backend (default) writes each text to ``var/sms/``; the
Twilio backend sends through Twilio's official SDK."""

from __future__ import annotations

import datetime
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings

from apps.followups.transports import TransportError

if TYPE_CHECKING:
    from twilio.http import HttpClient

# A send that hangs must end well within the outbox lease (OUTBOX_LEASE_SECONDS).
TWILIO_TIMEOUT_SECONDS = 10.0
HTTP_TOO_MANY_REQUESTS = 429
HTTP_CLIENT_ERROR = 400
HTTP_SERVER_ERROR = 500


class FileSmsBackend:
    """One JSON file per message, named by the outbox id: sending the same message twice
    overwrites one file, as a provider's idempotency key would."""

    def send(self, *, to: str, body: str, message_id: int) -> str:
        folder = Path(settings.SMS_FILE_PATH)
        folder.mkdir(parents=True, exist_ok=True)
        record = {
            "to": to,
            "from": settings.TWILIO_FROM_NUMBER or "asana-leads",
            "body": body,
            "outbox_id": message_id,
            "sent_at": datetime.datetime.now(tz=datetime.UTC).isoformat(),
        }
        path = folder / f"{message_id}.json"
        tmp = path.with_suffix(".tmp")
        try:
            tmp.write_text(json.dumps(record))
            os.replace(tmp, path)
        except OSError as exc:
            raise TransportError(f"sms file: {type(exc).__name__}") from exc
        return f"file-{message_id}"


def twilio_error_is_permanent(status: int) -> bool:
    """A 4xx means Twilio refused this message (21610 the recipient replied STOP to Twilio,
    21211 not a valid number, 20003 bad credentials): sending it again cannot help. 429 and
    5xx are Twilio being busy or down: worth another try."""
    if status == HTTP_TOO_MANY_REQUESTS:
        return False
    return HTTP_CLIENT_ERROR <= status < HTTP_SERVER_ERROR


class TwilioSmsBackend:
    """Sends through Twilio's REST API (``TWILIO_ACCOUNT_SID``, ``TWILIO_AUTH_TOKEN``,
    ``TWILIO_FROM_NUMBER``: an E.164 number, or a Messaging Service SID ``MG...``).

    Failures become ``TransportError``: Twilio refusing the message (4xx) is permanent, Twilio
    busy or unreachable (429, 5xx, network) is transient. Error texts carry the HTTP status and
    Twilio's error code only: Twilio's own messages quote the phone number.
    ``http_client`` is the seam Twilio's SDK offers for another transport (tests pass a canned
    one); by default its requests-based client with a timeout.
    """

    def __init__(self, *, http_client: HttpClient | None = None) -> None:
        self.http_client = http_client

    def send(self, *, to: str, body: str, message_id: int) -> str:
        # Imported here: the SDK is sizeable and only this backend needs it.
        from twilio.base.exceptions import TwilioRestException, TwilioServiceException
        from twilio.http.http_client import TwilioHttpClient
        from twilio.rest import Client

        account, token, sender = (
            settings.TWILIO_ACCOUNT_SID,
            settings.TWILIO_AUTH_TOKEN,
            settings.TWILIO_FROM_NUMBER,
        )
        if not (account and token and sender):
            # Transient: once the settings are fixed, the retries (or an admin retry) go out.
            raise TransportError("twilio: TWILIO_ACCOUNT_SID/AUTH_TOKEN/FROM_NUMBER not set")
        client = Client(
            account,
            token,
            http_client=self.http_client or TwilioHttpClient(timeout=TWILIO_TIMEOUT_SECONDS),
        )
        sender_field = "messaging_service_sid" if sender.startswith("MG") else "from_"
        try:
            message = client.messages.create(to=to, body=body, **{sender_field: sender})
        except (TwilioRestException, TwilioServiceException) as exc:
            status = int(exc.status)
            raise TransportError(
                f"twilio: HTTP {status} code {exc.code}",
                permanent=twilio_error_is_permanent(status),
            ) from exc
        except OSError as exc:  # requests' connection errors and timeouts are OSErrors
            raise TransportError(f"twilio: {type(exc).__name__}") from exc
        return str(message.sid)
