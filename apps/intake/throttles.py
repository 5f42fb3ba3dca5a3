"""Abuse limits on the public forms, counted on the shared cache (Redis in production).

Generous on purpose: a frightened family member may post twice, and a clinic's wifi puts many
people behind one IP. ``API_THROTTLE=off`` disables them for load tests on a private machine.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import secrets
import time
from typing import Any

from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.core.cache.backends.redis import RedisCache
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle, SimpleRateThrottle

from apps.leads.contact import InvalidPhoneNumber, email_normalize, phone_normalize

logger = logging.getLogger(__name__)

# Until when (time.monotonic()) this process skips the Redis throttles after a cache failure.
_cache_unavailable_until = 0.0


class IntakeRateThrottle(SimpleRateThrottle):
    """Reads its rate when it runs, not when the module is imported, so operators' and tests'
    settings take effect; fails open when the shared cache is down (a submission matters more
    than a rate limit)."""

    duration: int
    num_requests: int

    def allow_request(self, request: Request, view: Any) -> bool:
        try:
            return self._allow(request, view)
        except Exception as exc:  # noqa: BLE001 - any cache failure: let the post through
            logger.warning("throttle skipped, cache unavailable: %s", type(exc).__name__)
            return True

    def _allow(self, request: Request, view: Any) -> bool:
        return super().allow_request(request, view)

    def get_rate(self) -> str | None:
        rates: dict[str, Any] = api_settings.DEFAULT_THROTTLE_RATES
        rate: str | None = rates[str(self.scope)]
        return rate


class IntakeIpThrottle(IntakeRateThrottle):
    """Posts per client IP."""

    scope = "intake_ip"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class IntakeContactThrottle(IntakeRateThrottle):
    """Posts per email address and per phone number, whatever IP they come from."""

    scope = "intake_contact"

    def _allow(self, request: Request, view: Any) -> bool:
        # One history per contact detail: a post is refused when either is over its limit.
        self.now = self.timer()
        for ident in self._idents(request):
            self.key = self.cache_format % {"scope": self.scope, "ident": ident}
            self.history = self.cache.get(self.key, [])
            while self.history and self.history[-1] <= self.now - self.duration:
                self.history.pop()
            if len(self.history) >= self.num_requests:
                return self.throttle_failure()
        for ident in self._idents(request):
            self.key = self.cache_format % {"scope": self.scope, "ident": ident}
            history = self.cache.get(self.key, [])
            history.insert(0, self.now)
            self.cache.set(self.key, history, self.duration)
        return True

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        return None  # allow_request computes its own keys

    @staticmethod
    def _idents(request: Request) -> list[str]:
        data = request.data
        idents: list[str] = []
        email = data.get("email") if hasattr(data, "get") else None
        phone = data.get("phone") if hasattr(data, "get") else None
        if isinstance(email, str) and email.strip():
            idents.append(email_normalize(email)[:254])
        if isinstance(phone, str) and phone.strip():
            with contextlib.suppress(InvalidPhoneNumber):  # the serializer answers 400 for it
                idents.append(phone_normalize(phone[:32]))
        # Hashed: contact details have no business sitting in the cache in clear.
        return [
            hashlib.sha256(ident.encode("utf-8", "surrogatepass")).hexdigest()[:32]
            for ident in idents
        ]


# Both limits in one Redis round trip, atomically (the GET-then-SET of DRF's throttles lets two
# concurrent posts both pass the last free slot). The same sliding window as DRF's history
# list, kept as a sorted set of timestamps per key. KEYS: one per counted identity. ARGV: now,
# a unique member for this post, then limit, window seconds and group for each key. A group
# (the IP, or the contact details together) is refused when any of its keys is full; a group
# that is not refused records the post, as DRF's throttles do one by one. Returns, per key,
# its count and its oldest timestamp after expiry (before recording), as strings.
_SLIDING_WINDOW_LUA = """
local now = tonumber(ARGV[1])
local refused = {}
local seen = {}
for i, key in ipairs(KEYS) do
  local base = 3 + (i - 1) * 3
  local limit = tonumber(ARGV[base])
  local window = tonumber(ARGV[base + 1])
  local group = ARGV[base + 2]
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  local count = redis.call('ZCARD', key)
  local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')[2] or ''
  if count >= limit then refused[group] = true end
  seen[i] = {tostring(count), oldest}
end
for i, key in ipairs(KEYS) do
  local base = 3 + (i - 1) * 3
  if not refused[ARGV[base + 2]] then
    redis.call('ZADD', key, now, ARGV[2])
    redis.call('EXPIRE', key, math.ceil(tonumber(ARGV[base + 1])))
  end
end
return seen
"""


class IntakeThrottle(BaseThrottle):
    """Both intake limits (per IP, per email and phone) in one throttle.

    On Redis: one round trip for every key (``_SLIDING_WINDOW_LUA``). On any other cache (the
    embedded default's local memory) it runs ``IntakeIpThrottle`` then
    ``IntakeContactThrottle``, as DRF would. Same limits, same answer (429 and the longest
    Retry-After of the refused limits), same failing open when the cache is down.
    """

    def __init__(self) -> None:
        self._wait: float | None = None

    def allow_request(self, request: Request, view: Any) -> bool:
        global _cache_unavailable_until  # noqa: PLW0603 - one breaker per process, on purpose
        ip, contact = IntakeIpThrottle(), IntakeContactThrottle()
        backend = caches[DEFAULT_CACHE_ALIAS]  # the backend itself: ``cache`` is a proxy
        if not isinstance(backend, RedisCache):
            return self._allow_one_by_one(request, view, ip, contact)
        if time.monotonic() < _cache_unavailable_until:
            return True  # the breaker is open: no post waits on a cache that just failed
        try:
            return self._allow_on_redis(request, backend, ip, contact)
        except Exception as exc:  # noqa: BLE001 - any cache failure: let the post through
            # A hung Redis costs each post the socket timeout; after one failure the next posts
            # of this process skip the limits for a while instead of each waiting it out.
            _cache_unavailable_until = time.monotonic() + settings.THROTTLE_CACHE_BREAKER_SECONDS
            logger.warning("throttle skipped, cache unavailable: %s", type(exc).__name__)
            return True

    def wait(self) -> float | None:
        return self._wait

    def _allow_one_by_one(
        self, request: Request, view: Any, *throttles: IntakeRateThrottle
    ) -> bool:
        refused = [t for t in throttles if not t.allow_request(request, view)]
        return self._decide([throttle.wait() for throttle in refused])

    def _decide(self, waits: list[float | None]) -> bool:
        if not waits:
            return True
        self._wait = max((w for w in waits if w is not None), default=None)
        return False

    def _allow_on_redis(
        self,
        request: Request,
        redis: RedisCache,
        ip: IntakeIpThrottle,
        contact: IntakeContactThrottle,
    ) -> bool:
        limits: list[tuple[str, int, int, str]] = []  # key, limit, window, group
        for throttle, idents in (
            (ip, [ip.get_ident(request)]),
            (contact, contact._idents(request)),
        ):
            if throttle.rate is None:
                continue
            for ident in idents:
                # Not DRF's key: a sorted set where DRF keeps a pickled list (no WRONGTYPE
                # while the keys an older release wrote live out their window).
                key = f"throttle_window_{throttle.scope}_{ident}"
                limits.append((key, throttle.num_requests, throttle.duration, throttle.scope))
        if not limits:
            return True
        now = ip.timer()
        keys = [redis.make_and_validate_key(key) for key, *_ in limits]
        args: list[Any] = [repr(now), f"{now!r}:{secrets.token_hex(8)}"]
        for _, limit, window, group in limits:
            args += [limit, window, group]
        # Django's cache has no public way to run a script: its own client, same pool.
        client = redis._cache.get_client(keys[0], write=True)  # type: ignore[attr-defined]
        seen = client.register_script(_SLIDING_WINDOW_LUA)(keys=keys, args=args)
        return self._decide(
            [
                _drf_wait(now, limit, window, int(count), oldest)
                for (_, limit, window, _), (count, oldest) in zip(limits, seen, strict=True)
                if int(count) >= limit
            ]
        )


def _drf_wait(now: float, limit: int, window: int, count: int, oldest: bytes | str) -> float | None:
    """``SimpleRateThrottle.wait()`` for a key holding ``count`` posts, the oldest at ``oldest``."""
    remaining = window - (now - float(oldest)) if count else float(window)
    available = limit - count + 1
    if available <= 0:
        return None
    return remaining / available
