"""What the leads app announces to others.

``submission_touched``: staff touched a lead (status change, note, call logged), sent inside the
transaction that recorded it. The follow-ups app cancels pending escalations on it.
Arguments: ``submission_id`` (int), ``actor_id`` (int | None).
"""

from __future__ import annotations

from django.dispatch import Signal

submission_touched = Signal()
