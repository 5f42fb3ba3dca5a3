"""Writes and links for the free book: the download URL that goes in the email, and the count
of downloads."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from apps.books.exceptions import BookLinkInvalid
from apps.books.links import book_download_token
from apps.books.models import USER_AGENT_MAX_CHARS, BookDownload
from apps.leads.models import Submission


def book_download_url(*, submission_id: int) -> str:
    """The absolute, signed download link for a signup's book.

    Valid for ``BOOK_LINK_MAX_AGE_HOURS`` from now; call it when the email is rendered.
    """
    path = reverse("books:download", args=[book_download_token(submission_id=submission_id)])
    return f"{settings.PUBLIC_BASE_URL}{path}"


@transaction.atomic
def book_download_record(*, submission_id: int, user_agent: str) -> None:
    """Count one download of the book through a signup's link.

    Keeps the time and the user agent (trimmed), never the IP address. Raises
    ``BookLinkInvalid`` when the signup no longer exists (erased after the link was sent).
    """
    if not Submission.objects.filter(pk=submission_id).exists():
        raise BookLinkInvalid("This book link is not valid.")
    BookDownload.objects.create(
        submission_id=submission_id,
        downloaded_at=timezone.now(),
        user_agent=user_agent[:USER_AGENT_MAX_CHARS],
    )
