"""The book is served only through a signed link: never as a static or media file."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core import checks
from django.test import Client

pytestmark = pytest.mark.django_db


def test_the_book_is_not_reachable_under_static_or_media(client: Client) -> None:
    name = Path(settings.BOOK_FILE).name
    for path in (
        f"/static/{name}",
        f"/static/books/{name}",
        f"/static/assets/{name}",
        f"/static/books/assets/{name}",
        f"/media/{name}",
        f"/books/{name}",
        f"/books/assets/{name}",
    ):
        assert client.get(path).status_code == 404, path


def test_no_static_files_finder_knows_the_book() -> None:
    name = Path(settings.BOOK_FILE).name
    for candidate in (name, f"books/{name}", f"assets/{name}", f"books/assets/{name}"):
        assert finders.find(candidate) is None, candidate


def test_the_shipped_book_passes_the_system_checks() -> None:
    messages = checks.run_checks()

    assert not [m for m in messages if m.id and m.id.startswith("books.")]


def test_a_book_file_under_static_root_is_flagged(settings: object) -> None:
    book = Path(settings.STATIC_ROOT) / "book.pdf"  # type: ignore[attr-defined]
    settings.BOOK_FILE = str(book)  # type: ignore[attr-defined]

    ids = {m.id for m in checks.run_checks()}

    assert "books.W003" in ids
