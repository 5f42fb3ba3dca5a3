"""Unsubscribe and inbound-text views (being written)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse


def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """Placeholder until the opt-out views land."""
    return HttpResponse(status=404)
