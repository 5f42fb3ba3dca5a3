"""django-axes hooks: which IP a failed login came from."""

from __future__ import annotations

from django.http import HttpRequest

from apps.intake.request_origin import client_ip as request_client_ip


def client_ip(request: HttpRequest) -> str:
    """The same client IP the rest of the project uses (trusted proxies only), so a forged
    X-Forwarded-For cannot dodge a lockout or lock someone else out."""
    return request_client_ip(request) or ""
