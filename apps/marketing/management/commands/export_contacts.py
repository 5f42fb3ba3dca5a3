"""Export marketable contacts to a CSV or XLSX file, for scripts.

python manage.py export_contacts --channel email --since 2026-01-01 --format csv -o FILE
"""

from __future__ import annotations

import datetime
import sys
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from apps.marketing.models import ExportDestination, ExportRun
from apps.marketing.selectors import (
    CHANNELS,
    ContactFilters,
    Part2AcknowledgementRequired,
    SignupKind,
)
from apps.marketing.services import PART2_NOTICE, ExportError, export_run_create, export_run_write

BAR_WIDTH = 30


def _day(text: str) -> datetime.datetime:
    try:
        day = datetime.date.fromisoformat(text)
    except ValueError as exc:
        raise CommandError(f"not a date (YYYY-MM-DD): {text!r}") from exc
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=datetime.UTC)


class Command(BaseCommand):
    help = (
        "Export marketable contacts (consented for the channel, not suppressed, not "
        "do-not-contact, not Part 2 restricted; book signups unless --include-inquiries) to a "
        "file. Audited like every export."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--channel", choices=CHANNELS, required=True)
        parser.add_argument("--since", help="consented on or after this day (UTC, YYYY-MM-DD)")
        parser.add_argument("--until", help="consented before this day (UTC, YYYY-MM-DD)")
        parser.add_argument("--source", default="", help="first or latest utm_source")
        parser.add_argument("--campaign", default="", help="first or latest utm_campaign")
        parser.add_argument(
            "--signup-kind", choices=[c[0] for c in SignupKind.CHOICES], default=SignupKind.BOOK
        )
        parser.add_argument("--include-inquiries", action="store_true")
        parser.add_argument(
            "--acknowledge-part2-notice",
            action="store_true",
            help="acknowledge the 42 CFR 2.32 redisclosure notice (needed with inquiries)",
        )
        parser.add_argument("--destination", help="destination name (created if new)")
        parser.add_argument(
            "--incremental",
            action="store_true",
            help="only contacts since the last export to --destination",
        )
        parser.add_argument("--format", choices=["csv", "xlsx"], default="csv")
        parser.add_argument("--bom", action="store_true", help="UTF-8 byte-order mark (Excel)")
        parser.add_argument("--user", help="the staff username exporting (for the audit)")
        parser.add_argument("-o", "--output", required=True, help="file to write")
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        actor = None
        if options["user"]:
            actor = get_user_model().objects.filter(username=options["user"]).first()
            if actor is None:
                raise CommandError(f"no such user: {options['user']!r}")
        if options["include_inquiries"]:
            self.stderr.write(PART2_NOTICE)
        show = not options["no_progress"] and sys.stderr.isatty()
        until = _day(options["until"]) if options["until"] else None
        if until is not None:
            until -= datetime.timedelta(microseconds=1)
        try:
            filters = ContactFilters(
                channel=options["channel"],
                since=_day(options["since"]) if options["since"] else None,
                until=until,
                source=options["source"],
                campaign=options["campaign"],
                signup_kind=options["signup_kind"],
                include_inquiries=options["include_inquiries"],
            )
            destination = None
            if options["destination"]:
                destination, _ = ExportDestination.objects.get_or_create(
                    name=options["destination"]
                )
            with transaction.atomic():
                run = export_run_create(
                    filters=filters,
                    fmt=options["format"],
                    via=ExportRun.Via.COMMAND,
                    actor=actor,
                    destination=destination,
                    incremental=options["incremental"],
                    part2_acknowledged=options["acknowledge_part2_notice"],
                    bom=options["bom"],
                    count=show,
                )
        except (ValueError, ExportError, Part2AcknowledgementRequired) as exc:
            raise CommandError(str(exc)) from exc
        total = run.rows_expected or 0
        started = timezone.now()

        def progress(rows: int) -> None:
            if not show:
                return
            share = rows / total if total else 1.0
            filled = int(BAR_WIDTH * min(share, 1.0))
            bar = "#" * filled + "-" * (BAR_WIDTH - filled)
            self.stderr.write(f"\r[{bar}] {rows:,}/{total:,}", ending="")

        done = export_run_write(run_id=run.pk, out_path=Path(options["output"]), progress=progress)
        if show:
            self.stderr.write("")
        if done is None:
            raise CommandError("the export was claimed by another process")
        seconds = (timezone.now() - started).total_seconds()
        self.stdout.write(
            f"{done.rows_written} contacts -> {options['output']} ({done.format}, "
            f"{done.size_bytes} bytes, sha256 {done.sha256}) in {seconds:.1f}s; "
            f"export run {done.pk}"
        )
