"""An export stopped mid-write (Ctrl-C on the command, a worker shutting down) or never picked
up by a worker ends as failed instead of staying "running" or "queued" forever."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone

from apps.leads.models import Person, Submission
from apps.marketing.models import ExportRun
from apps.marketing.selectors import ContactFilters
from apps.marketing.services import export_files_expire, export_run_create, export_run_write
from apps.marketing.writers import PROGRESS_EVERY
from tests.marketing.conftest import PostPerson

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


def test_an_admin_export_whose_task_never_came_ends_as_failed(
    post_person: PostPerson, time_machine: Any
) -> None:
    post_person()
    run = export_run_create(
        filters=ContactFilters(channel="email"), fmt="csv", via=ExportRun.Via.ADMIN, actor=None
    )  # the hand-off to the exports queue was lost: nothing will ever claim it
    time_machine.move_to(
        timezone.now() + datetime.timedelta(seconds=2 * settings.EXPORT_TASK_TIME_LIMIT + 1)
    )

    export_files_expire()

    run.refresh_from_db()
    assert run.status == ExportRun.Status.FAILED
    assert run.error == "never started"
    assert export_run_write(run_id=run.pk) is None  # a very late delivery writes nothing
