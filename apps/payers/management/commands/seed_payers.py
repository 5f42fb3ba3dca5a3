"""``manage.py seed_payers``: load the payer directory; safe to run on every start."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from apps.payers.services import payer_directory_sync


class Command(BaseCommand):
    help = "Create or update payers and directory aliases from apps/payers/data (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--path",
            type=Path,
            default=None,
            help="A payers CSV (aliases.csv beside it is read too). Default: the project's copy.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        changed = payer_directory_sync(path=options["path"])
        self.stdout.write(f"payer directory: {changed} rows changed")
