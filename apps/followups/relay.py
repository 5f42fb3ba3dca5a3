"""The outbox relay: hands committed, due outbox rows to Celery as soon as they appear.

A form post only writes its outbox rows (in its own transaction); this loop, run as its own
process by ``python manage.py outbox_relay``, finds them within ``OUTBOX_RELAY_POLL_SECONDS``
and hands them over, so no request waits on the broker or fails with it (decision 37). It is
healthchecks' ``sendalerts`` shape: the row is the outbox, a separate process drains it.

Several relays may run (one beside each worker machine's workers): each pass claims its rows
with ``SKIP LOCKED``. If none runs, the beat sweep still hands over due rows every
``OUTBOX_SWEEP_SECONDS``: slower, never lost.
"""

from __future__ import annotations

import logging
import threading

from django.conf import settings
from django.db import connection

from apps.followups.services import RelayReport, outbox_relay_pass

logger = logging.getLogger(__name__)

BACKOFF_CAP_SECONDS = 10.0


def relay_wait_seconds(*, report: RelayReport | None, failures: int, limit: int) -> float:
    """How long to wait before the next pass, after ``report`` (None: the pass failed).

    A full batch goes again at once; an idle pass waits one poll interval; a broker that
    refused a hand-over, or a database that failed the pass, is retried with a doubling
    wait (capped), so an outage costs a few log lines a minute, not a busy loop.
    """
    poll = settings.OUTBOX_RELAY_POLL_SECONDS
    if report is not None and report.handed == report.claimed:
        return 0.0 if report.claimed >= limit else poll
    return float(min(BACKOFF_CAP_SECONDS, poll * 2 ** min(failures, 16)))


def outbox_relay_run(*, stop: threading.Event, limit: int = 500) -> int:
    """Run relay passes until ``stop`` is set; return how many rows were handed over.

    Never raises for a database or broker failure: it logs the failure's type (never its
    text, which may quote row values), drops the database connection and tries again later.
    """
    handed = 0
    failures = 0
    while not stop.is_set():
        report: RelayReport | None
        try:
            report = outbox_relay_pass(limit=limit)
        except Exception as exc:  # noqa: BLE001 - a relay that dies delivers nothing
            logger.warning("outbox relay pass failed (%s); retrying", type(exc).__name__)
            connection.close()  # a broken connection is replaced on the next pass
            report = None
        if report is not None:
            handed += report.handed
        failures = 0 if report is not None and report.handed == report.claimed else failures + 1
        wait = relay_wait_seconds(report=report, failures=failures, limit=limit)
        if wait:
            stop.wait(wait)
    return handed
