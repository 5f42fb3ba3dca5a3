"""Fixtures of the follow-ups tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.followups.workerkit import broker_queues_purge


@pytest.fixture
def empty_queues() -> Iterator[None]:
    """The suite broker's outbox queues, empty before and after (tests that read them; other
    in-process tests leave messages no worker of theirs consumes)."""
    broker_queues_purge()
    yield
    broker_queues_purge()
