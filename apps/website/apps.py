from __future__ import annotations

from django.apps import AppConfig


class WebsiteConfig(AppConfig):
    name = "apps.website"
    verbose_name = "Website form kit"
