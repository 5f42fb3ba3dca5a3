"""Text-message backends. The file backend (default) writes each text to ``var/sms/``; the
Twilio backend sends through Twilio's official SDK."""

from __future__ import annotations

import datetime
import json
import os
from pathlib import Path

from django.conf import settings

from apps.followups.transports import TransportError


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
