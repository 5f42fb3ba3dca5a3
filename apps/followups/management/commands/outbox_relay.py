"""``python manage.py outbox_relay``: hand due outbox rows to Celery as they are committed."""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from apps.followups.relay import outbox_relay_run
from apps.followups.services import outbox_relay_pass

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Hand committed, due outbox messages to Celery within OUTBOX_RELAY_POLL_SECONDS. "
        "Run one beside each machine's workers; SIGTERM or Ctrl-C stops it."
    )
    # A daemon started beside the workers, as `celery worker` is: the system checks belong to
    # deploy (`migrate`, `check --deploy`), and the workers' settings must not stop the relay.
    requires_system_checks: list[str] = []  # type: ignore[assignment]

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--once", action="store_true", help="one pass, print how many went, exit"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["once"]:
            report = outbox_relay_pass()
            self.stdout.write(f"claimed {report.claimed}, handed over {report.handed}")
            return
        stop = threading.Event()

        def request_stop(signum: int, frame: FrameType | None) -> None:
            stop.set()

        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)
        logger.info("outbox relay started (polls every %.2f s)", settings.OUTBOX_RELAY_POLL_SECONDS)
        handed = outbox_relay_run(stop=stop)
        logger.info("outbox relay stopped after handing over %d messages", handed)
