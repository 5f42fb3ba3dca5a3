"""The payer directory: who pays for treatment, whether we are in network, and the names people
type for them."""

from __future__ import annotations

import uuid

from django.db import models

# The dropdown's "no insurance" entry: listed last, never "in network".
SELF_PAY_SLUG = "self-pay"


class Payer(models.Model):
    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    in_network = models.BooleanField(default=False)
    active = models.BooleanField(default=True, help_text="Inactive payers leave the dropdown.")
    # Free text from the directory ("known as"): kept for staff, the matcher reads aliases.
    known_as = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-in_network", "name"]

    def __str__(self) -> str:
        return self.name


class PayerAlias(models.Model):
    """A name that resolves to a payer. ``normalized`` is what the matcher compares."""

    class Source(models.TextChoices):
        DIRECTORY = "directory", "Payer directory"
        STAFF = "staff", "Mapped by staff"

    payer = models.ForeignKey(Payer, on_delete=models.CASCADE, related_name="aliases")
    alias = models.CharField(max_length=255)
    normalized = models.CharField(max_length=255, unique=True)
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.DIRECTORY)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name_plural = "payer aliases"
        ordering = ["payer__name", "alias"]

    def __str__(self) -> str:
        return f"{self.alias} → {self.payer.slug}"


class PayerDirectoryRevision(models.Model):
    """One row whose token changes with every write to payers or aliases.

    The matcher caches its compiled index under this token (``selectors.payer_match``), so every
    web and worker process sees a staff alias at once for the price of one primary-key SELECT. A
    random token rather than a counter: a rolled-back change must not leave behind a cache entry
    under a number the next change will reuse.
    """

    SINGLETON_ID = 1

    token = models.UUIDField(default=uuid.uuid4)
    changed_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(id=1), name="payer_directory_revision_singleton"
            ),
        ]

    def __str__(self) -> str:
        return str(self.token)
