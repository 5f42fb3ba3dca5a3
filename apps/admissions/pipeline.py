"""The lead pipeline: which status may follow which. The one table every change is checked
against (``services.lead_status_change``)."""

from __future__ import annotations

from apps.leads.models import Submission

Status = Submission.Status

VERIFIED = (Status.VERIFIED_IN_NETWORK, Status.VERIFIED_OUT_OF_NETWORK, Status.NO_COVERAGE)
CLOSED_NEGATIVE = (Status.NOT_ADMITTED, Status.LOST)

TRANSITIONS: dict[str, frozenset[str]] = {
    Status.NEW: frozenset({Status.CONTACTED, Status.VERIFYING, *VERIFIED, *CLOSED_NEGATIVE}),
    Status.CONTACTED: frozenset({Status.VERIFYING, *VERIFIED, Status.ADMITTED, *CLOSED_NEGATIVE}),
    Status.VERIFYING: frozenset({Status.CONTACTED, *VERIFIED, *CLOSED_NEGATIVE}),
    # A verified lead may be verified again (the payer corrected itself, a new plan year).
    Status.VERIFIED_IN_NETWORK: frozenset(
        {Status.VERIFYING, *VERIFIED, Status.ADMITTED, *CLOSED_NEGATIVE}
    ),
    Status.VERIFIED_OUT_OF_NETWORK: frozenset(
        {Status.VERIFYING, *VERIFIED, Status.ADMITTED, *CLOSED_NEGATIVE}
    ),
    # No coverage is not the end: self-pay and single-case agreements still admit people.
    Status.NO_COVERAGE: frozenset({Status.VERIFYING, *VERIFIED, Status.ADMITTED, *CLOSED_NEGATIVE}),
    Status.ADMITTED: frozenset(),
    # A person who comes back after being closed is worked again from "contacted".
    Status.NOT_ADMITTED: frozenset({Status.CONTACTED}),
    Status.LOST: frozenset({Status.CONTACTED}),
}

REASON_REQUIRED: frozenset[str] = frozenset(CLOSED_NEGATIVE)


def transitions_from(status: str) -> list[str]:
    """The statuses a lead in ``status`` may move to, in the pipeline's order."""
    allowed = TRANSITIONS.get(status, frozenset())
    return [value for value in Status.values if value in allowed and value != status]
