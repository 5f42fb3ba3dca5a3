from __future__ import annotations

from django.apps import AppConfig


class BooksConfig(AppConfig):
    name = "apps.books"
    verbose_name = "Books"

    def ready(self) -> None:
        from apps.books import checks  # noqa: F401  (registers the BOOK_FILE check)
