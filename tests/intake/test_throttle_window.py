"""The intake throttles' window: how long to wait, and no free slot given twice.

On Redis both limits (per IP, per email and phone) are counted by one script in one round
trip; on the embedded default's local-memory cache by DRF's throttles one after the other.
The answers must be the same.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.core.cache.backends.redis import RedisCache
from django.test import override_settings
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.test import APIClient, APIRequestFactory

from apps.intake.throttles import IntakeThrottle
from tests.conftest import CONTACT_PATH

pytestmark = pytest.mark.django_db
HOUR = 3600


def _rates(ip: str, contact: str) -> dict[str, Any]:
    from django.conf import settings

    return {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"intake_ip": ip, "intake_contact": contact, "payers": None},
    }


def test_retry_after_is_when_the_oldest_counted_post_leaves_the_window(
    api_client: APIClient, contact_body: dict[str, Any]
) -> None:
    with override_settings(API_THROTTLE=True, REST_FRAMEWORK=_rates("1/hour", "100/hour")):
        first = api_client.post(CONTACT_PATH, contact_body, format="json")
        refused = api_client.post(
            CONTACT_PATH, {**contact_body, "email": "other@example.org"}, format="json"
        )

    assert first.status_code == 201
    assert refused.status_code == 429
    assert HOUR - 60 <= int(refused["Retry-After"]) <= HOUR


def test_a_post_over_both_limits_waits_for_the_longer_one(
    api_client: APIClient, contact_body: dict[str, Any]
) -> None:
    with override_settings(API_THROTTLE=True, REST_FRAMEWORK=_rates("1/min", "1/hour")):
        first = api_client.post(CONTACT_PATH, contact_body, format="json")
        refused = api_client.post(CONTACT_PATH, contact_body, format="json")

    assert first.status_code == 201
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 60  # the contact limit's hour, not the IP's minute


def test_a_refused_ip_does_not_use_up_the_ip_limit_and_other_people_still_count(
    api_client: APIClient, contact_body: dict[str, Any]
) -> None:
    with override_settings(API_THROTTLE=True, REST_FRAMEWORK=_rates("2/hour", "100/hour")):
        codes = [
            api_client.post(
                CONTACT_PATH, {**contact_body, "email": f"p{i}@example.org", "phone": ""},
                format="json", REMOTE_ADDR=address,
            ).status_code
            for i, address in enumerate(["192.0.2.1"] * 4 + ["192.0.2.2"] * 2)
        ]  # fmt: skip

    assert codes == [201, 201, 429, 429, 201, 201]


@pytest.mark.skipif(
    not isinstance(caches[DEFAULT_CACHE_ALIAS], RedisCache),
    reason="atomic counting is the Redis script's; the local-memory cache is one process's",
)
def test_concurrent_posts_never_share_the_last_free_slot() -> None:
    factory = APIRequestFactory()
    allowed: list[bool] = []
    start = threading.Barrier(12)

    def post(n: int) -> None:
        django_request = factory.post(
            CONTACT_PATH,
            {"email": "same@example.org", "first_name": "A"},
            format="json",
            REMOTE_ADDR=f"198.51.100.{n}",
        )
        request = Request(django_request, parsers=[JSONParser()])
        start.wait()
        allowed.append(IntakeThrottle().allow_request(request, None))

    with override_settings(API_THROTTLE=True, REST_FRAMEWORK=_rates("100/hour", "3/hour")):
        threads = [threading.Thread(target=post, args=(n,)) for n in range(12)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    assert sorted(allowed) == [False] * 9 + [True] * 3
