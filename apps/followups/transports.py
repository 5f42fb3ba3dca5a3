"""Outbound channels: email (Django's email API), text messages (a backend chosen by setting)
and a Slack-compatible chat webhook. Only follow-ups use these.

Every channel raises ``TransportError(message, permanent=...)``: permanent failures (a refused
address, a 4xx) end the message as failed; transient ones are retried with backoff.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Protocol

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.utils.module_loading import import_string

WEBHOOK_TIMEOUT_SECONDS = 5
HTTP_CLIENT_ERROR = 400
HTTP_SERVER_ERROR = 500


class TransportError(Exception):
    """A send failed; ``permanent`` says whether trying again can help."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True)
class RenderedMessage:
    """What goes out: a subject and bodies for email, the text for SMS and webhooks."""

    subject: str
    text: str
    html: str = ""
    headers: dict[str, str] = field(default_factory=dict)


class SmsBackend(Protocol):
    """Sends one text; returns the provider's message id."""

    def send(self, *, to: str, body: str, message_id: int) -> str: ...


def sms_backend() -> SmsBackend:
    """The configured SMS backend (``SMS_BACKEND``)."""
    backend: SmsBackend = import_string(settings.SMS_BACKEND)()
    return backend


def email_send(*, to: str, content: RenderedMessage, message_id: int) -> str:
    """Send one email through Django's configured backend."""
    message_ref = f"<outbox-{message_id}@asana-leads>"
    email = EmailMultiAlternatives(
        subject=content.subject,
        body=content.text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
        headers={"Message-ID": message_ref, **content.headers},
    )
    if content.html:
        email.attach_alternative(content.html, "text/html")
    try:
        email.send(fail_silently=False)
    except (OSError, ValueError) as exc:
        # Refused recipients are permanent; connection trouble is worth another try.
        permanent = type(exc).__name__ in {"SMTPRecipientsRefused", "SMTPSenderRefused"}
        raise TransportError(f"email: {type(exc).__name__}", permanent=permanent) from exc
    return message_ref


def webhook_post(*, url: str, content: RenderedMessage, message_id: int) -> str:
    """POST ``{"text": ...}`` (Slack-compatible) to a chat webhook."""
    request = urllib.request.Request(  # noqa: S310 - the URL is an operator setting
        url,
        data=json.dumps({"text": content.text}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT_SECONDS) as response:  # noqa: S310
            status = int(response.status)
    except urllib.error.HTTPError as exc:
        permanent = HTTP_CLIENT_ERROR <= exc.code < HTTP_SERVER_ERROR
        raise TransportError(f"webhook: HTTP {exc.code}", permanent=permanent) from exc
    except (urllib.error.URLError, OSError) as exc:
        raise TransportError(f"webhook: {type(exc).__name__}") from exc
    return f"webhook-{message_id}-{status}"


def transport_send(*, channel: str, to: str, content: RenderedMessage, message_id: int) -> str:
    """Send ``content`` to ``to`` on ``channel``; the provider's message id on success."""
    if channel == "email":
        return email_send(to=to, content=content, message_id=message_id)
    if channel == "sms":
        return sms_backend().send(to=to, body=content.text, message_id=message_id)
    if channel == "webhook":
        return webhook_post(url=to, content=content, message_id=message_id)
    raise TransportError(f"unknown channel {channel!r}", permanent=True)
