"""Domain errors of the admissions team's work (no PHI in any message)."""

from __future__ import annotations

from rest_framework import status

from asana_leads.exceptions import ApplicationError


class PipelineTransitionError(ApplicationError):
    """The pipeline does not go from the lead's status to the one asked for."""

    status_code = status.HTTP_409_CONFLICT


class ReasonRequiredError(ApplicationError):
    """Closing a lead as lost or not admitted needs a reason."""

    status_code = status.HTTP_400_BAD_REQUEST


class LeadChangedError(ApplicationError):
    """Someone else changed the lead meanwhile; reload and decide again."""

    status_code = status.HTTP_409_CONFLICT


class AssignmentNotAllowedError(ApplicationError):
    """Only a manager (``leads.assign_submission``) gives leads to others or takes them over."""

    status_code = status.HTTP_403_FORBIDDEN


class PhiRevealNotAllowedError(ApplicationError):
    """Only roles with ``leads.reveal_phi`` see health information in clear."""

    status_code = status.HTTP_403_FORBIDDEN


class VerificationInvalidError(ApplicationError):
    """A verification result field is out of range or unknown."""

    status_code = status.HTTP_400_BAD_REQUEST
