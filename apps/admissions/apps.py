from __future__ import annotations

from django.apps import AppConfig


class AdmissionsConfig(AppConfig):
    """The admissions team's work on leads: pipeline, assignment, notes, calls, verification."""

    name = "apps.admissions"
    verbose_name = "Admissions"
