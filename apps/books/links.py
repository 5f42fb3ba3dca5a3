"""Signed, expiring book download tokens (``django.core.signing``).

A token names the signup (its submission id) and the time it was signed; it is checked against
``SECRET_KEY`` and this module's salt, so it cannot be forged or re-pointed at another signup,
and it expires ``BOOK_LINK_MAX_AGE_HOURS`` after signing. Links are signed when the email is
rendered, at send time, so a delayed send still gets the full validity.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core import signing

from apps.books.exceptions import BookLinkExpired, BookLinkInvalid

DOWNLOAD_SALT = "books.download"


def book_download_token(*, submission_id: int) -> str:
    """A URL-safe token naming ``submission_id``, timestamped now."""
    return signing.dumps({"s": submission_id}, salt=DOWNLOAD_SALT)


def book_download_token_read(*, token: str) -> int:
    """The submission id a token names.

    Raises ``BookLinkExpired`` for a genuine token past its age, ``BookLinkInvalid`` for anything
    else that is not a token we signed.
    """
    max_age = datetime.timedelta(hours=settings.BOOK_LINK_MAX_AGE_HOURS)
    try:
        data = signing.loads(token, salt=DOWNLOAD_SALT, max_age=max_age)
    except signing.SignatureExpired as exc:
        raise BookLinkExpired("This book link has expired.") from exc
    except signing.BadSignature as exc:
        raise BookLinkInvalid("This book link is not valid.") from exc
    submission_id = data.get("s") if isinstance(data, dict) else None
    if not isinstance(submission_id, int) or isinstance(submission_id, bool):
        raise BookLinkInvalid("This book link is not valid.")
    return submission_id
