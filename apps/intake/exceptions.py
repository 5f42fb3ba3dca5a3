"""Errors of the public intake API."""

from __future__ import annotations

from asana_leads.exceptions import ApplicationError


class IdempotencyKeyReused(ApplicationError):
    """The same Idempotency-Key arrived with a different body (contract: 422)."""

    status_code = 422


class InvalidIdempotencyKey(ApplicationError):
    """The Idempotency-Key header is empty or longer than 255 characters."""

    status_code = 400
