"""Domain errors of the payer directory (mapped to answers by the project's one handler)."""

from __future__ import annotations

from rest_framework import status

from asana_leads.exceptions import ApplicationError


class PayerAliasInvalidError(ApplicationError):
    """The alias is empty once normalized, or its source is not one we know."""

    status_code = status.HTTP_400_BAD_REQUEST


class PayerAliasConflictError(ApplicationError):
    """The name already resolves to another payer: remove that alias first, deliberately."""

    status_code = status.HTTP_409_CONFLICT
