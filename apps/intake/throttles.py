"""Abuse limits on the public forms, counted on the shared cache (Redis in production).

Generous on purpose: a frightened family member may post twice, and a clinic's wifi puts many
people behind one IP. ``API_THROTTLE=off`` disables them for load tests on a private machine.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
from typing import Any

from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from apps.leads.contact import InvalidPhoneNumber, email_normalize, phone_normalize

logger = logging.getLogger(__name__)


class IntakeRateThrottle(SimpleRateThrottle):
    """Reads its rate when it runs, not when the module is imported, so operators' and tests'
    settings take effect; fails open when the shared cache is down (a submission matters more
    than a rate limit)."""

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
    duration: int
    num_requests: int

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
