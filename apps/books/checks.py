"""System checks: the book file exists, is a PDF, and is not where it could be served without a
signed link."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core import checks


def _public_roots() -> list[Path]:
    roots = [Path(settings.STATIC_ROOT)]
    media = settings.STORAGES.get("default", {}).get("OPTIONS", {})
    if isinstance(media, dict) and media.get("location"):
        roots.append(Path(str(media["location"])))
    # STATICFILES_DIRS entries are paths or (prefix, path) pairs.
    roots.extend(
        Path(str(d[1] if isinstance(d, tuple | list) else d)) for d in settings.STATICFILES_DIRS
    )
    # AppDirectoriesFinder serves every app's static/ directory.
    roots.extend(Path(app.path) / "static" for app in apps.get_app_configs())
    return [root.resolve() for root in roots]


@checks.register()
def book_file_check(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Warn when BOOK_FILE is missing, not a PDF, or under a publicly served directory."""
    path = Path(settings.BOOK_FILE)
    messages: list[checks.CheckMessage] = []
    try:
        with path.open("rb") as book:
            head = book.read(5)
    except OSError:
        messages.append(
            checks.Warning(
                "BOOK_FILE cannot be read: book download links will answer 503.",
                hint="Set BOOK_FILE to the path of the book's PDF.",
                id="books.W001",
            )
        )
    else:
        if head != b"%PDF-":
            messages.append(
                checks.Warning(
                    "BOOK_FILE does not start with %PDF-: it is served as application/pdf.",
                    hint="Point BOOK_FILE at the book's PDF.",
                    id="books.W002",
                )
            )
    resolved = path.resolve()
    if any(resolved.is_relative_to(root) for root in _public_roots()):
        messages.append(
            checks.Warning(
                "BOOK_FILE lies under a publicly served directory (static or media).",
                hint="Keep the book outside STATIC_ROOT and media: it is served only through "
                "signed links.",
                id="books.W003",
            )
        )
    return messages
