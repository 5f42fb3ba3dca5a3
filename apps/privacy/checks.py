"""System checks: a bad PHI key stops the process at start-up, not at the first submission."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, register
from django.core.exceptions import ImproperlyConfigured

from apps.privacy.crypto import PhiKeyring


@register()
def phi_keys_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """``PHI_ENCRYPTION_KEYS`` must be valid, distinct Fernet keys, and the blind-index key set."""
    errors: list[CheckMessage] = []
    try:
        PhiKeyring(tuple(settings.PHI_ENCRYPTION_KEYS))
    except ImproperlyConfigured as exc:
        errors.append(
            Error(
                str(exc),
                hint="PHI_ENCRYPTION_KEYS: comma-separated Fernet keys, newest first.",
                id="privacy.E001",
            )
        )
    if not getattr(settings, "PHI_BLIND_INDEX_KEY", ""):
        errors.append(Error("PHI_BLIND_INDEX_KEY is empty.", id="privacy.E002"))
    return errors
