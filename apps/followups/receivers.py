"""Where follow-ups plug into intake's seam (``apps.intake.signals.submission_stored``)."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from apps.intake.signals import submission_stored
from apps.leads.signals import submission_touched


@receiver(submission_stored, dispatch_uid="followups.plan")
def plan_followups(sender: object, *, submission_id: int, **kwargs: Any) -> None:
    """Plan the submission's messages inside its transaction."""
    from apps.followups.services import followups_plan

    followups_plan(submission_id=submission_id, submission=kwargs.get("submission"))


@receiver(submission_touched, dispatch_uid="followups.cancel_escalations")
def cancel_escalations(sender: object, *, submission_id: int, **kwargs: Any) -> None:
    """A touched lead needs no escalation."""
    from apps.followups.services import escalations_cancel

    escalations_cancel(submission_id=submission_id)
