"""People who wrote in, what they sent us, what they agreed to, and where they came from.

PHI (dates of birth, member and group numbers, policy-holder fields, the patient's name when it is
not the submitter, free text) lives only in encrypted fields. Contact and triage fields are plain
and indexed, because staff search and sort by them.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from apps.privacy.fields import EncryptedDateField, EncryptedTextField


class Person(models.Model):
    """One human, found again by normalized email or E.164 phone. Contact fields only."""

    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100, blank=True)
    # NULL, not "": the unique constraints below must ignore people without one.
    email = models.CharField(max_length=254, null=True, blank=True)  # noqa: DJ001
    phone = models.CharField(max_length=20, null=True, blank=True, help_text="E.164")  # noqa: DJ001
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    last_submission_at = models.DateTimeField(null=True, blank=True)

    # The latest consent per channel decides (the history is in Consent); kept here so that
    # follow-ups and exports read one row instead of scanning the history.
    consent_email = models.BooleanField(default=False)
    consent_email_at = models.DateTimeField(null=True, blank=True)
    consent_sms = models.BooleanField(default=False)
    consent_sms_at = models.DateTimeField(null=True, blank=True)
    consent_calls = models.BooleanField(default=False)
    consent_calls_at = models.DateTimeField(null=True, blank=True)

    do_not_contact = models.BooleanField(default=False)
    # 42 CFR Part 2: staff can exclude a person from every export whatever they consented to.
    part2_restricted = models.BooleanField(default=False)
    # True once the person has asked about treatment (contact or verification), not only a book.
    is_inquiry = models.BooleanField(default=False)

    # First and latest touch (attribution summary; each submission keeps its full attribution).
    first_touch_at = models.DateTimeField(null=True, blank=True)
    first_utm_source = models.CharField(max_length=255, blank=True)
    first_utm_medium = models.CharField(max_length=255, blank=True)
    first_utm_campaign = models.CharField(max_length=255, blank=True)
    latest_touch_at = models.DateTimeField(null=True, blank=True)
    latest_utm_source = models.CharField(max_length=255, blank=True)
    latest_utm_medium = models.CharField(max_length=255, blank=True)
    latest_utm_campaign = models.CharField(max_length=255, blank=True)

    class Meta:
        verbose_name_plural = "people"
        constraints = [
            # Uniqueness makes find-or-create safe under concurrent posts: the loser retries
            # and finds the winner's row.
            models.UniqueConstraint(
                fields=["email"], condition=Q(email__isnull=False), name="person_email_unique"
            ),
            models.UniqueConstraint(
                fields=["phone"], condition=Q(phone__isnull=False), name="person_phone_unique"
            ),
            models.CheckConstraint(
                condition=Q(email__isnull=False) | Q(phone__isnull=False),
                name="person_has_email_or_phone",
            ),
        ]
        indexes = [
            # Marketing exports (apps.marketing.selectors): marketable people per channel, by
            # consent time (date ranges and incremental list syncs).
            models.Index(
                fields=["consent_email_at"],
                name="person_marketable_email",
                condition=Q(consent_email=True, do_not_contact=False, part2_restricted=False),
            ),
            models.Index(
                fields=["consent_sms_at"],
                name="person_marketable_sms",
                condition=Q(consent_sms=True, do_not_contact=False, part2_restricted=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


# Open, non-spam submissions: what the admissions queue lists.
OPEN_QUEUE = Q(status__in=["new", "contacted", "verifying"], is_spam=False)


class Submission(models.Model):
    """One form post: a contact request, a verification-of-benefits request or a book signup."""

    class Kind(models.TextChoices):
        CONTACT = "contact", "Contact request"
        VERIFICATION = "verification", "Insurance verification"
        BOOK = "book", "Book signup"

    class Status(models.TextChoices):
        NEW = "new", "New"
        CONTACTED = "contacted", "Contacted"
        VERIFYING = "verifying", "Verifying"
        VERIFIED_IN_NETWORK = "verified_in_network", "Verified in network"
        VERIFIED_OUT_OF_NETWORK = "verified_out_of_network", "Verified out of network"
        NO_COVERAGE = "no_coverage", "No coverage"
        ADMITTED = "admitted", "Admitted"
        NOT_ADMITTED = "not_admitted", "Not admitted"
        LOST = "lost", "Lost"

    class Urgency(models.TextChoices):
        ROUTINE = "routine", "Routine"
        URGENT = "urgent", "Urgent"

    class SeekingFor(models.TextChoices):
        SELF = "self", "Self"
        LOVED_ONE = "loved_one", "A loved one"

    class PreferredContact(models.TextChoices):
        PHONE = "phone", "Phone"
        TEXT = "text", "Text"
        EMAIL = "email", "Email"

    class TreatmentInterest(models.TextChoices):
        SUBSTANCE_USE = "substance_use", "Substance use"
        ALCOHOL = "alcohol", "Alcohol"
        MENTAL_HEALTH = "mental_health", "Mental health"
        DUAL_DIAGNOSIS = "dual_diagnosis", "Dual diagnosis"
        KETAMINE_THERAPY = "ketamine_therapy", "Ketamine therapy"
        OTHER = "other", "Other"

    class Relationship(models.TextChoices):
        SELF = "self", "Self"
        SPOUSE = "spouse", "Spouse"
        PARENT = "parent", "Parent"
        CHILD = "child", "Child"
        OTHER = "other", "Other"

    class SpamReason(models.TextChoices):
        NONE = "", "Not spam"
        HONEYPOT = "honeypot", "Honeypot filled"
        TOO_FAST = "too_fast", "Submitted faster than a human could"

    OPEN_STATUSES = (Status.NEW, Status.CONTACTED, Status.VERIFYING)

    reference = models.CharField(max_length=9, unique=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="submissions")
    received_at = models.DateTimeField()

    status = models.CharField(max_length=32, choices=Status.choices, default=Status.NEW)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    urgency = models.CharField(max_length=16, choices=Urgency.choices, default=Urgency.ROUTINE)
    # Which kinds of crisis language were seen ("suicide", "overdose", "self_harm"); never the text.
    crisis_signals = models.JSONField(default=list, blank=True)
    is_spam = models.BooleanField(default=False)
    spam_reason = models.CharField(
        max_length=16, choices=SpamReason.choices, default=SpamReason.NONE, blank=True
    )

    # Contact details as this form gave them (the person row keeps the first ones seen).
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100, blank=True)
    email = models.CharField(max_length=254, blank=True)
    phone = models.CharField(max_length=20, blank=True)
    preferred_contact = models.CharField(max_length=8, choices=PreferredContact.choices, blank=True)
    best_time = EncryptedTextField(blank=True)
    message = EncryptedTextField(blank=True)

    # Verification of benefits.
    seeking_treatment_for = models.CharField(
        max_length=16, choices=SeekingFor.choices, default=SeekingFor.SELF
    )
    patient_first_name = EncryptedTextField(blank=True)
    patient_last_name = EncryptedTextField(blank=True)
    date_of_birth = EncryptedDateField(null=True, blank=True)
    insurance_provider_text = models.CharField(
        max_length=255, blank=True, help_text="What the person typed or picked, as sent."
    )
    payer = models.ForeignKey(
        "payers.Payer", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    payer_match_score = models.FloatField(null=True, blank=True)
    member_id = EncryptedTextField(blank=True)
    # Keyed hash of member ID + payer: finds repeat verifications without decrypting.
    member_id_index = models.CharField(max_length=64, blank=True, db_index=True)
    group_number = EncryptedTextField(blank=True)
    policy_holder_name = EncryptedTextField(blank=True)
    policy_holder_dob = EncryptedDateField(null=True, blank=True)
    relationship_to_policy_holder = EncryptedTextField(blank=True)
    state = models.CharField(max_length=2, blank=True)
    treatment_interest = models.CharField(
        max_length=32, choices=TreatmentInterest.choices, blank=True
    )

    # Attribution, as the form sent it.
    page_url = models.URLField(max_length=2048, blank=True)
    referrer = models.URLField(max_length=2048, blank=True)
    utm_source = models.CharField(max_length=255, blank=True)
    utm_medium = models.CharField(max_length=255, blank=True)
    utm_campaign = models.CharField(max_length=255, blank=True)
    utm_term = models.CharField(max_length=255, blank=True)
    utm_content = models.CharField(max_length=255, blank=True)
    gclid = models.CharField(max_length=255, blank=True)
    fbclid = models.CharField(max_length=255, blank=True)

    # Provenance of the post itself.
    source_ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)

    # Triage.
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_submissions",
    )
    sla_due_at = models.DateTimeField(null=True, blank=True)
    first_touched_at = models.DateTimeField(null=True, blank=True)
    last_touched_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at"]
        indexes = [
            models.Index(fields=["-received_at"], name="submission_received"),
            models.Index(fields=["person", "-received_at"], name="submission_person"),
            # The staff queue: open, not spam, urgent first, then by SLA due time.
            models.Index(
                fields=["urgency", "sla_due_at"],
                name="submission_open_queue",
                condition=Q(status__in=["new", "contacted", "verifying"], is_spam=False),
            ),
            models.Index(fields=["payer", "status"], name="submission_payer_status"),
            # The payer mapping queue: typed names the matcher could not resolve.
            models.Index(
                fields=["insurance_provider_text"],
                name="submission_needs_payer",
                condition=Q(payer__isnull=True, kind="verification"),
            ),
            # The triage admin (apps.admissions.admin): one index per filter of the open queue,
            # each in the queue's order, so a page reads 100 index entries whatever the table size.
            models.Index(
                F("urgency").desc(),
                "sla_due_at",
                F("id").desc(),
                name="submission_queue_order",
                condition=OPEN_QUEUE,
            ),
            models.Index(
                "payer",
                F("urgency").desc(),
                "sla_due_at",
                F("id").desc(),
                name="submission_queue_payer",
                condition=OPEN_QUEUE,
            ),
            models.Index(
                "assignee",
                F("urgency").desc(),
                "sla_due_at",
                F("id").desc(),
                name="submission_queue_assignee",
                condition=OPEN_QUEUE,
            ),
            # Closed and "all" views list newest first, per status or across them.
            models.Index(
                "status", F("received_at").desc(), F("id").desc(), name="submission_status_recent"
            ),
            models.Index(F("received_at").desc(), F("id").desc(), name="submission_recent"),
            # Search: exact or prefix on the normalized contact columns (LIKE 'x%' needs the
            # pattern operator class on PostgreSQL; other databases ignore it). Names get
            # UPPER(...) text_pattern_ops indexes on PostgreSQL in migration 0003.
            models.Index(
                fields=["reference"],
                opclasses=["varchar_pattern_ops"],
                name="submission_reference_prefix",
            ),
            models.Index(
                fields=["email"], opclasses=["varchar_pattern_ops"], name="submission_email_prefix"
            ),
            models.Index(
                fields=["phone"], opclasses=["varchar_pattern_ops"], name="submission_phone_prefix"
            ),
        ]
        permissions = [
            ("reveal_phi", "Can reveal PHI (audited)"),
            ("assign_submission", "Can assign submissions to staff"),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def needs_payer_mapping(self) -> bool:
        return self.kind == self.Kind.VERIFICATION and self.payer_id is None


class ConsentWording(models.Model):
    """The exact text shown beside the consent boxes, stored once and named by its SHA-256,
    so each consent proves which words the person saw."""

    sha256 = models.CharField(max_length=64, primary_key=True)
    text = models.TextField()
    first_seen_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.sha256[:12]


class Consent(models.Model):
    """Evidence of what a person agreed to (or withdrew), per channel. Never edited: a change of
    mind is a new row.

    A box left unticked on a form is recorded (``withheld``: we can show the person was asked and
    did not agree) but does not undo an earlier grant: HTML forms cannot tell "unticked" from
    "not on this form", and withdrawing consent is an act of its own (``revoked``: unsubscribe,
    STOP, staff hearing it on the phone). The latest grant or revocation per channel decides.
    """

    class Action(models.TextChoices):
        GRANTED = "granted", "Granted"
        WITHHELD = "withheld", "Not given (box left unticked)"
        REVOKED = "revoked", "Revoked"

    class Channel(models.TextChoices):
        EMAIL = "email", "Email"
        SMS = "sms", "Text messages"
        CALLS = "calls", "Phone calls"

    class Source(models.TextChoices):
        WEB_FORM = "web_form", "Website form"
        STAFF = "staff", "Recorded by staff"
        SMS_REPLY = "sms_reply", "Text reply"
        UNSUBSCRIBE_LINK = "unsubscribe_link", "Unsubscribe link"

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="consents")
    submission = models.ForeignKey(
        Submission, null=True, blank=True, on_delete=models.PROTECT, related_name="consents"
    )
    channel = models.CharField(max_length=8, choices=Channel.choices)
    action = models.CharField(max_length=8, choices=Action.choices)
    source = models.CharField(max_length=24, choices=Source.choices)
    wording = models.ForeignKey(
        ConsentWording, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField()
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)
    page_url = models.URLField(max_length=2048, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        indexes = [
            models.Index(fields=["person", "channel", "-recorded_at"], name="consent_latest"),
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.action} {self.recorded_at:%Y-%m-%d %H:%M}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding:
            raise ValueError("Consent is evidence and is never edited; record a new consent.")
        super().save(*args, **kwargs)


class CardImage(models.Model):
    """A photo or scan of an insurance card, stored encrypted in the ``phi`` storage."""

    class Side(models.TextChoices):
        FRONT = "front", "Front"
        BACK = "back", "Back"

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="card_images")
    side = models.CharField(max_length=8, choices=Side.choices)
    storage_name = models.CharField(max_length=255, unique=True)
    content_type = models.CharField(max_length=64)
    size_bytes = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["submission", "side"], name="card_image_one_per_side")
        ]

    def __str__(self) -> str:
        return f"{self.submission_id} {self.side}"
