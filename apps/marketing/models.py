"""Marketing exports: where lists go (destinations), each export made (runs, the audit trail of
what left the building), and the tokens list-sync tools use to read them.

An export never stores a contact: the run keeps filters, counts, the file's name and SHA-256.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class ExportDestination(models.Model):
    """Where a list goes (a mail platform, an ads audience). Incremental exports start where the
    last completed export to the same destination stopped."""

    name = models.CharField(max_length=100, unique=True)
    description = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        permissions = [
            ("export_contacts", "Can export marketable contacts"),
            ("view_attribution_report", "Can view the attribution report"),
        ]

    def __str__(self) -> str:
        return self.name


class ExportRun(models.Model):
    """One export: who asked, with which filters, what came out (count, format, SHA-256)."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"
        EXPIRED = "expired", "Expired (file deleted)"
        # A sync the client stopped paging through: no file, and no new incremental cutoff.
        ABANDONED = "abandoned", "Abandoned (sync not finished)"

    class Format(models.TextChoices):
        CSV = "csv", "CSV (UTF-8)"
        XLSX = "xlsx", "Excel (XLSX)"
        API = "api", "Sync API"

    class Via(models.TextChoices):
        ADMIN = "admin", "Admin"
        COMMAND = "command", "Command"
        API = "api", "Sync API"

    # Runs whose contacts went out: the next incremental run starts after their cutoff.
    COMPLETED = (Status.DONE, Status.EXPIRED)

    destination = models.ForeignKey(
        ExportDestination, null=True, blank=True, on_delete=models.PROTECT, related_name="runs"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    token = models.ForeignKey(
        "marketing.ExportToken", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    via = models.CharField(max_length=8, choices=Via.choices)
    channel = models.CharField(max_length=8)
    filters = models.JSONField(default=dict, help_text="The filters as applied (no contact data).")
    include_inquiries = models.BooleanField(default=False)
    # 42 CFR 2.32: an export holding inquiries needs the exporter's acknowledgement of the
    # redisclosure notice; the time is the evidence.
    part2_notice_acknowledged_at = models.DateTimeField(null=True, blank=True)
    format = models.CharField(max_length=8, choices=Format.choices)
    include_bom = models.BooleanField(default=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    # The consent-time window: an incremental run lists (since_at, cutoff_at], a full run
    # everyone up to its time (the filters' "until"). cutoff_at lies EXPORT_SETTLING_SECONDS
    # before the run (consent is stamped when an intake starts, not when it commits), and the
    # next incremental run starts after it.
    cutoff_at = models.DateTimeField()
    since_at = models.DateTimeField(null=True, blank=True)
    rows_expected = models.PositiveIntegerField(null=True, blank=True)
    rows_written = models.PositiveIntegerField(default=0)
    file_name = models.CharField(max_length=255, blank=True)
    size_bytes = models.PositiveBigIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    error = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The sync API's last page: a run idle longer than EXPORT_SYNC_IDLE_MINUTES is abandoned.
    active_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(
                fields=["destination", "channel", "-cutoff_at"],
                name="exportrun_last_completed",
                condition=Q(status__in=["done", "expired"]),
            ),
            models.Index(
                fields=["expires_at"], name="exportrun_files_to_expire", condition=Q(status="done")
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(include_inquiries=False)
                | Q(part2_notice_acknowledged_at__isnull=False),
                name="exportrun_inquiries_acknowledged",
            )
        ]

    def __str__(self) -> str:
        return f"export {self.pk} ({self.channel}, {self.format}, {self.status})"


class ExportToken(models.Model):
    """A read-only key for the sync API, scoped to exports of one destination. Only its SHA-256
    is stored: the token itself is shown once, when it is created."""

    name = models.CharField(max_length=100)
    destination = models.ForeignKey(
        ExportDestination, on_delete=models.PROTECT, related_name="tokens"
    )
    key_prefix = models.CharField(max_length=12, help_text="First characters, to recognise it.")
    key_sha256 = models.CharField(max_length=64, unique=True)
    include_inquiries = models.BooleanField(
        default=False,
        help_text="Also list inquiries who consented (42 CFR Part 2: needs the acknowledgement).",
    )
    part2_notice_acknowledged_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(include_inquiries=False)
                | Q(part2_notice_acknowledged_at__isnull=False),
                name="exporttoken_inquiries_acknowledged",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.key_prefix}…)"
