"""An export stopped mid-write (Ctrl-C on the command, a worker shutting down) ends as failed
instead of staying "running" forever."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.utils import timezone

from apps.leads.models import Person, Submission
from apps.marketing.models import ExportRun
from apps.marketing.selectors import ContactFilters
from apps.marketing.services import export_run_create, export_run_write
from apps.marketing.writers import PROGRESS_EVERY

pytestmark = pytest.mark.django_db


def test_an_interrupted_command_export_is_marked_failed(tmp_path: Path) -> None:
    now = timezone.now()
    people = Person.objects.bulk_create(
        Person(
            first_name=f"P{n}", email=f"p{n}@example.org", consent_email=True, consent_email_at=now
        )
        for n in range(PROGRESS_EVERY + 1)
    )
    Submission.objects.bulk_create(
        Submission(reference=f"R{n:08d}", kind="book", person=person, received_at=now)
        for n, person in enumerate(people)
    )
    run = export_run_create(
        filters=ContactFilters(channel="email"), fmt="csv", via=ExportRun.Via.COMMAND, actor=None
    )

    def interrupt(rows: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        export_run_write(run_id=run.pk, out_path=tmp_path / "list.csv", progress=interrupt)

    run.refresh_from_db()
    assert run.status == ExportRun.Status.FAILED
    assert run.error == "KeyboardInterrupt"
    assert run.finished_at is not None
