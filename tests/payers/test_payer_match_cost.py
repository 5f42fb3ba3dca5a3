"""What payer_match costs on the hot path, and that its cache can never serve a stale directory."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache.backends.locmem import LocMemCache
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from apps.payers.models import Payer
from apps.payers.selectors import payer_match
from apps.payers.services import payer_active_set, payer_directory_sync

pytestmark = pytest.mark.django_db


class UnreachableCache(LocMemCache):
    """A cache server that is down: every call fails, as Redis's client does."""

    def get(self, *args: Any, **kwargs: Any) -> Any:
        raise ConnectionError("cache unreachable")

    def set(self, *args: Any, **kwargs: Any) -> None:
        raise ConnectionError("cache unreachable")


@pytest.fixture
def unreachable_cache() -> Iterator[None]:
    backend = f"{__name__}.UnreachableCache"
    with override_settings(CACHES={"default": {"BACKEND": backend}}):
        yield


def test_it_costs_one_query_when_the_index_is_cached(
    django_assert_num_queries: Any,
) -> None:
    payer_match(text="warm up")

    with django_assert_num_queries(1):
        assert payer_match(text="Signa").slug == "cigna"


def test_it_builds_the_index_once_per_directory_revision() -> None:
    with CaptureQueriesContext(connection) as cold:
        payer_match(text="Signa")
    with CaptureQueriesContext(connection) as warm:
        payer_match(text="Aetna")

    assert len(cold) == 3  # revision, payers, aliases
    assert len(warm) == 1


def test_it_sees_a_directory_change_made_through_a_service(cigna: Payer) -> None:
    assert payer_match(text="cigna").payer == cigna
    assert cigna.active

    payer_active_set(payer=cigna, active=False, actor=None)

    match = payer_match(text="cigna")
    assert match.payer is not None
    assert match.payer.active is False


def test_it_still_matches_when_the_cache_is_down(unreachable_cache: None) -> None:
    assert payer_match(text="Signa").slug == "cigna"


def test_it_resolves_inactive_payers(cigna: Payer) -> None:
    payer_active_set(payer=cigna, active=False, actor=None)

    assert payer_match(text="Open Access Plus").slug == "cigna"


def test_it_keeps_the_cached_index_when_a_sync_changes_nothing() -> None:
    payer_match(text="warm up")
    payer_directory_sync()

    with CaptureQueriesContext(connection) as warm:
        payer_match(text="Aetna")

    assert len(warm) == 1
