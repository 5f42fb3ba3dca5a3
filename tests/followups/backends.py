"""Test doubles at the process edge: SMS backends that fail on purpose."""

from __future__ import annotations

from typing import ClassVar

from apps.followups.sms import FileSmsBackend
from apps.followups.transports import TransportError


class FailingSmsBackend:
    """Fails every send, transiently: a provider outage."""

    def send(self, *, to: str, body: str, message_id: int) -> str:
        raise TransportError("provider unavailable (HTTP 503)")


class RefusingSmsBackend:
    """Refuses every send permanently: an invalid number."""

    def send(self, *, to: str, body: str, message_id: int) -> str:
        raise TransportError("invalid number (HTTP 400)", permanent=True)


class FlakySmsBackend:
    """Fails the first ``failures`` sends of each message, then writes it to the file backend."""

    failures = 3
    seen: ClassVar[dict[int, int]] = {}

    def send(self, *, to: str, body: str, message_id: int) -> str:
        count = self.seen.get(message_id, 0) + 1
        self.seen[message_id] = count
        if count <= self.failures:
            raise TransportError(f"provider unavailable (try {count})")
        return FileSmsBackend().send(to=to, body=body, message_id=message_id)
