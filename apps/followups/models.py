"""Follow-ups: the outbox of messages to send, the sequences that plan them, and who must never
be contacted.

The database is the source of truth for what must be sent; the broker only says "look now".
A message is planned as an ``OutboxMessage`` row in the submission's transaction, claimed by a
worker with a conditional UPDATE, sent outside any transaction, and marked sent exactly once.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from apps.privacy.fields import EncryptedTextField


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    SMS = "sms", "Text message"
    WEBHOOK = "webhook", "Chat webhook"


class Sequence(models.Model):
    """Which messages a form's submissions get, after which delays, on which channel.

    Seeded by a migration, editable in admin. Staff alerts and escalations are not sequences:
    they follow from the settings (routes, SLAs), not from marketing choices.
    """

    name = models.CharField(max_length=100, unique=True)
    submission_kind = models.CharField(
        max_length=16, help_text="contact, verification or book", db_index=True
    )
    active = models.BooleanField(default=True)
    description = models.TextField(blank=True)

    def __str__(self) -> str:
        return self.name


class SequenceStep(models.Model):
    class Purpose(models.TextChoices):
        CONFIRMATION = "confirmation", "Confirmation (a direct reply to what they asked)"
        BOOK_DELIVERY = "book_delivery", "Book delivery"
        DRIP = "drip", "Drip (marketing: needs consent)"

    sequence = models.ForeignKey(Sequence, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField()
    delay_minutes = models.PositiveIntegerField(default=0)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    purpose = models.CharField(max_length=16, choices=Purpose.choices)
    template = models.CharField(
        max_length=100, help_text="Template base name under templates/followups/"
    )
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["sequence", "position"]
        constraints = [
            models.UniqueConstraint(fields=["sequence", "position"], name="step_position_unique")
        ]

    def __str__(self) -> str:
        return f"{self.sequence.name} #{self.position} {self.template}"


class OutboxMessage(models.Model):
    """One message to send. Holds references, never PHI: the text is rendered at send time."""

    class Topic(models.TextChoices):
        STAFF_ALERT = "staff_alert", "Staff alert"
        ESCALATION = "escalation", "Escalation"
        CONFIRMATION = "confirmation", "Confirmation"
        BOOK_DELIVERY = "book_delivery", "Book delivery"
        DRIP = "drip", "Drip"
        SMS_REPLY = "sms_reply", "Reply to an inbound text"

    class Recipient(models.TextChoices):
        PERSON = "person", "The person who wrote"
        ADMISSIONS_INBOX = "admissions_inbox", "Admissions inbox"
        ON_CALL_SMS = "on_call_sms", "On-call phone"
        CHAT_WEBHOOK = "chat_webhook", "Chat webhook"
        MANAGER = "manager", "Manager route"
        ADDRESS = "address", "A given address"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"
        SKIPPED = "skipped", "Skipped (no consent, suppressed or unsubscribed)"

    class Queue(models.TextChoices):
        ALERTS = "alerts", "alerts"
        FOLLOWUPS = "followups", "followups"
        DEFAULT = "default", "default"

    topic = models.CharField(max_length=16, choices=Topic.choices)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    queue = models.CharField(max_length=16, choices=Queue.choices, default=Queue.FOLLOWUPS)
    recipient = models.CharField(max_length=20, choices=Recipient.choices)
    # Only for Recipient.ADDRESS (an SMS reply to a number): E.164 or email, never PHI.
    address = models.CharField(max_length=254, blank=True)
    template = models.CharField(max_length=100)
    submission = models.ForeignKey(
        "leads.Submission", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    person = models.ForeignKey(
        "leads.Person", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    step = models.ForeignKey(
        SequenceStep, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Plans the same message once: a re-delivered announcement cannot plan it twice.
    dedupe_key = models.CharField(max_length=200, unique=True)

    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    due_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    max_attempts = models.PositiveSmallIntegerField(default=6)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    # When the row was last given to the broker; the sweep re-hands rows the broker lost.
    handed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    skip_reason = models.CharField(max_length=100, blank=True)
    provider_message_id = models.CharField(max_length=255, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # The sweep: pending rows whose time has come.
            models.Index(
                fields=["due_at"], name="outbox_pending_due", condition=Q(status="pending")
            ),
            # The relay's poll, ten times a second: due rows nobody has handed over yet. Apart
            # from outbox_pending_due so that a drained-but-unsent backlog (handed over, still
            # pending) is not walked on every poll.
            models.Index(
                fields=["due_at"],
                name="outbox_unhanded_due",
                condition=Q(status="pending", handed_at__isnull=True),
            ),
            # Lease recovery: claims that outlived their worker.
            models.Index(
                fields=["lease_expires_at"],
                name="outbox_sending_lease",
                condition=Q(status="sending"),
            ),
            models.Index(fields=["submission", "topic"], name="outbox_submission_topic"),
            models.Index(fields=["status", "-updated_at"], name="outbox_status"),
        ]

    def __str__(self) -> str:
        return f"{self.topic} via {self.channel} ({self.status})"


class OutboxAttempt(models.Model):
    """One try at sending a message, written after the try, whatever its outcome."""

    class Outcome(models.TextChoices):
        SENT = "sent", "Sent"
        TRANSIENT = "transient", "Transient failure (will retry)"
        PERMANENT = "permanent", "Permanent failure"
        SKIPPED = "skipped", "Skipped at send time"

    message = models.ForeignKey(OutboxMessage, on_delete=models.CASCADE, related_name="tries")
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField()
    outcome = models.CharField(max_length=12, choices=Outcome.choices)
    error = models.CharField(max_length=500, blank=True)
    provider_message_id = models.CharField(max_length=255, blank=True)
    worker = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["message", "started_at"]

    def __str__(self) -> str:
        return f"{self.message_id} {self.outcome}"


class Suppression(models.Model):
    """An email address or phone number that must never be contacted (checked at send time)."""

    class Kind(models.TextChoices):
        EMAIL = "email", "Email"
        PHONE = "phone", "Phone"

    class Reason(models.TextChoices):
        UNSUBSCRIBE = "unsubscribe", "Unsubscribed"
        SMS_STOP = "sms_stop", "Replied STOP"
        REVOKED = "revoked", "Revoked consent"
        IMPORTED = "imported", "Imported list"
        STAFF = "staff", "Added by staff"
        BOUNCE = "bounce", "Hard bounce"

    kind = models.CharField(max_length=8, choices=Kind.choices)
    value = models.CharField(max_length=254, help_text="Normalized email or E.164 phone")
    reason = models.CharField(max_length=16, choices=Reason.choices)
    source = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "value"], name="suppression_unique")]

    def __str__(self) -> str:
        return f"{self.kind} suppressed ({self.reason})"


class InboundText(models.Model):
    """A text message someone sent us (STOP, HELP, free text). The body may hold health
    information, so it is stored encrypted."""

    from_phone = models.CharField(max_length=20, db_index=True)
    body = EncryptedTextField(blank=True)
    provider_message_id = models.CharField(max_length=64, unique=True)
    action = models.CharField(max_length=16, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"text from {self.from_phone[:-4]}•••• ({self.action or 'none'})"
