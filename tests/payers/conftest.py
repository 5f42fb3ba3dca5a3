"""Fixtures for the payer directory: the seeded directory and a staff user."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from apps.payers.models import Payer
from apps.payers.services import payer_directory_sync


@pytest.fixture(autouse=True)
def _directory(db: None) -> None:
    # The seeding migration fills a fresh test database, but a transaction=True test elsewhere in
    # the suite flushes every table, and --reuse-db keeps that empty database for the next run.
    # The sync is a no-op on a seeded directory.
    payer_directory_sync()


@pytest.fixture
def manager(django_user_model: type[User]) -> User:
    """A staff member who maps payer names (the Manager role)."""
    return django_user_model.objects.create_user(
        username="manager", email="manager@example.org", password="x" * 16, is_staff=True
    )


@pytest.fixture
def cigna() -> Payer:
    return Payer.objects.get(slug="cigna")


@pytest.fixture
def ambetter() -> Payer:
    return Payer.objects.get(slug="ambetter")
