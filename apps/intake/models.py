"""What the public API remembers about requests themselves (not about people)."""

from __future__ import annotations

from django.db import models


class IdempotencyKey(models.Model):
    """A client's ``Idempotency-Key``: a retry with the same body replays the first answer;
    the same key with another body is refused (422)."""

    endpoint = models.CharField(max_length=64)
    key = models.CharField(max_length=255)
    request_fingerprint = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField()
    # The 201 body: reference, received_at, next_steps, crisis_resources. Never PHI.
    response_body = models.JSONField()
    submission = models.ForeignKey(
        "leads.Submission", null=True, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "key"], name="idempotency_key_unique")
        ]

    def __str__(self) -> str:
        return f"{self.endpoint} {self.key[:16]}"
