"""Print the HTML snippet of one form (or the script tags) for the site's developer.

    manage.py forms_snippet contact --api-origin https://api.example.org
    manage.py forms_snippet all --write-docs docs/website.md

The output is what the demo renders and what docs/website.md shows between its
``<!-- snippet:NAME -->`` markers (``--write-docs`` refreshes them; a test keeps them equal).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.website.kit import DOCS_API_ORIGIN, FORM_KINDS, docs_with_snippets, snippet


class Command(BaseCommand):
    help = "Print the embeddable HTML of a form (contact, verification, book) or the script tags."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("what", choices=[*FORM_KINDS, "script", "all"])
        parser.add_argument(
            "--api-origin",
            default=DOCS_API_ORIGIN,
            help="Where this backend is served, as the site's visitors reach it.",
        )
        parser.add_argument(
            "--write-docs",
            metavar="PATH",
            help="Rewrite the snippet blocks of this Markdown file (docs/website.md) in place.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        what: str = options["what"]
        origin: str = options["api_origin"]
        if options["write_docs"]:
            path = Path(options["write_docs"])
            if not path.exists():
                raise CommandError(f"{path} does not exist.")
            path.write_text(docs_with_snippets(path.read_text(encoding="utf-8")), encoding="utf-8")
            self.stdout.write(f"Snippets in {path} refreshed.")
            return
        names = [*FORM_KINDS, "script"] if what == "all" else [what]
        self.stdout.write("\n\n".join(snippet(name, api_origin=origin) for name in names))
