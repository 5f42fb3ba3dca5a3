"""On PostgreSQL, CSV goes through COPY wrapped around the selector's SQL; it must give the same
file as the Python writer: same rows, same neutralized cells, same bytes."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.db import connection

from apps.leads.models import Person
from apps.marketing.pg_copy import csv_copy_write
from apps.marketing.selectors import (
    CONTACT_COLUMNS,
    CONTACT_SOURCES,
    TIMESTAMP_SOURCES,
    ContactFilters,
    marketable_contacts,
    marketable_contacts_iter,
)
from apps.marketing.writers import csv_write
from tests.marketing.conftest import PostPerson

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="the COPY path exists on PostgreSQL only"
    ),
]


@pytest.mark.parametrize("channel", ["email", "sms"])
def test_copy_and_python_write_the_same_bytes(post_person: PostPerson, channel: str) -> None:
    tricky = [
        ('=HYPERLINK("x")', 'O"Neil, Jr'),
        ("+1234", "-minus"),
        ("@at", "\tTab"),
        ("José", ""),
        ("Line\nbreak", "\rcr"),
    ]
    for index, (first, last) in enumerate(tricky):
        person = post_person(phone=f"(949) 555-01{index:02d}", consent_sms=True)
        Person.objects.filter(pk=person.pk).update(
            first_name=first, last_name=last, latest_utm_campaign="=evil()" if index else ""
        )
    filters = ContactFilters(channel=channel)
    python_out, copy_out = io.BytesIO(), io.BytesIO()
    python = csv_write(
        rows=marketable_contacts_iter(filters=filters),
        header=CONTACT_COLUMNS,
        out=python_out,
        bom=True,
    )
    copied = csv_copy_write(
        rows=marketable_contacts(filters=filters),
        sources=CONTACT_SOURCES,
        timestamp_sources=TIMESTAMP_SOURCES,
        header=CONTACT_COLUMNS,
        out=copy_out,
        bom=True,
    )
    assert copied.rows == python.rows == len(tricky)
    assert copy_out.getvalue() == python_out.getvalue()
    assert copied.sha256 == python.sha256
    assert b"'=HYPERLINK" in copy_out.getvalue()


def test_a_copy_export_past_the_progress_step_completes(tmp_path: Any) -> None:
    # Regression: recording progress mid-COPY waited forever on the connection COPY held.
    from django.utils import timezone

    from apps.leads.models import Submission
    from apps.marketing.models import ExportRun
    from apps.marketing.services import export_run_create, export_run_write
    from apps.marketing.writers import PROGRESS_EVERY

    now = timezone.now()
    total = PROGRESS_EVERY + 50
    people = Person.objects.bulk_create(
        Person(
            first_name=f"P{n}", email=f"p{n}@example.org", consent_email=True, consent_email_at=now
        )
        for n in range(total)
    )
    Submission.objects.bulk_create(
        Submission(reference=f"R{n:08d}", kind="book", person=person, received_at=now)
        for n, person in enumerate(people)
    )
    run = export_run_create(
        filters=ContactFilters(channel="email"),
        fmt="csv",
        via=ExportRun.Via.COMMAND,
        actor=None,
    )
    seen: list[int] = []
    done = export_run_write(run_id=run.pk, out_path=tmp_path / "big.csv", progress=seen.append)
    assert done is not None
    assert done.rows_written == total
    assert seen
    assert seen[-1] >= PROGRESS_EVERY
