"""``python manage.py rotate_phi_keys``: re-encrypt PHI under the newest key, resumably."""

from __future__ import annotations

import argparse
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from apps.privacy.services import phi_keys_rotate

# Enough failed identifiers to start investigating without flooding the terminal.
SHOWN_FAILURES = 20


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


class Command(BaseCommand):
    help = (
        "Re-encrypt every encrypted field and every file in the phi storage that is not under "
        "the newest key (the first of PHI_ENCRYPTION_KEYS). Deploy the new key list to every "
        "process first; keep the old keys until --dry-run reports nothing left. Safe to stop "
        "and run again: values already under the newest key are skipped."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--batch-size",
            type=_positive_int,
            default=500,
            help="rows (or files) per batch; each batch is one short transaction (default 500)",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="count what would be re-encrypted, write nothing",
        )
        parser.add_argument(
            "--max-batches",
            type=_positive_int,
            default=None,
            help="stop after this many batches (run again to continue)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        verbose = options["verbosity"] >= 2  # noqa: PLR2004 (Django's -v 2)
        report = phi_keys_rotate(
            batch_size=options["batch_size"],
            dry_run=options["dry_run"],
            progress=self.stdout.write if verbose else None,
            max_batches=options["max_batches"],
        )
        verb = "to re-encrypt" if report.dry_run else "re-encrypted"
        self.stdout.write(f"newest key: {report.key_id}")
        for label, count in report.rotated.items():
            self.stdout.write(f"{label}: {count} {verb}")
        if not report.complete:
            self.stdout.write(
                f"stopped after {report.batches} batches; run again to continue",
            )
        if report.total_failed:
            for label, identifiers in report.failed.items():
                # Primary keys and storage names only: they identify rows, not people.
                shown = ", ".join(identifiers[:SHOWN_FAILURES])
                hidden = len(identifiers) - SHOWN_FAILURES
                more = f" and {hidden} more" if hidden > 0 else ""
                self.stderr.write(
                    f"{label}: {len(identifiers)} not opened by any configured key: {shown}{more}"
                )
            raise CommandError(
                f"{report.total_failed} values or files could not be decrypted; "
                "they were left as they are."
            )
        self.stdout.write(self.style.SUCCESS("done" if report.complete else "partial"))
