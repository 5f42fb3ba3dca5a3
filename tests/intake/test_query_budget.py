"""The number of SQL queries per submission is pinned, so the speed of a post cannot silently
rot (issue 3, section 4: "a test asserts the number of SQL queries per submission stays within
a fixed bound (say which and why)").

Database round trips, not Python, decide how many posts a second the forms take
(apps/leads/services.py). The counts below are the design of ``submission_receive`` /
``submission_store``; a change that adds a query must change the number here and say why.
"""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from apps.leads.models import Consent, Person, Submission
from apps.payers.selectors import payer_match
from apps.payers.services import payer_directory_sync
from tests.conftest import BOOK_PATH, CONTACT_PATH, VERIFICATION_PATH

pytestmark = pytest.mark.django_db

# What one submission costs, in round trips (no Idempotency-Key, no card image):
#
#   SAVEPOINT           transaction.atomic() in intake's _store_with_retries (BEGIN on a server;
#                       the test's own transaction turns it into a savepoint)
#   SELECT person       by email OR phone, LIMIT 2 (person_find_or_create)
#   INSERT person       a new person; a returning one is one UPDATE of the same row instead
#                       (last submission, latest touch, consents granted)
#   INSERT submission   one row, PHI columns encrypted in Python, reference drawn in Python
#   INSERT wording      the consent wording, ON CONFLICT DO NOTHING, only when the form sent
#                       consent_text (the book body of tests/conftest.py sends none)
#   INSERT consents     one bulk insert for the three channels
#   -- submission_stored is sent inside the transaction; the follow-ups app plans there:
#   SELECT steps        the active sequence steps for the form's kind (SQL compiled once per
#                       process by apps/followups/selectors.py, run on every post)
#   INSERT outbox       one bulk insert: staff alerts, SLA escalation, sequence messages
#   RELEASE SAVEPOINT   intake's (COMMIT on a server)
#
# A verification first resolves the typed payer name: one primary-key SELECT of the payer
# directory's revision token (compiled once per process, like the steps), then the compiled
# matcher index comes from this process's memory or the cache (apps/payers/selectors.py). The
# `warm_payer_matcher` fixture puts the index in the cache as any running server has it; a cold
# cache costs two more SELECTs once per revision.
#
# Not SQL, so not counted: the throttles (on here, as in production) check and count both
# limits in one Redis round trip per post (apps/intake/throttles.py; local memory on the
# embedded default), and the hand-over to Celery after commit goes to the broker.
#
# (submission_store joins intake's transaction with savepoint=False: no nested savepoint.)
# (The signal hands the follow-ups receiver the saved submission: no read-back.)
# Round trips that could go, and why they have not (docs/benchmarks.md, "What was tried"):
# the steps SELECT and the wording INSERT could be skipped with a per-process cache, but a
# cache another process cannot invalidate plans a step staff switched off, or names a wording
# or step row that a rollback or a flush removed (a foreign-key failure at COMMIT). Lower the
# numbers when one goes safely.
NEW_PERSON_QUERIES = {"contact": 9, "verification": 10, "book": 8}
RETURNING_PERSON_QUERIES = {"contact": 9, "verification": 10, "book": 8}
PATHS = {"contact": CONTACT_PATH, "verification": VERIFICATION_PATH, "book": BOOK_PATH}


@pytest.fixture(autouse=True)
def warm_payer_matcher() -> None:
    """The payer directory seeded (a no-op after the seeding migration) and its matcher index
    cached, as on a server that has served one verification since the directory changed."""
    payer_directory_sync()
    payer_match(text="warm up")


@pytest.fixture
def bodies(
    contact_body: dict[str, Any], verification_body: dict[str, Any], book_body: dict[str, Any]
) -> dict[str, dict[str, Any]]:
    return {"contact": contact_body, "verification": verification_body, "book": book_body}


@pytest.mark.parametrize("kind", sorted(PATHS))
def test_a_new_persons_submission_takes_a_fixed_number_of_queries(
    kind: str, bodies: dict[str, dict[str, Any]], django_assert_num_queries: Any
) -> None:
    client = APIClient()
    with django_assert_num_queries(NEW_PERSON_QUERIES[kind]):
        response = client.post(PATHS[kind], bodies[kind], format="json")
    assert response.status_code == 201, response.content
    assert Person.objects.count() == 1
    assert Consent.objects.count() == 3


@pytest.mark.parametrize("kind", sorted(PATHS))
def test_a_returning_persons_submission_takes_a_fixed_number_of_queries(
    kind: str, bodies: dict[str, dict[str, Any]], django_assert_num_queries: Any
) -> None:
    client = APIClient()
    first = client.post(PATHS[kind], bodies[kind], format="json")
    assert first.status_code == 201, first.content
    with django_assert_num_queries(RETURNING_PERSON_QUERIES[kind]):
        response = client.post(PATHS[kind], bodies[kind], format="json")
    assert response.status_code == 201, response.content
    assert Person.objects.count() == 1
    assert Submission.objects.count() == 2
