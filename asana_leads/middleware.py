"""Process-wide middleware: request ids for logs, and a 503 when the database is unreachable."""

from __future__ import annotations

import contextvars
import logging
import secrets
import time
from collections.abc import Callable

from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse

logger = logging.getLogger(__name__)

_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")

DATABASE_RETRY_AFTER_SECONDS = 30


class UtcFormatter(logging.Formatter):
    """Log times in UTC, like everything else we store; staff-facing times are converted."""

    converter = time.gmtime  # type: ignore[assignment]


class RequestIdLogFilter(logging.Filter):
    """Stamps every log record with the id of the request being served ("-" outside one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get()
        return True


class RequestIdMiddleware:
    """Gives each request an id, returned as ``X-Request-Id``, so a 5xx can be traced in logs
    without logging the request body."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _request_id.set(secrets.token_hex(8))
        try:
            response = self.get_response(request)
            response["X-Request-Id"] = _request_id.get()
            if response.status_code >= 500 and not getattr(response, "_has_been_logged", False):  # noqa: PLR2004
                # Logged here, while the request id is still set; Django would log it later
                # without one. Path and status only: never the body.
                logger.error(
                    "%s %s answered %s", request.method, request.path, response.status_code
                )
                response._has_been_logged = True  # type: ignore[attr-defined]
            return response
        finally:
            _request_id.reset(token)


def database_unavailable_response() -> JsonResponse:
    """The contract's answer when a submission cannot be stored: 503 with Retry-After."""
    response = JsonResponse(
        {"detail": "The service is temporarily unable to store requests. Please retry shortly."},
        status=503,
    )
    response["Retry-After"] = str(DATABASE_RETRY_AFTER_SECONDS)
    return response


def is_database_unavailable(exc: BaseException) -> bool:
    """True for errors that mean "the database cannot be reached or is locked", not a bug."""
    return isinstance(exc, (OperationalError, InterfaceError)) or (
        isinstance(exc, DatabaseError) and "locked" in str(exc).lower()
    )


class DatabaseUnavailableMiddleware:
    """Outside DRF views (admin, health pages) a lost database is a 503, not a 500."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if is_database_unavailable(exception):
            logger.warning("database unavailable: %s", type(exception).__name__)
            return database_unavailable_response()
        return None
