"""Submission references: what staff and the person read to each other on the phone.

Eight characters in two groups (``K7MQ-4T9R``) from an alphabet without look-alikes (no 0/O,
1/I/L, no U), drawn at random: 30^8 ≈ 6.6e11 values, so they are neither sequential nor guessable,
and a collision (caught by the unique constraint, then retried) is vanishingly rare.
"""

from __future__ import annotations

import secrets

ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
GROUP = 4


def reference_new() -> str:
    """A fresh random reference, e.g. ``K7MQ-4T9R``."""
    chars = "".join(secrets.choice(ALPHABET) for _ in range(GROUP * 2))
    return f"{chars[:GROUP]}-{chars[GROUP:]}"


def reference_normalize(text: str) -> str:
    """A reference as typed or read out (``k7mq 4t9r``), in its stored form (``K7MQ-4T9R``)."""
    compact = "".join(ch for ch in text.upper() if ch.isalnum())
    if len(compact) != GROUP * 2:
        return text.strip().upper()
    return f"{compact[:GROUP]}-{compact[GROUP:]}"
