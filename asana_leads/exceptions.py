"""Domain errors and the one DRF exception handler that maps every error to the contract's shape.

Field errors keep DRF's ``{"field": ["..."]}`` shape (``non_field_errors`` for rules across
fields); everything else answers ``{"detail": "..."}``. No message carries PHI.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler

from asana_leads.middleware import (
    DATABASE_RETRY_AFTER_SECONDS,
    is_database_unavailable,
)

logger = logging.getLogger(__name__)


class ApplicationError(Exception):
    """A domain rule was broken; ``status_code`` says how the API answers."""

    status_code: int = status.HTTP_400_BAD_REQUEST

    def __init__(self, message: str, extra: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra or {}


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "payload_too_large"


class ServiceUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "The service is temporarily unable to store requests. Please retry shortly."
    default_code = "service_unavailable"


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Map domain, Django and database errors onto DRF responses in the contract's shapes."""
    if isinstance(exc, ApplicationError):
        body: dict[str, Any] = {"detail": exc.message, **exc.extra}
        return Response(body, status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge()
    elif is_database_unavailable(exc):
        logger.warning("database unavailable: %s", type(exc).__name__)
        response = Response({"detail": ServiceUnavailable.default_detail}, status=503)
        response["Retry-After"] = str(DATABASE_RETRY_AFTER_SECONDS)
        return response
    return exception_handler(exc, context)
