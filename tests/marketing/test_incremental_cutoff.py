"""Incremental exports start after the last completed run's cutoff, whatever happened to that
run's file since: consecutive runs to a destination neither skip nor repeat anyone.

A person's consent time is the intake's ``received_at``, taken when the intake starts, not when
its transaction commits. So an incremental run lists people up to a cutoff that lies
``EXPORT_SETTLING_SECONDS`` in the past and records that cutoff: a person stamped before a run's
time but committed after it is listed by the next run. The tests play that intake by moving the
clock back (time-machine) to stamp the person before the run, and posting after the run."""

from __future__ import annotations

import csv
import datetime
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient
from time_machine import TimeMachineFixture

from apps.marketing.models import ExportDestination, ExportRun
from apps.marketing.selectors import ContactFilters
from apps.marketing.services import (
    export_files_expire,
    export_run_create,
    export_run_write,
    export_token_create,
)
from tests.conftest import staff_client_for
from tests.marketing.conftest import PostPerson
from tests.marketing.test_admin_export import EXPORT_URL, export_through_admin

pytestmark = pytest.mark.django_db

START = datetime.datetime(2026, 3, 2, 10, 0, tzinfo=datetime.UTC)
SYNC_URL = "/api/v1/marketing/contacts/"

# One incremental export to the destination, by some path; the first names it listed.
Export = Callable[[], list[str]]


def _margin() -> datetime.timedelta:
    return datetime.timedelta(seconds=settings.EXPORT_SETTLING_SECONDS)


def _at(time_machine: TimeMachineFixture, moment: datetime.datetime) -> None:
    time_machine.move_to(moment, tick=False)


def _incremental(destination: ExportDestination) -> ExportRun:
    return _run(destination, incremental=True)


def _run(destination: ExportDestination, *, incremental: bool = False) -> ExportRun:
    return export_run_create(
        filters=ContactFilters(channel="email"),
        fmt=ExportRun.Format.CSV,
        via=ExportRun.Via.ADMIN,
        actor=None,
        destination=destination,
        incremental=incremental,
    )


def _names(data: str) -> list[str]:
    return [row[0] for row in csv.reader(data.splitlines()[1:])]


@pytest.fixture
def destination() -> ExportDestination:
    return ExportDestination.objects.create(name="Mail platform")


@pytest.fixture(params=["service", "admin", "command", "api"])
def export(request: pytest.FixtureRequest, destination: ExportDestination) -> Export:
    """Every way an incremental export is made: they all keep the same window."""
    if request.param == "service":

        def by_service() -> list[str]:
            run = _incremental(destination)
            tmp_path: Path = request.getfixturevalue("tmp_path")
            out = tmp_path / f"run-{run.pk}.csv"
            assert export_run_write(run_id=run.pk, out_path=out) is not None
            return _names(out.read_text())

        return by_service

    if request.param == "admin":
        marketer: User = request.getfixturevalue("marketer")
        client: Client = request.getfixturevalue("marketer_client")
        capture = request.getfixturevalue("django_capture_on_commit_callbacks")

        def by_admin() -> list[str]:
            staff_client_for(marketer, client)  # the clock moves on; so would a real session
            data = {
                "channel": "email",
                "signup_kind": "book",
                "format": "csv",
                "destination": str(destination.pk),
                "incremental": "on",
            }
            return _names(export_through_admin(client, capture, data).decode())

        return by_admin

    if request.param == "command":
        tmp_path = request.getfixturevalue("tmp_path")

        def by_command() -> list[str]:
            out = tmp_path / "inc.csv"
            call_command(
                "export_contacts",
                channel="email",
                output=str(out),
                destination=destination.name,
                incremental=True,
                stdout=io.StringIO(),
            )
            return _names(out.read_text())

        return by_command

    _, raw = export_token_create(name="sync", destination=destination, actor=None)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")

    def by_api() -> list[str]:
        names: list[str] = []
        query: dict[str, Any] = {"channel": "email", "incremental": "true", "page_size": 2}
        while True:
            response = api.get(SYNC_URL, query)
            assert response.status_code == 200, response.content
            body = response.json()
            names += [row["first_name"] for row in body["results"]]
            if body["next"] is None:
                return names
            query = {**query, "cursor": body["next"]}

    return by_api


def test_a_person_committed_after_a_run_but_stamped_before_it_goes_out_next_time(
    export: Export, post_person: PostPerson, time_machine: TimeMachineFixture
) -> None:
    _at(time_machine, START)
    post_person(first_name="Settled")
    run_time = START + datetime.timedelta(minutes=10)
    _at(time_machine, run_time)
    assert export() == ["Settled"]

    # An intake that started a second before the run, its transaction still open while the
    # run read the table: stamped before the run's time, committed after it.
    _at(time_machine, run_time - datetime.timedelta(seconds=1))
    post_person(first_name="InFlight")

    _at(time_machine, run_time + datetime.timedelta(minutes=10))
    assert export() == ["InFlight"]
    _at(time_machine, run_time + datetime.timedelta(minutes=20))
    assert export() == []


def test_people_inside_the_margin_wait_for_the_next_run(
    export: Export, post_person: PostPerson, time_machine: TimeMachineFixture
) -> None:
    margin = _margin()
    _at(time_machine, START)
    post_person(first_name="Old")
    _at(time_machine, START + margin + datetime.timedelta(seconds=30))
    post_person(first_name="Recent")  # 30 s before the run: still inside the margin

    _at(time_machine, START + margin + datetime.timedelta(minutes=1))
    assert export() == ["Old"]
    _at(time_machine, START + 2 * margin + datetime.timedelta(minutes=1))
    assert export() == ["Recent"]


def test_consecutive_runs_list_everyone_exactly_once(
    export: Export, post_person: PostPerson, time_machine: TimeMachineFixture
) -> None:
    margin = _margin()
    listed: list[str] = []
    posted: list[str] = []
    moment = START
    for step in range(4):
        # Stamped at the run's time, a second before it, exactly on its cutoff (inclusive) and
        # a second after the cutoff, all committed before the run; then one stamped a second
        # before the run but committed after it.
        for offset, label in (
            (datetime.timedelta(0), "AtRun"),
            (-datetime.timedelta(seconds=1), "BeforeRun"),
            (-margin, "OnCutoff"),
            (-margin + datetime.timedelta(seconds=1), "AfterCutoff"),
        ):
            _at(time_machine, moment + offset)
            post_person(first_name=f"{label}{step}")
            posted.append(f"{label}{step}")
        _at(time_machine, moment)
        listed += export()
        _at(time_machine, moment - datetime.timedelta(seconds=1))
        post_person(first_name=f"Late{step}")
        posted.append(f"Late{step}")
        moment += datetime.timedelta(minutes=7)
    _at(time_machine, moment + margin)
    listed += export()

    assert sorted(listed) == sorted(posted)


def test_the_run_records_the_window_it_covered(
    post_person: PostPerson, destination: ExportDestination, time_machine: TimeMachineFixture
) -> None:
    _at(time_machine, START)
    post_person(first_name="Early")
    first_time = START + datetime.timedelta(minutes=5)
    _at(time_machine, first_time)
    first = _incremental(destination)
    assert export_run_write(run_id=first.pk) is not None
    assert first.since_at is None
    assert first.cutoff_at == first_time - _margin()
    assert first.rows_expected == 1

    second_time = first_time + datetime.timedelta(minutes=5)
    _at(time_machine, second_time)
    second = _incremental(destination)

    assert second.since_at == first.cutoff_at
    assert second.cutoff_at == second_time - _margin()
    assert second.filters["after"] == first.cutoff_at.isoformat()
    assert second.filters["until"] == second.cutoff_at.isoformat()


def test_an_earlier_until_than_the_margin_is_kept(
    destination: ExportDestination, time_machine: TimeMachineFixture
) -> None:
    _at(time_machine, START)
    until = START - datetime.timedelta(days=1)
    run = export_run_create(
        filters=ContactFilters(channel="email", until=until),
        fmt=ExportRun.Format.CSV,
        via=ExportRun.Via.ADMIN,
        actor=None,
        destination=destination,
        incremental=True,
    )
    assert run.cutoff_at == until


def test_a_full_export_still_lists_everyone_up_to_now(
    post_person: PostPerson, time_machine: TimeMachineFixture
) -> None:
    _at(time_machine, START)
    post_person(first_name="JustNow")
    run = export_run_create(
        filters=ContactFilters(channel="email"),
        fmt=ExportRun.Format.CSV,
        via=ExportRun.Via.ADMIN,
        actor=None,
    )
    assert run.rows_expected == 1
    assert run.filters["until"] == START.isoformat()


def test_a_person_in_flight_during_a_full_export_is_in_the_next_incremental_one(
    post_person: PostPerson, destination: ExportDestination, time_machine: TimeMachineFixture
) -> None:
    _at(time_machine, START)
    full = _run(destination)
    assert export_run_write(run_id=full.pk) is not None
    assert full.rows_written == 0
    _at(time_machine, START - datetime.timedelta(seconds=1))
    post_person(first_name="InFlight")  # stamped before the full run, committed after it

    _at(time_machine, START + datetime.timedelta(minutes=10))
    run = _incremental(destination)

    assert run.since_at == full.cutoff_at
    assert run.rows_expected == 1


def test_an_expired_files_run_still_sets_where_the_next_one_starts(
    post_person: PostPerson, destination: ExportDestination, time_machine: TimeMachineFixture
) -> None:
    _at(time_machine, START)
    post_person(first_name="Early")
    _at(time_machine, START + _margin() + datetime.timedelta(minutes=1))  # Early has settled
    first = _incremental(destination)
    assert first.rows_expected == 1
    assert export_run_write(run_id=first.pk) is not None
    time_machine.move_to(timezone.now() + datetime.timedelta(hours=25))
    assert export_files_expire() == 1
    first.refresh_from_db()
    assert first.status == ExportRun.Status.EXPIRED

    second = _incremental(destination)

    assert second.since_at == first.cutoff_at
    assert second.rows_expected == 0


def test_the_admin_preview_counts_and_shows_the_incremental_window(
    post_person: PostPerson,
    destination: ExportDestination,
    marketer: User,
    marketer_client: Client,
    time_machine: TimeMachineFixture,
) -> None:
    _at(time_machine, START)
    post_person(first_name="Settled")
    run_time = START + _margin() + datetime.timedelta(minutes=1)
    _at(time_machine, run_time - datetime.timedelta(seconds=30))
    post_person(first_name="Recent")
    _at(time_machine, run_time)
    staff_client_for(marketer, marketer_client)  # the clock moved on

    response = marketer_client.post(
        EXPORT_URL,
        {
            "channel": "email",
            "signup_kind": "book",
            "format": "csv",
            "destination": str(destination.pk),
            "incremental": "on",
            "preview": "Preview count",
        },
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert 'id="row-count">1 contact ' in page
    cutoff = timezone.localtime(run_time - _margin()).strftime("%Y-%m-%d %H:%M:%S")
    assert cutoff in page


def test_the_run_page_shows_the_window(
    destination: ExportDestination,
    marketer: User,
    marketer_client: Client,
    time_machine: TimeMachineFixture,
) -> None:
    _at(time_machine, START)
    full = _run(destination)
    assert export_run_write(run_id=full.pk) is not None
    _at(time_machine, START + datetime.timedelta(minutes=10))
    incremental = _incremental(destination)
    staff_client_for(marketer, marketer_client)

    def page(run: ExportRun) -> str:
        url = f"/admin/marketing/exportrun/{run.pk}/change/"
        return marketer_client.get(url).content.decode()

    def stamp(moment: datetime.datetime) -> str:
        return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S")

    assert (
        f"through {stamp(START)}; the next incremental export starts after "
        f"{stamp(START - _margin())}"
    ) in page(full)
    assert (
        f"after {stamp(START - _margin())} through "
        f"{stamp(START + datetime.timedelta(minutes=10) - _margin())}<"
    ) in page(incremental)
