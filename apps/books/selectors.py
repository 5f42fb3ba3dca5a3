"""Reads for the free book: download counts and the book file itself."""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from django.conf import settings
from django.db.models import Count
from django.db.models.functions import TruncDate
from django.utils import timezone

from apps.books.exceptions import BookUnavailable
from apps.books.models import BookDownload

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DownloadDay:
    day: datetime.date
    downloads: int


def book_download_count(*, submission_id: int | None = None) -> int:
    """How many times the book was downloaded: through one signup's links, or in all."""
    downloads = BookDownload.objects.all()
    if submission_id is not None:
        downloads = downloads.filter(submission_id=submission_id)
    return downloads.count()


def book_download_counts_per_day(*, days: int = 30) -> list[DownloadDay]:
    """Downloads per day (the center's time zone) over the last ``days`` days, newest first;
    days without downloads are left out."""
    since = timezone.now() - datetime.timedelta(days=days)
    rows = (
        BookDownload.objects.filter(downloaded_at__gte=since)
        .annotate(day=TruncDate("downloaded_at"))
        .values("day")
        .annotate(downloads=Count("id"))
        .order_by("-day")
    )
    return [DownloadDay(day=row["day"], downloads=row["downloads"]) for row in rows]


def book_file_open() -> BinaryIO:
    """The book (``settings.BOOK_FILE``) opened for reading; the caller closes it.

    Raises ``BookUnavailable`` when the file is missing or unreadable (a deploy problem: the
    system check ``books.W001`` warns about it at start-up).
    """
    try:
        return Path(settings.BOOK_FILE).open("rb")
    except OSError as exc:
        logger.error("book file unreadable (%s); check BOOK_FILE", type(exc).__name__)  # noqa: TRY400
        raise BookUnavailable("The book is temporarily unavailable.") from exc
