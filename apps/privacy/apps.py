from __future__ import annotations

from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "apps.privacy"
    verbose_name = "Privacy"

    def ready(self) -> None:
        # Importing registers the system checks.
        from apps.privacy import checks  # noqa: F401
