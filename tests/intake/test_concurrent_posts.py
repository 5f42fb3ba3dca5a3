"""Races on the unique constraints retry the whole transaction and find the winner's rows."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection
from rest_framework.test import APIClient

from apps.leads.models import Person, Submission
from tests.conftest import CONTACT_PATH

pytestmark = pytest.mark.django_db(transaction=True)
POSTERS = 4


def _post_together(bodies: list[dict[str, Any]], key: str | None = None) -> list[int]:
    barrier = threading.Barrier(len(bodies))
    codes: list[int] = []

    def post(body: dict[str, Any]) -> None:
        client = APIClient()
        headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
        barrier.wait()
        try:
            codes.append(client.post(CONTACT_PATH, body, format="json", **headers).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=post, args=(body,)) for body in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return codes


def test_a_new_person_posting_several_times_at_once_is_one_person(
    contact_body: dict[str, Any],
) -> None:
    codes = _post_together([contact_body] * POSTERS)

    assert codes == [201] * POSTERS
    assert Person.objects.count() == 1
    assert Submission.objects.count() == POSTERS


def test_a_double_tap_with_one_idempotency_key_stores_one_submission(
    contact_body: dict[str, Any],
) -> None:
    codes = _post_together([contact_body] * POSTERS, key="double-tap")

    assert codes == [201] * POSTERS
    assert Submission.objects.count() == 1
