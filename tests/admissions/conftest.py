from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from apps.staff.roles import ADMISSIONS, COMPLIANCE, MANAGER, MARKETING
from tests.admissions.factories import staff_make


@pytest.fixture
def coordinator(db: None) -> User:
    return staff_make("casey", ADMISSIONS)


@pytest.fixture
def colleague(db: None) -> User:
    return staff_make("robin", ADMISSIONS)


@pytest.fixture
def manager(db: None) -> User:
    return staff_make("morgan", MANAGER)


@pytest.fixture
def marketer(db: None) -> User:
    return staff_make("mel", MARKETING)


@pytest.fixture
def auditor(db: None) -> User:
    return staff_make("quinn", COMPLIANCE)
