"""Downloads of the free book, one row per fetch of a signed link.

No IP address is kept: a count per signup answers "did they open it?", and an IP tied to a
named signup at a treatment center is personal data we do not need (the signup already records
the IP it was posted from). The user agent, trimmed, is enough to tell a person's browser from a
mail scanner that pre-fetches links.
"""

from __future__ import annotations

from django.db import models

USER_AGENT_MAX_CHARS = 255


class BookDownload(models.Model):
    submission = models.ForeignKey(
        "leads.Submission",
        on_delete=models.CASCADE,
        related_name="book_downloads",
        db_index=False,  # the composite index below leads with it
    )
    downloaded_at = models.DateTimeField()
    user_agent = models.CharField(max_length=USER_AGENT_MAX_CHARS, blank=True)

    class Meta:
        ordering = ["-downloaded_at"]
        indexes = [
            # book_download_count(submission_id=...) and the submission's downloads.
            models.Index(fields=["submission", "downloaded_at"], name="book_download_submission"),
            # The admin's counts per day.
            models.Index(fields=["downloaded_at"], name="book_download_day"),
        ]

    def __str__(self) -> str:
        return f"{self.submission_id} at {self.downloaded_at:%Y-%m-%d %H:%M}"
