"""Where a request came from, for consent evidence and throttling."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    """The visitor's IP: with ``NUM_PROXIES`` trusted proxies in front, the address they saw;
    without, the socket's peer (a forged X-Forwarded-For must not fake consent evidence)."""
    num_proxies: int = settings.REST_FRAMEWORK.get("NUM_PROXIES") or 0  # type: ignore[assignment]
    forwarded = str(request.META.get("HTTP_X_FORWARDED_FOR", ""))
    if num_proxies and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if hops:
            return hops[-min(num_proxies, len(hops))]
    remote: str | None = request.META.get("REMOTE_ADDR") or None
    return remote


def user_agent(request: HttpRequest) -> str:
    """The browser's User-Agent, trimmed to what the column holds."""
    return str(request.META.get("HTTP_USER_AGENT", ""))[:512]
