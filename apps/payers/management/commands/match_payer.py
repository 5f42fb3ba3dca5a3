"""``manage.py match_payer TEXT...``: what the matcher makes of each typed name.

One line per argument: the slug (``-`` when unresolved), a tab, the score with one decimal.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from apps.payers.selectors import payer_match


class Command(BaseCommand):
    help = "Resolve typed insurance names to payer slugs: prints slug (or -), tab, score."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("texts", nargs="+", metavar="TEXT")

    def handle(self, *args: Any, **options: Any) -> None:
        for text in options["texts"]:
            match = payer_match(text=text)
            self.stdout.write(f"{match.slug or '-'}\t{match.score:.1f}")
