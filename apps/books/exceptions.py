"""What can be wrong with a book download link."""

from __future__ import annotations

from asana_leads.exceptions import ApplicationError


class BookLinkInvalid(ApplicationError):
    """Not a link we signed (tampered, truncated, made up), or its signup no longer exists."""

    status_code = 404


class BookLinkExpired(ApplicationError):
    """A link we signed, older than ``BOOK_LINK_MAX_AGE_HOURS``."""

    status_code = 410


class BookUnavailable(ApplicationError):
    """The book file (``BOOK_FILE``) cannot be read: a deploy problem, not the reader's."""

    status_code = 503
