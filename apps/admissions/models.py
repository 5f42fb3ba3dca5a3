"""The admissions team's work on a lead: notes, calls, status changes, verification of benefits,
and the payer teams that share a payer's leads.

Rows here are history: a note, a call or a status change is never edited, so the timeline on the
lead page is what happened. Verification details are health information and are stored encrypted.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models

from apps.privacy.fields import EncryptedTextField


class _History(models.Model):
    """A row of the lead's timeline: written once, never edited."""

    submission = models.ForeignKey("leads.Submission", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ValueError(f"{type(self).__name__} is history and is never edited.")
        super().save(*args, **kwargs)


class Note(_History):
    """What a coordinator wrote about the lead. Free text about a patient: encrypted."""

    text = EncryptedTextField()

    class Meta:
        indexes = [models.Index(fields=["submission", "-created_at"], name="note_submission")]

    def __str__(self) -> str:
        return f"note {self.pk}"


class CallLog(_History):
    """One phone call about the lead, with how it ended and how long it took."""

    class Outcome(models.TextChoices):
        REACHED = "reached", "Reached the person"
        VOICEMAIL = "voicemail", "Left a voicemail"
        NO_ANSWER = "no_answer", "No answer"
        WRONG_NUMBER = "wrong_number", "Wrong number"
        CALLBACK_REQUESTED = "callback_requested", "Asked to be called back"
        PAYER = "payer", "Called the payer"

    class Direction(models.TextChoices):
        OUTBOUND = "outbound", "Outbound"
        INBOUND = "inbound", "Inbound"

    outcome = models.CharField(max_length=24, choices=Outcome.choices)
    direction = models.CharField(
        max_length=8, choices=Direction.choices, default=Direction.OUTBOUND
    )
    duration_seconds = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["submission", "-created_at"], name="call_submission")]

    def __str__(self) -> str:
        return f"{self.outcome} ({self.duration_seconds}s)"


class StatusChange(_History):
    """One step of the pipeline: from, to, why (required for lost / not admitted), by, when."""

    from_status = models.CharField(max_length=32)
    to_status = models.CharField(max_length=32)
    # Why a lead was closed; staff write business reasons ("chose another program"), but a
    # reason can name a diagnosis, so it is kept encrypted like every other free text.
    reason = EncryptedTextField(blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["submission", "-created_at"], name="status_change_submission"),
            # The dashboard's conversion and time-to-status figures read recent changes by target.
            models.Index(fields=["to_status", "-created_at"], name="status_change_to"),
        ]

    def __str__(self) -> str:
        return f"{self.from_status} → {self.to_status}"


class VerificationResult(_History):
    """Benefits as the payer told staff on the phone. Every detail is PHI: encrypted.

    Only ``network`` stays plain: it is triage data (which queue, which status), the same fact
    the submission's in-network badge already shows.
    """

    class Network(models.TextChoices):
        IN_NETWORK = "in_network", "In network"
        OUT_OF_NETWORK = "out_of_network", "Out of network"
        NO_COVERAGE = "no_coverage", "No coverage"

    class PlanType(models.TextChoices):
        PPO = "ppo", "PPO"
        HMO = "hmo", "HMO"
        EPO = "epo", "EPO"
        POS = "pos", "POS"
        MEDICAID = "medicaid", "Medicaid"
        MEDICARE = "medicare", "Medicare"
        TRICARE = "tricare", "TRICARE"
        OTHER = "other", "Other"

    LEVELS_OF_CARE = ("detox", "residential", "php", "iop", "outpatient", "ketamine")

    network = models.CharField(max_length=16, choices=Network.choices)
    plan_type = EncryptedTextField(blank=True)
    deductible_met = EncryptedTextField(blank=True)
    deductible_total = EncryptedTextField(blank=True)
    out_of_pocket_met = EncryptedTextField(blank=True)
    out_of_pocket_total = EncryptedTextField(blank=True)
    coinsurance_percent = EncryptedTextField(blank=True)
    preauthorization_required = EncryptedTextField(blank=True)
    # Comma-separated subset of LEVELS_OF_CARE.
    covered_levels_of_care = EncryptedTextField(blank=True)
    payer_call_reference = EncryptedTextField(blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["submission", "-created_at"], name="verification_submission"),
        ]

    def __str__(self) -> str:
        return f"verification {self.pk} ({self.network})"

    @property
    def covered_levels(self) -> list[str]:
        return [level for level in self.covered_levels_of_care.split(",") if level]


class PayerTeam(models.Model):
    """The coordinators who work one payer's leads, for round-robin assignment."""

    payer = models.OneToOneField("payers.Payer", on_delete=models.CASCADE, related_name="+")
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="payer_teams")
    round_robin = models.BooleanField(
        default=True,
        help_text="Managers may assign this payer's leads to the members in turn.",
    )
    # Position in the member list (ordered by user id) of the next member to receive a lead.
    next_position = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"team for payer {self.payer_id}"
