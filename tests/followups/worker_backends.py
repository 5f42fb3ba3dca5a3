"""SMS backends for tests that run real worker processes (``SMS_BACKEND`` in their environment).

State a test must see lives in files named by environment variables, never in process memory:
a worker's pool processes and the test are different processes.

- ``SMS_JOURNAL``: every send appends one JSON line, so a second send of the same message shows
  (``FileSmsBackend`` alone overwrites ``<outbox id>.json``, hiding it).
- ``SMS_BLOCK_MARKER``: while this file exists, a send announces itself in
  ``<marker>.entered-<outbox id>`` and waits (a provider call that hangs).
- ``SMS_FLAKY_DIR`` / ``SMS_FLAKY_FAILURES``: each message fails that many times, counted in a
  file per message, then goes through.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from pathlib import Path

from apps.followups.sms import FileSmsBackend
from apps.followups.transports import TransportError

BLOCK_SECONDS = 120.0


def _journal(message_id: int, event: str) -> None:
    path = os.environ.get("SMS_JOURNAL")
    if not path:
        return
    line = json.dumps({"outbox_id": message_id, "event": event, "pid": os.getpid()}) + "\n"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line.encode())  # one O_APPEND write: lines never interleave
    finally:
        os.close(fd)


class JournalSmsBackend:
    """``FileSmsBackend``, plus a journal line per send."""

    def send(self, *, to: str, body: str, message_id: int) -> str:
        provider_id = FileSmsBackend().send(to=to, body=body, message_id=message_id)
        _journal(message_id, "sent")
        return provider_id


class BlockingSmsBackend(JournalSmsBackend):
    """Hangs while ``SMS_BLOCK_MARKER`` exists, then sends."""

    def send(self, *, to: str, body: str, message_id: int) -> str:
        marker = Path(os.environ["SMS_BLOCK_MARKER"])
        if marker.exists():
            Path(f"{marker}.entered-{message_id}").write_text(str(os.getpid()))
            deadline = time.monotonic() + BLOCK_SECONDS
            while marker.exists() and time.monotonic() < deadline:
                time.sleep(0.05)
        return super().send(to=to, body=body, message_id=message_id)


class FileFlakySmsBackend(JournalSmsBackend):
    """Fails the first ``SMS_FLAKY_FAILURES`` sends of each message (transiently), then sends;
    the count is a file per message, shared by every process."""

    def send(self, *, to: str, body: str, message_id: int) -> str:
        failures = int(os.environ.get("SMS_FLAKY_FAILURES", "3"))
        counter = Path(os.environ["SMS_FLAKY_DIR"]) / f"{message_id}.tries"
        counter.parent.mkdir(parents=True, exist_ok=True)
        with counter.open("a+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            handle.seek(0)
            tries = len(handle.read()) + 1
            handle.write("x")
        if tries <= failures:
            _journal(message_id, "failed")
            raise TransportError(f"provider unavailable (try {tries})")
        return super().send(to=to, body=body, message_id=message_id)
