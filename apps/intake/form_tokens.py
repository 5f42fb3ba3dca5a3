"""Render-time tokens: how long a form was on screen before it was sent.

The script asks ``GET /api/v1/form-tokens/`` for a token when it shows a form (the demo page
embeds one as it renders) and sends it back as the hidden field ``form_token``. The token is
signed with the secret key and holds nothing but the time it was issued, in milliseconds: no
visitor id, no cookie, nothing a tracker could use.

A post whose token says it was filled in under ``FORMS_MIN_FILL_SECONDS`` is a bot's: it is
stored as spam (``too_fast``) and answered 201 like a honeypot hit. Every doubt falls on the
person's side: no token (no JavaScript), a forged, garbled or expired token, or one from the
future (clocks of two servers disagreeing) all count as "no token" and the post is accepted
normally. A token never turns a real person's message into a 400.
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core import signing

SALT = "apps.intake.form_tokens"
MAX_TOKEN_LENGTH = 512


def form_token_issue(*, now: float | None = None) -> str:
    """A new token stamped with ``now`` (seconds since the epoch; the current time by default)."""
    issued_ms = round((time.time() if now is None else now) * 1000)
    return signing.dumps({"t": issued_ms}, salt=SALT, compress=False)


def form_token_fill_seconds(token: Any, *, now: float | None = None) -> float | None:
    """Seconds between the token's issue and ``now``; None when it cannot be trusted."""
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    try:
        payload = signing.loads(token, salt=SALT)
    except (signing.BadSignature, ValueError):  # ValueError: text no signature can hold
        return None
    issued_ms = payload.get("t") if isinstance(payload, dict) else None
    if not isinstance(issued_ms, int) or isinstance(issued_ms, bool):
        return None
    elapsed = (time.time() if now is None else now) - issued_ms / 1000
    if elapsed < 0 or elapsed > settings.FORMS_TOKEN_MAX_AGE_HOURS * 3600:
        return None
    return elapsed


def form_token_filled_too_fast(token: Any, *, now: float | None = None) -> bool:
    """True only for a genuine token showing the form was sent faster than a human could."""
    elapsed = form_token_fill_seconds(token, now=now)
    return elapsed is not None and elapsed < settings.FORMS_MIN_FILL_SECONDS
