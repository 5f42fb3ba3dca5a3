"""Shared fixtures: personas and API clients. Tests run against the real database configured by
``DATABASE_URL`` (SQLite under a temporary ``var/`` otherwise)."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient


@pytest.fixture
def api_client() -> APIClient:
    """An anonymous client, as the website's visitors are."""
    return APIClient()
