"""Shared fixtures: personas, API clients, and form bodies as the website sends them.

Tests run against the real database configured by ``DATABASE_URL`` (SQLite otherwise) and the
real cache; nothing of our own is mocked.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from rest_framework.test import APIClient

CONTACT_PATH = "/api/v1/contact-requests/"
VERIFICATION_PATH = "/api/v1/insurance-verifications/"
BOOK_PATH = "/api/v1/book-signups/"


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    # Throttle counters live in the cache; one test's posts must not throttle the next. The
    # payer matcher's per-process copy goes too, so a test can watch it being built.
    from apps.payers import selectors as payer_selectors

    cache.clear()
    payer_selectors._process_snapshot.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _payer_directory(request: pytest.FixtureRequest) -> None:
    # The directory is seeded by a migration; a transactional test empties every table, so
    # make sure the next test meets the directory again.
    marker = request.node.get_closest_marker("django_db")
    if marker is None:
        return
    transactional = marker.kwargs.get("transaction", False)
    request.getfixturevalue("transactional_db" if transactional else "db")
    from apps.payers.models import Payer
    from apps.payers.services import payer_directory_sync

    if not Payer.objects.exists():
        payer_directory_sync()
    _sequences_seed()


def _sequences_seed() -> None:
    # The follow-up sequences are seeded by a data migration, emptied by transactional tests.
    import importlib

    from django.apps import apps

    from apps.followups.models import Sequence

    if not Sequence.objects.exists():
        importlib.import_module("apps.followups.migrations.0002_seed_sequences").seed(apps, None)


def staff_client_for(user: Any, client: Client | None = None) -> Client:
    """A client logged in as ``user`` with a verified second factor, as after a real admin
    login with password and authenticator code: the admin serves no one without it.

    Gives the user a confirmed TOTP device (if they have none) and marks the session verified
    by it (django_otp's session key)."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="test authenticator", confirmed=True)
    client = client or Client()
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


@pytest.fixture
def admin_client(admin_user: Any) -> Client:
    """pytest-django's ``admin_client``, verified by a second factor (see staff_client_for)."""
    return staff_client_for(admin_user)


@pytest.fixture
def api_client() -> APIClient:
    """An anonymous client, as the website's visitors are."""
    return APIClient()


@pytest.fixture
def contact_body() -> dict[str, Any]:
    """A "Send Us a Message" post with every common field."""
    return {
        "first_name": "Dana",
        "last_name": "Rivera",
        "email": "Dana.Rivera@Example.org",
        "phone": "(949) 555-0142",
        "message": "I would like to talk about options for my brother.",
        "preferred_contact": "phone",
        "best_time": "evenings",
        "consent_email": True,
        "consent_sms": False,
        "consent_calls": True,
        "consent_text": "I agree to be contacted by Asana Recovery by email and phone.",
        "page_url": "https://asanarecovery.com/contact/",
        "referrer": "https://www.google.com/",
        "utm_source": "google",
        "utm_medium": "cpc",
        "utm_campaign": "rehab-orange-county",
        "gclid": "Cj0KCQ-test",
    }


@pytest.fixture
def verification_body() -> dict[str, Any]:
    """A "Verify Insurance for Free" post for oneself, typed payer name, no card."""
    return {
        "first_name": "Sam",
        "last_name": "Okafor",
        "email": "sam.okafor@example.org",
        "phone": "+1 714 555 0199",
        "date_of_birth": "1988-06-02",
        "insurance_provider": "Signa",
        "member_id": "U1234 5678-01",
        "group_number": "GRP-0042",
        "state": "ca",
        "treatment_interest": "alcohol",
        "consent_email": "on",
        "consent_text": "I agree to be contacted.",
    }


@pytest.fixture
def book_body() -> dict[str, Any]:
    """A free-book signup."""
    return {"first_name": "Lee", "email": "lee@example.org", "consent_email": False}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Multi-process worker tests share the SQLite test file between the test process, gunicorn
    and Celery workers; under load that has ended in "database disk image is malformed" (not
    understood yet, recorded on issue 4). They run on PostgreSQL + Redis in CI; on SQLite only
    when SQLITE_WORKER_TESTS=1 asks for them."""
    import os

    from django.conf import settings

    on_sqlite = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3"
    if not on_sqlite or os.environ.get("SQLITE_WORKER_TESTS") == "1":
        return
    skip = pytest.mark.skip(
        reason="multi-process worker test on SQLite: run on PostgreSQL + Redis, or set "
        "SQLITE_WORKER_TESTS=1"
    )
    for item in items:
        if item.get_closest_marker("worker") is not None:
            item.add_marker(skip)
