"""Fixtures for the privacy tests: throwaway key sets, an isolated ``phi`` storage, submissions
with PHI in every kind of encrypted field."""

from __future__ import annotations

import datetime
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from django.conf import settings as django_settings
from django.test import override_settings
from django.utils import timezone

from apps.leads.models import Person, Submission

PHI = {
    "message": "I relapsed on fentanyl last Tuesday",
    "member_id": "XQZ948271635",
    "patient_first_name": "Rosalind",
    "date_of_birth": datetime.date(1987, 4, 23),
}


@pytest.fixture
def new_key() -> str:
    return Fernet.generate_key().decode()


@pytest.fixture
def old_key() -> str:
    return Fernet.generate_key().decode()


@pytest.fixture(autouse=True)
def phi_storage_dir(tmp_path: Path) -> Iterator[Path]:
    """Every test gets its own ``phi`` storage, so rotation walks only this test's files."""
    location = tmp_path / "phi-files"
    storages = {
        **django_settings.STORAGES,
        "phi": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(location), "base_url": None},
        },
    }
    with override_settings(STORAGES=storages):
        yield location


@pytest.fixture
def keys() -> Callable[..., Any]:
    """``with keys(new, old): ...`` runs a block under that key list (newest first)."""

    def use(*key_list: str) -> Any:
        return override_settings(PHI_ENCRYPTION_KEYS=list(key_list))

    return use


@pytest.fixture
def make_submission() -> Callable[..., Submission]:
    def make(**fields: Any) -> Submission:
        token = secrets.token_hex(4)
        person = Person.objects.create(first_name="Ada", email=f"ada-{token}@example.org")
        return Submission.objects.create(
            reference=token[:8].upper(),
            kind=Submission.Kind.VERIFICATION,
            person=person,
            received_at=timezone.now(),
            first_name="Ada",
            **{**PHI, **fields},
        )

    return make
