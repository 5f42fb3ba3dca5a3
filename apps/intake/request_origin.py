"""Where a request came from, for consent evidence and throttling."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def _ip_or_none(text: str) -> str | None:
    """The IP address in ``text`` (ports and IPv6 brackets removed), or None for anything
    that is not one: consent evidence must never hold a forged or garbled value."""
    candidate = text.strip()
    if candidate.startswith("["):  # [2001:db8::1]:443
        candidate = candidate[1:].split("]", 1)[0]
    elif candidate.count(":") == 1:  # 203.0.113.5:51234
        candidate = candidate.split(":", 1)[0]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str | None:
    """The visitor's IP: with ``NUM_PROXIES`` trusted proxies in front, the address they saw;
    without, the socket's peer (a forged X-Forwarded-For must not fake consent evidence)."""
    num_proxies: int = settings.REST_FRAMEWORK.get("NUM_PROXIES") or 0  # type: ignore[assignment]
    forwarded = str(request.META.get("HTTP_X_FORWARDED_FOR", ""))
    if num_proxies and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if hops:
            found = _ip_or_none(hops[-min(num_proxies, len(hops))])
            if found:
                return found
    return _ip_or_none(str(request.META.get("REMOTE_ADDR") or ""))


def user_agent(request: HttpRequest) -> str:
    """The browser's User-Agent, trimmed to what the column holds."""
    return str(request.META.get("HTTP_USER_AGENT", ""))[:512]
