"""GET /books/download/<token>/: the book, through a signed link only.

A valid link streams the PDF as an attachment and counts the download; an expired one answers
410 with a page saying how to get a new link; anything else answers 404. Every answer is
private and never cached: the URL is the only key to the file.
"""

from __future__ import annotations

from typing import TypeVar

from django.conf import settings
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.views.decorators.http import require_GET

from apps.books.exceptions import BookLinkExpired, BookLinkInvalid, BookUnavailable
from apps.books.links import book_download_token_read
from apps.books.selectors import book_file_open
from apps.books.services import book_download_record

DOWNLOAD_FILENAME = "meet-the-book-thats-changing-lives.pdf"
RETRY_AFTER_SECONDS = 300
_Response = TypeVar("_Response", bound=HttpResponseBase)
ERROR_TEMPLATES = {
    BookLinkExpired: "books/link_expired.html",
    BookLinkInvalid: "books/link_invalid.html",
    BookUnavailable: "books/unavailable.html",
}


def _private(response: _Response) -> _Response:
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    # The token is in the URL: never send it on as a referrer, never index it.
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _error_page(
    request: HttpRequest, error: BookLinkExpired | BookLinkInvalid | BookUnavailable
) -> HttpResponse:
    context = {
        "center_name": settings.CENTER_NAME,
        "center_phone": settings.CENTER_PHONE,
        "book_link_hours": settings.BOOK_LINK_MAX_AGE_HOURS,
    }
    response = render(request, ERROR_TEMPLATES[type(error)], context, status=error.status_code)
    if isinstance(error, BookUnavailable):
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return _private(response)


@require_GET
def book_download(request: HttpRequest, token: str) -> HttpResponseBase:
    """Stream the book for a valid link and count the download; otherwise a friendly page."""
    try:
        submission_id = book_download_token_read(token=token)
        book = book_file_open()
    except (BookLinkExpired, BookLinkInvalid, BookUnavailable) as error:
        return _error_page(request, error)
    try:
        book_download_record(
            submission_id=submission_id, user_agent=request.headers.get("User-Agent", "")
        )
    except BookLinkInvalid as error:
        book.close()
        return _error_page(request, error)
    response = FileResponse(
        book, as_attachment=True, filename=DOWNLOAD_FILENAME, content_type="application/pdf"
    )
    return _private(response)
