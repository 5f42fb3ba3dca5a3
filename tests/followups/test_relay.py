"""The outbox relay: a form post hands nothing to the broker; the relay hands each committed,
due row over once, backs off while the broker or the database fails, and stops when told."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from apps.followups import services
from apps.followups.models import OutboxMessage
from apps.followups.relay import BACKOFF_CAP_SECONDS, outbox_relay_run, relay_wait_seconds
from apps.followups.services import RelayReport
from apps.leads.models import Submission
from tests.conftest import CONTACT_PATH
from tests.followups.workerkit import OutboxRelay, broker_queue_sizes, process_env, wait_for

pytestmark = pytest.mark.django_db


def _post(client: APIClient, body: dict[str, Any]) -> Submission:
    response = client.post(CONTACT_PATH, body, format="json")
    assert response.status_code == 201, response.content
    return Submission.objects.get(reference=response.json()["reference"])


def _due(submission: Submission) -> Any:
    return OutboxMessage.objects.filter(submission=submission, due_at__lte=timezone.now())


def test_a_post_plans_its_messages_and_hands_nothing_to_the_broker(
    api_client: APIClient,
    contact_body: dict[str, Any],
    empty_queues: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        submission = _post(api_client, contact_body)

    assert callbacks == []
    assert _due(submission).count() == 2  # the staff alert and the confirmation email
    assert not _due(submission).filter(handed_at__isnull=False).exists()
    assert broker_queue_sizes() == {"alerts": 0, "followups": 0, "default": 0}


def test_a_relay_pass_hands_each_due_row_over_once_and_nothing_not_yet_due(
    api_client: APIClient, contact_body: dict[str, Any], empty_queues: None
) -> None:
    submission = _post(api_client, contact_body)

    report = services.outbox_relay_pass()

    assert report == RelayReport(claimed=2, handed=2)
    assert broker_queue_sizes() == {"alerts": 1, "followups": 1, "default": 0}
    assert not _due(submission).filter(handed_at__isnull=True).exists()
    escalations = OutboxMessage.objects.filter(submission=submission, topic="escalation")
    assert escalations.exists()
    assert not escalations.filter(handed_at__isnull=False).exists()
    # A second pass finds nothing: the broker already holds one message per due row.
    assert services.outbox_relay_pass() == RelayReport(claimed=0, handed=0)
    assert broker_queue_sizes() == {"alerts": 1, "followups": 1, "default": 0}


def test_a_relay_pass_takes_at_most_its_limit_oldest_due_first(
    api_client: APIClient, contact_body: dict[str, Any], empty_queues: None
) -> None:
    first = _post(api_client, contact_body)
    second = _post(api_client, {**contact_body, "email": "someone.else@example.org"})

    assert services.outbox_relay_pass(limit=2) == RelayReport(claimed=2, handed=2)

    assert not _due(first).filter(handed_at__isnull=True).exists()
    assert not _due(second).filter(handed_at__isnull=False).exists()
    assert services.outbox_relay_pass(limit=2) == RelayReport(claimed=2, handed=2)


def test_the_sweep_hands_over_what_no_relay_did(
    api_client: APIClient, contact_body: dict[str, Any], empty_queues: None
) -> None:
    submission = _post(api_client, contact_body)

    assert services.outbox_sweep().handed == 2

    assert not _due(submission).filter(handed_at__isnull=True).exists()


def test_the_command_runs_one_pass(
    api_client: APIClient,
    contact_body: dict[str, Any],
    empty_queues: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _post(api_client, contact_body)

    call_command("outbox_relay", "--once")

    assert capsys.readouterr().out.strip() == "claimed 2, handed over 2"


@override_settings(OUTBOX_RELAY_POLL_SECONDS=0.1)
def test_the_relay_waits_a_poll_when_idle_and_not_at_all_after_a_full_batch() -> None:
    idle = RelayReport(claimed=0, handed=0)
    some = RelayReport(claimed=3, handed=3)
    full = RelayReport(claimed=500, handed=500)

    assert relay_wait_seconds(report=idle, failures=0, limit=500) == 0.1
    assert relay_wait_seconds(report=some, failures=0, limit=500) == 0.1
    assert relay_wait_seconds(report=full, failures=0, limit=500) == 0.0


@override_settings(OUTBOX_RELAY_POLL_SECONDS=0.1)
def test_the_relay_backs_off_while_the_broker_or_the_database_fails() -> None:
    refused = RelayReport(claimed=3, handed=0)

    waits = [relay_wait_seconds(report=refused, failures=n, limit=500) for n in range(1, 9)]

    assert waits[:3] == pytest.approx([0.2, 0.4, 0.8])
    assert waits == sorted(waits)
    assert waits[-1] == BACKOFF_CAP_SECONDS
    assert relay_wait_seconds(report=None, failures=40, limit=500) == BACKOFF_CAP_SECONDS


@override_settings(OUTBOX_RELAY_POLL_SECONDS=0.05)
def test_the_relay_loop_hands_over_and_stops_when_told(
    api_client: APIClient, contact_body: dict[str, Any], empty_queues: None
) -> None:
    submission = _post(api_client, contact_body)
    stop = threading.Event()
    # Told to stop from another thread, as SIGTERM's handler does.
    threading.Timer(0.5, stop.set).start()

    handed = outbox_relay_run(stop=stop)

    assert handed == 2
    assert not _due(submission).filter(handed_at__isnull=True).exists()


def test_a_relay_process_outlives_a_database_that_is_down_and_stops_on_sigterm(
    tmp_path: Path,
) -> None:
    # Nothing listens on port 1: every pass fails to connect, as while PostgreSQL restarts.
    env = process_env(
        var_dir=tmp_path / "var",
        redis_url=None,
        DATABASE_URL="postgres://postgres@127.0.0.1:1/outbox",
        DATABASE_CONNECT_TIMEOUT="1",
        OUTBOX_RELAY_POLL_SECONDS="0.05",
    )
    relay = OutboxRelay(env=env, log_path=tmp_path / "relay.log").start()
    try:
        wait_for(
            lambda: relay.log().count("outbox relay pass failed (OperationalError)") >= 3,
            what="three failed passes",
        )
        assert not relay.died(), relay.log()
        assert relay.process is not None
        relay.process.send_signal(signal.SIGTERM)
        assert relay.process.wait(timeout=BACKOFF_CAP_SECONDS + 5) == 0
        assert "outbox relay stopped after handing over 0 messages" in relay.log()
    finally:
        relay.stop()
