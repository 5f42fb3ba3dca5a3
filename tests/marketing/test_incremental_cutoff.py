"""Incremental exports start after the last completed run's cutoff, whatever happened to that
run's file since: consecutive runs to a destination neither skip nor repeat anyone."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.utils import timezone

from apps.marketing.models import ExportDestination, ExportRun
from apps.marketing.selectors import ContactFilters
from apps.marketing.services import export_files_expire, export_run_create, export_run_write
from tests.marketing.conftest import PostPerson

pytestmark = pytest.mark.django_db


def _incremental(destination: ExportDestination) -> ExportRun:
    return export_run_create(
        filters=ContactFilters(channel="email"),
        fmt=ExportRun.Format.CSV,
        via=ExportRun.Via.ADMIN,
        actor=None,
        destination=destination,
        incremental=True,
    )


def test_an_expired_files_run_still_sets_where_the_next_one_starts(
    post_person: PostPerson, time_machine: Any
) -> None:
    destination = ExportDestination.objects.create(name="Mail platform")
    post_person(first_name="Early")
    first = _incremental(destination)
    assert export_run_write(run_id=first.pk) is not None
    time_machine.move_to(timezone.now() + datetime.timedelta(hours=25))
    assert export_files_expire() == 1
    first.refresh_from_db()
    assert first.status == ExportRun.Status.EXPIRED

    second = _incremental(destination)

    assert second.since_at == first.cutoff_at
    assert second.rows_expected == 0
