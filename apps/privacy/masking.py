"""How PHI looks before someone with the right role reveals it."""

from __future__ import annotations

import datetime

MASK = "••••"


def mask_tail(value: str | None, visible: int = 4) -> str:
    """``"•••• 4821"``: enough to match a card on the phone, not enough to use it."""
    if not value:
        return ""
    compact = "".join(value.split())
    # visible <= 0 must hide everything: compact[-0:] would be the whole value.
    if visible <= 0 or len(compact) <= visible * 2:
        return MASK
    return f"{MASK} {compact[-visible:]}"


def mask_all(value: object) -> str:
    """Hide a value completely (dates of birth, free text), saying only that it exists."""
    if value is None or value == "":
        return ""
    if isinstance(value, datetime.date):
        return f"{MASK}-••-••"
    return MASK
