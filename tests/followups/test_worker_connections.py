"""A real worker keeps its PostgreSQL connection between tasks, as Django keeps one between
requests, and gets a new one when the old one breaks.

Celery's Django fixup would otherwise open a new connection for every delivery (half the
worker's throughput, docs/benchmarks.md). What the worker's connections are is read from
PostgreSQL itself (``pg_stat_activity``); the break is real (``pg_terminate_backend``, what a
PostgreSQL restart or failover does to an idle connection).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from rest_framework.test import APIClient

from apps.followups.models import OutboxMessage
from apps.leads.models import Submission
from tests.conftest import CONTACT_PATH
from tests.followups.workerkit import CeleryWorker, Stack, sequences_seed, suite_var_dir

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]
Status = OutboxMessage.Status


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL connections: SQLite has no server connection to keep")
    sequences_seed()
    stack = Stack(root=tmp_path, var_dir=suite_var_dir(), redis_url=settings.REDIS_URL)
    yield stack
    stack.stop_all()


RELAY_APP_NAME = "outbox-relay-under-test"


def _one_process_worker(stack: Stack) -> CeleryWorker:
    # One pool process: every task runs on the same process, hence on the same connection.
    # Its relay runs apart, named (libpq's PGAPPNAME), so its own connection is not counted.
    stack.relay(PGAPPNAME=RELAY_APP_NAME)
    worker = CeleryWorker(
        name="w1", env=stack.env(), workdir=stack.root, concurrency=1, relay=False
    )
    stack.started.append(worker)
    return worker.start()


def _other_backends() -> set[tuple[int, str]]:
    """(pid, backend start) of every other client connection to this test database."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid, backend_start::text FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND backend_type = 'client backend' AND application_name <> %s",
            [RELAY_APP_NAME],
        )
        return {(int(pid), str(start)) for pid, start in cursor.fetchall()}


def _post_and_wait_sent(stack: Stack, client: APIClient, body: dict[str, Any]) -> None:
    response = client.post(CONTACT_PATH, body, format="json")
    assert response.status_code == 201, response.content
    submission = Submission.objects.get(reference=response.json()["reference"])
    due = OutboxMessage.objects.filter(submission=submission, due_at__lte=submission.received_at)
    assert due.count() == 2  # the staff alert and the confirmation email
    stack.wait(
        lambda: set(due.values_list("status", flat=True)) == {Status.SENT},
        what=f"the messages of {submission.reference} sent",
    )


def test_the_worker_delivers_on_one_kept_connection_and_replaces_a_broken_one(
    stack: Stack, api_client: APIClient, contact_body: dict[str, Any]
) -> None:
    before = _other_backends()
    _one_process_worker(stack)

    _post_and_wait_sent(stack, api_client, {**contact_body, "email": "one@example.org"})
    after_first = _other_backends() - before
    # The pool process's connection outlived its tasks (the worker's main process may hold
    # none: it runs no task).
    assert len(after_first) == 1, after_first

    _post_and_wait_sent(stack, api_client, {**contact_body, "email": "two@example.org"})
    # Two more deliveries, and still that same backend: no new connection per task.
    assert _other_backends() - before == after_first

    ((pid, _started),) = after_first
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
        assert cursor.fetchone() == (True,)

    # The kept connection is dead; the next task's first query finds out (health check) and
    # connects again, instead of failing the delivery.
    _post_and_wait_sent(stack, api_client, {**contact_body, "email": "three@example.org"})
    replaced = _other_backends() - before
    assert len(replaced) == 1
    assert replaced.isdisjoint(after_first)
