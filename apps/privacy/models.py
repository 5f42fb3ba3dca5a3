"""The audit log: who looked at or changed what, append-only and hash-chained.

Rows are written only by ``apps.privacy.services.audit_record``. Every ordinary ORM path that
would change or remove one raises; on PostgreSQL a trigger refuses UPDATE, DELETE and TRUNCATE
as well, so a raw SQL statement from the application cannot rewrite history either. Each row
carries the hash of the row before it: ``manage.py verify_audit_log`` recomputes the chain and
names the first row that does not fit.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, NoReturn

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models


class AuditLogImmutableError(Exception):
    """An attempt to change or remove an audit row."""


def _refuse(*_args: Any, **_kwargs: Any) -> NoReturn:
    raise AuditLogImmutableError("The audit log is append-only: rows are never changed or removed.")


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: Any) -> int:
        _refuse()

    def delete(self) -> tuple[int, dict[str, int]]:
        _refuse()

    def bulk_update(self, *args: Any, **kwargs: Any) -> int:
        _refuse()

    def bulk_create(self, *args: Any, **kwargs: Any) -> list[AuditEvent]:
        # Bulk inserts would skip the chain: one row at a time through audit_record.
        _refuse()

    def update_or_create(self, *args: Any, **kwargs: Any) -> tuple[AuditEvent, bool]:
        _refuse()


class AuditEvent(models.Model):
    class Action(models.TextChoices):
        PHI_REVEAL = "phi_reveal", "PHI revealed"
        PHI_VIEW = "phi_view", "PHI viewed"
        CARD_IMAGE_DOWNLOAD = "card_image_download", "Card image downloaded"
        EXPORT = "export", "Export"
        EXPORT_DOWNLOAD = "export_download", "Export file downloaded"
        PERMISSION_CHANGE = "permission_change", "Permission change"
        LOGIN = "login", "Login"
        LOGIN_FAILED = "login_failed", "Failed login"
        DEVICE_RESET = "device_reset", "Two-factor device reset"
        DEVICE_ENROLLED = "device_enrolled", "Two-factor device enrolled"
        AUDIT_EXPORT = "audit_export", "Audit log export"

    occurred_at = models.DateTimeField(db_index=True)
    # PROTECT: a user with audit history is deactivated, never deleted, so "who" stays answerable.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="audit_events",
        help_text="Empty when the system acted (a command, a worker).",
    )
    actor_username = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=32, choices=Action.choices)
    target_type = models.ForeignKey(
        ContentType, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    target_id = models.CharField(max_length=64, blank=True)
    # Never PHI: a submission reference, a username, a payer name.
    target_label = models.CharField(max_length=200, blank=True)
    fields = models.JSONField(default=list, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)
    reason = models.TextField(blank=True)
    details = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64, blank=True)
    hash = models.CharField(max_length=64, unique=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ("-id",)
        indexes = [
            models.Index(fields=["action", "-occurred_at"], name="privacy_audit_action_time"),
            models.Index(fields=["actor", "-occurred_at"], name="privacy_audit_actor_time"),
            models.Index(fields=["target_type", "target_id"], name="privacy_audit_target"),
            models.Index(fields=["target_label"], name="privacy_audit_target_label"),
        ]

    def __str__(self) -> str:
        who = self.actor_username or "system"
        return f"{self.occurred_at:%Y-%m-%d %H:%M:%S} {who} {self.action} {self.target_label}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            _refuse()
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        _refuse()

    def canonical_payload(self) -> str:
        """The row's content as canonical JSON: what its hash covers (everything but the hashes
        and the id, which the chain's order already pins)."""
        target_type = ""
        if self.target_type_id is not None:
            content_type = ContentType.objects.get_for_id(self.target_type_id)
            target_type = f"{content_type.app_label}.{content_type.model}"
        payload = {
            "occurred_at": self.occurred_at.isoformat(timespec="microseconds"),
            "actor_id": self.actor_id,
            "actor_username": self.actor_username,
            "action": self.action,
            "target_type": target_type,
            "target_id": self.target_id,
            "target_label": self.target_label,
            "fields": list(self.fields),
            "ip_address": self.ip_address or "",
            "user_agent": self.user_agent,
            "reason": self.reason,
            "details": self.details,
        }
        return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)

    def compute_hash(self) -> str:
        """sha256 over the previous row's hash and this row's canonical JSON."""
        data = (self.prev_hash + "\n" + self.canonical_payload()).encode()
        return hashlib.sha256(data).hexdigest()
